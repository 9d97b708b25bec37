package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/ingest"
)

// TestStorageOutageStallsThenRecovers breaks the staging directory (it
// becomes a file, so every write fails, even for root), produces more
// records, and checks that the stall is reported; then mends it and checks
// that every record is staged exactly once.
func TestStorageOutageStallsThenRecovers(t *testing.T) {
	br := startBroker(t, 2)
	dir := filepath.Join(t.TempDir(), "staging")
	u, _ := sblob.DirURL(dir)
	b, err := sblob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := prometheus.NewRegistry()
	in, err := ingest.New(ingest.Config{
		Brokers: []string{br.Addr()}, Topics: []string{"events"}, Group: "g", Start: "earliest",
		FlushRecords: 100, FlushBytes: 1 << 20, FlushInterval: 50 * time.Millisecond,
		LagInterval: 100 * time.Millisecond, StallAfter: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: ingest.NewMetrics(reg),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	// Break storage before anything is written.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	produceRecords(t, br.Addr(), "events", 0, 500)
	produced := 500
	deadline := time.Now().Add(20 * time.Second)
	for counter(t, reg, "streamlake_ingest_stalls_total") == 0 {
		produceRecords(t, br.Addr(), "events", 100_000+produced, 1)
		produced++
		if time.Now().After(deadline) {
			t.Fatal("no stall reported while storage was broken and lag grew")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if counter(t, reg, "streamlake_ingest_upload_retries_total") == 0 {
		t.Fatal("no upload retries counted during the outage")
	}
	// Mend storage: ingest resumes by itself.
	os.Remove(dir)
	os.MkdirAll(dir, 0o755)
	waitIdle(t, in, 40*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs, _ := staged(t, b)
	total, _ := in.Lag(context.Background())
	if total != 0 {
		t.Fatalf("lag %d after recovery", total)
	}
	for v, n := range recs {
		if n != 1 {
			t.Fatalf("record %s staged %d times", v, n)
		}
	}
	if len(recs) != produced {
		t.Fatalf("%d distinct records staged, %d produced", len(recs), produced)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

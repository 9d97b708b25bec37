package monitor

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/ingest"
)

// TestSilentStallWithRealPipeline is the acceptance scenario on real parts:
// the embedded broker, a producer, ingest and the ETL export their metrics
// to one registry, which the Engine samples on a simulated clock (one
// simulated sampling interval per round of real work). Stopping the ETL
// while producing moves silent-stall to ALARM; resuming it moves it back to
// OK; the webhook receives exactly those two notifications.
func TestSilentStallWithRealPipeline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go b.Run(ctx)
	producer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()

	reg := prometheus.NewRegistry()
	su, _ := sblob.DirURL(filepath.Join(dir, "staging"))
	staging, err := sblob.Open(ctx, su)
	if err != nil {
		t.Fatal(err)
	}
	defer staging.Close()
	wh, _ := sblob.DirURL(filepath.Join(dir, "lake"))
	store, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), wh)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	in, err := ingest.New(ingest.Config{
		Brokers: []string{b.Addr()}, Topics: []string{"app.events"}, Group: "g", Start: "earliest",
		FlushRecords: 1000, FlushBytes: 1 << 20, FlushInterval: 50 * time.Millisecond, LagInterval: 100 * time.Millisecond,
		Metrics: ingest.NewMetrics(reg),
	}, staging)
	if err != nil {
		t.Fatal(err)
	}
	ingestDone := make(chan error, 1)
	go func() { ingestDone <- in.Run(ctx) }()
	lake := etl.New(etl.Config{Database: "lake", TimeField: "ts", Metrics: etl.NewMetrics(reg)}, staging, store.Iceberg())

	hook := newHookServer(t)
	cfg := Default()
	cfg.Webhooks = []string{hook.URL}
	clock := newClock()
	e, err := New(cfg, reg, filepath.Join(dir, "monitor"), WithClock(clock.Now), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()

	produced := 0
	consumed := func() float64 {
		for _, s := range gatherSamples(t, reg) {
			if s.name == "streamlake_ingest_records_total" && s.labels["topic"] == "app.events" {
				return s.value
			}
		}
		return 0
	}
	// round produces 20 records, waits for ingest to consume them, runs the
	// ETL when it is up, and advances the engine one sampling interval.
	round := func(etlUp bool) State {
		for range 20 {
			v := fmt.Appendf(nil, `{"id":%d,"ts":"%s"}`, produced, clock.t.Format(time.RFC3339))
			if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "app.events", Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			produced++
		}
		deadline := time.Now().Add(20 * time.Second)
		for consumed() < float64(produced) {
			if time.Now().After(deadline) {
				t.Fatalf("ingest consumed %v of %d records in 20s", consumed(), produced)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if etlUp {
			time.Sleep(60 * time.Millisecond) // let ingest flush the staging object
			if _, err := lake.RunOnce(ctx); err != nil {
				t.Fatalf("etl: %v", err)
			}
		}
		clock.t = clock.t.Add(cfg.SampleInterval)
		drive(e, clock.t)
		for _, s := range e.States() {
			if s.Name == AlarmSilentStall {
				return s.State
			}
		}
		t.Fatal("no silent-stall alarm")
		return ""
	}
	// Healthy for two simulated minutes.
	for range 12 {
		round(true)
	}
	if st := round(true); st != StateOK {
		t.Fatalf("healthy pipeline: silent-stall %s, want OK", st)
	}
	// The ETL stops; the producer goes on.
	var took time.Duration
	for st := StateOK; st != StateAlarm; took += cfg.SampleInterval {
		if took > 3*time.Minute {
			t.Fatalf("silent-stall still %s %s after the ETL stopped", st, took)
		}
		st = round(false)
	}
	if limit := cfg.StallWindow + 2*cfg.SampleInterval; took > limit {
		t.Fatalf("silent-stall reached ALARM %s after the ETL stopped, want within %s", took, limit)
	}
	t.Logf("ETL stopped: ALARM after %s of simulated time", took)
	for range 3 {
		if st := round(false); st != StateAlarm {
			t.Fatalf("ETL still stopped: silent-stall %s, want ALARM", st)
		}
	}
	// The ETL resumes.
	took = 0
	for st := StateAlarm; st != StateOK; took += cfg.SampleInterval {
		if took > time.Minute {
			t.Fatalf("silent-stall still %s %s after the ETL resumed", st, took)
		}
		st = round(true)
	}
	t.Logf("ETL resumed: OK after %s of simulated time", took)
	for range 3 {
		round(true)
	}
	want := []string{AlarmSilentStall + ":OK>ALARM", AlarmSilentStall + ":ALARM>OK"}
	if got := hook.transitions(); !slices.Equal(got, want) {
		t.Fatalf("webhook got %v, want exactly %v", got, want)
	}
	cancel()
	if err := <-ingestDone; err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

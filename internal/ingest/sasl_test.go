package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/kafka"
)

// TestIngestOverSASL consumes from a kfake cluster that requires
// SCRAM-SHA-512, with the client options built from the config settings.
func TestIngestOverSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "ingest", "pw"), kfake.SeedTopics(2, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts, err := kafka.Security{SASL: kafka.SASL{Mechanism: "SCRAM-SHA-512", Username: "ingest", Password: "pw"}}.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(c.ListenAddrs()...))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 300 {
		r := &kgo.Record{Topic: "events", Key: []byte("k"), Value: fmt.Appendf(nil, `{"id":"%d"}`, i),
			Headers: []kgo.RecordHeader{{Key: "src", Value: []byte("test")}}}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	b := bucket(t)
	in, err := ingest.New(ingest.Config{
		Brokers: c.ListenAddrs(), Topics: []string{"events"}, Group: "g", Start: "earliest",
		FlushRecords: 1000, FlushBytes: 1 << 20, FlushInterval: 100 * time.Millisecond, ClientOpts: opts,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	runUntilIdle(t, in)
	if recs, _ := staged(t, b); len(recs) != 300 {
		t.Fatalf("%d records staged over SASL, want 300", len(recs))
	}
}

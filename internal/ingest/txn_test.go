package ingest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReadCommittedSkipsAbortedAndReachesZeroLag produces a committed and an
// aborted transaction: only the committed records are staged, and the lag
// still reaches zero although the log ends with a transaction marker.
func TestReadCommittedSkipsAbortedAndReachesZeroLag(t *testing.T) {
	br := startBroker(t, 1)
	b := bucket(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("events"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for txn, commit := range []bool{true, false, true} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			r := &kgo.Record{Key: []byte("k"), Value: fmt.Appendf(nil, `{"id":"%v-%d-%d"}`, commit, txn, i),
				Headers: []kgo.RecordHeader{{Key: "src", Value: []byte("test")}}}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	runUntilIdle(t, newIngester(t, br.Addr(), b, 1000))
	recs, _ := staged(t, b)
	for v := range recs {
		if v[:len(`{"id":"false`)] == `{"id":"false` {
			t.Fatalf("aborted record %s was staged", v)
		}
	}
	if len(recs) != 100 {
		t.Fatalf("%d distinct committed records staged, want 100", len(recs))
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gocloud.dev/blob"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/stage"
)

func startBroker(t *testing.T, partitions int) *broker.Broker {
	t.Helper()
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func produceRecords(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := from; i < from+n; i++ {
		wg.Add(1)
		r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"id":"%d"}`, i),
			Headers: []kgo.RecordHeader{{Key: "src", Value: []byte("test")}}}
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func bucket(t testing.TB) *blob.Bucket {
	t.Helper()
	u, _ := sblob.DirURL(filepath.Join(t.TempDir(), "staging"))
	b, err := sblob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newIngester(t *testing.T, addr string, b *blob.Bucket, flushRecords int) *ingest.Ingester {
	t.Helper()
	return newIngesterOf(t, addr, b, flushRecords, "events")
}

// newIngesterOf is newIngester consuming topics (none: every topic).
func newIngesterOf(t *testing.T, addr string, b *blob.Bucket, flushRecords int, topics ...string) *ingest.Ingester {
	t.Helper()
	in, err := ingest.New(ingest.Config{
		Brokers: []string{addr}, Topics: topics, Group: "g", Start: "earliest",
		FlushRecords: flushRecords, FlushBytes: 1 << 20, FlushInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// runInBackground runs in until the test ends, then checks that it
// stopped cleanly.
func runInBackground(t *testing.T, in *ingest.Ingester) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// runUntilIdle runs the ingester until lag is zero and nothing is buffered.
func runUntilIdle(t *testing.T, in *ingest.Ingester) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	waitIdle(t, in, 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// waitIdle waits until the group's lag is zero and nothing is buffered.
func waitIdle(t *testing.T, in *ingest.Ingester, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		lag, err := in.Lag(context.Background())
		if err == nil && lag == 0 && in.Idle() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not idle within %s: lag %d, %v", within, lag, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// staged reads every record of every staging object.
func staged(t *testing.T, b *blob.Bucket) (records map[string]int, objects int) {
	t.Helper()
	ctx := context.Background()
	records = map[string]int{}
	// ListAll: ingest may be writing, and a plain listing fails when a
	// writer's temporary file vanishes under it.
	listed, err := sblob.ListAll(ctx, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range listed {
		if strings.HasSuffix(a.Key, ".tmp") {
			continue // a write in flight (fileblob's temporary file)
		}
		o, ok := stage.ParseName(a.Key)
		if !ok {
			t.Fatalf("unexpected object %s", a.Key)
		}
		objects++
		data, _ := b.ReadAll(ctx, a.Key)
		lines, err := stage.Decompress(data)
		if err != nil {
			t.Fatal(err)
		}
		first := true
		err = stage.Decode(lines, func(r stage.Record) error {
			if first && r.Offset != o.FirstOffset {
				return fmt.Errorf("%s starts at offset %d", a.Key, r.Offset)
			}
			first = false
			if string(r.Key) == "" || len(r.Headers) != 1 || string(r.Headers[0].Value) != "test" {
				return fmt.Errorf("key/headers lost: %+v", r)
			}
			records[string(r.Value)]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return records, objects
}

func TestIngestStagesEveryRecordOnceAndCommits(t *testing.T) {
	br := startBroker(t, 4)
	b := bucket(t)
	produceRecords(t, br.Addr(), "events", 0, 5000)
	runUntilIdle(t, newIngester(t, br.Addr(), b, 1000))
	recs, objs := staged(t, b)
	if len(recs) != 5000 {
		t.Fatalf("%d distinct records staged, want 5000", len(recs))
	}
	for v, n := range recs {
		if n != 1 {
			t.Fatalf("record %s staged %d times", v, n)
		}
	}
	if objs < 5 {
		t.Fatalf("%d objects; flush by record count (1000) should give at least 5", objs)
	}

	// A second member of the group starts after the committed offsets:
	// it stages only the new records.
	produceRecords(t, br.Addr(), "events", 5000, 300)
	runUntilIdle(t, newIngester(t, br.Addr(), b, 1000))
	recs, _ = staged(t, b)
	if len(recs) != 5300 {
		t.Fatalf("%d distinct records staged, want 5300", len(recs))
	}
	for v, n := range recs {
		if n != 1 {
			t.Fatalf("record %s staged %d times after restart", v, n)
		}
	}
}

func TestIdlePartitionFlushesByTime(t *testing.T) {
	br := startBroker(t, 1)
	b := bucket(t)
	produceRecords(t, br.Addr(), "events", 0, 3) // far below flush_records
	in := newIngester(t, br.Addr(), b, 1_000_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.Run(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if recs, _ := staged(t, b); len(recs) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("3 records not staged by the flush interval within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestUnreachableBroker(t *testing.T) {
	in, err := ingest.New(ingest.Config{Brokers: []string{"127.0.0.1:1"}, Group: "g",
		FlushRecords: 1, FlushBytes: 1024, FlushInterval: time.Second}, bucket(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := in.Ping(ctx); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
}

// TestMemoryBudgetFlushesEarly: with flush limits that would hold every
// record for a minute, the memory budget makes ingest write objects at once,
// none larger than the budget.
func TestMemoryBudgetFlushesEarly(t *testing.T) {
	br := startBroker(t, 8)
	b := bucket(t)
	produceRecords(t, br.Addr(), "events", 0, 20_000)
	const budget = 256 << 10
	in, err := ingest.New(ingest.Config{
		Brokers: []string{br.Addr()}, Topics: []string{"events"}, Group: "g", Start: "earliest",
		FlushRecords: 1_000_000, FlushBytes: 64 << 20, FlushInterval: time.Minute, MemoryBudget: budget,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, _ := staged(t, b)
		if len(recs) >= 15_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records staged in 20s; the budget should flush long before the 1m interval", len(recs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	it := b.List(nil)
	for {
		a, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := b.ReadAll(context.Background(), a.Key)
		raw, err := stage.Decompress(data)
		if err != nil {
			t.Fatal(err)
		}
		// The budget is checked after each record, so a batch can pass it
		// by at most the one record (~150 bytes here) that crossed it.
		if len(raw) > budget+1024 {
			t.Fatalf("object %s holds %d bytes, more than the %d-byte budget plus a record", a.Key, len(raw), budget)
		}
	}
}

// TestHandoffBeforeStaging: an object's lines are in the handoff before the
// object is in staging, so an ETL that lists it finds them. With the
// handoff full and an ETL taking entries, ingest waits for room before it
// writes the object; once the ETL takes the entry that filled it, the
// object is written and its lines are there to take.
func TestHandoffBeforeStaging(t *testing.T) {
	ctx := context.Background()
	br := startBroker(t, 1)
	produceRecords(t, br.Addr(), "events", 0, 10)
	b := bucket(t)
	h := stage.NewHandoff(1 << 20)
	// Fill the handoff; taking small entries keeps it counting an ETL as
	// taking (a new handoff does for HandoffPatience only).
	var filler stage.Buffer
	filler.Write(bytes.Repeat([]byte("x"), 1<<20-10))
	if !h.Put(ctx, "filler", []byte("f"), &filler) {
		t.Fatal("handoff refused the filler")
	}
	etlTakes := func() {
		var small stage.Buffer
		small.Write([]byte("y"))
		if !h.Put(ctx, "small", []byte("s"), &small) {
			t.Fatal("handoff refused the small entry")
		}
		buf, ok := h.Take("small", []byte("s"))
		if !ok {
			t.Fatal("the small entry's take missed")
		}
		buf.Release()
	}
	etlTakes()
	in, err := ingest.New(ingest.Config{
		Brokers: []string{br.Addr()}, Topics: []string{"events"}, Group: "g", Start: "earliest",
		FlushRecords: 10, FlushBytes: 1 << 20, FlushInterval: 100 * time.Millisecond, Handoff: h,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	runInBackground(t, in)
	// Ingest has the batch and waits for room (HandoffPatience is 5 s):
	// nothing may be in staging yet.
	for deadline := time.Now().Add(20 * time.Second); !h.Waiting(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ingest never waited for the full handoff")
		}
		etlTakes() // within HandoffPatience, however slow the group join
	}
	if _, n := staged(t, b); n != 0 {
		t.Fatalf("%d objects in staging while their lines wait for the handoff", n)
	}
	if buf, ok := h.Take("filler", []byte("f")); ok {
		buf.Release()
	}
	var key string
	for deadline := time.Now().Add(10 * time.Second); key == ""; time.Sleep(10 * time.Millisecond) {
		listed, err := sblob.ListAll(ctx, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range listed {
			if !strings.HasSuffix(a.Key, ".tmp") {
				key = a.Key
			}
		}
		if key == "" && time.Now().After(deadline) {
			t.Fatal("the object was never staged after the handoff made room")
		}
	}
	obj, err := b.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	buf, ok := h.Take(key, obj)
	if !ok {
		t.Fatalf("the lines of %s were not in the handoff when it was listed", key)
	}
	if lines, _ := stage.Decompress(obj); !bytes.Equal(buf.Bytes(), lines) {
		t.Errorf("the handoff's lines differ from the object's")
	}
	buf.Release()
}

// TestNewTopicIsConsumed: an ingester of every topic (no topics
// configured) consumes a topic created after it started within seconds,
// not at its next scheduled metadata refresh minutes later.
func TestNewTopicIsConsumed(t *testing.T) {
	br := startBroker(t, 2)
	b := bucket(t)
	runInBackground(t, newIngesterOf(t, br.Addr(), b, 100))
	waitStaged := func(id string, within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
			if recs, _ := staged(t, b); recs[`{"id":"`+id+`"}`] == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("record %s not staged within %s", id, within)
			}
		}
	}
	// The group is up and consuming once a first topic's record is staged.
	produceRecords(t, br.Addr(), "early", 0, 10)
	waitStaged("9", 30*time.Second)
	produceRecords(t, br.Addr(), "late", 1000, 10)
	waitStaged("1009", 20*time.Second)
}

// TestMissingTopicHasNoLag: a configured topic that does not exist, on a
// group that never joined (the broker answers GROUP_ID_NOT_FOUND), counts
// as empty, with one warning naming it, instead of an error on every lag
// check (which kept `run --exit-when-idle` from ever exiting); records
// produced to it later are consumed.
func TestMissingTopicHasNoLag(t *testing.T) {
	br := startBroker(t, 2)
	b := bucket(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	in, err := ingest.New(ingest.Config{
		Brokers: []string{br.Addr()}, Topics: []string{"later"}, Group: "g", Start: "earliest",
		FlushRecords: 10, FlushBytes: 1 << 20, FlushInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	runInBackground(t, in)
	for range 3 {
		lag, err := in.Lag(context.Background())
		if err != nil || lag != 0 {
			t.Fatalf("lag of a missing topic: %d, %v; want 0, nil", lag, err)
		}
	}
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	if n := strings.Count(got, "topic does not exist"); n != 1 || !strings.Contains(got, "topic=later") {
		t.Fatalf("want one warning naming topic later, got:\n%s", got)
	}
	produceRecords(t, br.Addr(), "later", 0, 25)
	deadline := time.Now().Add(30 * time.Second)
	for {
		records, _ := staged(t, b)
		if len(records) == 25 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("staged %d distinct records of the topic created later, want 25", len(records))
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitIdle(t, in, 30*time.Second)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

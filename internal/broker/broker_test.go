package broker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/dirlock"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func startBroker(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Logger = testLogger(t)
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation()}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("new kgo client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeAll reads topic from the start until it has n records or the
// deadline passes, and returns what it read.
func consumeAll(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: got %d of %d records before timeout", topic, len(out), n)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("consume %s[%d]: %v", topic, p, err)
		})
		out = append(out, fs.Records()...)
	}
	// Anything beyond n would be a duplicate; give it a moment to show up.
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	out = append(out, cl.PollFetches(short).Records()...)
	return out
}

type rec struct {
	partition int32
	offset    int64
	key, val  string
}

func recordSet(rs []*kgo.Record) map[rec]bool {
	m := make(map[rec]bool, len(rs))
	for _, r := range rs {
		m[rec{r.Partition, r.Offset, string(r.Key), string(r.Value)}] = true
	}
	return m
}

func TestRestartKeepsRecordsAndOffsets(t *testing.T) {
	dir := t.TempDir()
	const topic, n, group = "restart", 500, "g1"
	ctx := context.Background()

	b1, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Partitions: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	cl := newClient(t, b1.Addr(), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Key: fmt.Appendf(nil, "k%04d", i), Value: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	produced := recordSet(rs)
	offsets := make(kadm.Offsets)
	for _, r := range rs {
		offsets.AddOffset(topic, r.Partition, r.Offset, -1)
	}
	adm := kadm.NewClient(cl)
	if err := adm.CommitAllOffsets(ctx, group, offsets); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b1.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}

	b2 := startBroker(t, broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Partitions: 3})
	got := consumeAll(t, b2.Addr(), topic, n)
	if len(got) != n {
		t.Fatalf("after restart: consumed %d records, want %d", len(got), n)
	}
	for r := range recordSet(got) {
		if !produced[r] {
			t.Fatalf("after restart: record %+v was never produced", r)
		}
	}

	adm2 := kadm.NewClient(newClient(t, b2.Addr()))
	fetched, err := adm2.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets after restart: %v", err)
	}
	offsets.Each(func(o kadm.Offset) {
		f, ok := fetched.Lookup(o.Topic, o.Partition)
		if !ok || f.Err != nil || f.At != o.At {
			t.Errorf("group %s %s[%d]: committed %d, after restart %+v (found %v)", group, o.Topic, o.Partition, o.At, f, ok)
		}
	})
}

// TestCrashKeepsAckedRecords produces to an auto-created topic in a child
// process that then dies by SIGKILL without Close, and checks that a new
// broker on the same directory serves every acknowledged record and the
// committed group offsets.
func TestCrashKeepsAckedRecords(t *testing.T) {
	const topic, n, group, envDir = "crash", 300, "g", "STREAMLAKE_BROKER_CRASH_DIR"
	if dir := os.Getenv(envDir); dir != "" {
		crashChild(t, dir, topic, group, n)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAckedRecords$", "-test.v")
	cmd.Env = append(os.Environ(), envDir+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("ACKED %d", n)) {
		t.Fatalf("child did not get its records acknowledged:\n%s", out)
	}

	b := startBroker(t, broker.Config{DataDir: dir, Partitions: 3})
	got := consumeAll(t, b.Addr(), topic, n)
	if len(got) != n {
		t.Fatalf("after crash: consumed %d records, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, r := range got {
		seen[string(r.Value)] = true
	}
	if len(seen) != n {
		t.Fatalf("after crash: %d distinct values, want %d", len(seen), n)
	}
	fetched, err := kadm.NewClient(newClient(t, b.Addr())).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	fetched.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != n {
		t.Fatalf("after crash: group %s committed offsets sum to %d, want %d", group, total, n)
	}
}

func crashChild(t *testing.T, dir, topic, group string, n int) {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: dir, Partitions: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic))
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	offsets := make(kadm.Offsets)
	for _, r := range rs {
		if o, ok := offsets.Lookup(topic, r.Partition); !ok || o.At < r.Offset+1 {
			offsets.AddOffset(topic, r.Partition, r.Offset+1, -1)
		}
	}
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, group, offsets); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ACKED %d\n", n)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

func TestInMemoryBrokerStartsEmpty(t *testing.T) {
	b := startBroker(t, broker.Config{})
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") || strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("Addr() = %q, want 127.0.0.1 with a picked port", b.Addr())
	}
	adm := kadm.NewClient(newClient(t, b.Addr()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, -1, -1, nil, "t"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	td, err := adm.ListTopics(ctx, "t")
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	if got := len(td["t"].Partitions); got != 1 {
		t.Fatalf("default partitions = %d, want 1", got)
	}
}

func TestStartAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()

	b, err := broker.Start(broker.Config{Listen: addr, Logger: testLogger(t)})
	if err == nil {
		b.Close()
		t.Fatalf("Start on busy %s succeeded", addr)
	}
	want := "broker: listen " + addr + ": address already in use"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error %v does not match EADDRINUSE", err)
	}
}

// TestDataDirTakesOneBroker: a second broker on a data directory in use
// fails to start, naming the directory, and starts once the first closed
// (two brokers appending to one log would corrupt it).
func TestDataDirTakesOneBroker(t *testing.T) {
	dir := t.TempDir()
	first, err := broker.Start(broker.Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := broker.Start(broker.Config{DataDir: dir, Logger: testLogger(t)})
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second broker started on a data dir in use")
	}
	if !errors.Is(err, dirlock.ErrHeld) || !strings.HasPrefix(err.Error(), "broker: data dir "+dir+" is in use by another broker") {
		t.Errorf("second Start: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := broker.Start(broker.Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start after Close: %v", err)
	}
	again.Close()
}

func TestStartBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  broker.Config
		want string
	}{
		{broker.Config{Listen: "127.0.0.1"}, `broker: listen "127.0.0.1": want host:port`},
		{broker.Config{Listen: "127.0.0.1:x"}, `broker: listen "127.0.0.1:x": port "x" is not a number in 0-65535`},
		{broker.Config{Listen: "127.0.0.1:0", Partitions: -1}, `broker: partitions -1: must be >= 0`},
	} {
		b, err := broker.Start(tc.cfg)
		if err == nil {
			b.Close()
			t.Errorf("Start(%+v) succeeded", tc.cfg)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %q, want prefix %q", tc.cfg, err, tc.want)
		}
	}
}

func TestRunClosesOnCancel(t *testing.T) {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The port is released.
	ln, err := net.Listen("tcp", b.Addr())
	if err != nil {
		t.Fatalf("port still held after Run returned: %v", err)
	}
	ln.Close()
}

// TestCollidingTopicRefusedWithReason: Kafka refuses a topic whose name
// collides with an existing one when '.' and '_' are taken as the same
// (a.b and a_b); the producer hears only UNKNOWN_TOPIC_OR_PARTITION, so
// the broker logs why, once.
func TestCollidingTopicRefusedWithReason(t *testing.T) {
	var logs syncBuffer
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "a.b", Value: []byte("1")}).FirstErr(); err != nil {
		t.Fatalf("produce to a.b: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if err := cl.ProduceSync(short, &kgo.Record{Topic: "a_b", Value: []byte("2")}).FirstErr(); err == nil {
		t.Fatal("produce to a_b, which collides with a.b, succeeded")
	}
	got := logs.String()
	if strings.Count(got, "topic not created") != 1 || !strings.Contains(got, "topic=a_b") || !strings.Contains(got, "INVALID_TOPIC_EXCEPTION") {
		t.Fatalf("want one warning naming a_b and the reason, got:\n%s", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the broker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

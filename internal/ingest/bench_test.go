package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/produce"
)

var (
	benchOnce   sync.Once
	benchBroker *broker.Broker
	benchN      = 1_000_000
)

// loadBenchTopic fills an in-memory broker with benchN sensors records
// (about 200 bytes each) once per test binary.
func loadBenchTopic(b *testing.B) string {
	benchOnce.Do(func() {
		if s := os.Getenv("STREAMLAKE_BENCH_RECORDS"); s != "" {
			benchN, _ = strconv.Atoi(s)
		}
		br, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: 8})
		if err != nil {
			b.Fatal(err)
		}
		benchBroker = br
		if _, err := produce.Run(context.Background(), produce.Config{Brokers: []string{br.Addr()},
			Topic: "bench", Dataset: produce.DatasetSensors, Records: benchN, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	})
	return benchBroker.Addr()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKafkaToStaging consumes benchN records from a kfake broker into
// zstd staging objects on local disk and reports records/s (wall) and CPU
// seconds per million records. The CPU figure is the whole process's, so
// it includes the in-process broker serving the fetches: an upper bound on
// ingest's own cost.
//
//	go test -run '^$' -bench KafkaToStaging -benchtime 3x ./internal/ingest/
func BenchmarkKafkaToStaging(b *testing.B) {
	addr := loadBenchTopic(b)
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		bk := bucket(b)
		in, err := ingest.New(ingest.Config{
			Brokers: []string{addr}, Topics: []string{"bench"}, Group: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i),
			Start: "earliest", FlushRecords: 100_000, FlushBytes: 16 << 20, FlushInterval: time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, bk)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		c0 := cpuTime()
		b.StartTimer()
		go func() { done <- in.Run(ctx) }()
		for {
			lag, err := in.Lag(context.Background())
			if err == nil && lag == 0 && in.Idle() {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
	}
	recs := float64(benchN * b.N)
	b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(cpu.Seconds()/(recs/1e6), "cpu-s/M")
	b.ReportMetric(recs/cpu.Seconds(), "records/cpu-s")
}

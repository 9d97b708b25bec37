package ingest_test

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/ingest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKafkaToStaging consumes 1,000,000 sensors records (about 200
// bytes each; STREAMLAKE_BENCH_RECORDS overrides) from a kfake broker in
// another process into zstd staging objects on local disk, with the default
// ingest settings, and reports records/s (wall), CPU seconds per million
// records and records per CPU second of this process (ingest alone: the
// broker's CPU is the child's), and the peak RSS while consuming under
// the soft memory limit `run` sets.
//
//	go test -run '^$' -bench KafkaToStaging -benchtime 3x ./internal/ingest/
func BenchmarkKafkaToStaging(b *testing.B) {
	records := 1_000_000
	if s := os.Getenv("STREAMLAKE_BENCH_RECORDS"); s != "" {
		records, _ = strconv.Atoi(s)
	}
	for _, parts := range []int{8, 64} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			addr := startBrokerProcess(b, parts, records)
			var cpu time.Duration
			prev := debug.SetMemoryLimit(ingest.SoftMemoryLimit(0))
			defer debug.SetMemoryLimit(prev)
			resetPeakRSS(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				bk := bucket(b)
				c0 := cpuTime()
				b.StartTimer()
				runDefaultIngest(b, addr, bk)
				b.StopTimer()
				cpu += cpuTime() - c0
			}
			recs := float64(records * b.N)
			b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(cpu.Seconds()/(recs/1e6), "cpu-s/M")
			b.ReportMetric(recs/cpu.Seconds(), "records/cpu-s")
			b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-rss-MiB")
		})
	}
}

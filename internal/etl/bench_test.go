package etl_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/produce"
)

// BenchmarkETLSensors measures staging -> Iceberg for sensors records into
// an existing table: decode, convert to Arrow, write Parquet zstd, commit. It reports
// rows/s, ns/row and CPU seconds per million rows (this process's CPU time,
// all cores); compare runs with benchstat. "general" turns the columnar fast
// path off, for the ratio of the two in one run.
func BenchmarkETLSensors(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchETL(b, etl.Config{Database: "lake", TimeField: "ts"}) })
	b.Run("general", func(b *testing.B) {
		benchETL(b, etl.WithoutFastPath(etl.Config{Database: "lake", TimeField: "ts"}))
	})
}

func benchETL(b *testing.B, cfg etl.Config) {
	const rows = 100_000
	gen, err := produce.NewGenerator(produce.DatasetSensors, 1, "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	values := make([][]byte, rows)
	for i := range values {
		v, _ := gen.Append(nil)
		values[i] = v
	}
	b.ReportAllocs()
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		x := etl.New(cfg, e.staging, e.store.Iceberg())
		// The table exists, as it does in a running pipeline: its first
		// commit creates it.
		e.put(b, "bench", 0, 0, 100, func(i int64) []byte { return values[i] })
		if _, err := x.RunOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		for p := int32(0); p < 4; p++ {
			e.put(b, "bench", p, 100, 100+rows/4, func(i int64) []byte { return values[int64(p)*rows/4+i-100] })
		}
		c0 := cpuTime()
		b.StartTimer()
		res, err := x.RunOnce(context.Background())
		b.StopTimer()
		cpu += cpuTime() - c0
		if err != nil || res.Rows != rows {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows*b.N), "ns/row")
	b.ReportMetric(cpu.Seconds()/(float64(rows*b.N)/1e6), "cpu-s/M")
	b.ReportMetric(float64(rows*b.N)/cpu.Seconds(), "rows/cpu-s")
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

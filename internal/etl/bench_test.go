package etl_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/produce"
)

// BenchmarkETLSensors measures staging -> Iceberg for sensors records:
// decode, infer, convert to Arrow, write Parquet zstd, commit. It reports
// rows/s, ns/row and CPU seconds per million rows (this process's CPU time,
// all cores); compare runs with benchstat.
func BenchmarkETLSensors(b *testing.B) {
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
		for p := int32(0); p < 4; p++ {
			e.put(b, "bench", p, 0, rows/4, func(i int64) []byte { return values[int64(p)*rows/4+i] })
		}
		x := e.etl()
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

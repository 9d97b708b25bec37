package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/catalog"
)

// BenchmarkKafkaToLake is the whole path on embedded defaults: a
// `streamlake broker` holds 1,000,000 sensors records (8 partitions;
// BENCH_RECORDS changes the count), and `streamlake run
// --exit-when-idle` ingests, stages, loads and commits them all to
// lake.sensors. It reports the run process's CPU seconds per million rows
// (ingest, staging, ETL, Parquet, commits, metrics and maintenance all
// included) and rows per wall second (which includes the idle tail: the
// last objects wait for the staging max age).
//
// A fresh process pays once for what a long-running one does not: start-up,
// creating the table, and faulting in the heap it grows to (page faults are
// most of its system time). So each iteration also loads three times the
// records in another fresh process and reports the marginal cost of the
// extra ones, the steady-state cost per row: marginal-cpu-s/M and
// marginal-rows/cpu-s.
func BenchmarkKafkaToLake(b *testing.B) {
	records := 1_000_000
	if s := os.Getenv("BENCH_RECORDS"); s != "" {
		records, _ = strconv.Atoi(s)
	}
	var cpu, wall, cpu3 time.Duration
	for range b.N {
		c, w := kafkaToLake(b, records, true)
		cpu, wall = cpu+c, wall+w
		c3, _ := kafkaToLake(b, 3*records, false)
		cpu3 += c3
	}
	rows := float64(records * b.N)
	b.ReportMetric(rows/wall.Seconds(), "rows/s")
	b.ReportMetric(cpu.Seconds()/(rows/1e6), "cpu-s/M")
	b.ReportMetric(rows/cpu.Seconds(), "rows/cpu-s")
	marginal := (cpu3 - cpu).Seconds() / (2 * rows / 1e6)
	b.ReportMetric(marginal, "marginal-cpu-s/M")
	b.ReportMetric(1e6/marginal, "marginal-rows/cpu-s")
}

// kafkaToLake produces records to a fresh `streamlake broker`, runs
// `streamlake run --exit-when-idle` over them, checks lake.sensors holds
// them all, and returns the run's CPU time and (timed when timed is set, as
// the benchmark's time) its wall time.
func kafkaToLake(b *testing.B, records int, timed bool) (cpu, wall time.Duration) {
	b.StopTimer()
	dir := b.TempDir()
	addr := freePort(b)
	broker := exec.Command(bin, "broker", "--listen", addr, "--partitions", "8", "--data-dir", filepath.Join(dir, "broker"), "--log-level", "warn")
	broker.Stderr = os.Stderr
	if err := broker.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		broker.Process.Kill()
		broker.Wait()
	}()
	waitDial(b, addr)
	inDir(b, dir, "produce", "--brokers", addr, "--topic", "sensors", "--dataset", "sensors", "--records", strconv.Itoa(records))
	run := exec.Command(bin, "run", "--brokers", addr, "--topics", "sensors", "--exit-when-idle",
		"--metrics-listen", "", "--log-level", "warn", "--data-dir", dir)
	out, err := os.CreateTemp(dir, "run-*.log")
	if err != nil {
		b.Fatal(err)
	}
	run.Stdout, run.Stderr = out, out
	start := time.Now()
	if timed {
		b.StartTimer()
	}
	err = run.Run()
	b.StopTimer()
	wall = time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(out.Name())
		b.Fatalf("run: %v\n%s", err, log)
	}
	cpu = run.ProcessState.UserTime() + run.ProcessState.SystemTime()
	if got := inDir(b, dir, "query", "--format", "csv", "SELECT count(*) FROM lake.sensors"); got != "_col0\n"+strconv.Itoa(records) {
		b.Fatalf("lake.sensors after the run:\n%s", got)
	}
	return cpu, wall
}

// BenchmarkProduceToQueryable measures freshness at a steady rate: a
// producer sends 10,000 records/s for 30 s (BENCH_SECONDS) to a
// `streamlake run` with the default 2 s commit interval. Each record's
// event time is its send time; its queryable time is the timestamp of the
// Iceberg snapshot that added its data file. It reports the p50, p99 and
// maximum of the difference over every row.
func BenchmarkProduceToQueryable(b *testing.B) {
	const rate = 10_000
	seconds := 30
	if s := os.Getenv("BENCH_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	var lat []float64
	for range b.N {
		dir := b.TempDir()
		addr := freePort(b)
		broker := exec.Command(bin, "broker", "--listen", addr, "--partitions", "4", "--data-dir", filepath.Join(dir, "broker"))
		if err := broker.Start(); err != nil {
			b.Fatal(err)
		}
		waitDial(b, addr)
		run := exec.Command(bin, "run", "--brokers", addr, "--topics", "fresh",
			"--metrics-listen", "", "--log-level", "warn", "--data-dir", dir)
		if err := run.Start(); err != nil {
			b.Fatal(err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("fresh"), kgo.AllowAutoTopicCreation())
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		total := rate * seconds
		tick := time.NewTicker(10 * time.Millisecond)
		for sent := 0; sent < total; {
			<-tick.C
			for range rate / 100 {
				v := fmt.Appendf(nil, `{"id":%d,"ts":"%s","v":%d.5}`, sent, time.Now().UTC().Format(time.RFC3339Nano), sent%1000)
				cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						b.Errorf("produce: %v", err)
					}
				})
				sent++
			}
		}
		tick.Stop()
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		cl.Close()
		lat = append(lat, freshness(b, dir, "fresh", total)...)
		run.Process.Signal(os.Interrupt)
		run.Wait()
		broker.Process.Kill()
		broker.Wait()
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(q(0.50), "p50-s")
	b.ReportMetric(q(0.99), "p99-s")
	b.ReportMetric(lat[len(lat)-1], "max-s")
}

// freshness waits until lake.<name> holds want rows and returns, for each
// row, the seconds from its ts to the snapshot that added it.
func freshness(tb testing.TB, dir, name string, want int) []float64 {
	tb.Helper()
	ctx := context.Background()
	wh, _ := filepath.Abs(filepath.Join(dir, "lake"))
	st, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), "file://"+wh)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		tbl, err := st.LoadIceberg(ctx, "lake", name)
		if err == nil && tbl.CurrentSnapshot() != nil {
			added := map[string]int64{} // data file -> snapshot time (ms)
			fs, err := tbl.FS(ctx)
			if err != nil {
				tb.Fatal(err)
			}
			for _, s := range tbl.Metadata().Snapshots() {
				if s.Summary == nil || s.Summary.Operation != table.OpAppend {
					continue // compactions re-add rows appended earlier
				}
				mfs, err := s.Manifests(fs)
				if err != nil {
					tb.Fatal(err)
				}
				for _, mf := range mfs {
					if mf.SnapshotID() != s.SnapshotID {
						continue
					}
					for e, err := range mf.Entries(fs, true) {
						if err != nil {
							tb.Fatal(err)
						}
						if e.Status() == iceberg.EntryStatusADDED && e.SnapshotID() == s.SnapshotID {
							added[strings.TrimPrefix(e.DataFile().FilePath(), "file://")] = s.TimestampMs
						}
					}
				}
			}
			var files []string
			for f := range added {
				files = append(files, "'"+f+"'")
			}
			rows, err := db.QueryContext(ctx, "SELECT filename, epoch_ms(ts) FROM read_parquet(["+strings.Join(files, ",")+"], filename=true)")
			if err != nil {
				tb.Fatal(err)
			}
			var lat []float64
			for rows.Next() {
				var f string
				var ts int64
				if err := rows.Scan(&f, &ts); err != nil {
					tb.Fatal(err)
				}
				lat = append(lat, float64(added[f]-ts)/1e3)
			}
			rows.Close()
			if len(lat) >= want {
				if len(lat) != want {
					tb.Fatalf("lake.%s holds %d rows, want %d", name, len(lat), want)
				}
				return lat
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("lake.%s did not reach %d rows: %v", name, want, err)
		}
	}
}

package query_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// benchQueries are analytic queries over a sensors table; {t} is the table
// (lake.sensors through streamlake, read_parquet of one file for DuckDB).
var benchQueries = []struct{ name, sql string }{
	{"count", `SELECT count(*) FROM {t}`},
	{"group_by_site", `SELECT site, count(*), round(avg(temperature), 6), max(humidity) FROM {t} GROUP BY site ORDER BY site`},
	{"one_day_filter", `SELECT count(*), round(avg(temperature), 6) FROM {t} WHERE ts >= TIMESTAMPTZ '2026-11-10 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-11 00:00:00+00'`},
	{"top_devices", `SELECT device, round(avg(temperature), 6) AS t FROM {t} GROUP BY device ORDER BY t DESC, device LIMIT 10`},
	{"hourly_one_day", `SELECT date_trunc('hour', ts) AS h, count(*) FROM {t} WHERE ts >= TIMESTAMPTZ '2026-11-20 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-21 00:00:00+00' GROUP BY h ORDER BY h`},
	{"window_one_day", `SELECT device, ts, round(avg(temperature) OVER (PARTITION BY device ORDER BY ts ROWS BETWEEN 10 PRECEDING AND CURRENT ROW), 6) AS ma FROM {t} WHERE ts >= TIMESTAMPTZ '2026-11-05 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-06 00:00:00+00' ORDER BY ma DESC, device, ts LIMIT 10`},
	{"join_device_avg", `WITH d AS (SELECT device, avg(temperature) AS a FROM {t} GROUP BY device) SELECT s.site, count(*) FROM {t} s JOIN d USING (device) WHERE s.temperature > d.a + 5 GROUP BY s.site ORDER BY s.site`},
	{"errors_by_site", `SELECT site, count(*) FROM {t} WHERE status = 'error' GROUP BY site ORDER BY site`},
	{"p99_humidity", `SELECT site, round(quantile_cont(humidity, 0.99), 6) FROM {t} GROUP BY site ORDER BY site`},
	{"distinct_devices_per_day", `SELECT date_trunc('day', ts) AS d, count(DISTINCT device) FROM {t} GROUP BY d ORDER BY d`},
	{"point_one_partition", `SELECT id, ts, temperature FROM {t} WHERE ts >= TIMESTAMPTZ '2026-11-15 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-16 00:00:00+00' AND device = 'dev-0042' ORDER BY ts LIMIT 5`},
}

var benchSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
	iceberg.NestedField{ID: 3, Name: "device", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 4, Name: "site", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 5, Name: "temperature", Type: iceberg.PrimitiveTypes.Float64},
	iceberg.NestedField{ID: 6, Name: "humidity", Type: iceberg.PrimitiveTypes.Float64},
	iceberg.NestedField{ID: 7, Name: "status", Type: iceberg.PrimitiveTypes.String},
)

// benchLake writes rows sensors rows over 30 days into lake.sensors, one
// commit (and one data file) per day partition, as compaction leaves a
// table; it returns the catalog and the table's data files.
func benchLake(b *testing.B, rows int) (*catalog.Store, []string) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	lake := filepath.Join(dir, "lake")
	store, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), (&url.URL{Scheme: "file", Path: lake}).String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	ice := store.Iceberg()
	if err := ice.CreateNamespace(ctx, table.Identifier{"lake"}, nil); err != nil {
		b.Fatal(err)
	}
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}})
	tbl, err := ice.CreateTable(ctx, table.Identifier{"lake", "sensors"}, benchSchema, icecat.WithPartitionSpec(&spec),
		icecat.WithProperties(iceberg.Properties{table.ParquetCompressionKey: "zstd", table.ParquetRowGroupLimitKey: "122880"})) // as the ETL's tables
	if err != nil {
		b.Fatal(err)
	}
	as, err := table.SchemaToArrowSchema(benchSchema, nil, true, false)
	if err != nil {
		b.Fatal(err)
	}
	sites := []string{"north", "south", "east", "west", "lab", "roof", "basement", "dock", "yard", "office"}
	statuses := []string{"ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "warn", "error"}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const days = 30
	perDay := rows / days
	id := int64(0)
	for d := range days {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, as)
		for i := range perDay {
			dev := rng.IntN(1000)
			// In microseconds: i * 24h in nanoseconds overflows int64 from
			// i = 106,752 (10M rows, 333,333 a day), which spread each
			// day's rows over the days before and after it.
			ts := start.Add(time.Duration(d)*24*time.Hour + time.Duration(int64(i)*int64(24*time.Hour/time.Microsecond)/int64(perDay))*time.Microsecond)
			rb.Field(0).(*array.Int64Builder).Append(id)
			rb.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
			rb.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("dev-%04d", dev))
			rb.Field(3).(*array.StringBuilder).Append(sites[dev%len(sites)])
			rb.Field(4).(*array.Float64Builder).Append(15 + float64(dev%10) + rng.NormFloat64()*3)
			rb.Field(5).(*array.Float64Builder).Append(20 + rng.Float64()*75)
			rb.Field(6).(*array.StringBuilder).Append(statuses[rng.IntN(len(statuses))])
			id++
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		at := array.NewTableFromRecords(as, []arrow.RecordBatch{rec})
		if tbl, err = tbl.AppendTable(ctx, at, int64(perDay), nil); err != nil {
			b.Fatal(err)
		}
		at.Release()
		rec.Release()
	}
	var files []string
	filepath.WalkDir(lake, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return nil
	})
	return store, files
}

// BenchmarkQueries times analytic queries through streamlake (catalog
// resolution, Iceberg scan planning, DuckDB over the planned files, on one
// engine that reuses its DuckDB instances and plans across queries, as
// `streamlake serve` runs them) against DuckDB reading
// the same rows from one ideal Parquet file, in the same run, and reports
// both times (best of b.N) and their ratio per query. Rows default to
// 2,000,000; STREAMLAKE_BENCH_ROWS=10000000 gives the dataset.
//
//	go test -run '^$' -bench Queries -benchtime 5x ./internal/query/
func BenchmarkQueries(b *testing.B) {
	rows := 2_000_000
	if s := os.Getenv("STREAMLAKE_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	store, files := benchLake(b, rows)
	ctx := context.Background()
	ideal := filepath.Join(b.TempDir(), "ideal.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + f + "'"
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM read_parquet([%s]) ORDER BY ts) TO '%s' (FORMAT parquet, COMPRESSION zstd)`,
		strings.Join(quoted, ","), ideal)); err != nil {
		b.Fatal(err)
	}
	e := query.New(store, query.Options{Databases: []string{"lake"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer e.Close()
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			slSQL := strings.ReplaceAll(q.sql, "{t}", "lake.sensors")
			idealSQL := strings.ReplaceAll(q.sql, "{t}", "read_parquet('"+ideal+"')")
			var sl, id []time.Duration
			var slRows, idRows string
			for range b.N {
				t0 := time.Now()
				res, err := e.Query(ctx, slSQL)
				if err != nil {
					b.Fatal(err)
				}
				sl = append(sl, time.Since(t0))
				slRows = fmt.Sprint(res.Rows)
				t0 = time.Now()
				r, err := db.QueryContext(ctx, idealSQL)
				if err != nil {
					b.Fatal(err)
				}
				idRows = drain(b, r)
				id = append(id, time.Since(t0))
			}
			if slRows != idRows {
				b.Fatalf("results differ:\nstreamlake %s\nideal      %s", slRows, idRows)
			}
			best := func(d []time.Duration) float64 { return float64(slices.Min(d).Microseconds()) / 1e3 }
			b.ReportMetric(best(sl), "streamlake-ms")
			b.ReportMetric(best(id), "ideal-ms")
			b.ReportMetric(best(sl)/best(id), "ratio")
		})
	}
}

// drain reads a result into the text Query's rows print as.
func drain(b *testing.B, r *sql.Rows) string {
	b.Helper()
	defer r.Close()
	cols, _ := r.Columns()
	var out [][]any
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		for i, v := range vals {
			if t, ok := v.(time.Time); ok {
				vals[i] = t.UTC()
			}
		}
		out = append(out, vals)
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprint(out)
}

package etl_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/stage"
)

type env struct {
	dir     string
	staging *blob.Bucket
	store   *catalog.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	u, _ := sblob.DirURL(filepath.Join(dir, "staging"))
	b, err := sblob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	wh, _ := sblob.DirURL(filepath.Join(dir, "lake"))
	st, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), wh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{dir, b, st}
}

func (e *env) etl() *etl.ETL {
	return etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, e.store.Iceberg())
}

var base = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// put writes a staging object of partition p holding offsets [from, to),
// where value(i) gives each record's value.
func (e *env) put(t testing.TB, topic string, p int32, from, to int64, value func(i int64) []byte) {
	t.Helper()
	var buf []byte
	for i := from; i < to; i++ {
		buf = stage.AppendEnvelope(buf, &stage.Record{Topic: topic, Partition: p, Offset: i,
			Timestamp: base.Add(time.Duration(i) * time.Minute), Value: value(i)})
	}
	name := stage.ObjectName(topic, p, from, base.Add(time.Duration(from)*time.Minute))
	if err := e.staging.WriteAll(context.Background(), name, stage.Compress(nil, buf), nil); err != nil {
		t.Fatal(err)
	}
}

func sensor(i int64) []byte {
	return fmt.Appendf(nil, `{"id":"s-%d","ts":"%s","device":"d%d","temperature":%d.5}`,
		i, base.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05.000Z07:00"), i%3, i%40)
}

func count(t *testing.T, st *catalog.Store, name string) int64 {
	t.Helper()
	tbl, err := st.LoadIceberg(context.Background(), "lake", name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatalf("scan %s: %v", name, err)
	}
	defer at.Release()
	return at.NumRows()
}

func TestLoadsRowsAndDeadLetters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "sensors", 0, 0, 100, sensor)
	e.put(t, "sensors", 1, 0, 50, func(i int64) []byte {
		if i%10 == 0 {
			return []byte("not json " + fmt.Sprint(i))
		}
		if i%10 == 1 {
			return []byte(`[1,2]`)
		}
		return sensor(1000 + i)
	})
	res, err := e.etl().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 140 || res.DeadLetters != 10 {
		t.Fatalf("result %+v, want 140 rows and 10 dead letters", res)
	}
	if n := count(t, e.store, "sensors"); n != 140 {
		t.Fatalf("lake.sensors has %d rows, want 140", n)
	}
	if n := count(t, e.store, "sensors_dlq"); n != 10 {
		t.Fatalf("lake.sensors_dlq has %d rows, want 10", n)
	}
	tbl, _ := e.store.LoadIceberg(ctx, "lake", "sensors")
	if spec := tbl.Spec(); spec.NumFields() != 1 || spec.Field(0).Name != "ts_day" {
		t.Fatalf("partition spec %v, want day(ts)", spec)
	}
	if f, ok := tbl.Schema().FindFieldByName("ts"); !ok || f.Type.String() != "timestamptz" {
		t.Fatalf("ts column %v, want timestamptz", f)
	}

	// Data files are Parquet with zstd under Hive-style partition paths.
	files, _ := filepath.Glob(filepath.Join(e.dir, "lake", "lake.db", "sensors", "data", "ts_day=*", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no data files under lake.db/sensors/data/ts_day=*/")
	}
	pf, err := file.OpenParquetFile(files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Compression() != compress.Codecs.Zstd {
		t.Fatalf("%s compressed with %v, want zstd", files[0], cc.Compression())
	}

	// A fresh ETL (as after a restart) adds nothing.
	res, err = e.etl().RunOnce(ctx)
	if err != nil || res.Rows != 0 || res.DeadLetters != 0 || res.Objects != 0 {
		t.Fatalf("second run %+v, %v; want nothing", res, err)
	}
}

// TestEventTimeWithoutDictionary checks that the ETL's tables write the
// event time without a dictionary (its values are nearly all distinct, so
// one only costs hashing until it is given up) and keep dictionaries for
// the other columns. The event times here repeat, so that a dictionary
// would be kept for them too were it not off.
func TestEventTimeWithoutDictionary(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "sensors", 0, 0, 3000, func(i int64) []byte {
		return fmt.Appendf(nil, `{"ts":"%s","device":"d%d","n":%d}`,
			base.Add(time.Duration(i%4)*time.Second).Format(time.RFC3339), i%5, i%7)
	})
	if res, err := e.etl().RunOnce(ctx); err != nil || res.Rows != 3000 {
		t.Fatalf("RunOnce: %+v, %v", res, err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "sensors")
	if err != nil {
		t.Fatal(err)
	}
	if got := tbl.Properties()["write.parquet.dict-encoding-enabled.column.ts"]; got != "false" {
		t.Errorf("table property for ts's dictionary = %q, want false", got)
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "lake", "lake.db", "sensors", "data", "ts_day=*", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no data files")
	}
	for _, f := range files {
		pf, err := file.OpenParquetFile(f, false)
		if err != nil {
			t.Fatal(err)
		}
		sc := pf.MetaData().Schema
		for i := range sc.NumColumns() {
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			name := sc.Column(i).Name()
			if want := name != "ts"; dictEncoded(cc.Encodings()) != want {
				t.Errorf("%s: column %s has encodings %v; dictionary wanted: %v", filepath.Base(f), name, cc.Encodings(), want)
			}
		}
		pf.Close()
	}
}

func TestRewrittenObjectAddsNoDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "t", 0, 0, 100, sensor)
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Ingest crashed before committing its offset and rewrote the object
	// from the same first offset with a longer range, then went on.
	e.put(t, "t", 0, 0, 150, sensor)
	e.put(t, "t", 0, 150, 200, sensor)
	res, err := e.etl().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 100 {
		t.Fatalf("second run added %d rows, want 100", res.Rows)
	}
	if n := count(t, e.store, "t"); n != 200 {
		t.Fatalf("lake.t has %d rows, want 200", n)
	}
}

func TestSchemaEvolutionAddsColumns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "ev", 0, 0, 10, sensor)
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.put(t, "ev", 0, 10, 20, func(i int64) []byte {
		return fmt.Appendf(nil, `{"id":"x%d","ts":"2026-11-21T00:00:00.000Z","device":"d","temperature":1.5,"site":{"name":"s%d","floor":%d}}`, i, i, i)
	})
	e.put(t, "ev", 0, 20, 21, func(i int64) []byte {
		return []byte(`{"id":"bad","ts":"2026-11-21T00:00:00.000Z","temperature":"hot"}`)
	})
	reg := prometheus.NewRegistry()
	res, err := etl.New(etl.Config{Database: "lake", TimeField: "ts", Metrics: etl.NewMetrics(reg)}, e.staging, e.store.Iceberg()).RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 10 || res.DeadLetters != 1 {
		t.Fatalf("result %+v, want 10 rows, 1 dead letter", res)
	}
	// One column added: the struct site, with its fields.
	if v := counter(t, reg, "streamlake_etl_schema_changes_total", "ev"); v != 1 {
		t.Fatalf("schema changes counted %v, want 1", v)
	}
	tbl, _ := e.store.LoadIceberg(ctx, "lake", "ev")
	if _, ok := tbl.Schema().FindFieldByName("site.floor"); !ok {
		t.Fatalf("schema %v lacks site.floor", tbl.Schema())
	}
	at, err := tbl.Scan(table.WithSelectedFields("id", "site")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 20 {
		t.Fatalf("%d rows, want 20", at.NumRows())
	}
}

func TestNewFieldsInsideListElementsBecomeColumns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "o", 0, 0, 5, func(i int64) []byte {
		return fmt.Appendf(nil, `{"id":"a%d","ts":"2026-11-21T00:00:00.000Z","items":[{"sku":"x","qty":%d}]}`, i, i)
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.put(t, "o", 0, 5, 11, func(i int64) []byte {
		if i == 10 { // a bad row in the same batch must not hide the new field
			return []byte(`{"id":"bad","ts":"2026-11-21T00:00:00.000Z","items":"oops"}`)
		}
		return fmt.Appendf(nil, `{"id":"b%d","ts":"2026-11-21T00:00:00.000Z","items":[{"sku":"y","qty":1,"discount":0.5}]}`, i)
	})
	res, err := e.etl().RunOnce(ctx)
	if err != nil || res.Rows != 5 || res.DeadLetters != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	tbl, _ := e.store.LoadIceberg(ctx, "lake", "o")
	if _, ok := tbl.Schema().FindFieldByName("items.element.discount"); !ok {
		t.Fatalf("schema %v lacks items.element.discount", tbl.Schema())
	}
	tbl, _ = e.store.LoadIceberg(ctx, "lake", "o")
	at, err := tbl.Scan(table.WithSelectedFields("items")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 10 {
		t.Fatalf("%d rows, want 10", at.NumRows())
	}
	// Every row of the second batch kept its discount.
	discounts := 0
	for _, chunk := range at.Column(0).Data().Chunks() {
		elems := chunk.(*array.List).ListValues().(*array.Struct)
		idx, ok := elems.DataType().(*arrow.StructType).FieldIdx("discount")
		if !ok {
			t.Fatal("items elements have no discount field")
		}
		d := elems.Field(idx).(*array.Float64)
		for i := range d.Len() {
			if d.IsValid(i) && d.Value(i) == 0.5 {
				discounts++
			}
		}
	}
	if discounts != 5 {
		t.Fatalf("%d discounts stored, want 5", discounts)
	}
}

// TestConcurrentWritersCommitEachRecordOnce runs two ETLs over the same
// staging area and catalog at once, as two `streamlake run` processes do:
// optimistic-concurrency conflicts are retried, and no row lands twice.
func TestConcurrentWritersCommitEachRecordOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for p := int32(0); p < 3; p++ {
		for from := int64(0); from < 1000; from += 100 {
			e.put(t, "c", p, from, from+100, func(i int64) []byte { return sensor(int64(p)*10_000 + i) })
		}
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			x := e.etl()
			for range 5 {
				if _, err := x.RunOnce(ctx); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, e.store, "c"); n != 3000 {
		t.Fatalf("lake.c has %d rows, want 3000", n)
	}
}

// TestRetentionDeletesOnlyWhatTheLakeHolds: with retention, objects a commit
// covers are deleted once old enough; an object not yet loaded stays.
func TestRetentionDeletesOnlyWhatTheLakeHolds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "r", 0, 0, 10, sensor)
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts", StagingRetention: time.Nanosecond}, e.staging, e.store.Iceberg())
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.put(t, "r", 0, 10, 20, sensor) // staged after the commit: not in the lake
	// Pending lists staging and applies retention to what the lake holds.
	if n, err := x.Pending(ctx); err != nil || n != 1 {
		t.Fatalf("pending %d, %v; want the one new object", n, err)
	}
	keys := listKeys(t, e.staging)
	if len(keys) != 1 || !strings.Contains(keys[0], "/00000000000000000010.ndjson.zst") {
		t.Fatalf("staging holds %v; want only the object not yet in the lake", keys)
	}
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.store, "r"); n != 20 {
		t.Fatalf("lake.r has %d rows, want 20", n)
	}
}

func listKeys(t *testing.T, b *blob.Bucket) []string {
	t.Helper()
	var keys []string
	it := b.List(nil)
	for {
		a, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, a.Key)
	}
	return keys
}

// counter reads the value of a counter of reg with label table.
func counter(t *testing.T, reg *prometheus.Registry, name, tableName string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == tableName {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// dictEncoded says whether a column chunk's encodings include a
// dictionary's.
func dictEncoded(encs []parquet.Encoding) bool {
	return slices.ContainsFunc(encs, func(e parquet.Encoding) bool {
		return e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
	})
}

// tableColumns lists lake.name's top-level columns, comma-separated.
func tableColumns(t *testing.T, e *env, name string) string {
	t.Helper()
	tbl, err := e.store.LoadIceberg(context.Background(), "lake", name)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}

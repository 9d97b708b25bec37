package query_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/stage"
)

// writeStaging writes one staging object of recs under dir, named as
// ingest names it.
func writeStaging(t *testing.T, dir string, recs ...stage.Record) {
	t.Helper()
	var raw []byte
	for i := range recs {
		raw = stage.AppendEnvelope(raw, &recs[i])
	}
	name := stage.ObjectName(recs[0].Topic, recs[0].Partition, recs[0].Offset, recs[0].Timestamp)
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, stage.Compress(nil, raw), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stagingTable is the definition the crawler registers for a topic whose
// values are {"id": bigint, "amount": double, "customer": {"name": string}}.
func stagingTable(name, location string) catalog.Table {
	return catalog.Table{
		Database: "raw", Name: name, Format: "json", Compression: "zstd", Location: location,
		Columns: []catalog.Column{
			{Name: "topic", Type: "string", DuckDB: "VARCHAR"},
			{Name: "partition", Type: "int", DuckDB: "INTEGER"},
			{Name: "offset", Type: "bigint", DuckDB: "BIGINT"},
			{Name: "timestamp", Type: "timestamp", DuckDB: "TIMESTAMPTZ"},
			{Name: "key", Type: "string", DuckDB: "VARCHAR"},
			{Name: "key_b64", Type: "string", DuckDB: "VARCHAR"},
			{Name: "headers", Type: "array<struct<key:string,value:string,value_b64:string>>"},
			{Name: "value", Type: "struct<id:bigint,amount:double,customer:struct<name:string>>"},
			{Name: "value_text", Type: "string"},
			{Name: "value_b64", Type: "string"},
		},
		PartitionKeys: []catalog.Column{
			{Name: "dt", Type: "date", DuckDB: "DATE"},
			{Name: "hr", Type: "int", DuckDB: "INTEGER"},
			{Name: "p", Type: "int", DuckDB: "INTEGER"},
		},
	}
}

func TestExternalJSON(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	staging := filepath.Join(dir, "staging")
	day1 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	writeStaging(t, staging,
		stage.Record{Topic: "orders", Partition: 0, Offset: 0, Timestamp: day1, Key: []byte("k0"),
			Headers: []stage.Header{{Key: "h", Value: []byte("v")}},
			Value:   []byte(`{"id": 1, "amount": 1.5, "customer": {"name": "ann"}}`)},
		stage.Record{Topic: "orders", Partition: 0, Offset: 1, Timestamp: day1.Add(time.Second),
			Value: []byte(`{"id": 2, "amount": 3}`)},
		stage.Record{Topic: "orders", Partition: 0, Offset: 2, Timestamp: day1.Add(2 * time.Second),
			Value: []byte(`not json`)},
	)
	writeStaging(t, staging,
		stage.Record{Topic: "orders", Partition: 1, Offset: 0, Timestamp: day1, Key: []byte{0xff},
			Value: []byte(`{"id": 2, "amount": 3}`)},
		stage.Record{Topic: "orders", Partition: 1, Offset: 1, Timestamp: day1, Value: []byte{0xff, 0x00}},
		stage.Record{Topic: "orders", Partition: 1, Offset: 2, Timestamp: day1}, // tombstone
	)
	writeStaging(t, staging,
		stage.Record{Topic: "orders", Partition: 0, Offset: 3, Timestamp: day2, Value: []byte(`{"id": 3}`)},
		stage.Record{Topic: "orders", Partition: 0, Offset: 4, Timestamp: day2, Value: []byte(`[1, 2]`)},
	)
	if err := store.PutTable(ctx, stagingTable("orders", filepath.Join(staging, "orders"))); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, store)

	res, err := e.Query(ctx, `SELECT count(*), count(DISTINCT value.id), count(value_text), count(value_b64), count(key_b64)
		FROM raw.orders`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rows[0], []any{int64(8), int64(3), int64(1), int64(1), int64(1)}; !slices.Equal(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}

	res, err = e.Query(ctx, `SELECT count(*), min(hr), max(p) FROM raw.orders WHERE dt = DATE '2026-11-22'`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rows[0], []any{int64(6), int32(10), int32(1)}; !slices.Equal(got, want) {
		t.Errorf("day 1 = %v, want %v", got, want)
	}

	res, err = e.Query(ctx, `SELECT "offset", value.customer.name, headers[1].key, headers[1].value, "timestamp", dt
		FROM raw.orders WHERE key = 'k0'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("rows = %v", res.Rows)
	}
	row := res.Rows[0]
	if row[0] != int64(0) || row[1] != "ann" || row[2] != "h" || row[3] != "v" {
		t.Errorf("row = %v", row)
	}
	if ts, _ := row[4].(time.Time); !ts.Equal(day1) {
		t.Errorf("timestamp = %v, want %v", row[4], day1)
	}
	if got, want := res.Types, []string{"BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMPTZ", "DATE"}; !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}

	// A JSON value that is not an object reads as NULL, its row is kept.
	res, err = e.Query(ctx, `SELECT value IS NULL OR value.id IS NULL FROM raw.orders WHERE p = 0 AND "offset" = 4`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != true {
		t.Errorf("non-object value: rows = %v", res.Rows)
	}
}

// TestExternalIngestFrames reads a staging object written as ingest writes
// it (stage.CompressBuffer: a skippable size frame, then one zstd frame
// per 256 KiB chunk) through DuckDB's own zstd reader: every line of
// every frame is a row.
func TestExternalIngestFrames(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	day := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const n = 20_000 // ~2 MiB of lines: several frames
	var b stage.Buffer
	defer b.Release()
	var line []byte
	for i := range n {
		line = stage.AppendEnvelope(line[:0], &stage.Record{Topic: "orders", Partition: 0, Offset: int64(i), Timestamp: day,
			Value: fmt.Appendf(nil, `{"id": %d, "amount": 1.5, "customer": {"name": "customer %d"}}`, i, i%97)})
		b.Write(line)
	}
	var obj bytes.Buffer
	if err := stage.CompressBuffer(&obj, &b); err != nil {
		t.Fatal(err)
	}
	if frames := countFrames(t, obj.Bytes()); frames < 4 {
		t.Fatalf("object has %d zstd frames, want several", frames)
	}
	path := filepath.Join(dir, "staging", filepath.FromSlash(stage.ObjectName("orders", 0, 0, day)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, obj.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.PutTable(ctx, stagingTable("orders", filepath.Join(dir, "staging", "orders"))); err != nil {
		t.Fatal(err)
	}
	res, err := newEngine(t, store).Query(ctx, `SELECT count(*), count(DISTINCT value.id), max("offset") FROM raw.orders`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Rows[0], []any{int64(n), int64(n), int64(n - 1)}; !slices.Equal(got, want) {
		t.Errorf("count, distinct ids, max offset = %v, want %v", got, want)
	}
}

// countFrames walks obj's zstd frames (skippable ones included) by their
// headers and block headers, as the format defines them.
func countFrames(t *testing.T, obj []byte) int {
	t.Helper()
	frames := 0
	for len(obj) > 0 {
		if len(obj) < 8 {
			t.Fatalf("%d trailing bytes", len(obj))
		}
		magic := binary.LittleEndian.Uint32(obj)
		if magic&0xFFFFFFF0 == 0x184D2A50 { // skippable: magic, size, payload
			obj = obj[8+int(binary.LittleEndian.Uint32(obj[4:])):]
			frames++
			continue
		}
		if magic != 0xFD2FB528 {
			t.Fatalf("frame %d: magic %#x", frames, magic)
		}
		fhd := obj[4]
		did := []int{0, 1, 2, 4}[fhd&3]
		fcs := []int{0, 2, 4, 8}[fhd>>6]
		single := fhd>>5&1 == 1
		if fhd>>6 == 0 && single {
			fcs = 1
		}
		pos := 5 + did + fcs
		if !single {
			pos++ // window descriptor
		}
		for {
			bh := uint32(obj[pos]) | uint32(obj[pos+1])<<8 | uint32(obj[pos+2])<<16
			last, typ, size := bh&1 == 1, bh>>1&3, int(bh>>3)
			if typ == 1 { // RLE: one byte
				size = 1
			}
			pos += 3 + size
			if last {
				break
			}
		}
		if fhd>>2&1 == 1 {
			pos += 4 // content checksum
		}
		obj = obj[pos:]
		frames++
	}
	return frames
}

func TestExternalEmpty(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	if err := store.PutTable(ctx, stagingTable("nothing", filepath.Join(dir, "staging", "nothing"))); err != nil {
		t.Fatal(err)
	}
	res, err := newEngine(t, store).Query(ctx, `SELECT * FROM raw.nothing`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("rows = %v", res.Rows)
	}
	if got := len(res.Columns); got != 13 {
		t.Errorf("columns = %v, want 13", res.Columns)
	}
	if got, want := res.Types[6], `STRUCT("key" VARCHAR, "value" VARCHAR, "value_b64" VARCHAR)[]`; got != want {
		t.Errorf("headers type = %s, want %s", got, want)
	}
	if got, want := res.Types[10:], []string{"DATE", "INTEGER", "INTEGER"}; !slices.Equal(got, want) {
		t.Errorf("partition types = %v, want %v", got, want)
	}
}

func TestExternalParquet(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	loc := filepath.Join(dir, "files")
	// Write the files with DuckDB itself: two partitions, the older one
	// without column c.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, part := range []struct{ dt, sel string }{
		{"2026-11-21", `SELECT 1::INTEGER AS a, 'x' AS b`},
		{"2026-11-22", `SELECT * FROM (VALUES (2, 'y', 2.5), (3, 'z', 3.5)) v(a, b, c)`},
	} {
		d := filepath.Join(loc, "dt="+part.dt)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "COPY ("+part.sel+") TO '"+filepath.Join(d, "part-0.parquet")+"' (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	err = store.PutTable(ctx, catalog.Table{
		Database: "ext", Name: "files", Format: "parquet", Location: "file://" + loc,
		Columns: []catalog.Column{
			{Name: "a", Type: "bigint"}, {Name: "b", Type: "string"}, {Name: "c", Type: "double"},
		},
		PartitionKeys: []catalog.Column{{Name: "dt", Type: "date"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := newEngine(t, store).Query(ctx, `SELECT * FROM ext.files ORDER BY a`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Types, []string{"BIGINT", "VARCHAR", "DOUBLE", "DATE"}; !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}
	if len(res.Rows) != 3 || res.Rows[0][0] != int64(1) || res.Rows[0][2] != nil || res.Rows[2][2] != 3.5 {
		t.Errorf("rows = %v", res.Rows)
	}
	if d, _ := res.Rows[0][3].(time.Time); d.Format(time.DateOnly) != "2026-11-21" {
		t.Errorf("dt = %v", res.Rows[0][3])
	}
}

// TestShowExternal: SHOW PARTITIONS and SHOW COLUMNS of an external table
// come from the catalog: its registered partitions, its partition keys
// after its columns.
func TestShowExternal(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	loc := filepath.Join(dir, "files")
	err := store.PutTable(ctx, catalog.Table{
		Database: "ext", Name: "files", Format: "parquet", Location: "file://" + loc,
		Columns:       []catalog.Column{{Name: "a", Type: "bigint"}, {Name: "b", Type: "string"}},
		PartitionKeys: []catalog.Column{{Name: "dt", Type: "string"}, {Name: "region", Type: "string"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var parts []catalog.Partition
	for _, v := range [][]string{{"2026-11-22", "eu"}, {"2026-11-21", "us"}, {"2026-11-21", "eu"}} {
		parts = append(parts, catalog.Partition{Values: v, Location: "file://" + filepath.Join(loc, "dt="+v[0], "region="+v[1])})
	}
	if err := store.BatchCreatePartitions(ctx, "ext", "files", parts); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, store)
	for q, want := range map[string][]string{
		"SHOW PARTITIONS ext.files":      {"dt=2026-11-21/region=eu", "dt=2026-11-21/region=us", "dt=2026-11-22/region=eu"},
		"SHOW COLUMNS IN files FROM ext": {"a", "b", "dt", "region"},
		"SHOW TABLES IN EXT":             {"files"},
	} {
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, r := range res.Rows {
			got = append(got, r[0].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}
}

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/snappy"
	"github.com/linkedin/goavro/v2"
)

// goavroRecords reads an Avro object container file with goavro (not the
// query engine's decoder).
func goavroRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := goavro.NewOCFReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for r.Scan() {
		v, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v.(map[string]any))
	}
	return out
}

// hambaFullWant is the CSV the TestCrawlCLI avro query must print for the
// three hamba/avro files of real_files (one record each, equal values),
// built from what goavro reads.
func hambaFullWant(t *testing.T, dir string) string {
	t.Helper()
	var recs []map[string]any
	for _, f := range []string{"full.avro", "full-snappy.avro", "full-deflate.avro"} {
		recs = append(recs, goavroRecords(t, filepath.Join(dir, f))...)
	}
	r := recs[0]
	rec := r["record"].(map[string]any)
	return fmt.Sprintf("n,enums,e,nl,i,s,b,k3,s2,l5,fx\n%d,1,%s,%s,%d,%s,%t,%d,%s,%d,%X",
		len(recs), r["enum"], r["nullable"].(map[string]any)["string"], rec["int"], rec["string"], rec["bool"],
		r["map"].(map[string]any)["key3"], r["strings"].([]any)[1], r["longs"].([]any)[4], r["fixed"])
}

// avroLogicalSchema has the logical types and unions the query cache
// converts: date, timestamp-millis and -micros, decimal (bytes), a union
// with null, a multi-type union (text), arrays of records and a map.
const avroLogicalSchema = `{"type": "record", "name": "Sale", "fields": [
	{"name": "id", "type": "long"},
	{"name": "day", "type": {"type": "int", "logicalType": "date"}},
	{"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	{"name": "at_us", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
	{"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
	{"name": "note", "type": ["null", "string"]},
	{"name": "either", "type": ["int", "string"]},
	{"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
		{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
	{"name": "tags", "type": {"type": "map", "values": "long"}}
]}`

// TestCrawlCLIConverted crawls files DuckDB cannot read and queries them
// through the query cache: Avro with logical types written by goavro
// (deflate), bzip2 CSV (written by dsnet/compress) and snappy-framed JSON
// lines; the results are the values written. A second query reads the
// cache's conversions.
func TestCrawlCLIConverted(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	// Avro, written by goavro.
	avroDir := filepath.Join(dir, "files", "sales")
	os.MkdirAll(avroDir, 0o755)
	codec, err := goavro.NewCodec(avroLogicalSchema)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &buf, Codec: codec, CompressionName: "deflate"})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var recs []any
	for i := range 3 {
		var note, atUS any
		if i != 1 {
			note = goavro.Union("string", fmt.Sprintf("note %d", i))
			atUS = goavro.Union("long.timestamp-micros", day.Add(time.Duration(i)*time.Hour+123456*time.Microsecond))
		}
		either := goavro.Union("int", int32(i))
		if i == 2 {
			either = goavro.Union("string", "two")
		}
		recs = append(recs, map[string]any{
			"id": int64(i + 1), "day": day.AddDate(0, 0, i), "at_ms": day.Add(time.Duration(i) * time.Minute),
			"at_us": atUS, "price": big.NewRat(int64(1999+i*100), 100), "note": note, "either": either,
			"items": []any{map[string]any{"sku": "a", "qty": int32(i)}, map[string]any{"sku": "b", "qty": int32(10 * i)}},
			"tags":  map[string]any{"x": int64(i), "y": int64(-i)},
		})
	}
	if err := w.Append(recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(avroDir, "part-0.avro"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := crawlJSON(t, data, "--path", avroDir, "--database", "ext")
	if rep.FilesByFormat["avro"] != 1 {
		t.Fatalf("avro crawl: %+v", rep)
	}
	q := `SELECT id, "day", at_ms, at_us, price, note, either, items[2].qty AS qty2, len(items) AS n, tags['y'] AS y
		FROM ext.sales ORDER BY id`
	want := strings.Join([]string{
		"id,day,at_ms,at_us,price,note,either,qty2,n,y",
		"1,2026-11-22,2026-11-22T00:00:00Z,2026-11-22T00:00:00.123456Z,19.99,note 0,0,0,2,0",
		"2,2026-11-23,2026-11-22T00:01:00Z,,20.99,,1,10,2,-1",
		"3,2026-11-24,2026-11-22T00:02:00Z,2026-11-22T02:00:00.123456Z,21.99,note 2,two,20,2,-2",
	}, "\n")
	for i := range 2 { // the second reads the cached conversion
		if got := inDir(t, data, "query", q, "--format", "csv"); got != want {
			t.Errorf("avro query %d:\n%s\nwant\n%s", i, got, want)
		}
	}
	conv, _ := filepath.Glob(filepath.Join(data, "cache", "query", "file", "*"))
	if n := countCached(t, filepath.Join(data, "cache", "query"), ".parquet"); n != 1 {
		t.Errorf("%d converted Parquet files in the cache, want 1 (%v)", n, conv)
	}

	// bzip2 CSV with a header, and snappy-framed JSON lines.
	csvDir := filepath.Join(dir, "files", "people")
	os.MkdirAll(csvDir, 0o755)
	var csv strings.Builder
	csv.WriteString("name,age,city\n")
	sum := 0
	for i := range 500 {
		fmt.Fprintf(&csv, "p%d,%d,c%d\n", i, i%90, i%7)
		sum += i % 90
	}
	var bz bytes.Buffer
	bw, err := dbzip2.NewWriter(&bz, nil)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte(csv.String()))
	bw.Close()
	os.WriteFile(filepath.Join(csvDir, "people.csv.bz2"), bz.Bytes(), 0o644)

	jsonDir := filepath.Join(dir, "files", "events")
	os.MkdirAll(jsonDir, 0o755)
	var sn bytes.Buffer
	sw := snappy.NewBufferedWriter(&sn)
	jsum := 0
	for i := range 300 {
		fmt.Fprintf(sw, "{\"n\": %d, \"kind\": \"k%d\"}\n", i, i%3)
		jsum += i
	}
	sw.Close()
	os.WriteFile(filepath.Join(jsonDir, "events.json.snappy"), sn.Bytes(), 0o644)

	for _, d := range []string{csvDir, jsonDir} {
		rep := crawlJSON(t, data, "--path", d, "--database", "ext")
		if len(rep.TablesCreated) != 1 {
			t.Fatalf("crawl %s: %+v", d, rep)
		}
	}
	if got, want := inDir(t, data, "query", "SELECT count(*) AS n, sum(age) AS s, max(name) AS m FROM ext.people", "--format", "csv"),
		fmt.Sprintf("n,s,m\n500,%d,p99", sum); got != want {
		t.Errorf("bzip2 csv:\n%s\nwant\n%s", got, want)
	}
	if got, want := inDir(t, data, "query", "SELECT count(*) AS n, sum(n) AS s, count(DISTINCT kind) AS k FROM ext.events", "--format", "csv"),
		fmt.Sprintf("n,s,k\n300,%d,3", jsum); got != want {
		t.Errorf("snappy json:\n%s\nwant\n%s", got, want)
	}
	if n := countCached(t, filepath.Join(data, "cache", "query"), ".zst"); n != 2 {
		t.Errorf("%d recompressed files in the cache, want 2", n)
	}

	// A changed file is converted again (its fingerprint is in the cache
	// key), and a gzip file beside it makes the table's compression mixed:
	// each file is read as it is compressed.
	var bz2 bytes.Buffer
	bw, err = dbzip2.NewWriter(&bz2, nil)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("name,age,city\nq1,100,x\nq2,101,y\n"))
	bw.Close()
	os.WriteFile(filepath.Join(csvDir, "people.csv.bz2"), bz2.Bytes(), 0o644)
	if got := inDir(t, data, "query", "SELECT count(*) AS n, sum(age) AS s FROM ext.people", "--format", "csv"); got != "n,s\n2,201" {
		t.Errorf("changed bzip2 csv:\n%s\nwant n,s 2,201", got)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("name,age,city\nr1,7,z\n"))
	zw.Close()
	os.WriteFile(filepath.Join(csvDir, "more.csv.gz"), gz.Bytes(), 0o644)
	rep = crawlJSON(t, data, "--path", csvDir, "--database", "ext")
	if out := inDir(t, data, "catalog", "describe", "ext.people", "--format", "csv"); !strings.Contains(out, "table,compression,mixed") {
		t.Errorf("table after adding a gzip file: %s", out)
	}
	if got := inDir(t, data, "query", "SELECT count(*) AS n, sum(age) AS s FROM ext.people", "--format", "csv"); got != "n,s\n3,208" {
		t.Errorf("mixed bzip2 and gzip csv:\n%s\nwant n,s 3,208", got)
	}
}

func countCached(t *testing.T, dir, suffix string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, suffix) {
			n++
		}
		return nil
	})
	return n
}

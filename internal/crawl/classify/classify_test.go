package classify

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

const realFiles = "../testdata/layouts/real_files/files"

func classifyFile(t *testing.T, path string) Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Classify(path, f, st.Size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func classifyBytes(t *testing.T, name string, data []byte, opts Options) Result {
	t.Helper()
	res, err := Classify(name, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func columns(r Result) string {
	var s []string
	for _, c := range r.Columns {
		s = append(s, c.Name+" "+c.Type.Hive())
	}
	return strings.Join(s, ", ")
}

// Parquet files written by other tools (parquet-testing: parquet-mr,
// Impala, pyarrow), classified from the footer.
func TestParquetRealFiles(t *testing.T) {
	const pt = "/work/shared/testdata/parquet-testing/"
	cases := []struct {
		path, cols string
		comp       Compression
		rows       int64
	}{
		{pt + "alltypes_dictionary.parquet", "id int, bool_col boolean, tinyint_col int, smallint_col int, int_col int, bigint_col bigint, float_col float, double_col double, date_string_col binary, string_col binary, timestamp_col timestamp", None, 2},
		{realFiles + "/nested/nested_maps.snappy.parquet", "a map<string,map<int,boolean>>, b int, c double", Snappy, 6},
		{realFiles + "/nested/nested_lists.snappy.parquet", "a array<array<array<string>>>, b int", Snappy, 3},
		{realFiles + "/decimal/fixed_length_decimal.parquet", "value decimal(25,2)", None, 24},
		{realFiles + "/decimal/int32_decimal.parquet", "value decimal(4,2)", None, 24},
		{pt + "nulls.snappy.parquet", "b_struct struct<b_c_int:int>", Snappy, 8},
		{pt + "byte_stream_split.zstd.parquet", "f32 float, f64 double", Zstd, 300},
		{pt + "list_columns.parquet", "int64_list array<bigint>, utf8_list array<string>", Snappy, 3},
		{pt + "datapage_v2.snappy.parquet", "a string, b int, c double, d boolean, e array<int>", Snappy, 5},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			r := classifyFile(t, c.path)
			if r.Format != Parquet || columns(r) != c.cols || r.Records != c.rows || !r.RecordsExact {
				t.Errorf("got %s %q rows %d exact %t, want parquet %q rows %d", r.Format, columns(r), r.Records, r.RecordsExact, c.cols, c.rows)
			}
			if r.Compression != c.comp {
				t.Errorf("compression %s, want %s", r.Compression, c.comp)
			}
		})
	}
}

// Only the footer is read: a reader that fails on any offset before the
// footer still classifies the file.
func TestParquetFooterOnly(t *testing.T) {
	data, err := os.ReadFile(realFiles + "/nested/nested_maps.snappy.parquet")
	if err != nil {
		t.Fatal(err)
	}
	footer := int64(binary.LittleEndian.Uint32(data[len(data)-8:])) + 8
	r := &guardedReader{data: data, from: int64(len(data)) - footer, head: 16}
	res, err := Classify("x.parquet", r, int64(len(data)), Options{})
	if err != nil || res.Format != Parquet || len(res.Columns) != 3 {
		t.Fatalf("got %+v, %v", res, err)
	}
	if r.bad {
		t.Fatalf("read bytes outside the header and footer")
	}
}

type guardedReader struct {
	data       []byte
	from, head int64
	bad        bool
}

func (g *guardedReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > g.head && off < g.from {
		g.bad = true
	}
	return bytes.NewReader(g.data).ReadAt(p, off)
}

// Avro object container files written by hamba/avro (a tool other than
// this one), with their block codecs.
func TestAvroRealFiles(t *testing.T) {
	const cols = "strings array<string>, longs array<bigint>, enum string, map map<string,int>, nullable string, fixed binary, record struct<long:bigint,string:string,int:int,float:float,double:double,bool:boolean>"
	for file, comp := range map[string]Compression{"full.avro": None, "full-snappy.avro": Snappy, "full-deflate.avro": Gzip} {
		r := classifyFile(t, realFiles+"/avro/"+file)
		if r.Format != Avro || r.Compression != comp || columns(r) != cols {
			t.Errorf("%s: got %s %s %q", file, r.Format, r.Compression, columns(r))
		}
	}
}

// avroFile builds an OCF header with the given schema (no blocks).
func avroFile(schema string) []byte {
	var b []byte
	long := func(n int64) { b = binary.AppendVarint(b, n) }
	str := func(s string) { long(int64(len(s))); b = append(b, s...) }
	b = append(b, "Obj\x01"...)
	long(2)
	str("avro.schema")
	str(schema)
	str("avro.codec")
	str("zstandard")
	long(0)
	return append(b, bytes.Repeat([]byte{7}, 16)...)
}

func TestAvroLogicalTypes(t *testing.T) {
	schema := `{"type":"record","name":"r","namespace":"n","fields":[
		{"name":"d","type":{"type":"int","logicalType":"date"}},
		{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
		{"name":"amt","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":3}},
		{"name":"f","type":{"type":"fixed","name":"money","size":8,"logicalType":"decimal","precision":9,"scale":2}},
		{"name":"f2","type":"money"},
		{"name":"u","type":["null","int","string"]},
		{"name":"next","type":["null","r"]},
		{"name":"tags","type":{"type":"map","values":{"type":"array","items":"n.r"}}}]}`
	r := classifyBytes(t, "x.avro", avroFile(schema), Options{})
	want := "d date, ts timestamp, amt decimal(12,3), f decimal(9,2), f2 decimal(9,2), u string, next string, tags map<string,array<string>>"
	if r.Format != Avro || r.Compression != Zstd || columns(r) != want {
		t.Fatalf("got %s %s %q (%s)\nwant %q", r.Format, r.Compression, columns(r), r.Reason, want)
	}
	bad := classifyBytes(t, "x.avro", avroFile(`{"type":"record","name":"r","fields":[{"name":"a","type":"nope"}]}`), Options{})
	if bad.Format != Unclassified || !strings.Contains(bad.Reason, "nope") {
		t.Fatalf("unknown type: got %+v", bad)
	}
}

func compressWith(t *testing.T, c string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch c {
	case "gzip":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "snappy-framed":
		w := s2.NewWriter(&b, s2.WriterSnappyCompat())
		w.Write(data)
		w.Close()
	case "snappy-hadoop":
		block := snappy.Encode(nil, data)
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		return append(out, block...)
	case "snappy-raw":
		return snappy.Encode(nil, data)
	case "none":
		return data
	}
	return b.Bytes()
}

func TestCompression(t *testing.T) {
	data := []byte("{\"a\":1,\"b\":\"x\"}\n{\"a\":2.5,\"c\":[true]}\n")
	for _, c := range []struct {
		codec, name string
		want        Compression
	}{
		{"gzip", "f.json", Gzip}, // magic decides, not the name
		{"zstd", "f", Zstd},
		{"snappy-framed", "f.json", Snappy},
		{"snappy-hadoop", "f.json.snappy", Snappy},
		{"snappy-raw", "f.sz", Snappy},
		{"none", "f.json.gz", None}, // a name is not a magic number
	} {
		r := classifyBytes(t, c.name, compressWith(t, c.codec, data), Options{})
		if r.Format != JSON || r.Compression != c.want || columns(r) != "a double, b string, c array<boolean>" {
			t.Errorf("%s %s: got %s %s %q %s", c.codec, c.name, r.Format, r.Compression, columns(r), r.Reason)
		}
	}
	r := classifyFile(t, "../testdata/layouts/compressed/files/bz2/events.json.bz2")
	if r.Format != JSON || r.Compression != Bzip2 {
		t.Errorf("bzip2: got %s %s", r.Format, r.Compression)
	}
	gz := compressWith(t, "gzip", data)
	r = classifyBytes(t, "f.gz", gz[:len(gz)-12], Options{})
	if r.Format != Unclassified || r.Compression != Gzip || !strings.Contains(r.Reason, "decompress") {
		t.Errorf("truncated gzip: got %+v", r)
	}
}

func TestJSONForms(t *testing.T) {
	cases := []struct {
		name, data string
		format     Format
		array      bool
		cols       string
	}{
		{"lines", "{\"a\":1}\n\n{\"a\":3000000000,\"b\":null}\n", JSON, false, "a bigint, b string"},
		{"pretty concatenated", "{\n \"a\": \"2024-01-02\"\n}\n{\"a\": \"2024-01-02T03:04:05Z\"}", JSON, false, "a timestamp"},
		{"array", " [ {\"x\": {\"y\": [1, 2.5]}}, {\"x\": {\"z\": \"s\"}} ] ", JSON, true, "x struct<y:array<double>,z:string>"},
		{"array of scalars", "[1, 2, 3]", Unclassified, false, ""},
		{"scalar lines", "1\n2\n", Unclassified, false, ""},
		{"bad second line", "{\"a\":1}\n{\"a\":\n{\"b\":2}\n", Unclassified, false, ""},
		{"text after array", "[{\"a\":1}] x", Unclassified, false, ""},
		{"conflict", "{\"a\":1}\n{\"a\":\"x\"}\n{\"a\":true}\n", JSON, false, "a string"},
		// Would split into 2 consistent CSV columns; broken JSON is not guessed.
		{"broken line not CSV", "{\"a\":1,\"b\":2}\n{\"a\":1,\"b\":2\n{\"a\":1,\"b\":2}\n", Unclassified, false, ""},
	}
	for _, c := range cases {
		r := classifyBytes(t, "f.json", []byte(c.data), Options{})
		if r.Format != c.format || r.JSONArray != c.array || columns(r) != c.cols {
			t.Errorf("%s: got %s array=%t %q (%s)", c.name, r.Format, r.JSONArray, columns(r), r.Reason)
		}
	}
	r := classifyBytes(t, "f.json", []byte("{\"a\":1}\n{\"a\":\"x\"}\n"), Options{})
	if len(r.Conflicts) != 1 || r.Conflicts[0].String() != "a: int vs string -> string" {
		t.Errorf("conflicts = %v", r.Conflicts)
	}
}

// The sample is the first SampleRecords records, or what fits in
// SampleBytes with a record cut at the end ignored.
func TestSampleLimits(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		if i == 50 {
			b.WriteString("{\"a\":1,\"late\":true}\n")
			continue
		}
		b.WriteString("{\"a\":1}\n")
	}
	data := []byte(b.String())
	r := classifyBytes(t, "f.json", data, Options{SampleRecords: 50})
	if r.Records != 50 || r.RecordsExact || columns(r) != "a int" {
		t.Errorf("50 records: got %d exact=%t %q", r.Records, r.RecordsExact, columns(r))
	}
	r = classifyBytes(t, "f.json", data, Options{})
	if r.Records != 100 || !r.RecordsExact || columns(r) != "a int, late boolean" {
		t.Errorf("all: got %d %q", r.Records, columns(r))
	}
	r = classifyBytes(t, "f.json", data, Options{SampleBytes: 20})
	if r.Format != JSON || r.Records != 2 {
		t.Errorf("20 bytes: got %s %d (%s)", r.Format, r.Records, r.Reason)
	}
	csv := []byte("id,name\n1,\"a\nb\"\n2,c\n3,\"long quoted\n")
	r = classifyBytes(t, "f.csv", csv, Options{SampleBytes: len(csv) - 3})
	if r.Format != CSV || r.Records != 2 || !r.CSV.Header {
		t.Errorf("cut CSV: got %s %d %+v", r.Format, r.Records, r.CSV)
	}
	for range 3 { // deterministic
		again := classifyBytes(t, "f.json", data, Options{SampleRecords: 50})
		if !reflect.DeepEqual(again, classifyBytes(t, "f.json", data, Options{SampleRecords: 50})) {
			t.Fatal("classification is not deterministic")
		}
	}
}

func TestCSVSniffing(t *testing.T) {
	cases := []struct {
		name, data string
		delim      string
		header     bool
		cols       string
	}{
		{"comma header", "a,b\n1,x\n2,y\n", ",", true, "a int, b string"},
		{"semicolon", "a;b;c\n1;2,5;x\n3;4,5;y\n", ";", true, "a int, b string, c string"},
		{"comma beats semicolon with more fields", "a,b,c;d\n1,2,3;4\n", ",", false, "col0 string, col1 string, col2 string"},
		{"tab", "x\ty\n1\t2\n", "\t", true, "x int, y int"},
		{"numbers only", "1,2\n3,4\n", ",", false, "col0 int, col1 int"},
		{"numeric header cell", "a,2020\n1,2\n", ",", false, "col0 string, col1 int"},
		{"duplicate header names", "a,a\n1,2\n", ",", false, "col0 string, col1 string"},
		{"header value recurs", "name,city\nname,rome\nbob,paris\n", ",", false, "col0 string, col1 string"},
		{"all strings same shape", "alice,paris\nbob,london\ncarol,rome\n", ",", false, "col0 string, col1 string"},
		{"all strings header", "Product Name,SKU\nBlue pen,AB-12\nRed ink,CD-345\n", ",", true, "Product Name string, SKU string"},
		{"booleans and dates", "ok,day,at\ntrue,2024-02-29,2024-01-01T00:00:00Z\nFALSE,2024-03-01,2024-01-01 10:00:00+02:00\n", ",", true, "ok boolean, day date, at timestamp"},
		{"leading zeros stay strings", "zip,n\n01234,1\n02345,2\n", ",", true, "zip string, n int"},
		{"empty cells", "a,b\n,1\n,2\n", ",", true, "a string, b int"},
		{"trailing delimiter", "a|b|\n1|2|\n", "|", true, "a int, b int"},
	}
	for _, c := range cases {
		r := classifyBytes(t, "f.csv", []byte(c.data), Options{})
		if r.Format != CSV {
			t.Errorf("%s: %s (%s)", c.name, r.Format, r.Reason)
			continue
		}
		if r.CSV.Delimiter != c.delim || r.CSV.Header != c.header || columns(r) != c.cols {
			t.Errorf("%s: got %q header=%t %q, want %q header=%t %q", c.name, r.CSV.Delimiter, r.CSV.Header, columns(r), c.delim, c.header, c.cols)
		}
	}
	for name, data := range map[string]string{
		"one row":             "a,b,c\n",
		"one column":          "a\nb\nc\n",
		"ragged":              "a,b\n1,2,3\n4\n",
		"nul bytes":           "a,b\x00\n1,2\n",
		"invalid utf8":        "a,b\n\xff\xfe,1\n",
		"empty":               "",
		"blank":               " \n\t\n",
		"bare quote in field": "a,b\n1,x\"y\n",
	} {
		if r := classifyBytes(t, "f.csv", []byte(data), Options{}); r.Format != Unclassified || r.Reason == "" {
			t.Errorf("%s: got %s, want unclassified with a reason", name, r.Format)
		}
	}
}

func TestMergeRules(t *testing.T) {
	s := func(k Kind) *Type { return Of(k) }
	st := func(fs ...Field) *Type { return StructOf(fs...) }
	cases := []struct {
		a, b     *Type
		want     string
		conflict bool
	}{
		{s(Null), s(Int), "int", false},
		{s(TinyInt), s(SmallInt), "smallint", false},
		{s(Int), s(BigInt), "bigint", false},
		{s(BigInt), s(Double), "double", false},
		{s(Int), s(Float), "double", false},
		{s(Float), s(Double), "double", false},
		{DecimalOf(10, 2), DecimalOf(5, 4), "decimal(12,4)", false},
		{DecimalOf(10, 2), s(Int), "decimal(12,2)", false},
		{DecimalOf(38, 10), DecimalOf(38, 0), "decimal(38,10)", false},
		{DecimalOf(10, 2), s(Double), "double", false},
		{s(Date), s(Timestamp), "timestamp", false},
		{s(Date), s(String), "string", false},
		{s(Int), s(String), "string", true},
		{s(Boolean), s(Int), "string", true},
		{s(Binary), s(String), "string", true},
		{ArrayOf(s(Int)), ArrayOf(s(Double)), "array<double>", false},
		{ArrayOf(s(Int)), s(Int), "string", true},
		{MapOf(s(String), s(Int)), MapOf(s(String), s(BigInt)), "map<string,bigint>", false},
		{st(Field{"a", s(Int)}), st(Field{"A", s(Double)}, Field{"b", s(Date)}), "struct<a:double,b:date>", false},
		{st(Field{"a", st(Field{"x", s(Int)})}), st(Field{"a", st(Field{"x", s(Boolean)})}), "struct<a:struct<x:string>>", true},
	}
	for _, c := range cases {
		got, cs := Merge("col", c.a, c.b)
		if got.Hive() != c.want || (len(cs) > 0) != c.conflict {
			t.Errorf("Merge(%s, %s) = %s %v, want %s conflict=%t", c.a.Hive(), c.b.Hive(), got.Hive(), cs, c.want, c.conflict)
		}
		back, _ := Merge("col", c.b, c.a)
		if back.Hive() != got.Hive() && c.a.Kind != Struct {
			t.Errorf("Merge not symmetric: %s vs %s", back.Hive(), got.Hive())
		}
	}
	_, cs := Merge("", StructOf(Field{"a", StructOf(Field{"x", Of(Int)})}), StructOf(Field{"a", StructOf(Field{"x", Of(Boolean)})}))
	if len(cs) != 1 || cs[0].Path != "a.x" {
		t.Errorf("nested conflict path: %v", cs)
	}
	nested := StructOf(Field{"m", MapOf(Of(String), ArrayOf(DecimalOf(9, 2)))}, Field{"t", Of(Timestamp)})
	if got := nested.DuckDB(); got != `STRUCT("m" MAP(VARCHAR, DECIMAL(9,2)[]), "t" TIMESTAMPTZ)` {
		t.Errorf("DuckDB() = %s", got)
	}
}

func TestResultJSONRoundTrip(t *testing.T) {
	r := classifyFile(t, realFiles+"/nested/nested_maps.snappy.parquet")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip changed the result:\n%+v\n%+v", back, r)
	}
}

func TestUnclassified(t *testing.T) {
	r := classifyFile(t, "../testdata/layouts/unclassified_binary/files/blob.bin")
	if r.Format != Unclassified || r.Reason != "binary content" {
		t.Errorf("blob: %+v", r)
	}
	r = classifyBytes(t, "x.parquet", []byte("PAR1 not really a parquet file PAR1"), Options{})
	if r.Format != Unclassified || !strings.Contains(r.Reason, "parquet") {
		t.Errorf("fake parquet: %+v", r)
	}
	r = classifyBytes(t, "x.avro", []byte("Obj\x01\x02"), Options{})
	if r.Format != Unclassified || !strings.Contains(r.Reason, "avro") {
		t.Errorf("cut avro: %+v", r)
	}
}

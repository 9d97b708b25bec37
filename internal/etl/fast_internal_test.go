package etl

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/stage"
)

// fuzzSchema has a column of every type the fast path decodes, and a
// struct column it only fills with nulls.
var fuzzSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 2, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
	iceberg.NestedField{ID: 3, Name: "n", Type: iceberg.PrimitiveTypes.Int64},
	iceberg.NestedField{ID: 4, Name: "i", Type: iceberg.PrimitiveTypes.Int32},
	iceberg.NestedField{ID: 5, Name: "x", Type: iceberg.PrimitiveTypes.Float64},
	iceberg.NestedField{ID: 6, Name: "f", Type: iceberg.PrimitiveTypes.Float32},
	iceberg.NestedField{ID: 7, Name: "ok", Type: iceberg.PrimitiveTypes.Bool},
	iceberg.NestedField{ID: 8, Name: "d", Type: iceberg.PrimitiveTypes.Date},
	iceberg.NestedField{ID: 9, Name: "at", Type: iceberg.PrimitiveTypes.Timestamp},
	iceberg.NestedField{ID: 10, Name: "obj", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
		{ID: 11, Name: "k", Type: iceberg.PrimitiveTypes.Int64}}}},
)

// generalRow runs value through the general path (decode, Prepare, the
// column check) and returns its one-row record, or nil when the general
// path would not store it as it is in this schema.
func generalRow(t *testing.T, spec *tables.Table, value []byte, kafkaTS, now time.Time) arrow.RecordBatch {
	v, reason := decodeObject(stage.Record{Value: value, ValueIsJSON: true})
	if reason != "" {
		return nil
	}
	obj, _, why := spec.Prepare(v, kafkaTS, now)
	if why != "" {
		return nil
	}
	for _, m := range obj {
		if _, ok := fuzzSchema.FindFieldByName(m.Key); !ok {
			return nil // the general path would add a column
		}
	}
	st := fuzzSchema.AsStruct()
	if checkValue(obj, &st, "$") != nil {
		return nil
	}
	rec, err := rowsRecord(fuzzSchema, []row{{value: obj}})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// FuzzFastRow: a value the fast path takes is one the general path stores,
// as the same row.
func FuzzFastRow(f *testing.F) {
	for _, v := range []string{
		`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1,"i":2,"x":1.5,"f":0.25,"ok":true,"d":"2026-11-20","at":"2026-11-20T10:00:00.123456Z"}`,
		`{"ts":1795168800000,"n":-0,"x":1e3,"f":1e39,"obj":null}`,
		`{"ts":"1795168800.5","i":2147483648}`,
		` { "ts" : "2026-11-20 10:00:00+01:00" , "ok" : false } `,
		`{"ts":"2026-11-20T10:00:00Z","obj":{"k":1}}`,
		`{"ts":"2026-11-20T10:00:00Z","id":"é\u00e9"}`,
	} {
		f.Add([]byte(v))
	}
	spec, err := tables.Compile(tables.Spec{Topic: "t", Name: "t", TimeField: "ts", MaxLateness: 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	kafkaTS := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value []byte) {
		fb := fastBatchFor(spec, fuzzSchema)
		defer fb.release()
		if !fb.add(value, kafkaTS, now) {
			return
		}
		want := generalRow(t, spec, value, kafkaTS, now)
		if want == nil {
			t.Fatalf("the fast path took %q, which the general path does not store as it is", value)
		}
		defer want.Release()
		got, err := fb.record(fuzzSchema)
		if err != nil {
			t.Fatal(err)
		}
		defer got.Release()
		if !array.RecordEqual(got, want) {
			t.Fatalf("%q: fast row %v, general row %v", value, got, want)
		}
	})
}

// TestFastRowTakesPlainRecords: the fast path takes flat records that fit,
// and leaves nested values, new fields and late records alone.
func TestFastRowTakesPlainRecords(t *testing.T) {
	spec, err := tables.Compile(tables.Spec{Topic: "t", Name: "t", TimeField: "ts", MaxLateness: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]bool{
		`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1,"i":2,"x":1.5,"f":0.25,"ok":true,"d":"2026-11-20","at":"2026-11-20T10:00:00.123456Z"}`: true,
		`{"ts":1795168800000,"obj":null}`:             true,
		`{"ts":"2026-11-20T10:00:00Z","obj":{"k":1}}`: false,
		`{"ts":"2026-11-20T10:00:00Z","new":1}`:       false,
		`{"ts":"2026-11-18T10:00:00Z"}`:               false,
	} {
		fb := fastBatchFor(spec, fuzzSchema)
		if got := fb.add([]byte(v), now, now); got != want {
			t.Errorf("fast path took %s: %v, want %v", v, got, want)
		}
		fb.release()
	}
}

// TestReadObject: readObject returns exactly the stored bytes, for empty,
// small and large objects, reusing its buffers.
func TestReadObject(t *testing.T) {
	ctx := context.Background()
	u, _ := sblob.DirURL(t.TempDir())
	b, err := sblob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, size := range []int{0, 1, 1000, 3 << 20, 10} {
		want := bytes.Repeat([]byte{byte(size)}, size)
		if err := b.WriteAll(ctx, "k", want, nil); err != nil {
			t.Fatal(err)
		}
		got, err := readObject(ctx, b, "k")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
		objectBufs.Put(&got)
	}
	if _, err := readObject(ctx, b, "missing"); err == nil {
		t.Fatal("reading a missing object succeeded")
	}
}

// TestFastHintReserves: a fast batch sized by the last one's hint starts
// with room for as many rows and string bytes, and its rows are the same.
func TestFastHintReserves(t *testing.T) {
	spec, err := tables.Compile(tables.Spec{Topic: "t", Name: "t", TimeField: "ts", MaxLateness: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	fill := func(fb *fastBatch) {
		for i := range 5000 {
			v := fmt.Appendf(nil, `{"id":"row-%06d","ts":"2026-11-20T10:00:00Z","n":%d}`, i, i)
			if !fb.add(v, now, now) {
				t.Fatalf("fast path refused %s", v)
			}
		}
	}
	first := fastBatchFor(spec, fuzzSchema)
	fill(first)
	h := first.hint()
	if h.rows != 5000 || h.data[0] != 5000*len("row-000000") || h.data[2] != 0 {
		t.Fatalf("hint %d rows, data %v", h.rows, h.data)
	}
	want, err := first.record(fuzzSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	first.release()

	next := fastBatchFor(spec, fuzzSchema)
	defer next.release()
	next.reserve(h)
	id := next.cols[0].str
	if cap(id.offsets) < 6251 || cap(id.data) < h.data[0]*5/4 || next.rb.Field(2).Cap() < 6250 { // a quarter more
		t.Fatalf("reserved %d id offsets, %d id bytes, %d n rows", cap(id.offsets), cap(id.data), next.rb.Field(2).Cap())
	}
	fill(next)
	got, err := next.record(fuzzSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if !array.RecordEqual(got, want) {
		t.Fatal("a reserved batch built other rows")
	}
	// A hint from another schema reserves rows only.
	other := fastBatchFor(spec, fuzzSchema)
	defer other.release()
	other.reserve(fastHint{rows: 10, data: []int{1 << 20}})
	if id := other.cols[0].str; cap(id.data) >= 1<<20 || cap(id.offsets) < 11 || other.rb.Field(2).Cap() < 10 {
		t.Fatal("a hint for other columns reserved string bytes, or not the rows")
	}
}

// plainStringRef is plainString one byte at a time (its loop for
// non-ASCII strings, from the start), the definition the word-at-a-time
// scan must match.
func plainStringRef(v []byte, p int) int { return plainUTF8(v, p, p) }

// TestPlainString puts every byte value at every position of a word, and
// strings of every length around a word's size, through both scans.
func TestPlainString(t *testing.T) {
	for n := range 20 {
		for at := range n + 1 {
			for c := range 256 {
				v := append(bytes.Repeat([]byte("a"), n), `"tail`...)
				if at < n {
					v[at] = byte(c)
				}
				for _, p := range []int{0, 1} {
					if got, want := plainString(v, p), plainStringRef(v, p); got != want {
						t.Fatalf("plainString(%q, %d) = %d, want %d", v, p, got, want)
					}
				}
			}
		}
	}
	for _, s := range []string{"héllo\"", "h\xc3\"", "\xe2\x82\xac12345678\"", "12345678\xff\"", "no quote", ""} {
		if got, want := plainString([]byte(s), 0), plainStringRef([]byte(s), 0); got != want {
			t.Errorf("plainString(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`abc"`, `0123456789abcdef"x`, "é\"", `a\"b"`, "a\x1fb\"", "\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		for p := range min(len(v), 9) {
			if got, want := plainString(v, p), plainStringRef(v, p); got != want {
				t.Fatalf("plainString(%q, %d) = %d, want %d", v, p, got, want)
			}
		}
	})
}

func BenchmarkPlainString(b *testing.B) {
	line := []byte(`{"id":"h76dmml4-000000003","ts":"2026-11-30T12:02:21.733Z","device":"dev-0205","site":"sfo-1","status":"ok"}`)
	var starts []int
	for i, c := range line {
		if c == '"' && (i == 0 || line[i-1] != '\\') {
			starts = append(starts, i+1)
		}
	}
	b.SetBytes(int64(len(line)))
	for range b.N {
		for i := 0; i < len(starts); i += 2 {
			if plainString(line, starts[i]) < 0 {
				b.Fatal("not plain")
			}
		}
	}
}

// TestFastStringsMatchBuilder: a fastStrings column equals what Arrow's
// string builder makes of the same values and nulls, for null patterns
// around the bitmap's byte boundaries.
func TestFastStringsMatchBuilder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := rng.IntN(70)
		var s fastStrings
		s.init(rng.IntN(n+1), 0)
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for i := range n {
			if rng.IntN(4) == 0 {
				s.appendNull()
				b.AppendNull()
				continue
			}
			v := fmt.Sprintf("v%d-%d", round, i)
			s.append([]byte(v))
			b.Append(v)
		}
		got, want := s.array(), b.NewArray()
		if !array.Equal(got, want) || got.NullN() != want.NullN() {
			t.Fatalf("round %d: fastStrings %v, builder %v", round, got, want)
		}
		got.Release()
		want.Release()
		b.Release()
	}
}

// TestDecimalFloat checks decimalFloat against strconv on the numbers it
// takes and that it leaves the others to strconv.
func TestDecimalFloat(t *testing.T) {
	for _, s := range []string{"0", "-0", "-0.0", "21.5", "-3.75", "1013.2", "0.1", "0.3", "9007199254740992",
		"999999999999999", "123456789.012345", "0.000000000000001", "0.0000000000000000000001", "00.5", "1234567890123456", "-0.1234567890123456"} {
		if _, ok := decimalFloat(s); !ok {
			t.Errorf("decimalFloat(%q) left it to strconv", s)
		}
		checkDecimalFloat(t, s)
	}
	for _, s := range []string{"0.30000000000000004", "9007199254740993", "1.7976931348623157",
		"0.00000000000000000000001", "1e5", "1.5E-3", "12345678901234567", "0.12345678901234567", "", "-", "1.2.3", "1-2"} {
		if _, ok := decimalFloat(s); ok {
			t.Errorf("decimalFloat(%q) took it; strconv should", s)
		}
	}
}

func checkDecimalFloat(t *testing.T, s string) {
	t.Helper()
	got, ok := decimalFloat(s)
	if !ok {
		return
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("decimalFloat(%q) = %v, but strconv fails it: %v", s, got, err)
	}
	if math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("decimalFloat(%q) = %v (%#x), strconv %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

// FuzzDecimalFloat compares decimalFloat with strconv on the fuzzed text
// and on a decimal built from the fuzzed digits: m with a point k digits
// from its right (random text is rarely a number).
func FuzzDecimalFloat(f *testing.F) {
	f.Add("21.5", uint64(215), uint8(1), false)
	f.Add("-3.75", uint64(9007199254740993), uint8(7), true)
	f.Add("0.000000000000001", uint64(1), uint8(22), false)
	f.Fuzz(func(t *testing.T, s string, m uint64, k uint8, neg bool) {
		checkDecimalFloat(t, s)
		d := strconv.FormatUint(m, 10)
		if n := int(k % 25); n > 0 {
			if n >= len(d) {
				d = strings.Repeat("0", n-len(d)+1) + d
			}
			d = d[:len(d)-n] + "." + d[len(d)-n:]
		}
		if neg {
			d = "-" + d
		}
		checkDecimalFloat(t, d)
	})
}

// BenchmarkDecimalFloat compares decimalFloat with strconv on readings.
func BenchmarkDecimalFloat(b *testing.B) {
	in := []string{"21.5", "-3.75", "1013.2", "48.8", "17.43", "0.125"}
	b.Run("decimalFloat", func(b *testing.B) {
		for i := range b.N {
			if _, ok := decimalFloat(in[i%len(in)]); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for i := range b.N {
			if _, err := strconv.ParseFloat(in[i%len(in)], 64); err != nil {
				b.Fatal(err)
			}
		}
	})
}

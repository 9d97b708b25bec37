package etl

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/schema"
)

// fastBatch is the columnar fast path of a batch: records whose value is a
// flat JSON object that fits the table's current columns exactly are
// decoded from the staging line straight into Arrow builders, with no
// intermediate values, no schema inference and no second conversion.
//
// It takes a record only when the general path (decodeObject, Prepare,
// checkValue, appendValue) would store the same row: any doubt — a new
// field, a duplicate key, a nested value, an escape in a string, a value
// that does not fit its column, a missing, unparseable or late event time
// — and add returns false, leaving the record to the general path, which
// also gives it its exact dead-letter reason. TestFastPathMatchesGeneral
// and FuzzFastRow hold the two paths to the same rows.
type fastBatch struct {
	spec    *tables.Table
	sc      *iceberg.Schema // the schema the columns follow
	rb      *array.RecordBuilder
	cols    []fastCol
	byName  map[string]int
	timeCol int

	row     uint32 // current row's stamp
	n       int    // rows taken
	kafkaTS []int64
	newest  time.Time // newest event time taken
}

type fastKind uint8

const (
	kBool fastKind = iota
	kInt32
	kInt64
	kFloat32
	kFloat64
	kString
	kTimestamp
	kDate
	kOther
)

type fastCol struct {
	name string
	kind fastKind
	b    array.Builder // unused for kString: str holds the column
	str  *fastStrings
	// the current row's value: set when stamp is the row's stamp; null
	// for a JSON null.
	stamp uint32
	null  bool
	i     int64
	f     float64
	s     []byte
}

// newFastBatch returns the fast path for spec's rows into main, or nil
// when the table cannot take it: no table yet, transforms or match fields,
// or a time field that is nested or not a timestamp column. Columns of
// other types than boolean, int, long, float, double, string, timestamp
// and date (structs, lists, maps...) take only nulls on the fast path.
func newFastBatch(spec *tables.Table, main *table.Table) *fastBatch {
	if main == nil {
		return nil
	}
	return fastBatchFor(spec, main.Schema())
}

// fastBatchFor returns the fast path for spec's rows in a table of schema
// sc, or nil; see newFastBatch.
func fastBatchFor(spec *tables.Table, sc *iceberg.Schema) *fastBatch {
	if !spec.Plain() {
		return nil
	}
	as, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return nil
	}
	f := &fastBatch{spec: spec, sc: sc, byName: map[string]int{}, timeCol: -1,
		rb: array.NewRecordBuilder(memory.DefaultAllocator, as)}
	for i, fld := range sc.Fields() {
		c := fastCol{name: fld.Name, b: f.rb.Field(i)}
		switch f.rb.Field(i).(type) {
		case *array.BooleanBuilder:
			c.kind = kBool
		case *array.Int32Builder:
			c.kind = kInt32
		case *array.Int64Builder:
			c.kind = kInt64
		case *array.Float32Builder:
			c.kind = kFloat32
		case *array.Float64Builder:
			c.kind = kFloat64
		case *array.StringBuilder:
			c.kind, c.str = kString, &fastStrings{}
			c.str.init(0, 0)
		case *array.TimestampBuilder:
			c.kind = kTimestamp
		case *array.Date32Builder:
			c.kind = kDate
		default:
			c.kind = kOther // structs, lists, maps...: only null or missing here
		}
		if fld.Name == spec.Spec().TimeField {
			if c.kind != kTimestamp {
				f.rb.Release()
				return nil
			}
			f.timeCol = i
		}
		f.byName[fld.Name] = i
		f.cols = append(f.cols, c)
	}
	if f.timeCol < 0 {
		f.rb.Release()
		return nil
	}
	return f
}

// add decodes value (a record's JSON value) as one row; false leaves the
// record to the general path and the batch unchanged.
func (f *fastBatch) add(value []byte, kafkaTS, now time.Time) bool {
	f.row++
	if !f.decode(value) {
		return false
	}
	tc := &f.cols[f.timeCol]
	if tc.stamp != f.row || tc.null {
		return false // missing: time_fallback decides, on the general path
	}
	var ts time.Time
	var ok bool
	if tc.i == 1 { // a JSON number
		ts, ok = f.spec.TimeFromNumber(unsafeString(tc.s))
	} else {
		ts, ok = f.spec.TimeFromString(unsafeString(tc.s))
	}
	if !ok || f.spec.Late(ts, now) {
		return false
	}
	for i := range f.cols {
		c := &f.cols[i]
		if i == f.timeCol {
			c.b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
			continue
		}
		if c.stamp != f.row || c.null {
			if c.str != nil {
				c.str.appendNull()
			} else {
				c.b.AppendNull()
			}
			continue
		}
		switch c.kind {
		case kBool:
			c.b.(*array.BooleanBuilder).Append(c.i == 1)
		case kInt32:
			c.b.(*array.Int32Builder).Append(int32(c.i))
		case kInt64:
			c.b.(*array.Int64Builder).Append(c.i)
		case kFloat32:
			c.b.(*array.Float32Builder).Append(float32(c.f))
		case kFloat64:
			c.b.(*array.Float64Builder).Append(c.f)
		case kString:
			c.str.append(c.s)
		case kTimestamp:
			c.b.(*array.TimestampBuilder).Append(arrow.Timestamp(c.i))
		case kDate:
			c.b.(*array.Date32Builder).Append(arrow.Date32(c.i))
		}
	}
	f.n++
	f.kafkaTS = append(f.kafkaTS, kafkaTS.UnixNano())
	if ts.After(f.newest) {
		f.newest = ts
	}
	return true
}

// decode parses value into the columns' current-row slots.
func (f *fastBatch) decode(v []byte) bool {
	p := schema.SkipSpace(v, 0)
	if p >= len(v) || v[p] != '{' {
		return false
	}
	p = schema.SkipSpace(v, p+1)
	if p < len(v) && v[p] == '}' {
		p++
	} else {
		hint := 0
		for {
			if p >= len(v) || v[p] != '"' {
				return false
			}
			k0 := p + 1
			if p = plainString(v, k0); p < 0 {
				return false
			}
			key := v[k0 : p-1]
			ci := -1
			if hint < len(f.cols) && f.cols[hint].name == string(key) {
				ci = hint
			} else if i, ok := f.byName[string(key)]; ok {
				ci = i
			}
			if ci < 0 {
				return false // a new field: the general path adds the column
			}
			c := &f.cols[ci]
			if c.stamp == f.row {
				return false // a duplicate key
			}
			c.stamp, hint = f.row, ci+1
			p = schema.SkipSpace(v, p)
			if p >= len(v) || v[p] != ':' {
				return false
			}
			if p = f.value(c, ci == f.timeCol, v, schema.SkipSpace(v, p+1)); p < 0 {
				return false
			}
			p = schema.SkipSpace(v, p)
			if p >= len(v) {
				return false
			}
			if v[p] == '}' {
				p++
				break
			}
			if v[p] != ',' {
				return false
			}
			p = schema.SkipSpace(v, p+1)
		}
	}
	return schema.SkipSpace(v, p) == len(v)
}

// value decodes one member's value at v[p:] into c and returns the
// position after it, or -1. The time column keeps its raw text (c.s) and
// whether it was a number (c.i == 1): the table's time format reads it.
func (f *fastBatch) value(c *fastCol, isTime bool, v []byte, p int) int {
	if p >= len(v) {
		return -1
	}
	c.null = false
	switch ch := v[p]; {
	case ch == 'n':
		if !hasWord(v, p, "null") {
			return -1
		}
		c.null = true
		return p + 4
	case ch == 't' || ch == 'f':
		if c.kind != kBool || isTime {
			return -1
		}
		if hasWord(v, p, "true") {
			c.i = 1
			return p + 4
		}
		if hasWord(v, p, "false") {
			c.i = 0
			return p + 5
		}
		return -1
	case ch == '"':
		end := plainString(v, p+1)
		if end < 0 {
			return -1
		}
		s := v[p+1 : end-1]
		switch {
		case isTime:
			c.s, c.i = s, 0
		case c.kind == kString:
			if len(c.str.data)+len(s) > math.MaxInt32 {
				return -1 // past Arrow's 32-bit offsets: the general path fails it with a reason
			}
			c.s = s
		case c.kind == kTimestamp:
			ts, ok := schema.ParseTimestamp(unsafeString(s))
			if !ok {
				return -1
			}
			c.i = ts.UnixMicro()
		case c.kind == kDate:
			d, err := time.Parse(time.DateOnly, unsafeString(s))
			if err != nil {
				return -1
			}
			c.i = int64(arrow.Date32FromTime(d))
		default:
			return -1
		}
		return end
	case ch == '-' || ch >= '0' && ch <= '9':
		end, ok, _ := schema.NumberEnd(v, p)
		if !ok {
			return -1
		}
		s := unsafeString(v[p:end])
		if s == "-0" && (c.kind == kInt32 || c.kind == kInt64) {
			return -1 // the general path keeps -0.0 should the column widen to double
		}
		var err error
		switch {
		case isTime:
			c.s, c.i = v[p:end], 1
		case c.kind == kInt32:
			c.i, err = strconv.ParseInt(s, 10, 32)
		case c.kind == kInt64:
			c.i, err = strconv.ParseInt(s, 10, 64)
		case c.kind == kFloat64:
			var ok bool
			if c.f, ok = decimalFloat(s); !ok {
				c.f, err = strconv.ParseFloat(s, 64)
			}
		case c.kind == kFloat32:
			if _, err = strconv.ParseFloat(s, 64); err == nil {
				c.f, _ = strconv.ParseFloat(s, 32) // as appendValue: out of range is ±Inf
			}
		default:
			return -1
		}
		if err != nil {
			return -1
		}
		return end
	}
	return -1 // an object or array: not a flat column value
}

// decimalFloat reads a JSON number without an exponent, with at most 16
// significant digits and 22 after the point (nearly every reading: 21.5,
// -3.75, 1013.2), as strconv would, in a third of its time
// (BenchmarkDecimalFloat). Its digits as an integer m are at most 2^53 and
// the divisor 10^k (k <= 22) is a power of ten a float64 holds exactly, so
// m / 10^k is one correctly rounded division of two exact values: the
// exact decimal rounded once, as strconv.ParseFloat rounds it. (This is
// Clinger's fast path, which strconv takes for the same numbers after a
// slower scan.) Anything else returns false, for strconv.
func decimalFloat(s string) (float64, bool) {
	i := 0
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		i = 1
	}
	var m uint64
	digits, sig, frac, dot := 0, 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if m != 0 || c != '0' {
				sig++
			}
			if sig > 16 {
				return 0, false // m might overflow
			}
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false // an exponent (or not a number)
		}
	}
	if digits == 0 || m > 1<<53 || frac >= len(pow10) {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// pow10 are the powers of ten decimalFloat divides by, all exact in a
// float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// plainString returns the position after the closing quote of a string
// whose content starts at v[p]: no escapes, no control bytes, valid UTF-8
// (the strings the general path keeps byte for byte); -1 otherwise.
//
// It looks at eight bytes at a time for a quote, a backslash, a control
// byte or a non-ASCII byte, and an all-ASCII string (nearly every key and
// value) skips the UTF-8 check: a third of the decode's time was that
// check and the byte loop.
func plainString(v []byte, p int) int {
	start := p
	for {
		if p+8 <= len(v) {
			m := special(binary.LittleEndian.Uint64(v[p:]))
			if m == 0 {
				p += 8
				continue
			}
			p += bits.TrailingZeros64(m) >> 3 // the lowest is a true one
		} else if p >= len(v) {
			return -1
		}
		switch c := v[p]; {
		case c == '"':
			return p + 1
		case c == '\\' || c < 0x20:
			return -1
		case c >= utf8.RuneSelf:
			return plainUTF8(v, start, p)
		}
		p++ // in the last seven bytes
	}
}

// plainUTF8 is plainString's byte loop for a string with a non-ASCII byte
// at or before v[p].
func plainUTF8(v []byte, start, p int) int {
	for p < len(v) {
		switch c := v[p]; {
		case c == '"':
			if !utf8.Valid(v[start:p]) {
				return -1
			}
			return p + 1
		case c == '\\' || c < 0x20:
			return -1
		}
		p++
	}
	return -1
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special has the high bit set of each byte of w that is a quote, a
// backslash, below 0x20 or from 0x80 up: exactly for the lowest such
// byte, while bytes above it may be set falsely (a borrow).
func special(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b | (w-ones*0x20)&^w | w) & highs
}

func hasWord(v []byte, p int, w string) bool {
	return len(v)-p >= len(w) && string(v[p:p+len(w)]) == w
}

// unsafeString views b as a string for parsing only: the result must not
// outlive the call it is passed to.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// record returns the rows taken, with the columns of sc (the schema the
// commit writes: the batch's schema plus any columns the general path's
// rows added, which are null here, and bigint columns widened to double),
// and resets the builders.
func (f *fastBatch) record(sc *iceberg.Schema) (arrow.RecordBatch, error) {
	built := make([]arrow.Array, len(f.cols))
	for i := range f.cols {
		if c := &f.cols[i]; c.str != nil {
			built[i] = c.str.array()
			c.str.init(0, 0)
		} else {
			built[i] = c.b.NewArray()
		}
	}
	rec := array.NewRecordBatch(f.rb.Schema(), built, int64(f.n))
	for _, a := range built {
		a.Release()
	}
	as, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		rec.Release()
		return nil, err
	}
	if as.Equal(rec.Schema()) {
		return rec, nil
	}
	defer rec.Release()
	have := map[int]int{}
	for i, fld := range f.sc.Fields() {
		have[fld.ID] = i
	}
	cols := make([]arrow.Array, len(sc.Fields()))
	for i, fld := range sc.Fields() {
		if j, ok := have[fld.ID]; ok {
			cols[i] = rec.Column(j)
			if arrow.TypeEqual(cols[i].DataType(), as.Field(i).Type) {
				cols[i].Retain()
			} else if cols[i], err = compute.CastArray(context.Background(), cols[i], compute.UnsafeCastOptions(as.Field(i).Type)); err != nil {
				return nil, fmt.Errorf("column %s: %w", fld.Name, err) // widened columns: bigint to double
			}
		} else {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, as.Field(i).Type, int(rec.NumRows()))
		}
		defer cols[i].Release()
	}
	return array.NewRecordBatch(as, cols, rec.NumRows()), nil
}

// fastHint is the size a fast batch grew to: rows, and the string bytes of
// each column. The next batch of the table reserves it up front instead of
// growing its columns by doubling, copying as it goes.
type fastHint struct {
	rows int
	data []int // by column; 0 for non-string columns
}

// hint returns f's size; call it before record, which resets the columns.
func (f *fastBatch) hint() fastHint {
	if f == nil {
		return fastHint{}
	}
	h := fastHint{rows: f.n, data: make([]int, len(f.cols))}
	for i, c := range f.cols {
		if c.str != nil {
			h.data[i] = len(c.str.data)
		}
	}
	return h
}

// reserve makes room for a batch a quarter larger than h (columns that no
// longer line up, after a schema change, reserve rows only). A run's
// batches vary (238k, 298k, 120k and 261k rows in turn over a 1M
// backlog): reserving h exactly, a batch even a little larger than the
// last doubled its columns, copying them.
func (f *fastBatch) reserve(h fastHint) {
	if f == nil || h.rows == 0 {
		return
	}
	rows := h.rows + h.rows/4
	for i, c := range f.cols {
		switch {
		case c.str == nil:
			c.b.Reserve(rows)
		case len(h.data) == len(f.cols):
			c.str.init(rows, h.data[i]+h.data[i]/4)
		default:
			c.str.init(rows, 0)
		}
	}
}

func (f *fastBatch) release() {
	if f != nil {
		f.rb.Release()
	}
}

// fastStrings is a string column of a fast batch, laid out as Arrow lays
// it out (offsets, bytes, validity) and grown by plain slice appends: the
// string builder's per-value bookkeeping was a sixth of the fast path's
// time. array hands the slices to Arrow without a copy.
type fastStrings struct {
	offsets []int32 // row r is data[offsets[r]:offsets[r+1]]
	data    []byte
	valid   []byte // validity bitmap; nil while no row is null
	nulls   int
}

// init empties s, with room for rows rows of data bytes.
func (s *fastStrings) init(rows, data int) {
	s.offsets = append(make([]int32, 0, rows+1), 0)
	s.data = make([]byte, 0, data)
	s.valid, s.nulls = nil, 0
}

func (s *fastStrings) append(v []byte) {
	r := len(s.offsets) - 1
	s.data = append(s.data, v...)
	s.offsets = append(s.offsets, int32(len(s.data)))
	if s.valid != nil {
		s.grow(r)
		s.valid[r/8] |= 1 << (r % 8)
	}
}

func (s *fastStrings) appendNull() {
	r := len(s.offsets) - 1
	if s.valid == nil { // every row so far is valid
		s.valid = make([]byte, (r+7)/8, cap(s.offsets)/8+1)
		bitutil.SetBitsTo(s.valid, 0, int64(r), true)
	}
	s.grow(r)
	s.offsets = append(s.offsets, int32(len(s.data)))
	s.nulls++
}

// grow makes the bitmap long enough for row r (new bits clear).
func (s *fastStrings) grow(r int) {
	for r/8 >= len(s.valid) {
		s.valid = append(s.valid, 0)
	}
}

// array returns the column as an Arrow string array.
func (s *fastStrings) array() arrow.Array {
	buffers := []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(s.offsets)), memory.NewBufferBytes(s.data)}
	if s.nulls > 0 {
		buffers[0] = memory.NewBufferBytes(s.valid)
	}
	data := array.NewData(arrow.BinaryTypes.String, len(s.offsets)-1, buffers, nil, s.nulls, 0)
	defer data.Release()
	return array.NewStringData(data)
}

package query

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// avroBatchRows is how many records make one Parquet row group batch.
const avroBatchRows = 64 << 10

// avroConversion converts an Avro object container file to a Parquet file
// (zstd) with the table's columns and types: a record's fields by name
// (case-insensitive), or one column named value for a file of
// non-records, as the crawler catalogs it. Values convert as the
// crawler maps the types: unions with null are the other branch or NULL;
// other unions, enums and recursive records are text (JSON for complex
// values); date, timestamp-millis/-micros (also local-) and decimal keep
// their meaning; time-millis/-micros are integers. A value that does not
// fit its column (the table's type is not the file's) is NULL.
func avroConversion(cols []column) *conversion {
	return &conversion{
		fingerprint: "avro->parquet v1 columns=" + columnsHash(cols),
		suffix:      ".parquet",
		run: func(ctx context.Context, src io.Reader, w io.Writer) (err error) {
			// A file anyone dropped must fail its query, not the process.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("avro: unreadable file: %v", r)
				}
			}()
			return avroToParquet(ctx, src, w, cols)
		},
	}
}

func avroToParquet(ctx context.Context, src io.Reader, w io.Writer, cols []column) error {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := arrowType(c.duck)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: true}
	}
	sc := arrow.NewSchema(fields, nil)
	if f, ok := src.(*os.File); ok {
		if err := checkOCF(f); err != nil {
			return err
		}
	}
	dec, err := ocf.NewDecoder(src, ocf.WithDecoderConfig(avroAPI))
	if err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	ws := dec.Schema()
	// The writer schema's field of each column (nil: none, all NULL), or
	// for a file of non-records, the column named value.
	srcField := make([]*avro.Field, len(cols))
	rec, isRecord := deref(ws).(*avro.RecordSchema)
	for i, c := range cols {
		if isRecord {
			srcField[i] = findField(rec.Fields(), c.name)
		}
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true))
	fw, err := pqarrow.NewFileWriter(sc, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	flush := func() error {
		r := b.NewRecordBatch()
		defer r.Release()
		if r.NumRows() == 0 {
			return nil
		}
		return fw.WriteBuffered(r)
	}
	rows := 0
	for dec.HasNext() {
		var v any
		if err := dec.Decode(&v); err != nil {
			fw.Close()
			return fmt.Errorf("avro record %d: %w", rows, err)
		}
		for i, c := range cols {
			fb := b.Field(i)
			switch {
			case isRecord && srcField[i] == nil:
				fb.AppendNull()
			case isRecord:
				m, _ := v.(map[string]any)
				appendAvro(fb, srcField[i].Type(), m[srcField[i].Name()])
			case strings.EqualFold(c.name, "value"):
				appendAvro(fb, ws, v)
			default:
				fb.AppendNull()
			}
		}
		rows++
		if rows%avroBatchRows == 0 {
			if err := ctx.Err(); err != nil {
				fw.Close()
				return err
			}
			if err := flush(); err != nil {
				fw.Close()
				return fmt.Errorf("parquet: %w", err)
			}
		}
	}
	if err := dec.Error(); err != nil {
		fw.Close()
		return fmt.Errorf("avro record %d: %w", rows, err)
	}
	if err := flush(); err != nil {
		fw.Close()
		return fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// avroAPI decodes values of up to 256 MiB (strings, bytes) and slices of
// up to 64 Mi elements; larger ones fail the file.
var avroAPI = avro.Config{MaxByteSliceSize: 256 << 20, MaxSliceAllocSize: 64 << 20}.Freeze()

// checkOCF walks the blocks of an object container file (magic, metadata,
// sync marker, then count, size, data and sync of each block) and fails
// if a length runs past the end of the file: the decoder would allocate
// whatever a corrupt length says. It leaves f at its start.
func checkOCF(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	r := bufio.NewReader(io.NewSectionReader(f, 0, info.Size()))
	pos := int64(0)
	long := func() (int64, error) {
		v, err := binary.ReadVarint(byteCounter{r, &pos})
		if err != nil {
			return 0, fmt.Errorf("avro: unreadable file at byte %d: %w", pos, err)
		}
		return v, nil
	}
	skip := func(n int64) error {
		if n < 0 || n > info.Size()-pos {
			return fmt.Errorf("avro: corrupt file: a length of %d at byte %d runs past its end (%d bytes)", n, pos, info.Size())
		}
		if _, err := r.Discard(int(n)); err != nil {
			return fmt.Errorf("avro: unreadable file: %w", err)
		}
		pos += n
		return nil
	}
	if err := skip(4); err != nil { // magic, checked by the decoder
		return err
	}
	for { // metadata map blocks
		n, err := long()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := long(); err != nil {
				return err
			}
		}
		for range n {
			for range 2 { // key, value
				l, err := long()
				if err != nil {
					return err
				}
				if err := skip(l); err != nil {
					return err
				}
			}
		}
	}
	if err := skip(16); err != nil {
		return err
	}
	for pos < info.Size() {
		if _, err := long(); err != nil {
			return err
		}
		size, err := long()
		if err != nil {
			return err
		}
		if err := skip(size + 16); err != nil {
			return err
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

type byteCounter struct {
	r   *bufio.Reader
	pos *int64
}

func (b byteCounter) ReadByte() (byte, error) {
	c, err := b.r.ReadByte()
	if err == nil {
		*b.pos++
	}
	return c, err
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func findField(fields []*avro.Field, name string) *avro.Field {
	for _, f := range fields {
		if f.Name() == name {
			return f
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.Name(), name) {
			return f
		}
	}
	return nil
}

// unionBranch returns the branch of union s that a generically decoded
// value {"name": v} took, and v.
func unionBranch(s *avro.UnionSchema, v any) (avro.Schema, any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, v
	}
	for name, inner := range m {
		for _, t := range s.Types() {
			if typeName(t) == name {
				return t, inner
			}
		}
		return nil, inner
	}
	return nil, v
}

// typeName is how hamba/avro names a union branch in a decoded value.
func typeName(s avro.Schema) string {
	s = deref(s)
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	name := string(s.Type())
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		name += "." + string(l.Logical().Type())
	}
	return name
}

func logical(s avro.Schema) avro.LogicalType {
	if l, ok := deref(s).(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return l.Logical().Type()
	}
	return ""
}

// appendAvro appends v, decoded with schema s, to b.
func appendAvro(b array.Builder, s avro.Schema, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		s, v = unionBranch(u, v)
		if v == nil {
			b.AppendNull()
			return
		}
	}
	if !appendAvroValue(b, s, v) {
		b.AppendNull()
	}
}

// appendAvroValue appends v to b and reports whether it fit.
func appendAvroValue(b array.Builder, s avro.Schema, v any) bool {
	switch b := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if ok {
			b.Append(x)
		}
		return ok
	case *array.Int8Builder:
		x, ok := avroInt(s, v)
		if ok {
			b.Append(int8(x))
		}
		return ok
	case *array.Int16Builder:
		x, ok := avroInt(s, v)
		if ok {
			b.Append(int16(x))
		}
		return ok
	case *array.Int32Builder:
		x, ok := avroInt(s, v)
		if ok {
			b.Append(int32(x))
		}
		return ok
	case *array.Int64Builder:
		x, ok := avroInt(s, v)
		if ok {
			b.Append(x)
		}
		return ok
	case *array.Float32Builder:
		x, ok := avroFloat(v)
		if ok {
			b.Append(float32(x))
		}
		return ok
	case *array.Float64Builder:
		x, ok := avroFloat(v)
		if ok {
			b.Append(x)
		}
		return ok
	case *array.StringBuilder:
		b.Append(avroText(v))
		return true
	case *array.BinaryBuilder:
		x, ok := avroBytes(v)
		if ok {
			b.Append(x)
		}
		return ok
	case *array.Date32Builder:
		t, ok := v.(time.Time)
		if ok {
			b.Append(arrow.Date32FromTime(t))
		}
		return ok
	case *array.TimestampBuilder:
		t, ok := v.(time.Time)
		if ok {
			b.Append(arrow.Timestamp(t.UnixMicro()))
		}
		return ok
	case *array.Decimal128Builder:
		return appendDecimal(b, v)
	case *array.ListBuilder:
		xs, ok := v.([]any)
		if !ok {
			return false
		}
		var items avro.Schema
		if a, ok := s.(*avro.ArraySchema); ok {
			items = a.Items()
		}
		b.Append(true)
		for _, x := range xs {
			appendAvro(b.ValueBuilder(), items, x)
		}
		return true
	case *array.MapBuilder:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		var values avro.Schema
		if ms, ok := s.(*avro.MapSchema); ok {
			values = ms.Values()
		}
		b.Append(true)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !appendAvroValue(b.KeyBuilder(), nil, k) {
				b.KeyBuilder().AppendNull()
			}
			appendAvro(b.ItemBuilder(), values, m[k])
		}
		return true
	case *array.StructBuilder:
		m, ok := v.(map[string]any)
		rec, isRec := s.(*avro.RecordSchema)
		if !ok || !isRec {
			return false
		}
		b.Append(true)
		st := b.Type().(*arrow.StructType)
		for i, f := range st.Fields() {
			af := findField(rec.Fields(), f.Name)
			if af == nil {
				b.FieldBuilder(i).AppendNull()
				continue
			}
			appendAvro(b.FieldBuilder(i), af.Type(), m[af.Name()])
		}
		return true
	}
	return false
}

func avroInt(s avro.Schema, v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case time.Duration:
		if logical(s) == avro.TimeMillis {
			return x.Milliseconds(), true
		}
		return x.Microseconds(), true
	}
	return 0, false
}

func avroFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case *big.Rat:
		f, _ := x.Float64()
		return f, true
	}
	return 0, false
}

func avroBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
		out := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(out), rv)
		return out, true
	}
	return nil, false
}

// avroText is a value as a text column holds it: strings as they are,
// other scalars as SQL would print them, complex values as JSON.
func avroText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case *big.Rat:
		return x.FloatString(10)
	case map[string]any:
		if len(x) == 1 { // a union branch: its value
			for _, inner := range x {
				if _, nested := inner.(map[string]any); !nested {
					return avroText(inner)
				}
			}
		}
	}
	if b, ok := avroBytes(v); ok {
		return string(b)
	}
	out, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.Trim(string(out), `"`)
}

// jsonable replaces the values encoding/json renders badly.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case *big.Rat:
		return json.Number(x.FloatString(10))
	case time.Duration:
		return x.Microseconds()
	}
	if b, ok := avroBytes(v); ok {
		return string(b)
	}
	return v
}

func appendDecimal(b *array.Decimal128Builder, v any) bool {
	scale := b.Type().(*arrow.Decimal128Type).Scale
	var r *big.Rat
	switch x := v.(type) {
	case *big.Rat:
		r = x
	case int:
		r = new(big.Rat).SetInt64(int64(x))
	case int64:
		r = new(big.Rat).SetInt64(x)
	case float64:
		r = new(big.Rat)
		if r.SetFloat64(x) == nil {
			return false
		}
	default:
		return false
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	n := new(big.Int).Quo(scaled.Num(), scaled.Denom())
	if n.BitLen() > 126 {
		return false
	}
	b.Append(decimal128.FromBigInt(n))
	return true
}

// arrowType is the Arrow type of a DuckDB type name as the catalog gives
// it (BIGINT, DECIMAL(10,2), VARCHAR[], STRUCT("a" INTEGER), MAP(VARCHAR,
// BIGINT)).
func arrowType(duck string) (arrow.DataType, error) {
	p := &duckTypeParser{s: duck}
	t, err := p.typ()
	if err == nil && strings.TrimSpace(p.s[p.i:]) != "" {
		err = fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", duck, err)
	}
	return t, nil
}

type duckTypeParser struct {
	s string
	i int
}

func (p *duckTypeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *duckTypeParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

var arrowScalars = map[string]arrow.DataType{
	"BOOLEAN": arrow.FixedWidthTypes.Boolean, "TINYINT": arrow.PrimitiveTypes.Int8,
	"SMALLINT": arrow.PrimitiveTypes.Int16, "INTEGER": arrow.PrimitiveTypes.Int32,
	"BIGINT": arrow.PrimitiveTypes.Int64, "FLOAT": arrow.PrimitiveTypes.Float32,
	"DOUBLE": arrow.PrimitiveTypes.Float64, "VARCHAR": arrow.BinaryTypes.String,
	"BLOB": arrow.BinaryTypes.Binary, "DATE": arrow.FixedWidthTypes.Date32,
	"TIMESTAMP":   &arrow.TimestampType{Unit: arrow.Microsecond},
	"TIMESTAMPTZ": &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	"REAL":        arrow.PrimitiveTypes.Float32, "FLOAT4": arrow.PrimitiveTypes.Float32,
	"FLOAT8": arrow.PrimitiveTypes.Float64, "INT": arrow.PrimitiveTypes.Int32,
	"INT4": arrow.PrimitiveTypes.Int32, "INT8": arrow.PrimitiveTypes.Int64,
	"INT2": arrow.PrimitiveTypes.Int16, "INT1": arrow.PrimitiveTypes.Int8,
	"TEXT": arrow.BinaryTypes.String, "STRING": arrow.BinaryTypes.String,
	"UUID": arrow.BinaryTypes.String, "BYTEA": arrow.BinaryTypes.Binary,
}

func (p *duckTypeParser) typ() (arrow.DataType, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= 'a' && p.s[p.i] <= 'z') {
		p.i++
	}
	word := strings.ToUpper(p.s[start:p.i])
	if word == "TIMESTAMP" && strings.HasPrefix(strings.ToUpper(p.s[p.i:]), " WITH TIME ZONE") {
		p.i += len(" WITH TIME ZONE")
		word = "TIMESTAMPTZ"
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' { // INT8, FLOAT4
		word += p.s[p.i : p.i+1]
		p.i++
	}
	var t arrow.DataType
	switch word {
	case "STRUCT":
		st, err := p.structType()
		if err != nil {
			return nil, err
		}
		t = st
	case "MAP":
		if !p.eat('(') {
			return nil, fmt.Errorf("expected ( after MAP")
		}
		k, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("expected , in MAP")
		}
		v, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ) after MAP")
		}
		t = arrow.MapOf(k, v)
	case "DECIMAL":
		prec, scale := int32(18), int32(3)
		if p.eat('(') {
			end := strings.IndexByte(p.s[p.i:], ')')
			if end < 0 {
				return nil, fmt.Errorf("unterminated DECIMAL(")
			}
			a, b, _ := strings.Cut(p.s[p.i:p.i+end], ",")
			p.i += end + 1
			pp, err1 := strconv.Atoi(strings.TrimSpace(a))
			ss, err2 := strconv.Atoi(strings.TrimSpace(cmp.Or(strings.TrimSpace(b), "0")))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad DECIMAL arguments")
			}
			prec, scale = int32(pp), int32(ss)
		}
		t = &arrow.Decimal128Type{Precision: prec, Scale: scale}
	default:
		s, ok := arrowScalars[word]
		if !ok {
			return nil, fmt.Errorf("type %q cannot be converted to", word)
		}
		t = s
	}
	for p.i+1 < len(p.s) && p.s[p.i] == '[' && p.s[p.i+1] == ']' {
		p.i += 2
		t = arrow.ListOf(t)
	}
	return t, nil
}

func (p *duckTypeParser) structType() (arrow.DataType, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected ( after STRUCT")
	}
	var fields []arrow.Field
	for {
		p.space()
		var name string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			var b strings.Builder
			p.i++
			for {
				if p.i >= len(p.s) {
					return nil, fmt.Errorf("unterminated field name")
				}
				if p.s[p.i] == '"' {
					if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
						b.WriteByte('"')
						p.i += 2
						continue
					}
					p.i++
					break
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			name = b.String()
		} else {
			end := strings.IndexByte(p.s[p.i:], ' ')
			if end < 0 {
				return nil, fmt.Errorf("expected a field name")
			}
			name = p.s[p.i : p.i+end]
			p.i += end
		}
		t, err := p.typ()
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		fields = append(fields, arrow.Field{Name: name, Type: t, Nullable: true})
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			return arrow.StructOf(fields...), nil
		}
		return nil, fmt.Errorf("expected , or ) in STRUCT")
	}
}

package query

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/hamba/avro/v2"
)

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

package etl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// checkValue reports why v (decoded with UseNumber) cannot be stored in a
// column of type t, naming the field path. nil values fit any column.
func checkValue(v any, t iceberg.Type, path string) error {
	if v == nil {
		return nil
	}
	bad := func() error {
		return fmt.Errorf("field %s: %s does not fit column type %s", path, preview(v), describe(t))
	}
	switch t := t.(type) {
	case iceberg.BooleanType:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case iceberg.Int32Type, iceberg.Int64Type:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		bits := 64
		if _, is32 := t.(iceberg.Int32Type); is32 {
			bits = 32
		}
		if _, err := strconv.ParseInt(string(n), 10, bits); err != nil {
			return bad()
		}
	case iceberg.Float32Type, iceberg.Float64Type:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return bad()
		}
	case iceberg.StringType:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case iceberg.TimestampTzType, iceberg.TimestampType:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, ok := schema.ParseTimestamp(s); !ok {
			return fmt.Errorf("field %s: %s is not an RFC 3339 timestamp", path, preview(v))
		}
	case iceberg.DateType:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return fmt.Errorf("field %s: %s is not a date (YYYY-MM-DD)", path, preview(v))
		}
	case *iceberg.StructType:
		m, ok := v.(schema.Object)
		if !ok {
			return bad()
		}
		for _, f := range t.FieldList {
			if err := checkValue(m.Get(f.Name), f.Type, path+"."+f.Name); err != nil {
				return err
			}
		}
	case *iceberg.ListType:
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		for i, e := range l {
			if err := checkValue(e, t.Element, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case *iceberg.MapType:
		m, ok := v.(schema.Object)
		if !ok {
			return bad()
		}
		if _, ok := t.KeyType.(iceberg.StringType); !ok {
			return fmt.Errorf("field %s: map column type %s is not supported by the JSON loader (keys must be strings)", path, t)
		}
		if _, ok := t.ValueType.(iceberg.StringType); ok {
			return nil // a map of strings holds any value, as its text
		}
		for _, e := range m {
			if err := checkValue(e.Value, t.ValueType, path+"."+e.Key); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("field %s: column type %s is not supported by the JSON loader", path, t)
	}
	return nil
}

func preview(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 64 {
		return string(b[:61]) + "..."
	}
	return string(b)
}

// appendValue appends v, already checked against t, to b.
func appendValue(b array.Builder, v any, t iceberg.Type) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int32Builder:
		n, _ := strconv.ParseInt(string(v.(json.Number)), 10, 32)
		b.Append(int32(n))
	case *array.Int64Builder:
		n, _ := strconv.ParseInt(string(v.(json.Number)), 10, 64)
		b.Append(n)
	case *array.Float32Builder:
		f, _ := strconv.ParseFloat(string(v.(json.Number)), 32)
		b.Append(float32(f))
	case *array.Float64Builder:
		f, _ := strconv.ParseFloat(string(v.(json.Number)), 64)
		b.Append(f)
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.LargeStringBuilder:
		b.Append(v.(string))
	case *array.TimestampBuilder:
		ts, _ := schema.ParseTimestamp(v.(string))
		b.Append(arrow.Timestamp(ts.UnixMicro()))
	case *array.Date32Builder:
		d, _ := time.Parse(time.DateOnly, v.(string))
		b.Append(arrow.Date32FromTime(d))
	case *array.StructBuilder:
		st := t.(*iceberg.StructType)
		m := v.(schema.Object)
		b.Append(true)
		for i, f := range st.FieldList {
			appendValue(b.FieldBuilder(i), m.Get(f.Name), f.Type)
		}
	case *array.ListBuilder:
		lt := t.(*iceberg.ListType)
		b.Append(true)
		vb := b.ValueBuilder()
		for _, e := range v.([]any) {
			appendValue(vb, e, lt.Element)
		}
	case *array.MapBuilder:
		mt := t.(*iceberg.MapType)
		m := v.(schema.Object)
		b.Append(true)
		kb, ib := b.KeyBuilder(), b.ItemBuilder()
		last := lastMembers(m)
		for i, e := range m {
			if last != nil && !last(i) {
				continue // a duplicate key: the last wins
			}
			appendValue(kb, e.Key, mt.KeyType)
			if _, ok := mt.ValueType.(iceberg.StringType); ok && e.Value != nil {
				appendValue(ib, schema.Text(e.Value), mt.ValueType)
				continue
			}
			appendValue(ib, e.Value, mt.ValueType)
		}
	case *array.LargeListBuilder:
		lt := t.(*iceberg.ListType)
		b.Append(true)
		vb := b.ValueBuilder()
		for _, e := range v.([]any) {
			appendValue(vb, e, lt.Element)
		}
	default:
		b.AppendNull()
	}
}

// lastMembers reports, for an object with duplicate keys, whether its
// member i is the last of its key (a map keeps one value a key, the last
// as a JSON decoder would); nil when every key is unique.
func lastMembers(m schema.Object) func(i int) bool {
	if len(m) <= 8 { // comparing keys beats a map's allocation
		for i := range m {
			if member(m[i+1:], m[i].Key) >= 0 {
				return func(i int) bool { return member(m[i+1:], m[i].Key) < 0 }
			}
		}
		return nil
	}
	last := make(map[string]int, len(m))
	for i, e := range m {
		last[e.Key] = i
	}
	if len(last) == len(m) {
		return nil
	}
	return func(i int) bool { return last[m[i].Key] == i }
}

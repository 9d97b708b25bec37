package query

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/duckdb/duckdb-go/v2"
)

// fieldIDs numbers the fields of a new schema (renumbered by the catalog).
type fieldIDs struct{ n int }

func (g *fieldIDs) next() int {
	g.n++
	return g.n
}

// icebergType is the Iceberg type a CTAS gives a query column of DuckDB
// type dt: integers up to 32 bits are int, wider ones long (a value that
// does not fit fails the cast), UUID and ENUM are string, every timestamp
// precision is microseconds. c is the top-level column (nil when nested).
func icebergType(c *sql.ColumnType, dt *dtype, ids *fieldIDs) (iceberg.Type, error) {
	switch dt.name {
	case "BOOLEAN":
		return iceberg.PrimitiveTypes.Bool, nil
	case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT":
		return iceberg.PrimitiveTypes.Int32, nil
	case "BIGINT", "UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT":
		return iceberg.PrimitiveTypes.Int64, nil
	case "FLOAT":
		return iceberg.PrimitiveTypes.Float32, nil
	case "DOUBLE":
		return iceberg.PrimitiveTypes.Float64, nil
	case "DECIMAL":
		var p, s int
		if _, err := fmt.Sscanf(dt.params, "(%d,%d)", &p, &s); err != nil || p > 38 {
			return nil, fmt.Errorf("DECIMAL%s has no Iceberg type: CAST it to DECIMAL(p,s) with p <= 38 or to DOUBLE: %w", dt.params, ErrUnsupported)
		}
		return iceberg.DecimalTypeOf(p, s), nil
	case "VARCHAR", "UUID", "ENUM":
		return iceberg.PrimitiveTypes.String, nil
	case "BLOB":
		return iceberg.PrimitiveTypes.Binary, nil
	case "DATE":
		return iceberg.PrimitiveTypes.Date, nil
	case "TIME":
		return iceberg.PrimitiveTypes.Time, nil
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return iceberg.PrimitiveTypes.Timestamp, nil
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case "LIST":
		elem, err := icebergType(nil, dt.elem, ids)
		if err != nil {
			return nil, err
		}
		return &iceberg.ListType{ElementID: ids.next(), Element: elem}, nil
	case "STRUCT":
		st := &iceberg.StructType{}
		for _, f := range dt.fields {
			typ, err := icebergType(nil, f.typ, ids)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.name, err)
			}
			st.FieldList = append(st.FieldList, iceberg.NestedField{ID: ids.next(), Name: f.name, Type: typ})
		}
		return st, nil
	case "MAP":
		k, err := icebergType(nil, dt.key, ids)
		if err != nil {
			return nil, err
		}
		v, err := icebergType(nil, dt.val, ids)
		if err != nil {
			return nil, err
		}
		return &iceberg.MapType{KeyID: ids.next(), KeyType: k, ValueID: ids.next(), ValueType: v}, nil
	case "SQLNULL", `"NULL"`, "NULL":
		return nil, fmt.Errorf("the column is an untyped NULL: CAST(NULL AS type) it: %w", ErrUnsupported)
	}
	return nil, fmt.Errorf("DuckDB type %s has no Iceberg type: CAST it: %w", dt.name, ErrUnsupported)
}

// assignable reports whether a query column of DuckDB type src may be
// inserted into a column of Iceberg type dst (DuckDB then casts it):
// numbers into numbers, strings and timestamps into dates and timestamps,
// strings into strings, nested into nested of the same kind.
func assignable(src *dtype, dst iceberg.Type) bool {
	if src.name == "SQLNULL" || src.name == `"NULL"` || src.name == "NULL" {
		return true
	}
	switch dst.(type) {
	case iceberg.BooleanType:
		return src.name == "BOOLEAN"
	case iceberg.Int32Type, iceberg.Int64Type, iceberg.Float32Type, iceberg.Float64Type, iceberg.DecimalType:
		return src.numeric()
	case iceberg.StringType:
		return src.name == "VARCHAR" || src.name == "UUID" || src.name == "ENUM"
	case iceberg.BinaryType, iceberg.FixedType:
		return src.name == "BLOB"
	case iceberg.DateType, iceberg.TimestampType, iceberg.TimestampTzType, iceberg.TimestampNsType, iceberg.TimestampTzNsType:
		switch src.name {
		case "DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ", "VARCHAR":
			return true
		}
	case iceberg.TimeType:
		return src.name == "TIME" || src.name == "VARCHAR"
	case iceberg.UUIDType:
		return src.name == "UUID" || src.name == "VARCHAR"
	case *iceberg.ListType:
		return src.name == "LIST"
	case *iceberg.StructType:
		return src.name == "STRUCT"
	case *iceberg.MapType:
		return src.name == "MAP"
	}
	return false
}

// rowBatch is how many rows a record batch of rowReader holds.
const rowBatch = 8192

// rowReader is an array.RecordReader over rows whose columns have the
// types of sc's fields (the DuckDB types duckType gives). It counts rows
// and keeps the first error, which ends the stream (the append then
// fails).
type rowReader struct {
	ctx     context.Context
	src     *sql.Rows
	schema  *arrow.Schema
	fields  []iceberg.NestedField
	refs    atomic.Int64
	cur     arrow.RecordBatch
	written int64 // rows read
	err     error
	done    bool
}

func newRowReader(ctx context.Context, rows *sql.Rows, sc *iceberg.Schema) (*rowReader, error) {
	as, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("arrow schema: %w", err)
	}
	r := &rowReader{ctx: ctx, src: rows, schema: as, fields: sc.Fields()}
	r.refs.Store(1)
	return r, nil
}

func (r *rowReader) Retain() { r.refs.Add(1) }

func (r *rowReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *rowReader) Schema() *arrow.Schema { return r.schema }

func (r *rowReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.err != nil {
		return false
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	defer b.Release()
	vals := make([]any, len(r.fields))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for n < rowBatch {
		if !r.src.Next() {
			r.done = true
			if err := r.src.Err(); err != nil {
				r.err = queryError(r.ctx, err)
				return false
			}
			break
		}
		if err := r.src.Scan(ptrs...); err != nil {
			r.err = queryError(r.ctx, err)
			return false
		}
		for i, f := range r.fields {
			if err := appendValue(b.Field(i), vals[i]); err != nil {
				r.err = fmt.Errorf("column %s, row %d: %w", f.Name, r.written+int64(n)+1, err)
				return false
			}
		}
		n++
	}
	if n == 0 {
		return false
	}
	r.written += int64(n)
	r.cur = b.NewRecordBatch()
	return true
}

func (r *rowReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch (arrow-go's older name).
func (r *rowReader) Record() arrow.RecordBatch { return r.cur }

func (r *rowReader) Err() error { return r.err }

// appendValue appends v, a value as the duckdb-go driver scans it, to b.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("value %v (%T) does not fit %s", v, v, b.Type()) }
	switch b := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int32Builder:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Int64Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Float32Builder:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Decimal128Builder:
		x, ok := v.(duckdb.Decimal)
		if !ok || x.Value == nil {
			return bad()
		}
		b.Append(decimal128.FromBigInt(new(big.Int).Set(x.Value)))
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		b.Append(x)
	case *array.Date32Builder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		b.Append(arrow.Date32FromTime(x))
	case *array.Time64Builder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		y, m, d := x.Date()
		b.Append(arrow.Time64(x.Sub(time.Date(y, m, d, 0, 0, 0, 0, x.Location())).Microseconds()))
	case *array.TimestampBuilder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		b.Append(arrow.Timestamp(x.UnixMicro()))
	case *array.ListBuilder:
		x, ok := v.([]any)
		if !ok {
			return bad()
		}
		b.Append(true)
		for _, e := range x {
			if err := appendValue(b.ValueBuilder(), e); err != nil {
				return err
			}
		}
	case *array.StructBuilder:
		x, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		b.Append(true)
		st := b.Type().(*arrow.StructType)
		for i, f := range st.Fields() {
			if err := appendValue(b.FieldBuilder(i), x[f.Name]); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	case *array.MapBuilder:
		x, ok := v.(duckdb.OrderedMap)
		if !ok {
			return bad()
		}
		b.Append(true)
		keys, vals := x.Keys(), x.Values()
		for i := range keys {
			if err := appendValue(b.KeyBuilder(), keys[i]); err != nil {
				return err
			}
			if err := appendValue(b.ItemBuilder(), vals[i]); err != nil {
				return err
			}
		}
	default:
		return bad()
	}
	return nil
}

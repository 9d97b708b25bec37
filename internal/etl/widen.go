package etl

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/schema"
)

// PropWidened is the snapshot summary property of a widening rewrite: the
// columns widened, e.g. "reading: long -> double".
const PropWidened = "streamlake.widened"

// widenings returns the top-level bigint (or int) columns of sc whose
// values in the batch include fractions (the batch infers them double).
func widenings(sc *iceberg.Schema, inferred *schema.Type) []string {
	var cols []string
	for _, f := range inferred.Fields {
		if f.Type.Kind != schema.Double {
			continue
		}
		col, ok := sc.FindFieldByName(f.Name)
		if !ok {
			continue
		}
		switch col.Type.(type) {
		case iceberg.Int64Type, iceberg.Int32Type:
			cols = append(cols, f.Name)
		}
	}
	return cols
}

// rewriteWidened rewrites, in tx, every data file of main with the
// columns widen (now double in tx's schema) cast from bigint: Iceberg
// promotes only int to long and float to double, so after a widening no
// data file may still hold such a column as bigint. Rows are read and
// written a batch at a time. A rare, whole-table operation: it runs the
// first time a fraction arrives in a bigint column.
func (e *ETL) rewriteWidened(ctx context.Context, name string, tx *table.Transaction, main *table.Table, widen []string) error {
	if main.CurrentSnapshot() == nil {
		return nil
	}
	scanned, recs, err := main.Scan().ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("etl: table %s: widen: read: %w", name, err)
	}
	// The rows as read, with the widened columns as double.
	fields := scanned.Fields()
	for i, f := range fields {
		if slices.Contains(widen, f.Name) {
			fields[i].Type = arrow.PrimitiveTypes.Float64
		}
	}
	md := scanned.Metadata()
	rdr := &castReader{ctx: ctx, schema: arrow.NewSchema(fields, &md), next: recs}
	defer rdr.Release()
	var what []string
	for _, c := range widen {
		what = append(what, c+": long -> double")
	}
	err = tx.Overwrite(ctx, rdr, iceberg.Properties{PropWidened: strings.Join(what, ", ")})
	if err == nil {
		err = rdr.err
	}
	if err != nil {
		return fmt.Errorf("etl: table %s: widen: rewrite: %w", name, err)
	}
	return nil
}

// castReader reads a table scan's batches as records of schema (the scan's
// schema with widened types), casting the columns whose type changed.
type castReader struct {
	ctx    context.Context
	schema *arrow.Schema
	next   iter.Seq2[arrow.RecordBatch, error]
	stop   func()
	pull   func() (arrow.RecordBatch, error, bool)
	cur    arrow.RecordBatch
	err    error
}

func (r *castReader) Schema() *arrow.Schema { return r.schema }
func (r *castReader) Retain()               {}
func (r *castReader) Err() error            { return r.err }
func (r *castReader) Record() arrow.RecordBatch {
	return r.cur
}
func (r *castReader) RecordBatch() arrow.RecordBatch { return r.cur }

func (r *castReader) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}

func (r *castReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	if r.pull == nil {
		r.pull, r.stop = iter.Pull2(r.next)
	}
	rec, err, ok := r.pull()
	if !ok {
		return false
	}
	if err != nil {
		r.err = err
		return false
	}
	defer rec.Release()
	cols := make([]arrow.Array, r.schema.NumFields())
	for i, f := range r.schema.Fields() {
		col := rec.Column(i)
		if arrow.TypeEqual(col.DataType(), f.Type) {
			col.Retain()
			cols[i] = col
			continue
		}
		cast, err := compute.CastArray(r.ctx, col, compute.UnsafeCastOptions(f.Type)) // as float64(v): big integers round, as their JSON text would
		if err != nil {
			r.err = fmt.Errorf("column %s: %w", f.Name, err)
			for _, c := range cols[:i] {
				c.Release()
			}
			return false
		}
		cols[i] = cast
	}
	r.cur = array.NewRecordBatch(r.schema, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return true
}

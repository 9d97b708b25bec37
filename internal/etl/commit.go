package etl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/schema"
	"github.com/streamlake/streamlake/internal/stage"
)

// deadLetter is a record that could not be loaded, and why.
type deadLetter struct {
	rec    stage.Record
	stage  string // decode or convert
	reason string
}

// tableProps are the properties of every table the ETL creates.
//
// Commit retries are off: iceberg-go would otherwise re-apply an append
// that lost a race on top of the winner's snapshot, and when the winner
// is another ETL writer holding the same records that is a duplicate. The
// ETL instead reloads, re-reads the bookmark and redoes the work
// (loadTopicRetrying). Compaction, which must not lose to every append,
// commits with retries of its own (see Compact).
var tableProps = iceberg.Properties{
	table.ParquetCompressionKey: "zstd",
	// Row groups of DuckDB's own size (iceberg-go's default is 1M rows):
	// DuckDB reads a file's row groups in parallel, so one day's file of
	// a few hundred thousand rows is not read by a single thread.
	table.ParquetRowGroupLimitKey: "122880",
	// The ETL's files are small and short-lived (compaction rewrites
	// them), so they are written for speed: zstd's fastest level, and a
	// dictionary that gives up on a column early when its values are
	// mostly distinct (ids, readings) instead of hashing every value
	// into a 2 MiB one first.
	table.ParquetCompressionLevelKey: "1",
	table.ParquetDictSizeBytesKey:    "262144",
	table.CommitNumRetriesKey:        "0",
	"format-version":                 "2",
	"created-by":                     "streamlake",
}

// dictColumnKey is iceberg-go's per-column dictionary property
// (write.parquet.dict-encoding-enabled.column.<col>), which its table
// package does not export; Iceberg's Java writer reads the same key.
const dictColumnKey = "write.parquet.dict-encoding-enabled.column."

// createProps are tableProps with dictionary encoding off for the
// event-time column when it is a top-level timestamp: its values are
// nearly all distinct, so arrow-go hashed every one into a dictionary and
// then gave the dictionary up.
func createProps(sc *iceberg.Schema, timeField string) iceberg.Properties {
	props := maps.Clone(tableProps)
	if f, ok := sc.FindFieldByName(timeField); ok && !strings.Contains(timeField, ".") {
		switch f.Type.(type) {
		case iceberg.TimestampType, iceberg.TimestampTzType:
			props[dictColumnKey+timeField] = "false"
		}
	}
	return props
}

// commit writes the batch: dead letters first, then rows, each commit with
// its table's advanced bookmark and the objects covered.
func (e *ETL) commit(ctx context.Context, name string, b *batch, objs []object,
	main, dlq **table.Table, mainBM, dlqBM map[string]int64) (Result, error) {
	var res Result
	objList := make([]string, len(objs))
	for i, o := range objs {
		objList[i] = fmt.Sprintf("%s:%d", o.Key, o.size)
	}
	// The main table's transaction starts here, with the new columns, so
	// rows are checked against the schema they will be written with. Rows
	// that do not fit become dead letters before the dead-letter commit.
	defer b.fast.release()
	tx, sc, good, err := e.prepare(ctx, name, b, main)
	if err != nil {
		return res, err
	}
	fastN := b.fastRows()
	if len(b.dead) > 0 {
		if *dlq == nil {
			var err error
			if *dlq, err = e.createDLQ(ctx, name+DLQSuffix); err != nil {
				return res, err
			}
		}
		var extra iceberg.Properties
		if *main != nil {
			extra = iceberg.Properties{SummaryMainExists: "true"}
		}
		t, err := e.append(ctx, name+DLQSuffix, (*dlq).NewTransaction(), dlqBM, objList, extra, deadLetterRecord(b.dead))
		if err != nil {
			return res, err
		}
		*dlq = t
		res.DeadLetters, res.Commits = len(b.dead), res.Commits+1
		e.m.deadLetters.WithLabelValues(name).Add(float64(len(b.dead)))
		for _, d := range b.dead {
			e.m.deadByStage.WithLabelValues(name, d.stage).Inc()
		}
	}
	if len(good)+fastN == 0 && len(b.dead) > 0 && *main != nil {
		// Only dead letters: the table's bookmark still moves past them
		// (as a property), or a re-read after a policy change would load
		// them here while a replay brings them in too.
		if tx == nil {
			tx = (*main).NewTransaction()
		}
		bmJSON, _ := json.Marshal(mainBM)
		if err := tx.SetProperties(iceberg.Properties{SummaryOffsets: string(bmJSON)}); err != nil {
			return res, fmt.Errorf("etl: table %s: bookmark: %w", name, err)
		}
		t, err := tx.Commit(ctx)
		if err != nil {
			return res, fmt.Errorf("etl: table %s: commit bookmark: %w", name, err)
		}
		*main = t
		res.Commits++
	}
	if len(good)+fastN > 0 {
		var recs []arrow.RecordBatch
		if fastN > 0 {
			rec, err := b.fast.record(sc)
			if err != nil {
				return res, fmt.Errorf("etl: table %s: build rows: %w", name, err)
			}
			recs = append(recs, rec)
		}
		if len(good) > 0 {
			rec, err := rowsRecord(sc, good)
			if err != nil {
				releaseAll(recs)
				return res, fmt.Errorf("etl: table %s: build rows: %w", name, err)
			}
			recs = append(recs, rec)
		}
		t, err := e.append(ctx, name, tx, mainBM, objList, nil, recs...)
		if err != nil {
			return res, err
		}
		*main = t
		res.Rows, res.Commits = len(good)+fastN, res.Commits+1
		e.fastRows += int64(fastN)
		e.m.rows.WithLabelValues(name).Add(float64(res.Rows))
		e.observeFreshness(name, good, b.fast)
	}
	return res, nil
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// prepare starts the main table's transaction for b's rows (creating the
// table if needed), stages the columns they add, and returns the rows that
// fit the staged schema; the others are added to b.dead, or, under the
// coerce-to-string policy, rewritten to fit. With no rows it does nothing.
func (e *ETL) prepare(ctx context.Context, name string, b *batch, main **table.Table) (*table.Transaction, *iceberg.Schema, []row, error) {
	if len(b.rows)+b.fastRows() == 0 {
		return nil, nil, nil, nil
	}
	var err error
	if *main == nil {
		if *main, err = e.create(ctx, name, b.spec, b.tableSchema(nil)); err != nil {
			return nil, nil, nil, err
		}
	}
	// One schema update per commit: iceberg-go's transaction would assert
	// the staged schema id of a second one against the catalog's and fail.
	// So the columns the rows add and the widenings are planned first
	// (Apply), the rows checked against that schema, the text columns of
	// coerced values added to the plan, and the plan committed once.
	tx := (*main).NewTransaction()
	base := (*main).Schema()
	inferred := b.tableSchema(base.Fields())
	widen := widenings(base, inferred)
	adds := missingColumns(base.Fields(), inferred, nil, &idGen{next: base.HighestFieldID()})
	sc := base
	var refused []clash
	if len(widen)+len(adds) > 0 {
		if sc, err = schemaUpdate(tx, widen, adds).Apply(); err != nil {
			return nil, nil, nil, fmt.Errorf("etl: table %s: schema update: %w", name, err)
		}
		st := sc.AsStruct()
		if cl := clashes(&st, base.HighestFieldID(), nil); len(cl) > 0 {
			adds, refused = withoutClashes(adds, cl)
			if sc, err = schemaUpdate(tx, widen, adds).Apply(); err != nil {
				return nil, nil, nil, fmt.Errorf("etl: table %s: schema update: %w", name, err)
			}
		}
		var over []clash
		if adds, over = withinColumns(adds, countFields(base.Fields()), e.cfg.MaxColumns, e.cfg.Database+"."+name); len(over) > 0 {
			refused = append(refused, over...)
			e.log.Warn("table at its column limit: records with new fields are dead letters", "stage", "etl", "table", name,
				"max_columns", e.cfg.MaxColumns, "refused_fields", len(over), "first", "$."+strings.Join(over[0].path, "."))
			if sc, err = schemaUpdate(tx, widen, adds).Apply(); err != nil {
				return nil, nil, nil, fmt.Errorf("etl: table %s: schema update: %w", name, err)
			}
		}
	}
	good := make([]row, 0, len(b.rows))
	st := sc.AsStruct()
	var coerced []row
	need := map[string][]string{}
	for _, r := range b.rows {
		if i := slices.IndexFunc(refused, func(c clash) bool { return carries(r.value, c.path) }); i >= 0 {
			if r.dlq {
				b.addDead(r.rec, "convert", refused[i].reason)
			}
			continue
		}
		if err := checkValue(r.value, &st, "$"); err != nil {
			if b.policy == PolicyCoerceToString {
				mine := map[string][]string{} // the text columns of this record alone: none if it is a dead letter
				if r.value, err = coerce(r.value, &st, nil, mine); err == nil {
					maps.Copy(need, mine)
					coerced = append(coerced, r)
					continue
				}
			}
			if r.dlq {
				b.addDead(r.rec, "convert", err.Error())
			}
			continue
		}
		good = append(good, r)
	}
	if len(need) > 0 {
		adds = append(adds, missingColumns(sc.Fields(), textColumns(need), nil, &idGen{next: sc.HighestFieldID()})...)
	}
	if len(widen)+len(adds) > 0 {
		if sc, err = e.evolve(tx, name, widen, adds); err != nil {
			return nil, nil, nil, err
		}
		if len(widen) > 0 {
			if err := e.rewriteWidened(ctx, name, tx, *main, widen); err != nil {
				return nil, nil, nil, err
			}
		}
		st = sc.AsStruct()
	}
	for _, r := range coerced {
		if err := checkValue(r.value, &st, "$"); err != nil {
			if r.dlq {
				b.addDead(r.rec, "convert", err.Error())
			}
			continue
		}
		good = append(good, r)
	}
	return tx, sc, good, nil
}

// schemaUpdate is tx's schema update that widens the columns widen to
// double and adds the columns adds (iceberg-go assigns their ids).
func schemaUpdate(tx *table.Transaction, widen []string, adds []addition) *table.UpdateSchema {
	us := tx.UpdateSchema(true, len(widen) > 0)
	for _, c := range widen {
		us.UpdateColumn([]string{c}, table.ColumnUpdate{
			FieldType: iceberg.Optional[iceberg.Type]{Val: iceberg.PrimitiveTypes.Float64, Valid: true}})
	}
	for _, a := range adds {
		us.AddColumn(a.path, a.typ, "", false, nil)
	}
	return us
}

// evolve commits the schema update to tx and returns the schema the
// transaction will commit.
func (e *ETL) evolve(tx *table.Transaction, name string, widen []string, adds []addition) (*iceberg.Schema, error) {
	if err := schemaUpdate(tx, widen, adds).Commit(); err != nil {
		return nil, fmt.Errorf("etl: table %s: schema update: %w", name, err)
	}
	for _, c := range widen {
		e.log.Info("widening column to double", "table", name, "column", c)
	}
	for _, a := range adds {
		e.log.Info("adding column", "table", name, "column", strings.Join(a.path, "."), "type", a.typ.String())
	}
	e.m.schemaChanges.WithLabelValues(name).Add(float64(len(widen) + len(adds)))
	staged, err := tx.StagedTable()
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: schema update: %w", name, err)
	}
	return staged.Schema(), nil
}

// append commits rec, and whatever tx already stages, in one transaction
// whose snapshot summary carries the bookmark (unless bm is nil: a commit
// that moves no offsets), the objects covered and extra.
// It releases rec.
func (e *ETL) append(ctx context.Context, name string, tx *table.Transaction,
	bm map[string]int64, objs []string, extra iceberg.Properties, recs ...arrow.RecordBatch) (*table.Table, error) {
	defer releaseAll(recs)
	start := time.Now()
	bmJSON, _ := json.Marshal(bm)
	objJSON, _ := json.Marshal(objs)
	props := iceberg.Properties{SummaryObjects: string(objJSON)}
	maps.Copy(props, extra)
	if bm != nil {
		props[SummaryOffsets] = string(bmJSON)
	}
	at := array.NewTableFromRecords(recs[0].Schema(), recs)
	defer at.Release()
	if err := tx.AppendTable(ctx, at, at.NumRows(), props); err != nil {
		return nil, fmt.Errorf("etl: table %s: append: %w", name, err)
	}
	t, err := tx.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: commit: %w", name, err)
	}
	e.m.commitSeconds.Observe(time.Since(start).Seconds())
	if s := t.CurrentSnapshot(); s != nil && s.Summary != nil {
		if n, err := strconv.ParseInt(s.Summary.Properties["total-files-size"], 10, 64); err == nil {
			e.m.tableBytes.WithLabelValues(name).Set(float64(n))
		}
	}
	return t, nil
}

func (e *ETL) ensureNamespace(ctx context.Context) error {
	ns := table.Identifier{e.cfg.Database}
	ok, err := e.cat.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return fmt.Errorf("etl: database %s: %w", e.cfg.Database, err)
	}
	if ok {
		return nil
	}
	if err := e.cat.CreateNamespace(ctx, ns, nil); err != nil {
		if ok, _ := e.cat.CheckNamespaceExists(ctx, ns); ok {
			return nil // created concurrently
		}
		return fmt.Errorf("etl: create database %s: %w", e.cfg.Database, err)
	}
	return nil
}

// create makes the lake table of an inferred row type, partitioned by day of
// the time field when it is a timestamp.
// create creates a table with the inferred schema t, partitioned as its
// spec says. A partition whose column the first rows lack (or hold with
// another type) is left out, with a warning: Iceberg tables can only be
// partitioned by columns they have.
func (e *ETL) create(ctx context.Context, name string, spec *tables.Table, t *schema.Type) (*table.Table, error) {
	if err := e.ensureNamespace(ctx); err != nil {
		return nil, err
	}
	g := &idGen{}
	sc := iceberg.NewSchema(0, firstColumns(dropClashes(structFields(t, g)), e.cfg.MaxColumns)...)
	opts := []icecat.CreateTableOpt{icecat.WithProperties(createProps(sc, spec.Spec().TimeField))}
	ps, err := spec.IcebergSpec(sc)
	if err != nil {
		e.log.Warn("creating the table unpartitioned", "stage", "etl", "table", name, "err", err)
	} else {
		opts = append(opts, icecat.WithPartitionSpec(&ps))
	}
	return e.createTable(ctx, name, sc, opts)
}

func (e *ETL) createTable(ctx context.Context, name string, sc *iceberg.Schema, opts []icecat.CreateTableOpt) (*table.Table, error) {
	id := table.Identifier{e.cfg.Database, name}
	tbl, err := e.cat.CreateTable(ctx, id, sc, opts...)
	if err != nil {
		if _, lerr := e.cat.LoadTable(ctx, id); lerr == nil {
			// Another writer created it since this one found no table,
			// and may have committed records with it: what this load read
			// against no bookmark must be planned again from the table's
			// (loadTopicRetrying starts over on a commit conflict), not
			// appended to it (TestTableCreatedConcurrentlyLoadsOnce).
			return nil, fmt.Errorf("etl: create table %s.%s: another writer created it first: %w", e.cfg.Database, name, table.ErrCommitFailed)
		}
		return nil, fmt.Errorf("etl: create table %s.%s: %w", e.cfg.Database, name, err)
	}
	e.log.Info("created table", "table", e.cfg.Database+"."+name, "schema", strings.Join(strings.Fields(sc.String()), " "))
	return tbl, nil
}

// dlqSchema is the dead-letter table's schema.
var dlqSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "topic", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 2, Name: "partition", Type: iceberg.PrimitiveTypes.Int32},
	iceberg.NestedField{ID: 3, Name: "offset", Type: iceberg.PrimitiveTypes.Int64},
	iceberg.NestedField{ID: 4, Name: "kafka_timestamp", Type: iceberg.PrimitiveTypes.TimestampTz},
	iceberg.NestedField{ID: 5, Name: "key", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 6, Name: "raw_value", Type: iceberg.PrimitiveTypes.String,
		Doc: "the record value; base64 when raw_value_encoding is base64"},
	iceberg.NestedField{ID: 7, Name: "raw_value_encoding", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 8, Name: "error_stage", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 9, Name: "error", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 10, Name: "failed_at", Type: iceberg.PrimitiveTypes.TimestampTz},
)

func (e *ETL) createDLQ(ctx context.Context, name string) (*table.Table, error) {
	if err := e.ensureNamespace(ctx); err != nil {
		return nil, err
	}
	return e.createTable(ctx, name, dlqSchema, []icecat.CreateTableOpt{icecat.WithProperties(tableProps)})
}

func deadLetterRecord(dead []deadLetter) arrow.RecordBatch {
	as, _ := table.SchemaToArrowSchema(dlqSchema, nil, true, false)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, as)
	defer rb.Release()
	now := arrow.Timestamp(time.Now().UnixMicro())
	for _, d := range dead {
		r := d.rec
		rb.Field(0).(*array.StringBuilder).Append(r.Topic)
		rb.Field(1).(*array.Int32Builder).Append(r.Partition)
		rb.Field(2).(*array.Int64Builder).Append(r.Offset)
		rb.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(r.Timestamp.UnixMicro()))
		appendText(rb.Field(4).(*array.StringBuilder), r.Key)
		switch {
		case r.Value == nil:
			rb.Field(5).AppendNull()
			rb.Field(6).AppendNull()
		case utf8.Valid(r.Value):
			rb.Field(5).(*array.StringBuilder).Append(string(r.Value))
			rb.Field(6).(*array.StringBuilder).Append("text")
		default:
			rb.Field(5).(*array.StringBuilder).Append(base64.StdEncoding.EncodeToString(r.Value))
			rb.Field(6).(*array.StringBuilder).Append("base64")
		}
		rb.Field(7).(*array.StringBuilder).Append(d.stage)
		rb.Field(8).(*array.StringBuilder).Append(d.reason)
		rb.Field(9).(*array.TimestampBuilder).Append(now)
	}
	return rb.NewRecordBatch()
}

func appendText(b *array.StringBuilder, v []byte) {
	switch {
	case v == nil:
		b.AppendNull()
	case utf8.Valid(v):
		b.Append(string(v))
	default:
		b.Append(base64.StdEncoding.EncodeToString(v))
	}
}

// rowsRecord converts checked rows to an Arrow record of the table schema.
func rowsRecord(sc *iceberg.Schema, rows []row) (arrow.RecordBatch, error) {
	as, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, as)
	defer rb.Release()
	rb.Reserve(len(rows))
	fields := sc.Fields()
	for _, r := range rows {
		for i, f := range fields {
			appendValue(rb.Field(i), r.value.Get(f.Name), f.Type)
		}
	}
	return rb.NewRecordBatch(), nil
}

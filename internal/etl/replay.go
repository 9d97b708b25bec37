package etl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/schema"
	"github.com/streamlake/streamlake/internal/stage"
)

// PropReplayed is the table property listing the dead letters a replay
// brought into the table: {"<topic>/<partition>": [offsets]}. It changes in
// the same commit as the rows, so a replay never brings a record in twice.
const PropReplayed = "streamlake.dlq-replayed"

// ReplayResult counts what a replay did.
type ReplayResult struct {
	DeadLetters int // rows in the dead-letter table
	Skipped     int // replayed before
	Replayed    int // now in the table
	// StillFailing counts the dead letters that failed again, by reason;
	// they stay in the dead-letter table.
	StillFailing map[string]int
	// Into counts the replayed records by the table they went into: the
	// replayed table, or another of the topic's that takes them now.
	Into map[string]int
}

// Replay re-processes the dead letters of table name (the rows of
// <name>_dlq) with the ETL's current settings, for instance after the
// table's policy became coerce-to-string. Those that now load are appended
// to the table in one commit that also adds their positions to the
// PropReplayed property, so replaying again brings none in twice; those
// that still fail stay in the dead-letter table and are counted by reason.
// The commit moves no offset bookmark; when it races with another writer
// it reloads and starts over.
func (e *ETL) Replay(ctx context.Context, name string) (ReplayResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := e.replayOnce(ctx, name)
		if err == nil || !isCommitConflict(err) || attempt == 5 {
			return res, err
		}
		e.log.Info("replay commit conflicted; reloading", "table", name, "attempt", attempt)
	}
}

func (e *ETL) replayOnce(ctx context.Context, name string) (ReplayResult, error) {
	res := ReplayResult{StillFailing: map[string]int{}, Into: map[string]int{}}
	dlq, err := e.load(ctx, name+DLQSuffix)
	if err != nil {
		return res, err
	}
	if dlq == nil {
		return res, fmt.Errorf("etl: replay %s.%s: %w: no dead-letter table %s_dlq", e.cfg.Database, name, catalog.ErrNoSuchTable, name)
	}
	recs, err := deadLetters(ctx, dlq)
	if err != nil {
		return res, fmt.Errorf("etl: replay %s: read %s_dlq: %w", name, name, err)
	}
	res.DeadLetters = len(recs)
	// Each record goes where run would route it now: this table, or
	// another of its topic's (a record no table's match took, then a
	// table added for it); each table takes its records in a commit of
	// its own.
	// A table that hashes, masks or drops fields stored its dead letters
	// with those transforms run (tables.Scrub): they are not run again,
	// and such a record cannot go into another table, whose transforms
	// would meet it half transformed.
	scrubbed := e.table(name).Scrubs()
	var order []string
	byTable := map[string][]replayRecord{}
	for _, r := range recs {
		r, reason, err := e.decodeWire(ctx, r)
		if err != nil {
			return res, fmt.Errorf("etl: replay %s: %w", name, err)
		}
		var v schema.Object
		if reason == "" {
			v, reason = decodeObject(r)
		}
		if reason != "" {
			res.StillFailing[reason]++
			continue
		}
		to := tables.Select(e.targets(r.Topic), r.Topic, v)
		if to == nil {
			res.StillFailing[unrouted(r.Topic)]++
			continue
		}
		if scrubbed && to.Name() != name {
			res.StillFailing[fmt.Sprintf("the tables: config routes it to %s.%s now, but it was stored with %s.%s's hash, mask and drop transforms run",
				e.cfg.Database, to.Name(), e.cfg.Database, name)]++
			continue
		}
		if byTable[to.Name()] == nil {
			order = append(order, to.Name())
		}
		byTable[to.Name()] = append(byTable[to.Name()], replayRecord{r, v})
	}
	slices.Sort(order)
	for _, target := range order {
		if err := e.replayInto(ctx, target, byTable[target], scrubbed, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// replayRecord is a dead letter to replay and its decoded value.
type replayRecord struct {
	rec stage.Record
	v   schema.Object
}

// replayInto appends the records that now load to table name in one commit
// that also adds them to its PropReplayed property, skipping those it
// lists; it counts what it did in res. scrubbed says the records were
// stored scrubbed by the table's transforms (tables.PrepareScrubbed).
func (e *ETL) replayInto(ctx context.Context, name string, recs []replayRecord, scrubbed bool, res *ReplayResult) error {
	main, err := e.load(ctx, name)
	if err != nil {
		return err
	}
	done := map[string][]int64{}
	if main != nil {
		if v, ok := main.Properties()[PropReplayed]; ok {
			if err := json.Unmarshal([]byte(v), &done); err != nil {
				return fmt.Errorf("etl: replay %s: property %s: %w", name, PropReplayed, err)
			}
		}
	}
	spec := e.table(name)
	prepare := spec.Prepare
	if scrubbed {
		prepare = spec.PrepareScrubbed
	}
	b := newBatch(spec, main)
	now := time.Now()
	seen := map[string]map[int64]bool{}
	for k, offs := range done {
		seen[k] = map[int64]bool{}
		for _, o := range offs {
			seen[k][o] = true
		}
	}
	for _, rr := range recs {
		r := rr.rec
		k := tpKey(r.Topic, r.Partition)
		if seen[k][r.Offset] {
			res.Skipped++
			continue
		}
		if seen[k] == nil {
			seen[k] = map[int64]bool{}
		}
		seen[k][r.Offset] = true // a record dead-lettered twice is replayed once
		row, et, why := prepare(rr.v, r.Timestamp, now)
		if why != "" {
			b.addDead(r, "transform", why)
			continue
		}
		b.addRow(r, row, et, true)
	}
	tx, sc, good, err := e.prepare(ctx, name, b, &main)
	if err != nil {
		return err
	}
	for _, d := range b.dead {
		res.StillFailing[d.reason]++
	}
	if len(good) == 0 {
		return nil
	}
	for _, r := range good {
		k := tpKey(r.rec.Topic, r.rec.Partition)
		done[k] = append(done[k], r.rec.Offset)
	}
	for _, k := range slices.Sorted(maps.Keys(done)) {
		slices.Sort(done[k])
	}
	doneJSON, _ := json.Marshal(done)
	if err := tx.SetProperties(iceberg.Properties{PropReplayed: string(doneJSON)}); err != nil {
		return fmt.Errorf("etl: replay %s: %w", name, err)
	}
	rec, err := rowsRecord(sc, good)
	if err != nil {
		return fmt.Errorf("etl: replay %s: build rows: %w", name, err)
	}
	if _, err := e.append(ctx, name, tx, nil, []string{}, nil, rec); err != nil {
		return err
	}
	res.Replayed += len(good)
	res.Into[name] += len(good)
	e.m.rows.WithLabelValues(name).Add(float64(len(good)))
	e.log.Info("replayed dead letters", "table", name, "replayed", len(good), "still_failing", len(b.dead))
	return nil
}

// deadLetters reads a dead-letter table back into staging records.
func deadLetters(ctx context.Context, dlq *table.Table) ([]stage.Record, error) {
	at, err := dlq.Scan(table.WithSelectedFields("topic", "partition", "offset", "kafka_timestamp",
		"key", "raw_value", "raw_value_encoding")).ToArrowTable(ctx)
	if err != nil {
		return nil, err
	}
	defer at.Release()
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	var out []stage.Record
	for tr.Next() {
		rb := tr.RecordBatch()
		col := func(name string) arrow.Array {
			idx := rb.Schema().FieldIndices(name)
			if len(idx) == 0 {
				return nil
			}
			return rb.Column(idx[0])
		}
		topic, _ := col("topic").(*array.String)
		part, _ := col("partition").(*array.Int32)
		off, _ := col("offset").(*array.Int64)
		ts, _ := col("kafka_timestamp").(*array.Timestamp)
		key, _ := col("key").(*array.String)
		raw, _ := col("raw_value").(*array.String)
		enc, _ := col("raw_value_encoding").(*array.String)
		if topic == nil || part == nil || off == nil || ts == nil || key == nil || raw == nil || enc == nil {
			return nil, errors.New("unexpected dead-letter table schema")
		}
		for i := range int(rb.NumRows()) {
			r := stage.Record{Topic: topic.Value(i), Partition: part.Value(i), Offset: off.Value(i),
				Timestamp: time.UnixMicro(int64(ts.Value(i))).UTC()}
			if key.IsValid(i) {
				r.Key = []byte(key.Value(i))
			}
			if raw.IsValid(i) {
				switch enc.Value(i) {
				case "base64":
					v, err := base64.StdEncoding.DecodeString(raw.Value(i))
					if err != nil {
						return nil, fmt.Errorf("%s/%d@%d: raw_value: %w", r.Topic, r.Partition, r.Offset, err)
					}
					r.Value = v
				default:
					r.Value = []byte(raw.Value(i))
				}
				r.ValueIsJSON = json.Valid(r.Value)
			}
			out = append(out, r)
		}
	}
	return out, tr.Err()
}

package etl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// TableState is a lake table as its catalog shows it: what every process
// loading it has committed so far, whether one runs now or not.
type TableState struct {
	Table string `json:"table"`
	// Topics are the Kafka topics whose offsets the table's bookmark holds.
	Topics []string `json:"topics"`
	// Rows, DataFiles and Bytes are the current snapshot's totals.
	Rows      int64 `json:"rows"`
	DataFiles int64 `json:"data_files"`
	Bytes     int64 `json:"bytes"`
	// LastCommit is when the current snapshot was committed.
	LastCommit time.Time `json:"last_commit"`
	// NewestEvent is the newest event time in the table, from its data
	// files' upper bounds of the column its partition spec takes a time
	// transform of (zero when the spec has none).
	NewestEvent time.Time `json:"newest_event"`
	// DeadLetters is the row count of the table's dead-letter table.
	DeadLetters int64 `json:"dead_letters"`
}

// LakeStatus returns the state of every table in database, sorted by
// name. A dead-letter table is counted in its table's DeadLetters; one
// whose table does not exist (every record so far was a dead letter)
// shows as that table, with no rows.
func LakeStatus(ctx context.Context, cat icecat.Catalog, database string) ([]TableState, error) {
	names := map[string]bool{}
	for id, err := range cat.ListTables(ctx, table.Identifier{database}) {
		if errors.Is(err, icecat.ErrNoSuchNamespace) {
			return nil, nil // nothing loaded yet
		}
		if err != nil {
			return nil, fmt.Errorf("etl: list tables of %s: %w", database, err)
		}
		names[id[len(id)-1]] = true
	}
	var bases []string
	for name := range names {
		if base, ok := strings.CutSuffix(name, DLQSuffix); !ok {
			bases = append(bases, name)
		} else if !names[base] {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	load := func(name string) (*table.Table, error) {
		tbl, err := cat.LoadTable(ctx, table.Identifier{database, name})
		if err != nil {
			return nil, fmt.Errorf("etl: load table %s.%s: %w", database, name, err)
		}
		return tbl, nil
	}
	var out []TableState
	for _, name := range bases {
		st := TableState{Topics: []string{}}
		if names[name] {
			tbl, err := load(name)
			if err != nil {
				return nil, err
			}
			if st, err = tableState(ctx, tbl); err != nil {
				return nil, fmt.Errorf("etl: table %s.%s: %w", database, name, err)
			}
		}
		if names[name+DLQSuffix] {
			dlq, err := load(name + DLQSuffix)
			if err != nil {
				return nil, err
			}
			st.DeadLetters = summaryInt(dlq.CurrentSnapshot(), "total-records")
			if !names[name] {
				st.Topics = topics(dlq)
			}
		}
		st.Table = database + "." + name
		out = append(out, st)
	}
	return out, nil
}

// topics are the Kafka topics whose offsets tbl's bookmark holds.
func topics(tbl *table.Table) []string {
	out := []string{}
	for k := range bookmark(tbl) {
		if i := strings.LastIndexByte(k, '/'); i > 0 && !slices.Contains(out, k[:i]) {
			out = append(out, k[:i])
		}
	}
	slices.Sort(out)
	return out
}

func tableState(ctx context.Context, tbl *table.Table) (TableState, error) {
	st := TableState{Topics: topics(tbl)}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return st, nil
	}
	st.LastCommit = time.UnixMilli(snap.TimestampMs).UTC()
	st.Rows = summaryInt(snap, "total-records")
	st.DataFiles = summaryInt(snap, "total-data-files")
	st.Bytes = summaryInt(snap, "total-files-size")
	fld, ok := eventTimeField(tbl)
	if !ok {
		return st, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return st, err
	}
	for _, t := range tasks {
		lit, err := iceberg.LiteralFromBytes(fld.Type, t.File.UpperBoundValues()[fld.ID])
		if ts, ok := lit.(iceberg.TimestampLiteral); err == nil && ok && ts.Value().ToTime().After(st.NewestEvent) {
			st.NewestEvent = ts.Value().ToTime()
		}
	}
	return st, nil
}

// eventTimeField is the timestamp column the table's partition spec takes
// a time transform (hour, day, month, year) of.
func eventTimeField(tbl *table.Table) (iceberg.NestedField, bool) {
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		if _, ok := f.Transform.(iceberg.TimeTransform); !ok {
			continue
		}
		fld, ok := tbl.Schema().FindFieldByID(f.SourceID())
		if !ok {
			continue
		}
		switch fld.Type.(type) {
		case iceberg.TimestampType, iceberg.TimestampTzType:
			return fld, true
		}
	}
	return iceberg.NestedField{}, false
}

func summaryInt(s *table.Snapshot, key string) int64 {
	if s == nil || s.Summary == nil {
		return 0
	}
	n, _ := strconv.ParseInt(s.Summary.Properties[key], 10, 64)
	return n
}

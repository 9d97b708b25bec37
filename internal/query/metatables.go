package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Metadata tables (Athena's and Trino's): db."t$snapshots" lists an
// Iceberg table's snapshots, db."t$history" the log of its current
// snapshot, each with the ids that FOR VERSION AS OF takes, and
// db."t$partitions" the partitions of its current snapshot and db."t$files"
// its data files; db."t$manifests" the manifests of its current snapshot
// and db."t$refs" its branches and tags.
//
//	t$snapshots:  committed_at TIMESTAMPTZ, snapshot_id BIGINT, parent_id BIGINT,
//	              operation VARCHAR, manifest_list VARCHAR, summary MAP(VARCHAR, VARCHAR)
//	t$history:    made_current_at TIMESTAMPTZ, snapshot_id BIGINT, parent_id BIGINT,
//	              is_current_ancestor BOOLEAN
//	t$partitions: partition STRUCT(<field> <type>, ...) (none for an unpartitioned
//	              table), record_count BIGINT, file_count BIGINT, total_size BIGINT
//	t$files:      file_path VARCHAR, file_format VARCHAR, partition STRUCT(...) (as
//	              above), record_count BIGINT, file_size_in_bytes BIGINT
//	t$manifests:  path VARCHAR, length BIGINT, partition_spec_id INTEGER,
//	              added_snapshot_id BIGINT, added_data_files_count INTEGER,
//	              added_rows_count BIGINT, existing_data_files_count INTEGER,
//	              existing_rows_count BIGINT, deleted_data_files_count INTEGER,
//	              deleted_rows_count BIGINT, partition_summaries STRUCT(contains_null
//	              BOOLEAN, contains_nan BOOLEAN, lower_bound VARCHAR, upper_bound VARCHAR)[]
//	t$refs:       name VARCHAR, type VARCHAR (BRANCH, TAG), snapshot_id BIGINT,
//	              max_reference_age_in_ms BIGINT, min_snapshots_to_keep INTEGER,
//	              max_snapshot_age_in_ms BIGINT

// metaRef is a reference to a metadata table of a catalog table.
type metaRef struct {
	table catalog.Table // the Iceberg table
	kind  string        // snapshots, history, partitions, files, manifests or refs
	view  string        // name$kind, the view's name in table.Database
}

// metaKinds are the metadata tables, by suffix.
var metaKinds = map[string]bool{"snapshots": true, "history": true, "partitions": true, "files": true, "manifests": true, "refs": true}

// metaTable returns the metadata table that name (folded) names in db, if
// name is table$kind and db has the table; errors if that table is not an
// Iceberg table.
func metaTable(byName map[[2]string]catalog.Table, db, name string) (metaRef, bool, error) {
	i := strings.LastIndexByte(name, '$')
	if i <= 0 || !metaKinds[strings.ToLower(name[i+1:])] {
		return metaRef{}, false, nil
	}
	t, ok := byName[[2]string{strings.ToLower(db), strings.ToLower(name[:i])}]
	if !ok {
		return metaRef{}, false, nil
	}
	kind := strings.ToLower(name[i+1:])
	if t.Type != catalog.Iceberg {
		return metaRef{}, false, fmt.Errorf("query: table %s.%s is an external (crawled) table, which has no $%s (only Iceberg tables have snapshots): %w",
			t.Database, t.Name, kind, ErrUnsupported)
	}
	return metaRef{table: t, kind: kind, view: t.Name + "$" + kind}, true, nil
}

var (
	snapshotsColumns = []column{
		{name: "committed_at", duck: "TIMESTAMPTZ"}, {name: "snapshot_id", duck: "BIGINT"}, {name: "parent_id", duck: "BIGINT"},
		{name: "operation", duck: "VARCHAR"}, {name: "manifest_list", duck: "VARCHAR"}, {name: "summary", duck: "MAP(VARCHAR, VARCHAR)"},
	}
	historyColumns = []column{
		{name: "made_current_at", duck: "TIMESTAMPTZ"}, {name: "snapshot_id", duck: "BIGINT"}, {name: "parent_id", duck: "BIGINT"},
		{name: "is_current_ancestor", duck: "BOOLEAN"},
	}
	manifestsColumns = []column{
		{name: "path", duck: "VARCHAR"}, {name: "length", duck: "BIGINT"}, {name: "partition_spec_id", duck: "INTEGER"},
		{name: "added_snapshot_id", duck: "BIGINT"}, {name: "added_data_files_count", duck: "INTEGER"},
		{name: "added_rows_count", duck: "BIGINT"}, {name: "existing_data_files_count", duck: "INTEGER"},
		{name: "existing_rows_count", duck: "BIGINT"}, {name: "deleted_data_files_count", duck: "INTEGER"},
		{name: "deleted_rows_count", duck: "BIGINT"},
		{name: "partition_summaries", duck: "STRUCT(contains_null BOOLEAN, contains_nan BOOLEAN, lower_bound VARCHAR, upper_bound VARCHAR)[]"},
	}
	refsColumns = []column{
		{name: "name", duck: "VARCHAR"}, {name: "type", duck: "VARCHAR"}, {name: "snapshot_id", duck: "BIGINT"},
		{name: "max_reference_age_in_ms", duck: "BIGINT"}, {name: "min_snapshots_to_keep", duck: "INTEGER"},
		{name: "max_snapshot_age_in_ms", duck: "BIGINT"},
	}
)

// manifestRows are the rows of t$manifests: the manifests of the current
// snapshot (none without one), with each partition field's summary; a
// bound reads as the partition value's text (a day as 2026-11-20).
func manifestRows(ctx context.Context, tbl *table.Table) ([]string, error) {
	md := tbl.Metadata()
	snap := md.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	manifests, err := snap.Manifests(fs)
	if err != nil {
		return nil, err
	}
	sc := md.CurrentSchema()
	rows := make([]string, 0, len(manifests))
	for _, mf := range manifests {
		var types []iceberg.Type
		if spec := md.PartitionSpecByID(int(mf.PartitionSpecID())); spec != nil {
			for _, f := range spec.Fields() {
				var t iceberg.Type
				if src, ok := sc.FindFieldByID(f.SourceID()); ok {
					t = f.Transform.ResultType(src.Type)
				}
				types = append(types, t)
			}
		}
		var sums []string
		for i, s := range mf.Partitions() {
			var t iceberg.Type
			if i < len(types) {
				t = types[i]
			}
			nan := "NULL"
			if s.ContainsNaN != nil {
				nan = strconv.FormatBool(*s.ContainsNaN)
			}
			sums = append(sums, "{'contains_null': "+strconv.FormatBool(s.ContainsNull)+", 'contains_nan': "+nan+
				", 'lower_bound': "+boundText(t, s.LowerBound)+", 'upper_bound': "+boundText(t, s.UpperBound)+"}")
		}
		rows = append(rows, "("+schema.QuoteString(mf.FilePath())+", "+strconv.FormatInt(mf.Length(), 10)+", "+
			strconv.Itoa(int(mf.PartitionSpecID()))+", "+strconv.FormatInt(mf.SnapshotID(), 10)+", "+
			strconv.Itoa(int(mf.AddedDataFiles()))+", "+strconv.FormatInt(mf.AddedRows(), 10)+", "+
			strconv.Itoa(int(mf.ExistingDataFiles()))+", "+strconv.FormatInt(mf.ExistingRows(), 10)+", "+
			strconv.Itoa(int(mf.DeletedDataFiles()))+", "+strconv.FormatInt(mf.DeletedRows(), 10)+", ["+strings.Join(sums, ", ")+"])")
	}
	return rows, nil
}

// boundText is a partition summary bound as a SQL string literal of its
// value's text, or NULL.
func boundText(t iceberg.Type, b *[]byte) string {
	if b == nil || t == nil {
		return "NULL"
	}
	lit, err := iceberg.LiteralFromBytes(t, *b)
	if err != nil {
		return "NULL"
	}
	return schema.QuoteString(lit.String())
}

// refRows are the rows of t$refs: its branches (main) and tags, by name.
func refRows(md table.Metadata) []string {
	var rows []string
	for name, r := range md.Refs() {
		rows = append(rows, "("+schema.QuoteString(name)+", "+schema.QuoteString(strings.ToUpper(string(r.SnapshotRefType)))+", "+
			strconv.FormatInt(r.SnapshotID, 10)+", "+idOrNull(r.MaxRefAgeMs)+", "+intOrNull(r.MinSnapshotsToKeep)+", "+idOrNull(r.MaxSnapshotAgeMs)+")")
	}
	slices.Sort(rows)
	return rows
}

func intOrNull(n *int) string {
	if n == nil {
		return "NULL"
	}
	return strconv.Itoa(*n)
}

// metaView returns the view body of a metadata table: its rows as literals.
func (e *Engine) metaView(ctx context.Context, m metaRef, r refs) (string, error) {
	tbl, err := e.iceberg(ctx, r, m.table)
	if err != nil {
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return "", &NotFoundError{Database: m.table.Database, Table: m.table.Name}
		}
		return "", fmt.Errorf("query: table %s.%s: %w", m.table.Database, m.table.Name, err)
	}
	md := tbl.Metadata()
	cols, rows := snapshotsColumns, snapshotRows(md)
	switch m.kind {
	case "history":
		cols, rows = historyColumns, historyRows(md)
	case "partitions":
		if cols, rows, err = partitionRows(ctx, tbl); err != nil {
			return "", fmt.Errorf("query: table %s.%s: $partitions: %w", m.table.Database, m.table.Name, err)
		}
	case "files":
		if cols, rows, err = fileRows(ctx, tbl); err != nil {
			return "", fmt.Errorf("query: table %s.%s: $files: %w", m.table.Database, m.table.Name, err)
		}
	case "manifests":
		if rows, err = manifestRows(ctx, tbl); err != nil {
			return "", fmt.Errorf("query: table %s.%s: $manifests: %w", m.table.Database, m.table.Name, err)
		}
		cols = manifestsColumns
	case "refs":
		cols, rows = refsColumns, refRows(md)
	}
	if len(rows) == 0 {
		return emptyView(cols), nil
	}
	names := make([]string, len(cols))
	list := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		list[i] = "CAST(" + c.name + " AS " + c.duck + ") AS " + c.name
	}
	return "SELECT " + strings.Join(list, ", ") + " FROM (VALUES " + strings.Join(rows, ", ") + ") AS s(" + strings.Join(names, ", ") + ")", nil
}

func snapshotRows(md table.Metadata) []string {
	snaps := slices.Clone(md.Snapshots())
	slices.SortFunc(snaps, func(a, b table.Snapshot) int { return cmp.Compare(a.TimestampMs, b.TimestampMs) })
	rows := make([]string, 0, len(snaps))
	for _, s := range snaps {
		op, summary := "NULL", "MAP {}"
		if s.Summary != nil {
			op = schema.QuoteString(string(s.Summary.Operation))
			keys := make([]string, 0, len(s.Summary.Properties))
			for k := range s.Summary.Properties {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			entries := make([]string, len(keys))
			for i, k := range keys {
				entries[i] = schema.QuoteString(k) + ": " + schema.QuoteString(s.Summary.Properties[k])
			}
			summary = "MAP {" + strings.Join(entries, ", ") + "}"
		}
		rows = append(rows, "("+timeLiteral(s.TimestampMs)+", "+strconv.FormatInt(s.SnapshotID, 10)+", "+
			idOrNull(s.ParentSnapshotID)+", "+op+", "+schema.QuoteString(s.ManifestList)+", "+summary+")")
	}
	return rows
}

func historyRows(md table.Metadata) []string {
	ancestors := map[int64]bool{}
	for s := md.CurrentSnapshot(); s != nil; {
		ancestors[s.SnapshotID] = true
		if s.ParentSnapshotID == nil || ancestors[*s.ParentSnapshotID] {
			break
		}
		s = md.SnapshotByID(*s.ParentSnapshotID)
	}
	var rows []string
	for e := range md.SnapshotLogs() {
		var parent *int64
		if s := md.SnapshotByID(e.SnapshotID); s != nil {
			parent = s.ParentSnapshotID
		}
		rows = append(rows, "("+timeLiteral(e.TimestampMs)+", "+strconv.FormatInt(e.SnapshotID, 10)+", "+
			idOrNull(parent)+", "+strconv.FormatBool(ancestors[e.SnapshotID])+")")
	}
	return rows
}

func timeLiteral(ms int64) string {
	return "TIMESTAMPTZ " + schema.QuoteString(time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000+00"))
}

func idOrNull(id *int64) string {
	if id == nil {
		return "NULL"
	}
	return strconv.FormatInt(*id, 10)
}

// partitionStruct is the partition column of t$partitions and t$files: a
// struct of the current spec's fields (as Trino has it), or none for an
// unpartitioned table; lit renders a file's or partition's values in it.
type partitionStruct struct {
	fields  []string // "name" TYPE
	types   []string
	numeric []bool // the value is written as a number, not cast from its text
}

func newPartitionStruct(tbl *table.Table) (partitionStruct, error) {
	md := tbl.Metadata()
	sc := md.CurrentSchema()
	var p partitionStruct
	spec := md.PartitionSpec()
	for _, f := range spec.Fields() {
		src, ok := sc.FindFieldByID(f.SourceID())
		if !ok {
			continue
		}
		rt := f.Transform.ResultType(src.Type)
		d, err := duckType(rt)
		if err != nil {
			return p, fmt.Errorf("partition field %s: %w", f.Name, err)
		}
		p.fields = append(p.fields, schema.QuoteIdent(f.Name)+" "+d)
		p.types = append(p.types, d)
		// hour, month, year and bucket values are ints whose text is not
		// (hour 2026-12-03-07).
		_, i32 := rt.(iceberg.Int32Type)
		_, i64 := rt.(iceberg.Int64Type)
		p.numeric = append(p.numeric, i32 || i64)
	}
	return p, nil
}

// column is the partition column, if the table is partitioned.
func (p partitionStruct) column() []column {
	if len(p.fields) == 0 {
		return nil
	}
	return []column{{name: "partition", duck: "STRUCT(" + strings.Join(p.fields, ", ") + ")"}}
}

// lit is the partition column's value of raw values (human: as printed).
func (p partitionStruct) lit(raw []any, human []string) []string {
	if len(p.fields) == 0 {
		return nil
	}
	vals := make([]string, len(p.types))
	for i := range p.types {
		switch v := raw[i]; {
		case v == nil:
			vals[i] = "NULL"
		case p.numeric[i]:
			vals[i] = fmt.Sprint(v)
		default:
			vals[i] = "CAST(" + schema.QuoteString(human[i]) + " AS " + p.types[i] + ")"
		}
	}
	return []string{"ROW(" + strings.Join(vals, ", ") + ")"}
}

// partitionRows are the columns and rows of t$partitions: the partition
// struct, then the partition's records, data files and bytes.
func partitionRows(ctx context.Context, tbl *table.Table) ([]column, []string, error) {
	ps, err := newPartitionStruct(tbl)
	if err != nil {
		return nil, nil, err
	}
	cols := append(ps.column(), column{name: "record_count", duck: "BIGINT"}, column{name: "file_count", duck: "BIGINT"},
		column{name: "total_size", duck: "BIGINT"})
	parts, err := catalog.IcebergPartitions(ctx, tbl)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]string, 0, len(parts))
	for _, p := range parts {
		row := append(ps.lit(p.Values, p.Human), strconv.FormatInt(p.Records, 10), strconv.FormatInt(p.Files, 10), strconv.FormatInt(p.Bytes, 10))
		rows = append(rows, "("+strings.Join(row, ", ")+")")
	}
	return cols, rows, nil
}

// fileRows are the columns and rows of t$files, Trino's first columns:
// the data file's path and format, the partition struct, its records and
// bytes.
func fileRows(ctx context.Context, tbl *table.Table) ([]column, []string, error) {
	ps, err := newPartitionStruct(tbl)
	if err != nil {
		return nil, nil, err
	}
	cols := append([]column{{name: "file_path", duck: "VARCHAR"}, {name: "file_format", duck: "VARCHAR"}}, ps.column()...)
	cols = append(cols, column{name: "record_count", duck: "BIGINT"}, column{name: "file_size_in_bytes", duck: "BIGINT"})
	files, err := catalog.IcebergFiles(ctx, tbl)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]string, 0, len(files))
	for _, f := range files {
		row := append([]string{schema.QuoteString(f.Path), schema.QuoteString(f.Format)}, ps.lit(f.Values, f.Human)...)
		row = append(row, strconv.FormatInt(f.Records, 10), strconv.FormatInt(f.Bytes, 10))
		rows = append(rows, "("+strings.Join(row, ", ")+")")
	}
	return cols, rows, nil
}

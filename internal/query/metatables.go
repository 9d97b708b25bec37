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

	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Metadata tables (Athena's and Trino's): db."t$snapshots" lists an
// Iceberg table's snapshots, db."t$history" the log of its current
// snapshot, each with the ids that FOR VERSION AS OF takes.
//
//	t$snapshots: committed_at TIMESTAMPTZ, snapshot_id BIGINT, parent_id BIGINT,
//	             operation VARCHAR, manifest_list VARCHAR, summary MAP(VARCHAR, VARCHAR)
//	t$history:   made_current_at TIMESTAMPTZ, snapshot_id BIGINT, parent_id BIGINT,
//	             is_current_ancestor BOOLEAN

// metaRef is a reference to a metadata table of a catalog table.
type metaRef struct {
	table catalog.Table // the Iceberg table
	kind  string        // snapshots or history
	view  string        // name$kind, the view's name in table.Database
}

// metaKinds are the metadata tables, by suffix.
var metaKinds = map[string]bool{"snapshots": true, "history": true}

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
)

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
	if m.kind == "history" {
		cols, rows = historyColumns, historyRows(md)
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

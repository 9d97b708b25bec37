package query_test

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/query"
)

// TestCountFromMetadata checks count(*) queries answered from the
// manifests' record counts against DuckDB counting the rows of the same
// data files: the same column name, type and value, and that only those
// whose WHERE clause selects whole partitions read no data file (the rest
// run as written and read files).
func TestCountFromMetadata(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	tbl := createEvents(t, store, "events")
	// Four day partitions, two of them written by two commits (two files).
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-20T00:00:00Z"},
		{"id": 2, "name": "b", "ts": "2026-11-21T10:00:00Z"},
		{"id": 3, "name": null, "ts": "2026-11-21T23:59:59.999999Z"},
		{"id": 4, "name": "a", "ts": "2026-11-22T12:00:00Z"}]`)
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 5, "name": "c", "ts": "2026-11-21T00:00:00Z"},
		{"id": 6, "name": "a", "ts": "2026-11-22T00:00:00Z"},
		{"id": 7, "name": "d", "ts": "2026-11-22T18:00:00Z"},
		{"id": 8, "name": null, "ts": "2026-11-23T06:00:00Z"}]`)
	tbl = appendJSON(ctx, t, tbl, `[{"id": 9, "name": "a", "ts": "2026-11-23T07:00:00Z"}]`)
	createEvents(t, store, "empty")

	var files []string
	filepath.WalkDir(filepath.Join(dir, "lake"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			files = append(files, "'"+p+"'")
		}
		return err
	})
	if len(files) != 7 {
		t.Fatalf("the fixture has %d data files, want 7", len(files))
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	duck, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	if _, err := duck.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	events := "read_parquet([" + strings.Join(files, ", ") + "])"

	s := newService(t, store, nil, query.ServiceConfig{})
	for _, tc := range []struct {
		sql      string
		metadata bool // answered without reading a data file
	}{
		{"SELECT count(*) FROM lake.events", true},
		{"select COUNT( * ) from LAKE.Events;", true},
		{`SELECT count(*) AS n FROM lake.events AS e WHERE e.ts >= TIMESTAMPTZ '2026-11-21 00:00:00+00' AND ts < '2026-11-23'`, true},
		{`SELECT count(*) "Rows" FROM lake.events WHERE ts >= '2026-11-22'`, true},
		{`SELECT count(*) FROM lake.events WHERE ts < TIMESTAMP '2026-11-22 00:00:00' AND ts >= '2026-11-21T00:00:00Z'`, true},
		{`SELECT count(*) FROM lake.events WHERE '2026-11-21' <= ts AND ts < '2026-11-22 12:00:00+12'`, true},
		{`SELECT count(*) FROM lake.events WHERE '2026-11-21' <= ts AND ts < '2026-11-22 00:00:00-12'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts >= '2030-01-01'`, true},
		// A bound inside a day leaves a residual: DuckDB counts.
		{`SELECT count(*) FROM lake.events WHERE ts >= '2026-11-21 10:00:00'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts >= '2026-11-21' AND ts < '2026-11-21 23:59:59.999999'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts = '2026-11-22 00:00:00'`, false},
		// A filter on a column that is not a partition source.
		{`SELECT count(*) FROM lake.events WHERE name = 'a'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts >= '2026-11-22' AND name IS NULL`, false},
		{`SELECT count(*) FROM lake.events WHERE id > 3 AND ts >= '2026-11-21'`, false},
		// Anything but a plain AND of comparisons, or more than count(*).
		{`SELECT count(*) FROM lake.events WHERE ts < '2026-11-21' OR ts >= '2026-11-23'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts BETWEEN '2026-11-21' AND '2026-11-22'`, false},
		{`SELECT count(*) FROM lake.events WHERE NOT ts >= '2026-11-22'`, false},
		{`SELECT count(*) FROM lake.events WHERE ts >= DATE '2026-11-22'`, false},
		{`SELECT count(*) FROM lake.events GROUP BY name ORDER BY 1`, false},
		{`SELECT count(*) FROM lake.events LIMIT 1`, false},
		{`SELECT count(*) + 1 FROM lake.events`, false},
		{`SELECT count(*), min(id) FROM lake.events`, false},
		{`SELECT count(name) FROM lake.events`, false},
		{`SELECT count(*) FROM lake.events e JOIN lake.events f USING (id)`, false},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			x := execute(t, s, query.StartInput{SQL: tc.sql})
			if x.State != query.Succeeded {
				t.Fatalf("%s: %+v", x.State, x.Error)
			}
			if got := x.Statistics.FilesScanned == 0 && x.Statistics.BytesScanned == 0; got != tc.metadata {
				t.Errorf("answered from metadata = %v, want %v (%d files, %d bytes scanned)",
					got, tc.metadata, x.Statistics.FilesScanned, x.Statistics.BytesScanned)
			}
			page, err := s.Results(ctx, x.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			cols, rows := duckCount(t, duck, strings.ReplaceAll(strings.ReplaceAll(tc.sql, "LAKE.Events", events), "lake.events", events))
			if got := fmt.Sprint(page.Columns); got != cols {
				t.Errorf("columns %s, DuckDB's %s", got, cols)
			}
			if got := pageRows(page); got != rows {
				t.Errorf("rows %s, DuckDB's %s", got, rows)
			}
		})
	}

	// A table without a snapshot counts 0, as its empty view does.
	x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.empty WHERE ts >= '2026-11-22'"})
	page, err := s.Results(ctx, x.ID, 0, 10)
	if err != nil || pageRows(page) != "[0]" || fmt.Sprint(page.Columns) != "[{_col0 BIGINT}]" || x.Statistics.FilesScanned != 0 {
		t.Errorf("count of an empty table: %+v, %v", page, err)
	}
	// A commit is counted at once: nothing cached outlives a snapshot.
	appendJSON(ctx, t, tbl, `[{"id": 10, "name": "e", "ts": "2026-11-23T08:00:00Z"}]`)
	x = execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.events WHERE ts >= '2026-11-23'"})
	if page, err := s.Results(ctx, x.ID, 0, 10); err != nil || pageRows(page) != "[3]" || x.Statistics.FilesScanned != 0 {
		t.Errorf("count after a commit: %+v %+v, %v", x.Statistics, page, err)
	}
	// Engine.Query answers the same way.
	res, err := newEngine(t, store).Query(ctx, "SELECT count(*) FROM lake.events WHERE ts >= '2026-11-22'")
	if err != nil || fmt.Sprint(res.Columns, res.Types, res.Rows) != "[_col0] [BIGINT] [[6]]" {
		t.Errorf("Engine.Query = %+v, %v", res, err)
	}
}

// duckCount runs sql on conn and returns its columns as Results shows them
// (an unaliased call, which DuckDB names after itself, is _col<i> as in
// Athena) and its rows as pageRows prints them.
func duckCount(t *testing.T, conn *sql.Conn, sql string) (cols, rows string) {
	t.Helper()
	r, err := conn.QueryContext(t.Context(), sql)
	if err != nil {
		t.Fatalf("duckdb: %s: %v", sql, err)
	}
	defer r.Close()
	types, err := r.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	rc := make([]query.ResultColumn, len(types))
	for i, ct := range types {
		rc[i] = query.ResultColumn{Name: ct.Name(), Type: ct.DatabaseTypeName()}
		if strings.HasSuffix(rc[i].Name, ")") {
			rc[i].Name = "_col" + strconv.Itoa(i)
		}
	}
	var out []string
	for r.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
			if v == nil {
				cells[i] = "NULL"
			}
		}
		out = append(out, "["+strings.Join(cells, " ")+"]")
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rc), strings.Join(out, " ")
}

// TestCountWithDeletesRunsOnDuckDB: a table with a row-level delete file
// is never counted from metadata (the record counts include deleted rows);
// the query runs as written, which refuses deletes.
func TestCountWithDeletesRunsOnDuckDB(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	ice := store.Iceberg()
	if err := ice.CreateNamespace(ctx, table.Identifier{"lake"}, nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := ice.CreateTable(ctx, table.Identifier{"lake", "events"}, eventsSchema,
		icecat.WithProperties(iceberg.Properties{table.WriteDeleteModeKey: table.WriteModeMergeOnRead}))
	if err != nil {
		t.Fatal(err)
	}
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-20T00:00:00Z"},
		{"id": 2, "name": "b", "ts": "2026-11-21T10:00:00Z"},
		{"id": 3, "name": "c", "ts": "2026-11-21T11:00:00Z"}]`)
	s := newService(t, store, nil, query.ServiceConfig{})
	if x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.events"}); x.State != query.Succeeded || x.Statistics.FilesScanned != 0 {
		t.Fatalf("count before the delete: %s %+v %+v", x.State, x.Error, x.Statistics)
	}

	tx := tbl.NewTransaction()
	if err := tx.Delete(ctx, iceberg.EqualTo(iceberg.Reference("id"), int64(2)), nil); err != nil {
		t.Fatal(err)
	}
	if tbl, err = tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil || len(tasks) != 1 || len(tasks[0].DeleteFiles)+len(tasks[0].DeletionVectorFiles) == 0 {
		t.Fatalf("the delete wrote no delete file: %d tasks, %v", len(tasks), err)
	}
	x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.events"})
	if x.State != query.Failed || x.Error == nil || !strings.Contains(x.Error.Message, "row-level deletes, which are not supported") {
		t.Errorf("count with a delete file: %s %+v, want the refusal of deletes (not a count of 3 from metadata)", x.State, x.Error)
	}
}

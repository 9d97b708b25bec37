package query_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// queryRows runs sql on e and renders its rows.
func queryRows(t *testing.T, e *query.Engine, sql string) string {
	t.Helper()
	res, err := e.Query(t.Context(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return fmt.Sprint(res.Rows)
}

// oneEvent creates lake.events with one row, and an engine on its catalog
// that is closed when t ends.
func oneEvent(t *testing.T) (*table.Table, *query.Engine) {
	t.Helper()
	store, _ := openCatalog(t)
	tbl := appendJSON(t.Context(), t, createEvents(t, store, "events"), `[{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"}]`)
	e := newEngine(t, store)
	t.Cleanup(func() { e.Close() })
	return tbl, e
}

// A reused DuckDB sees a commit made after it was prepared: the plan of
// the new snapshot replaces the view, pruned or not.
func TestReusedInstanceSeesNewSnapshot(t *testing.T) {
	ctx := t.Context()
	tbl, e := oneEvent(t)
	const all = `SELECT count(*), sum(id) FROM lake.events`
	const day22 = `SELECT count(*), sum(id) FROM lake.events WHERE ts >= TIMESTAMPTZ '2026-11-22 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-23 00:00:00+00'`
	if got := queryRows(t, e, all); got != "[[1 1]]" {
		t.Fatalf("before the append: %s", got)
	}
	first := query.IdleInstance(e)
	if first == nil {
		t.Fatal("no instance kept for reuse")
	}
	if got := queryRows(t, e, day22); got != "[[0 <nil>]]" {
		t.Fatalf("day 22 before the append: %s", got)
	}
	appendJSON(ctx, t, tbl, `[{"id": 2, "name": "b", "ts": "2026-11-22T11:00:00Z"}, {"id": 3, "name": "c", "ts": "2026-11-23T01:00:00Z"}]`)
	if got := queryRows(t, e, all); got != "[[3 6]]" {
		t.Errorf("after the append: %s, want [[3 6]]", got)
	}
	if got := queryRows(t, e, day22); got != "[[1 2]]" {
		t.Errorf("day 22 after the append: %s, want [[1 2]]", got)
	}
	if query.IdleInstance(e) != first {
		t.Error("the queries did not reuse the first query's DuckDB")
	}
}

// What one query does to its DuckDB is gone for the next: statements that
// could outlive a transaction get a DuckDB of their own, failed and
// cancelled queries leave a reusable one.
func TestReusedInstanceIsClean(t *testing.T) {
	store, _ := eventsLake(t)
	e := newEngine(t, store)
	defer e.Close()
	const count = `SELECT count(id) FROM lake.events` // not answered from metadata: it reads the view
	if got := queryRows(t, e, count); got != "[[5]]" {
		t.Fatalf("count = %s", got)
	}
	first := query.IdleInstance(e)
	for _, sql := range []string{
		`CREATE OR REPLACE VIEW lake.events AS SELECT 42 AS id; SELECT * FROM lake.events`,
		`DROP VIEW lake.events; SELECT 1`,
		`CREATE TABLE lake.x AS SELECT 1 AS a; SELECT * FROM lake.x`,
		`SELECT 1; COMMIT; CREATE TABLE lake.y AS SELECT 1 AS a`,
		`BEGIN; SELECT 1`,
		`PREPARE p AS SELECT 7; EXECUTE p`,
	} {
		e.Query(t.Context(), sql) // may fail; the next query must not see it
		if got := queryRows(t, e, count); got != "[[5]]" {
			t.Errorf("after %q: count = %s", sql, got)
		}
		if got := queryRows(t, e, `SELECT count(*) FROM duckdb_tables() WHERE NOT internal`); got != "[[0]]" {
			t.Errorf("after %q: tables = %s", sql, got)
		}
	}
	if _, err := e.Query(t.Context(), `SELECT CAST(name AS INTEGER) FROM lake.events`); err == nil {
		t.Error("a failing query succeeded")
	}
	// Fails before any statement runs, with the last query's transaction
	// still open on the instance.
	if _, err := e.Query(t.Context(), `SELECT count(id) FROM lake.events WHERE`); err == nil {
		t.Error("a query with a syntax error succeeded")
	}
	if got := queryRows(t, e, count); got != "[[5]]" {
		t.Errorf("after a syntax error: count = %s", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := e.Query(ctx, `SELECT count(*) FROM lake.events, range(1000000000000)`); err == nil {
		t.Error("a cancelled query succeeded")
	}
	if got := queryRows(t, e, count); got != "[[5]]" {
		t.Errorf("after a failed and a cancelled query: count = %s", got)
	}
	if query.IdleInstance(e) != first {
		t.Error("the queries did not reuse the first query's DuckDB")
	}
}

// A reused DuckDB keeps the prepared statement of a one-statement query
// and runs it again for the same text (one bind instead of two); a query
// of several statements, or one that fails, is not kept; a new snapshot
// replaces the statements bound to the old view.
func TestReusedInstanceKeepsStatements(t *testing.T) {
	ctx := t.Context()
	tbl, e := oneEvent(t)
	const sum = `SELECT count(id), sum(id) FROM lake.events`
	const byName = `WITH n AS (SELECT name, count(*) AS c FROM lake.events GROUP BY name) SELECT * FROM n ORDER BY name`
	for range 2 {
		if got := queryRows(t, e, sum); got != "[[1 1]]" {
			t.Fatalf("sum = %s", got)
		}
	}
	first := query.IdleInstance(e)
	if got := query.KeptStatements(e); !slices.Equal(got, []string{sum}) {
		t.Fatalf("kept %q, want the query run twice, once", got)
	}
	for _, sql := range []string{
		`SELECT 1; SELECT count(id) FROM lake.events`, // two statements: in a transaction
		`SELECT CAST(name AS INTEGER) FROM lake.events`,
		`WITH x AS (SELECT 1) SELECT CAST(name AS INTEGER) FROM lake.events`,
	} {
		e.Query(ctx, sql)
	}
	if got := queryRows(t, e, byName); got != "[[a 1]]" {
		t.Fatalf("by name = %s", got)
	}
	if got, want := query.KeptStatements(e), []string{sum, byName}; !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
	appendJSON(ctx, t, tbl, `[{"id": 2, "name": "b", "ts": "2026-11-22T11:00:00Z"}]`)
	if got := queryRows(t, e, sum); got != "[[2 3]]" {
		t.Errorf("sum after the append = %s, want [[2 3]]", got)
	}
	if got, want := query.KeptStatements(e), []string{sum}; !slices.Equal(got, want) {
		t.Errorf("kept after the append %q, want %q", got, want)
	}
	if got := queryRows(t, e, byName); got != "[[a 1] [b 1]]" {
		t.Errorf("by name after the append = %s", got)
	}
	if query.IdleInstance(e) != first {
		t.Error("the queries did not reuse the first query's DuckDB")
	}
}

// A reused DuckDB refuses what a new one refuses: it can read only the
// directories of the tables it was prepared for, its settings stay locked.
func TestReusedInstanceRefusesEscapes(t *testing.T) {
	store, dir := eventsLake(t)
	createEvents(t, store, "other")
	other := appendJSON(t.Context(), t, createEvents(t, store, "third"), `[{"id": 9, "name": "z", "ts": "2026-11-21T10:00:00Z"}]`)
	otherFile := firstDataFile(t, filepath.Join(dir, "lake", "lake.db", "third"))
	if !strings.HasPrefix(otherFile, filepath.Join(dir, "lake")) || other == nil {
		t.Fatalf("data file %s", otherFile)
	}
	eventsFile := firstDataFile(t, filepath.Join(dir, "lake", "lake.db", "events"))
	const denied = "file system operations are disabled by configuration"
	e := newEngine(t, store)
	defer e.Close()
	for round := range 3 {
		for _, tc := range []struct{ sql, want string }{
			{`SELECT count(*) FROM lake.events`, ""},
			{`SELECT count(*) FROM lake.events, read_parquet('` + otherFile + `')`, denied},
			{`SELECT count(*) FROM lake.third, read_parquet('` + eventsFile + `')`, denied},
			{`SELECT count(*) FROM lake.events, read_text('` + filepath.Join(dir, "catalog.db") + `')`, denied},
			{`SELECT * FROM read_csv('/etc/passwd')`, denied},
			{`SELECT count(*) FROM lake.events, glob('/etc/*')`, denied},
			{`SELECT current_setting('enable_external_access'), current_setting('lock_configuration') FROM lake.events LIMIT 1`, ""},
		} {
			res, err := e.Query(t.Context(), tc.sql)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("round %d: %s: %v", round, tc.sql, err)
			case tc.want == "" && strings.Contains(tc.sql, "current_setting") && fmt.Sprint(res.Rows) != "[[false true]]":
				t.Errorf("round %d: settings = %v", round, res.Rows)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("round %d: %s: %v, want an error containing %q", round, tc.sql, err, tc.want)
			}
		}
		if query.IdleInstance(e) == nil {
			t.Fatalf("round %d: no instance kept for reuse", round)
		}
	}
}

// A filter on the partition source column plans only the files that can
// match: the same rows as without pruning, fewer files and bytes scanned.
func TestPartitionPruning(t *testing.T) {
	store, dir := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})
	day22 := firstDataFile(t, filepath.Join(dir, "lake", "lake.db", "events", "data", "ts_day=2026-11-22"))
	_, day22Bytes := dataFiles(t, filepath.Dir(day22))
	for _, tc := range []struct {
		where    string
		rows     string
		maxFiles int64
	}{
		{`ts >= TIMESTAMPTZ '2026-11-22 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-23 00:00:00+00'`, "[2] [3]", 1},
		{`e.ts > '2026-11-22 12:00:00'`, "[4] [5]", 2},
		{`ts = TIMESTAMPTZ '2026-11-21 10:00:00+00'`, "[1]", 1},
		{`TIMESTAMPTZ '2026-11-23 00:00:00+00' <= ts AND id > 4`, "[5]", 1},
		{`ts < '2026-11-21 10:00:00'`, "", 1},
		{`ts <= '2026-11-22 23:00:00+02' AND name IS NOT NULL`, "[1] [2]", 2},
	} {
		pruned := execute(t, s, query.StartInput{SQL: `SELECT id FROM lake.events AS e WHERE ` + tc.where + ` ORDER BY id`})
		full := execute(t, s, query.StartInput{SQL: `SELECT id FROM lake.events AS e WHERE (` + tc.where + `) OR false ORDER BY id`})
		if pruned.State != query.Succeeded || full.State != query.Succeeded {
			t.Fatalf("%s: %+v %+v", tc.where, pruned.Error, full.Error)
		}
		pr, err := s.Results(t.Context(), pruned.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := s.Results(t.Context(), full.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if pageRows(pr) != tc.rows || pageRows(fr) != tc.rows {
			t.Errorf("%s: pruned %s, not pruned %s, want %s", tc.where, pageRows(pr), pageRows(fr), tc.rows)
		}
		if pruned.Statistics.FilesScanned > tc.maxFiles || full.Statistics.FilesScanned != 3 {
			t.Errorf("%s: files scanned %d pruned (want at most %d), %d not pruned (want 3)",
				tc.where, pruned.Statistics.FilesScanned, tc.maxFiles, full.Statistics.FilesScanned)
		}
		if tc.maxFiles == 1 && tc.rows == "[2] [3]" && pruned.Statistics.BytesScanned != day22Bytes {
			t.Errorf("%s: bytes scanned %d, want %d (the day's file)", tc.where, pruned.Statistics.BytesScanned, day22Bytes)
		}
	}
}

// Data files with the same columns are read without union_by_name; once a
// file has other columns (schema evolution), by name, old files reading
// NULL for the new column.
func TestUnionByNameOnlyWhenFilesDiffer(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "events")
	tbl = appendJSON(ctx, t, tbl, `[{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"}]`)
	tbl = appendJSON(ctx, t, tbl, `[{"id": 2, "name": "b", "ts": "2026-11-22T10:00:00Z"}]`)
	e := newEngine(t, store)
	defer e.Close()
	const viewSQL = `SELECT count(*), bool_or(contains(v.sql, 'union_by_name')) FROM lake.events,
		(SELECT sql FROM duckdb_views() WHERE view_name = 'events') v`
	if got := queryRows(t, e, viewSQL); got != "[[2 false]]" {
		t.Errorf("same columns: %s, want [[2 false]]", got)
	}
	txn := tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).AddColumn([]string{"score"}, iceberg.PrimitiveTypes.Float64, "", false, nil).Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appendJSON(ctx, t, tbl, `[{"id": 3, "name": "c", "ts": "2026-11-23T10:00:00Z", "score": 1.5}]`)
	if got := queryRows(t, e, viewSQL); got != "[[3 true]]" {
		t.Errorf("other columns: %s, want [[3 true]]", got)
	}
	if got := queryRows(t, e, `SELECT id, score FROM lake.events ORDER BY id`); got != "[[1 <nil>] [2 <nil>] [3 1.5]]" {
		t.Errorf("rows = %s", got)
	}
}

// Athena's functions are created on a reused DuckDB when a query first
// calls them, outside the query's transaction: the next query's rollback
// keeps them.
func TestReusedInstanceCreatesAthenaFunctionsOnce(t *testing.T) {
	store, _ := eventsLake(t)
	e := newEngine(t, store)
	defer e.Close()
	const count = `SELECT count(id) FROM lake.events`
	const card = `SELECT cardinality([id, id]) AS n, url_extract_host('https://a.example/x') AS h FROM lake.events LIMIT 1`
	if got := queryRows(t, e, count); got != "[[5]]" {
		t.Fatalf("count = %s", got)
	}
	first := query.IdleInstance(e)
	for range 2 {
		if got := queryRows(t, e, card); got != "[[2 a.example]]" {
			t.Errorf("cardinality, url_extract_host = %s", got)
		}
		if got := queryRows(t, e, count); got != "[[5]]" {
			t.Errorf("count = %s", got)
		}
	}
	// The instance holds those two and regexp_extract, which
	// url_extract_host uses; no other.
	const macros = `SELECT (SELECT list(DISTINCT function_name ORDER BY function_name) FROM duckdb_functions() WHERE database_name = 'temp' AND function_type = 'macro') FROM lake.events LIMIT 1`
	if got := queryRows(t, e, macros); got != "[[[cardinality regexp_extract url_extract_host]]]" {
		t.Errorf("macros on the instance: %s", got)
	}
	if query.IdleInstance(e) != first {
		t.Error("the queries did not reuse the first query's DuckDB")
	}
}

// A reused DuckDB reads an external table's file again when the file was
// rewritten in place (a crawled folder's files can be), while for Iceberg
// tables, whose data files never change, it skips the check.
func TestReusedInstanceSeesRewrittenExternalFile(t *testing.T) {
	ctx := t.Context()
	store, dir := eventsLake(t)
	loc := filepath.Join(dir, "files")
	if err := os.MkdirAll(loc, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(loc, "part-0.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(sum int, mtime time.Time) {
		t.Helper()
		if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT range AS a FROM range(%d)) TO '%s' (FORMAT parquet)", sum, file)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(10, time.Now().Add(-time.Hour))
	err = store.PutTable(ctx, catalog.Table{Database: "ext", Name: "files", Format: "parquet", Location: "file://" + loc,
		Columns: []catalog.Column{{Name: "a", Type: "bigint"}}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, store)
	defer e.Close()
	const validation = `(SELECT value FROM duckdb_settings() WHERE name = 'validate_external_file_cache')`
	const ext = `SELECT count(a), sum(a), ` + validation + ` FROM ext.files`
	if got := queryRows(t, e, ext); got != "[[10 45 VALIDATE_ALL]]" {
		t.Fatalf("before the rewrite: %s", got)
	}
	first := query.IdleInstance(e)
	write(20, time.Now())
	if got := queryRows(t, e, ext); got != "[[20 190 VALIDATE_ALL]]" {
		t.Errorf("after the rewrite: %s, want [[20 190 VALIDATE_ALL]]", got)
	}
	if query.IdleInstance(e) != first {
		t.Error("the queries did not reuse the first query's DuckDB")
	}
	if got := queryRows(t, e, `SELECT count(id), `+validation+` FROM lake.events`); got != "[[5 NO_VALIDATION]]" {
		t.Errorf("iceberg: %s", got)
	}
	if got := queryRows(t, e, `SELECT count(*), `+validation+` FROM lake.events, ext.files`); got != "[[100 VALIDATE_ALL]]" {
		t.Errorf("iceberg and external: %s", got)
	}
}

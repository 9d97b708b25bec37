package query_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

func TestErrors(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	createEvents(t, store, "events")
	if err := store.PutTable(ctx, stagingTable("orders", filepath.Join(dir, "staging", "orders"))); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, store)

	for _, tc := range []struct {
		sql, want string
	}{
		{`SELECT * FROM lake.nope`, "query: table lake.nope not found"},
		{`SELECT * FROM lake.events JOIN "RAW"."Nope" ON true`, "query: table RAW.Nope not found"},
		{"SELECT *\nFROM raw.orders o\nJOIN raw.missing m ON o.key = m.key", "query: table raw.missing not found"},
	} {
		_, err := e.Query(ctx, tc.sql)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err = %v, want %q", tc.sql, err, tc.want)
		}
		if !errors.Is(err, catalog.ErrNoSuchTable) {
			t.Errorf("%q: %v does not wrap catalog.ErrNoSuchTable", tc.sql, err)
		}
	}

	// Names in strings and comments, and column paths, are not tables.
	for _, sql := range []string{
		"SELECT 'lake.nope' AS s -- lake.nope\n/* raw.nope */",
		`SELECT raw.nope FROM (SELECT {'nope': 1} AS raw)`,
		`SELECT lake.id FROM lake.events AS lake`,
	} {
		if _, err := e.Query(ctx, sql); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}

	// DuckDB's errors: one line, the kind kept, no LINE/caret excerpt.
	for _, tc := range []struct{ sql, prefix string }{
		{"SELECT *\nFROM other.nope", `query: Catalog Error: Table with name "other.nope" does not exist`},
		{"SELECT *\nFROM nope", "query: Catalog Error: Table with name nope does not exist"},
		{"SELEC 1", "query: Parser Error: syntax error"},
		{"SELECT no_such_column FROM lake.events", "query: Binder Error:"},
	} {
		_, err := e.Query(ctx, tc.sql)
		if err == nil {
			t.Errorf("%q: no error", tc.sql)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tc.prefix) || strings.Contains(msg, "\n") || strings.Contains(msg, "LINE") {
			t.Errorf("%q: err = %q, want one line starting %q", tc.sql, msg, tc.prefix)
		}
	}
}

// Statements that would create, change or remove a catalog database's
// objects in the query's own DuckDB, and answer as if they had, are
// refused (a view in the catalog is created by a query of its own,
// catalogview.go); on a query's own objects they run.
func TestCatalogDDLRefused(t *testing.T) {
	ctx := t.Context()
	store, _ := eventsLake(t)
	e := newEngine(t, store)
	defer e.Close()
	for sql, want := range map[string]string{
		"create or replace temp view LAKE.v as select 1":                    "CREATE OR REPLACE TEMP VIEW LAKE.v is not supported: a view is created by a query of its own",
		"SELECT 1; DROP TABLE IF EXISTS lake.events":                        "DROP TABLE IF EXISTS lake.events is not supported: SQL here reads",
		"ALTER TABLE lake.events ALTER COLUMN x SET DATA TYPE bigint":       "ALTER TABLE lake.events: not a change it makes",
		"DELETE FROM lake.events WHERE id = 1":                              "DELETE FROM lake.events is not supported",
		"UPDATE lake.events SET name = 'x'":                                 "UPDATE lake.events is not supported",
		"MERGE INTO lake.events USING (SELECT 1 AS id) s ON s.id = id":      "MERGE INTO lake.events is not supported",
		"TRUNCATE lake.events":                                              "TRUNCATE lake.events is not supported",
		"DROP SCHEMA lake CASCADE":                                          "DROP SCHEMA lake is not supported",
		"/* c */ CREATE MACRO lake.m(x) AS x + 1; SELECT lake.m(1)":         "CREATE MACRO lake.m is not supported",
		"SELECT count(id) FROM lake.events; CREATE VIEW lake.w AS SELECT 1": "CREATE VIEW lake.w is not supported",
	} {
		_, err := e.Query(ctx, sql)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, query.ErrUnsupported) {
			t.Errorf("%q: err = %v, want one saying %q", sql, err, want)
		}
	}
	// The table is untouched, and a query's own objects still work.
	for sql, want := range map[string]string{
		"SELECT count(id) FROM lake.events":                                               "[[5]]",
		"CREATE TEMP VIEW v AS SELECT count(id) AS n FROM lake.events; SELECT n FROM v":   "[[5]]",
		"CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t VALUES (2); SELECT sum(a) FROM t": "[[3]]",
		"CREATE VIEW lake AS SELECT 7 AS x; SELECT x FROM lake":                           "[[7]]",
	} {
		if got := queryRows(t, e, sql); got != want {
			t.Errorf("%q = %s, want %s", sql, got, want)
		}
	}
}

func TestFileAccess(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	for _, sql := range []string{
		`SELECT * FROM read_text('` + filepath.Join(dir, "catalog.db") + `')`,
		`COPY (SELECT 1) TO '` + filepath.Join(dir, "out.csv") + `'`,
		`SET enable_external_access = true`,
	} {
		_, err := newEngine(t, store).Query(ctx, sql)
		if err == nil {
			t.Errorf("%s: no error", sql)
		}
	}
	open := query.New(store, query.Options{AllowFileAccess: true})
	res, err := open.Query(ctx, `SELECT count(*) FROM read_text('`+filepath.Join(dir, "catalog.db")+`')`)
	if err != nil || res.Rows[0][0] != int64(1) {
		t.Errorf("AllowFileAccess: %v, %v", res, err)
	}
}

func TestWrite(t *testing.T) {
	store, _ := openCatalog(t)
	res, err := newEngine(t, store).Query(t.Context(), `
		SELECT * FROM (VALUES
			(1, 'plain', TIMESTAMPTZ '2026-11-22 10:11:12.5+00', DATE '2026-11-22', 1.5::DECIMAL(10,2),
			 {'z': 1, 'a': ['x', NULL]}, 2.25::DOUBLE),
			(20, 'a,"quoted"
line', NULL, NULL, NULL, NULL, NULL)
		) t(n, s, ts, d, amount, obj, f)
		ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, want string }{
		{"csv", `n,s,ts,d,amount,obj,f
1,plain,2026-11-22T10:11:12.5Z,2026-11-22,1.50,"{""z"":1,""a"":[""x"",null]}",2.25
20,"a,""quoted""
line",,,,,
`},
		{"json", `[
{"n":1,"s":"plain","ts":"2026-11-22T10:11:12.5Z","d":"2026-11-22","amount":1.50,"obj":{"z":1,"a":["x",null]},"f":2.25},
{"n":20,"s":"a,\"quoted\"\nline","ts":null,"d":null,"amount":null,"obj":null,"f":null}
]
`},
		{"table", ` n  | s                | ts                     | d          | amount | obj                    | f
----+------------------+------------------------+------------+--------+------------------------+------
  1 | plain            | 2026-11-22T10:11:12.5Z | 2026-11-22 |   1.50 | {"z":1,"a":["x",null]} | 2.25
 20 | a,"quoted"\nline | NULL                   | NULL       |   NULL | NULL                   | NULL
(2 rows)
`},
	} {
		var buf bytes.Buffer
		if err := query.Write(&buf, res, tc.format); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.format, got, tc.want)
		}
	}

	var buf bytes.Buffer
	if err := query.Write(&buf, &query.Result{Columns: []string{"a"}, Types: []string{"INTEGER"}}, "json"); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty json = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := query.Write(&buf, &query.Result{Columns: []string{"a"}, Types: []string{"INTEGER"}, Rows: [][]any{{int32(7)}}}, "table"); err != nil ||
		buf.String() != " a\n---\n 7\n(1 row)\n" {
		t.Errorf("one-row table = %q, %v", buf.String(), err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "csv", "json", "JSON"} {
		if f, err := query.ParseFormat(s); err != nil || f != strings.ToLower(s) {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	_, err := query.ParseFormat("x")
	if err == nil || err.Error() != `--format: "x" is not one of table, csv, json` {
		t.Errorf("ParseFormat(x) = %v", err)
	}
	if err := query.Write(&bytes.Buffer{}, &query.Result{}, "xml"); err == nil {
		t.Error("Write(xml): no error")
	}
}

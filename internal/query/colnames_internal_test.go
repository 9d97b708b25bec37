package query

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

func TestAthenaNames(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var c selectLists
	for _, tc := range []struct {
		query      string
		cols, want []string
	}{
		{"SELECT a, count(*) FROM t", []string{"a", "count_star()"}, []string{"a", "_col1"}},
		{"SELECT count(*) AS n, a + 1, t.a FROM t", []string{"n", "(a + 1)", "a"}, []string{"n", "_col1", "a"}},
		{"SELECT 1; SELECT 2 AS x, 3", []string{"x", "3"}, []string{"x", "_col1"}},
		{"SELECT upper(a) FROM t UNION SELECT b AS z FROM u", []string{"upper(a)"}, []string{"_col0"}},
		{"SELECT a * 2, * EXCLUDE (b), a + 1 FROM t", []string{"(a * 2)", "a", "c", "(a + 1)"}, []string{"_col0", "a", "c", "_col3"}},
		{"SELECT \"weird (x)\" FROM t", []string{"weird (x)"}, []string{"weird (x)"}},
		// Not a SELECT, or columns the list does not account for: as DuckDB names them.
		{"DESCRIBE t", []string{"column_name", "null"}, []string{"column_name", "null"}},
		{"PRAGMA version", []string{"library_version", "source_id()"}, []string{"library_version", "source_id()"}},
		{"SELECT 1, 2 FROM t", []string{"1"}, []string{"1"}},
	} {
		for range 2 { // parsed, then cached
			if got := c.athenaNames(t.Context(), db, tc.query, tc.cols); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
			}
		}
	}
	// Plain names need no parse: a closed DuckDB is not asked.
	closed, _ := sql.Open("duckdb", "")
	closed.Close()
	if got := c.athenaNames(context.Background(), closed, "SELECT a, b FROM new", []string{"a", "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("plain names: %q", got)
	}
	if len(c.m) != 8 { // every case but DESCRIBE's, whose names are plain
		t.Errorf("%d select lists cached, want 8", len(c.m))
	}
}

package query

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DuckDB's own restrictions refuse what refuseStatements refuses, so the
// keyword check is a clearer error, not the only guard.
func TestRestrictWithoutKeywordCheck(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	allowed := t.TempDir()
	if err := restrict(ctx, conn, []string{dirOf(allowed)}); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, q := range []string{
		"COPY (SELECT 1) TO '" + filepath.Join(tmp, "x.csv") + "'",
		"EXPORT DATABASE '" + filepath.Join(tmp, "export") + "'",
		"ATTACH '" + filepath.Join(tmp, "x.db") + "' AS x",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SELECT * FROM read_csv('/etc/passwd')",
		"SET enable_external_access = true",
	} {
		_, err := conn.ExecContext(ctx, q)
		if err == nil || category(err) != CategoryUser ||
			!(strings.Contains(err.Error(), "disabled") || strings.Contains(err.Error(), "locked")) {
			t.Errorf("%s: %v (%s), want a refusal", q, err, category(err))
		}
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("files written: %v, %v", ents, err)
	}
	// The allowed directory stays readable.
	if err := os.WriteFile(filepath.Join(allowed, "a.csv"), []byte("x\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM read_csv('"+filepath.Join(allowed, "a.csv")+"')").Scan(&n); err != nil || n != 1 {
		t.Errorf("allowed file: %d, %v", n, err)
	}
	// DuckDB lets COPY write into an allowed directory (a table's): only
	// refuseStatements stops that.
	if _, err := conn.ExecContext(ctx, "COPY (SELECT 1) TO '"+filepath.Join(allowed, "w.csv")+"'"); err != nil {
		t.Logf("DuckDB now refuses COPY into an allowed directory: %v", err)
	} else if _, err := os.Stat(filepath.Join(allowed, "w.csv")); err != nil {
		t.Errorf("COPY into an allowed directory succeeded without a file: %v", err)
	}
	if err := refuseStatements("SELECT 'copy'; -- attach\nSELECT copy FROM t"); err != nil {
		t.Errorf("refuseStatements of names in strings, comments and columns: %v", err)
	}
	if err := refuseStatements("SELECT 1;\n  Attach 'x'"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("refuseStatements(second statement ATTACH) = %v", err)
	}
}

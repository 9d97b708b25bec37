package query_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/query"
)

// Every way out of the lake that SQL offers is refused with a USER error,
// and nothing is written outside it.
func TestExecutionSafety(t *testing.T) {
	store, dir := eventsLake(t)
	// A Parquet file outside every table, written with file access open.
	outside := filepath.Join(dir, "outside.parquet")
	open := query.New(store, query.Options{AllowFileAccess: true})
	if _, err := open.Query(t.Context(), "COPY (SELECT 1 AS x) TO '"+outside+"' (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// A path inside the table's directory, which its view may read.
	evil := filepath.Join(filepath.Dir(firstDataFile(t, filepath.Join(dir, "lake"))), "evil.parquet")
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "lean", MemoryLimit: "300MB"}}})

	const denied = "file system operations are disabled by configuration"
	const locked = "the configuration has been locked"
	for _, tc := range []struct{ sql, msg string }{
		{"SELECT * FROM read_csv('/etc/passwd')", `Permission Error: Cannot access file "/etc/passwd" - ` + denied},
		{"SELECT * FROM read_text('/proc/self/environ')", denied},
		{"SELECT * FROM '/etc/passwd'", `Catalog Error: Table with name /etc/passwd does not exist`},
		{"SELECT * FROM read_parquet('" + outside + "')", denied},
		// Referencing a table opens its directory only.
		{"SELECT * FROM lake.events, read_parquet('" + outside + "')", denied},
		{"SELECT * FROM glob('/etc/*')", denied},
		{"COPY (SELECT 1) TO '" + filepath.Join(tmp, "x.csv") + "'", "query: COPY statements are not allowed: SQL can only read the catalog's tables"},
		{"COPY lake.events TO '" + filepath.Join(tmp, "events.csv") + "'", "COPY statements are not allowed"},
		// DuckDB itself would let this write into the table's directory.
		{"SELECT count(*) FROM lake.events; COPY lake.events TO '" + evil + "'", "COPY statements are not allowed"},
		{"CREATE TABLE t AS SELECT 1 AS x; /* c */ copy t TO '" + filepath.Join(tmp, "t.csv") + "'", "COPY statements are not allowed"},
		{"EXPORT DATABASE '" + filepath.Join(tmp, "export") + "'", "EXPORT statements are not allowed"},
		{"IMPORT DATABASE '" + tmp + "'", "IMPORT statements are not allowed"},
		{"ATTACH '" + filepath.Join(tmp, "x.db") + "' AS x", "ATTACH statements are not allowed"},
		{"ATTACH ':memory:' AS m", "ATTACH statements are not allowed"},
		{"INSTALL httpfs", "INSTALL statements are not allowed"},
		{"FORCE INSTALL httpfs", "FORCE statements are not allowed"},
		{"LOAD httpfs", "LOAD statements are not allowed"},
		{"LOAD '" + outside + "'", "LOAD statements are not allowed"},
		{"SET enable_external_access = true", `Cannot change configuration option "enable_external_access" - ` + locked},
		{"SET allowed_directories = ['/']", locked},
		{"SET memory_limit = '100GB'", `Cannot change configuration option "memory_limit" - ` + locked},
		{"RESET memory_limit", locked},
		{"PRAGMA memory_limit = '100GB'", locked},
		{"SET lock_configuration = false", locked},
	} {
		x := execute(t, s, query.StartInput{SQL: tc.sql, Workgroup: "lean"})
		if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser ||
			!strings.HasPrefix(x.Error.Message, "query: ") || !strings.Contains(x.Error.Message, tc.msg) {
			t.Errorf("%s:\n  %s %+v\n  want FAILED USER containing %q", tc.sql, x.State, x.Error, tc.msg)
		}
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("files written outside the lake: %v, %v", ents, err)
	}
	if _, err := os.Stat(evil); !os.IsNotExist(err) {
		t.Errorf("file written into the lake: %v", err)
	}
	// The workgroup's memory limit is still in force after SET/PRAGMA tries.
	x := execute(t, s, query.StartInput{SQL: "SELECT current_setting('memory_limit')", Workgroup: "lean"})
	if page, err := s.Results(t.Context(), x.ID, 0, 1); err != nil || pageRows(page) != "[286.1 MiB]" {
		t.Errorf("memory_limit = %v, %v", page, err)
	}
}

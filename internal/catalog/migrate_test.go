package catalog

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/sqliteshim"
)

// legacyDDL and legacyRow are the schema and a row as catalogs written
// before databases, versions and partitions had them.
const legacyDDL = `CREATE TABLE IF NOT EXISTS streamlake_tables (
	database_name TEXT NOT NULL,
	table_name    TEXT NOT NULL,
	definition    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (database_name, table_name)
)`

const legacyRow = `{"database":"raw","name":"orders","type":"EXTERNAL","format":"json","compression":"zstd",` +
	`"location":"file:///data/staging/orders","columns":[{"name":"topic","type":"string","duckdb":"VARCHAR"}],` +
	`"partition_keys":[{"name":"dt","type":"string","duckdb":"VARCHAR"}],"properties":{"recordCount":"7"},` +
	`"updated":"2026-11-20T08:00:00Z"}`

func TestMigrateLegacyCatalog(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.db")
	db, err := sql.Open(sqliteshim.ShimName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, legacyDDL); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO streamlake_tables VALUES ('raw', 'orders', ?, '2026-11-20T08:00:00Z')`, legacyRow); err != nil {
		t.Fatal(err)
	}
	db.Close()

	updated := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := range 2 { // the second open finds nothing left to migrate
		s, err := Open(ctx, path, "file://"+filepath.ToSlash(filepath.Join(dir, "lake")))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		tbl, err := s.GetTable(ctx, "raw", "orders")
		if err != nil {
			t.Fatal(err)
		}
		if tbl.Version != 1 || !tbl.CreatedAt.Equal(updated) || !tbl.Updated.Equal(updated) || tbl.Properties["recordCount"] != "7" ||
			len(tbl.Columns) != 1 || len(tbl.PartitionKeys) != 1 {
			t.Errorf("open %d: migrated table = %+v", i, tbl)
		}
		vs, err := s.TableVersions(ctx, "raw", "orders")
		if err != nil || len(vs) != 1 || vs[0].Version != 1 {
			t.Errorf("open %d: versions = %+v, %v; want version 1 only", i, vs, err)
		}
		dbs, err := s.Databases(ctx)
		if err != nil || len(dbs) != 1 || dbs[0].Name != "raw" {
			t.Errorf("open %d: databases = %+v, %v; want raw", i, dbs, err)
		}
		// The migrated table works like any other.
		if err := s.BatchCreatePartitions(ctx, "raw", "orders", []Partition{{Values: []string{"2026-11-2" + string(rune('0'+i))}}}); err != nil {
			t.Errorf("open %d: %v", i, err)
		}
		if ps, err := s.GetPartitions(ctx, "raw", "orders", "dt LIKE '2026-11-%'"); err != nil || len(ps) != i+1 {
			t.Errorf("open %d: partitions = %v, %v; want %d", i, ps, err, i+1)
		}
		s.Close()
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in, dsn, name string
		pg            bool
	}{
		{"/data/catalog.db", "/data/catalog.db", "/data/catalog.db", false},
		{"rel/catalog.db", "rel/catalog.db", "rel/catalog.db", false},
		{"sqlite:///data/catalog.db", "/data/catalog.db", "/data/catalog.db", false},
		{"file:///data/catalog.db", "/data/catalog.db", "/data/catalog.db", false},
		{"file:rel/catalog.db", "rel/catalog.db", "rel/catalog.db", false},
		{"postgres://u:secret@127.0.0.1:5432/cat?sslmode=disable", "postgres://u:secret@127.0.0.1:5432/cat?sslmode=disable",
			"postgres://u:xxxxx@127.0.0.1:5432/cat?sslmode=disable", true},
		{"postgresql://u@db/cat", "postgresql://u@db/cat", "postgresql://u@db/cat", true},
	} {
		got, err := parseTarget(tc.in)
		if err != nil || got.dsn != tc.dsn || got.name != tc.name || got.postgres != tc.pg {
			t.Errorf("parseTarget(%q) = %+v, %v; want dsn %q name %q postgres %v", tc.in, got, err, tc.dsn, tc.name, tc.pg)
		}
	}
	for _, bad := range []string{"", "s3://bucket/catalog.db", "mysql://x/y", "sqlite://"} {
		if got, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestRebind(t *testing.T) {
	q := `SELECT '?', "a?" FROM t WHERE a = ? AND b IN (?, ?) AND c = 'it''s ?'`
	if got := rebind(false, q); got != q {
		t.Errorf("rebind for SQLite changed the query: %s", got)
	}
	want := `SELECT '?', "a?" FROM t WHERE a = $1 AND b IN ($2, $3) AND c = 'it''s ?'`
	if got := rebind(true, q); got != want {
		t.Errorf("rebind = %s\nwant   %s", got, want)
	}
}

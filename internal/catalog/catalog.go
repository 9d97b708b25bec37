// Package catalog is streamlake's data catalog: databases and tables that the
// query layer resolves names through. It owns one SQLite file holding both
// the Iceberg SQL catalog (iceberg-go's tables, for the lake written by the
// ETL) and the registry of external tables (files registered by the crawler).
//
// A Store is safe for concurrent use, also across processes sharing the file
// (WAL mode and a busy timeout). Lookups of missing tables return errors
// wrapping ErrNoSuchTable.
package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// ErrNoSuchTable is wrapped by lookups of a table that does not exist.
var ErrNoSuchTable = errors.New("no such table")

// Table types.
const (
	External = "EXTERNAL"
	Iceberg  = "ICEBERG"
)

// Column is a named, typed column. Type is in Glue/Hive DDL syntax
// (bigint, string, timestamp, struct<a:double>, array<string>).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// DuckDB is the same type as a DuckDB SQL type, used to read the files.
	DuckDB string `json:"duckdb,omitempty"`
}

// Table is a catalog entry.
type Table struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Type     string `json:"type"`   // External or Iceberg
	Format   string `json:"format"` // json, parquet
	// Compression of external files: none, zstd, gzip.
	Compression string `json:"compression,omitempty"`
	// Location is a directory (external) or the Iceberg table location.
	Location      string            `json:"location"`
	Columns       []Column          `json:"columns"`
	PartitionKeys []Column          `json:"partition_keys,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
	Updated       time.Time         `json:"updated"`
}

// Store is the catalog. Close it when done.
type Store struct {
	db  *sql.DB
	ice *sqlcat.Catalog
}

// Open opens (creating if needed) the catalog in the SQLite file at path,
// with Iceberg tables placed under warehouse (a URL such as file:///abs/lake).
func Open(ctx context.Context, path, warehouse string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: open: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: open: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: create tables: %w", path, err)
	}
	ice, err := sqlcat.NewCatalog("streamlake", db, sqlcat.SQLite, iceberg.Properties{"warehouse": warehouse})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: iceberg catalog: %w", path, err)
	}
	return &Store{db: db, ice: ice}, nil
}

const ddl = `CREATE TABLE IF NOT EXISTS streamlake_tables (
	database_name TEXT NOT NULL,
	table_name    TEXT NOT NULL,
	definition    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (database_name, table_name)
)`

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Iceberg returns the Iceberg catalog for writers and scan planning.
func (s *Store) Iceberg() icecat.Catalog { return s.ice }

// PutTable creates or replaces an external table definition.
func (s *Store) PutTable(ctx context.Context, t Table) error {
	t.Type = External
	if t.Updated.IsZero() {
		t.Updated = time.Now().UTC()
	}
	def, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("catalog: put %s.%s: %w", t.Database, t.Name, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO streamlake_tables (database_name, table_name, definition, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (database_name, table_name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
		t.Database, t.Name, string(def), t.Updated.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("catalog: put %s.%s: %w", t.Database, t.Name, err)
	}
	return nil
}

// Table returns the named table, external or Iceberg. For an Iceberg table
// only the identity fields are filled; use LoadIceberg for the metadata.
func (s *Store) Table(ctx context.Context, database, name string) (Table, error) {
	var def string
	err := s.db.QueryRowContext(ctx, `SELECT definition FROM streamlake_tables WHERE database_name = ? AND table_name = ?`,
		database, name).Scan(&def)
	switch {
	case err == nil:
		var t Table
		if err := json.Unmarshal([]byte(def), &t); err != nil {
			return Table{}, fmt.Errorf("catalog: table %s.%s: corrupt definition: %w", database, name, err)
		}
		return t, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Table{}, fmt.Errorf("catalog: table %s.%s: %w", database, name, err)
	}
	tbl, err := s.LoadIceberg(ctx, database, name)
	if err != nil {
		return Table{}, err
	}
	return Table{Database: database, Name: name, Type: Iceberg, Format: "parquet", Location: tbl.Location()}, nil
}

// LoadIceberg loads an Iceberg table's current metadata.
func (s *Store) LoadIceberg(ctx context.Context, database, name string) (*table.Table, error) {
	tbl, err := s.ice.LoadTable(ctx, table.Identifier{database, name})
	if err != nil {
		if errors.Is(err, icecat.ErrNoSuchTable) || errors.Is(err, icecat.ErrNoSuchNamespace) {
			return nil, fmt.Errorf("catalog: table %s.%s: %w", database, name, ErrNoSuchTable)
		}
		return nil, fmt.Errorf("catalog: table %s.%s: %w", database, name, err)
	}
	return tbl, nil
}

// Tables lists the tables of a database (all databases if database is ""),
// sorted by database and name.
func (s *Store) Tables(ctx context.Context, database string) ([]Table, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT definition FROM streamlake_tables WHERE ? = '' OR database_name = ?`, database, database)
	if err != nil {
		return nil, fmt.Errorf("catalog: list tables: %w", err)
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, fmt.Errorf("catalog: list tables: %w", err)
		}
		var t Table
		if err := json.Unmarshal([]byte(def), &t); err != nil {
			return nil, fmt.Errorf("catalog: list tables: corrupt definition: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list tables: %w", err)
	}
	ice, err := s.icebergTables(ctx, database)
	if err != nil {
		return nil, err
	}
	out = append(out, ice...)
	slices.SortFunc(out, func(a, b Table) int {
		if a.Database != b.Database {
			return compare(a.Database, b.Database)
		}
		return compare(a.Name, b.Name)
	})
	return out, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Store) icebergTables(ctx context.Context, database string) ([]Table, error) {
	var namespaces []table.Identifier
	if database != "" {
		namespaces = []table.Identifier{{database}}
	} else {
		ns, err := s.ice.ListNamespaces(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("catalog: list databases: %w", err)
		}
		namespaces = ns
	}
	var out []Table
	for _, ns := range namespaces {
		for id, err := range s.ice.ListTables(ctx, ns) {
			if err != nil {
				if errors.Is(err, icecat.ErrNoSuchNamespace) {
					break
				}
				return nil, fmt.Errorf("catalog: list tables of %v: %w", ns, err)
			}
			if len(id) < 2 {
				continue
			}
			out = append(out, Table{Database: id[len(id)-2], Name: id[len(id)-1], Type: Iceberg, Format: "parquet"})
		}
	}
	return out, nil
}

// TableName is the table name of a topic, in every database: lower case, every character other
// than a-z and 0-9 replaced by '_'.
func TableName(topic string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, topic)
}

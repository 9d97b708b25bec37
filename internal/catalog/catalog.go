// Package catalog is streamlake's data catalog, in the model of the Glue
// Data Catalog: databases; tables with columns, partition keys, location,
// format, properties and a version per schema change; partitions with their
// values, locations and statistics. It owns one database, SQLite (a file,
// embedded) or PostgreSQL (shared), holding both iceberg-go's SQL catalog
// (the Iceberg tables the ETL writes) and streamlake's own tables (databases,
// external tables registered by the crawler, their versions and
// partitions), so both kinds of table are in one catalog.
//
// A Store is safe for concurrent use, also by several processes sharing the
// database: SQLite in WAL mode with a busy timeout and write transactions
// that lock when they begin, PostgreSQL with row locks. Every write is one
// transaction.
//
// Errors wrap sentinels callers can branch on: ErrNoSuchDatabase,
// ErrNoSuchTable, ErrNoSuchPartition, ErrAlreadyExists, ErrNoSuchExecution,
// ErrNoSuchNamedQuery, and *FilterError for a GetPartitions filter that
// does not parse. Next to the catalog proper it keeps the query layer's
// execution history and named queries (saved SQL).
package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	icecat "github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
)

// Sentinel errors, wrapped by the errors of lookups and writes.
var (
	ErrNoSuchTable     = errors.New("no such table")
	ErrNoSuchDatabase  = errors.New("no such database")
	ErrNoSuchPartition = errors.New("no such partition")
	ErrAlreadyExists   = errors.New("already exists")
)

// Table types. A VirtualView is a view (Glue's VIRTUAL_VIEW): a saved
// query (ViewText) that queries read as a table.
const (
	External    = "EXTERNAL"
	Iceberg     = "ICEBERG"
	VirtualView = "VIRTUAL_VIEW"
)

// Table properties with a meaning in the catalog (Glue's names). The
// crawler sets them on external tables; GetTable fills the first four for
// Iceberg tables from the current snapshot.
const (
	PropRecordCount       = "recordCount"
	PropSizeBytes         = "sizeBytes"
	PropObjectCount       = "objectCount"
	PropAverageRecordSize = "averageRecordSize"
	PropLastCrawled       = "lastCrawled" // RFC 3339
	PropCrawler           = "crawler"     // name of the crawler that wrote the table
)

// Column is a named, typed column. Type is in Glue/Hive DDL syntax
// (bigint, string, timestamp, struct<a:double>, array<string>).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// DuckDB is the same type as a DuckDB SQL type, used to read the files.
	DuckDB  string `json:"duckdb,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Table is a catalog entry.
type Table struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	// Type is the table type (Glue's TableType): External, Iceberg or
	// VirtualView.
	Type string `json:"type"`
	// ViewText is a view's query, as its CREATE VIEW gave it (Glue's
	// ViewOriginalText); "" for a table.
	ViewText string `json:"view_text,omitempty"`
	Format   string `json:"format"` // json, csv, parquet, avro
	// Classification is what the crawler classified the files as; it
	// defaults to Format.
	Classification string `json:"classification,omitempty"`
	// Compression of external files: none, zstd, gzip.
	Compression string `json:"compression,omitempty"`
	Description string `json:"description,omitempty"`
	// Location is a directory (external) or the Iceberg table location.
	Location      string            `json:"location"`
	Columns       []Column          `json:"columns"`
	PartitionKeys []Column          `json:"partition_keys,omitempty"`
	Properties    map[string]string `json:"properties,omitempty"`
	// Version counts schema changes: 1 when created, one more each time
	// the columns or partition keys change. Writers leave it alone.
	Version int `json:"version,omitempty"`
	// Deprecated marks a table whose files are gone or no longer match
	// (set by the crawler's change policy); it stays queryable by name.
	Deprecated bool      `json:"deprecated,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	// Updated is when the table last changed (Glue's UpdateTime).
	Updated time.Time `json:"updated"`
}

// Store is the catalog. Close it when done.
type Store struct {
	db    *sqlDB
	ice   *sqlcat.Catalog
	close sync.Once
	err   error // of Close
}

// Close releases the database; closing again does nothing.
func (s *Store) Close() error {
	s.close.Do(func() { s.err = errors.Join(s.ice.Close(), s.db.Close()) })
	return s.err
}

// Iceberg returns the Iceberg catalog for writers and scan planning.
func (s *Store) Iceberg() icecat.Catalog { return s.ice }

// PutTable creates or replaces an external table definition, creating its
// database if needed. A change of columns or partition keys makes a new
// version. t.Updated is kept if set.
func (s *Store) PutTable(ctx context.Context, t Table) error {
	t.Type = External
	if err := s.saveTable(ctx, t, savePut); err != nil {
		return fmt.Errorf("catalog: put %s.%s: %w", t.Database, t.Name, err)
	}
	return nil
}

// Table returns the named table, external or Iceberg; it is GetTable.
func (s *Store) Table(ctx context.Context, database, name string) (Table, error) {
	return s.GetTable(ctx, database, name)
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
// sorted by database and name: external tables in full, Iceberg tables
// with their identity fields only (GetTable reads their metadata).
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
		t, err := decodeDef[Table]("table", def)
		if err != nil {
			return nil, fmt.Errorf("catalog: list tables: %w", err)
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

package catalog

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// The schema. Tables, their versions and partitions are JSON documents
// (the Go types below, whose JSON names are stable) under indexed keys;
// everything is TEXT or INTEGER so that one DDL serves SQLite and
// PostgreSQL. Times are RFC 3339 in UTC with fixed-width nanoseconds
// (timeFormat), so they sort as text.
//
// streamlake_tables predates the rest and keeps its shape: catalogs written
// by older versions open unchanged and are completed by migrate.
var schemaDDL = []string{
	`CREATE TABLE IF NOT EXISTS streamlake_tables (
	database_name TEXT NOT NULL,
	table_name    TEXT NOT NULL,
	definition    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	PRIMARY KEY (database_name, table_name)
)`,
	`CREATE TABLE IF NOT EXISTS streamlake_databases (
	database_name TEXT NOT NULL PRIMARY KEY,
	definition    TEXT NOT NULL,
	created_at    TEXT NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS streamlake_table_versions (
	database_name TEXT NOT NULL,
	table_name    TEXT NOT NULL,
	version       INTEGER NOT NULL,
	definition    TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	PRIMARY KEY (database_name, table_name, version)
)`,
	`CREATE TABLE IF NOT EXISTS streamlake_partitions (
	database_name    TEXT NOT NULL,
	table_name       TEXT NOT NULL,
	partition_values TEXT NOT NULL,
	definition       TEXT NOT NULL,
	updated_at       TEXT NOT NULL,
	PRIMARY KEY (database_name, table_name, partition_values)
)`,
}

// timeFormat sorts as text in time order (fixed width, UTC).
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// migrate creates what is missing and completes catalogs written by older
// versions: every table gets version 1 if it has none, and every database
// that has tables gets a database entry. It is idempotent.
func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range slices.Concat(schemaDDL, namedQueriesDDL) {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if err := s.db.inTx(ctx, func(tx *sqlTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT t.database_name FROM streamlake_tables t
			WHERE NOT EXISTS (SELECT 1 FROM streamlake_databases d WHERE d.database_name = t.database_name)`)
		if err != nil {
			return err
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, n := range names {
			if _, err := insertDatabase(ctx, tx, Database{Name: n, CreatedAt: time.Now().UTC()}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("databases of existing tables: %w", err)
	}
	return s.db.inTx(ctx, func(tx *sqlTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.definition FROM streamlake_tables t
			WHERE NOT EXISTS (SELECT 1 FROM streamlake_table_versions v
				WHERE v.database_name = t.database_name AND v.table_name = t.table_name)`)
		if err != nil {
			return fmt.Errorf("tables without versions: %w", err)
		}
		var old []Table
		for rows.Next() {
			var def string
			if err := rows.Scan(&def); err != nil {
				rows.Close()
				return err
			}
			t, err := decodeDef[Table]("table", def)
			if err != nil {
				rows.Close()
				return err
			}
			old = append(old, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, t := range old {
			if t.Version == 0 {
				t.Version = 1
			}
			if t.CreatedAt.IsZero() {
				t.CreatedAt = t.Updated
			}
			if err := writeTable(ctx, tx, t); err != nil {
				return err
			}
			if err := writeVersion(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

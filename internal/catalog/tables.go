package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"
)

// saveMode is what saveTable may do.
type saveMode int

const (
	saveCreate saveMode = iota // only create; the database must exist
	saveUpdate                 // only update
	savePut                    // create (and the database) or update
)

// CreateTable creates an external table in an existing database (an
// Iceberg namespace counts). A table of that name, external or Iceberg, is
// an error wrapping ErrAlreadyExists; a missing database one wrapping
// ErrNoSuchDatabase. Iceberg tables are created through Iceberg().
func (s *Store) CreateTable(ctx context.Context, t Table) error {
	if err := s.saveTable(ctx, t, saveCreate); err != nil {
		return fmt.Errorf("catalog: create table %s.%s: %w", t.Database, t.Name, err)
	}
	return nil
}

// UpdateTable replaces the definition of an external table. When its
// columns (names or types) or partition keys change, the table gets a new
// version and the previous one is kept (TableVersions); otherwise the
// current version is updated in place. CreatedAt and Version of t are
// ignored. A missing table is an error wrapping ErrNoSuchTable.
func (s *Store) UpdateTable(ctx context.Context, t Table) error {
	if err := s.saveTable(ctx, t, saveUpdate); err != nil {
		return fmt.Errorf("catalog: update table %s.%s: %w", t.Database, t.Name, err)
	}
	return nil
}

func (s *Store) saveTable(ctx context.Context, t Table, mode saveMode) error {
	if err := validName("database", t.Database); err != nil {
		return err
	}
	if err := validName("table", t.Name); err != nil {
		return err
	}
	switch t.Type {
	case "", External:
		t.Type = External
		if t.ViewText != "" {
			return fmt.Errorf("view text on a table of type %s: only a %s has one", External, VirtualView)
		}
	case VirtualView:
		if strings.TrimSpace(t.ViewText) == "" {
			return fmt.Errorf("a %s needs its query (ViewText)", VirtualView)
		}
	default:
		return fmt.Errorf("table type %q: only %s tables and %s views are written here; Iceberg tables through Iceberg()", t.Type, External, VirtualView)
	}
	for _, c := range append(slices.Clone(t.Columns), t.PartitionKeys...) {
		if err := validName("column", c.Name); err != nil {
			return err
		}
	}
	if t.Classification == "" {
		t.Classification = t.Format
	}
	now := time.Now().UTC()
	if mode != savePut || t.Updated.IsZero() {
		t.Updated = now
	}
	var nsExists, iceExists bool
	if mode != saveUpdate {
		var err error
		if nsExists, err = s.namespaceExists(ctx, t.Database); err != nil {
			return err
		}
		if nsExists {
			if iceExists, err = s.ice.CheckTableExists(ctx, table.Identifier{t.Database, t.Name}); err != nil {
				return err
			}
		}
	}
	err := s.db.inTx(ctx, func(tx *sqlTx) error { return s.saveTableTx(ctx, tx, t, mode, nsExists, iceExists) })
	if errors.Is(err, errCreatedConcurrently) && mode == savePut {
		// Another writer created it since we looked: update it instead.
		err = s.db.inTx(ctx, func(tx *sqlTx) error { return s.saveTableTx(ctx, tx, t, mode, nsExists, iceExists) })
	}
	if errors.Is(err, errCreatedConcurrently) {
		return ErrAlreadyExists
	}
	return err
}

// errCreatedConcurrently is a create that lost a race with another.
var errCreatedConcurrently = errors.New("table created concurrently")

func (s *Store) saveTableTx(ctx context.Context, tx *sqlTx, t Table, mode saveMode, nsExists, iceExists bool) error {
	old, found, err := readTable(ctx, tx, t.Database, t.Name, s.db.forUpdate())
	if err != nil {
		return err
	}
	switch {
	case found && mode == saveCreate:
		return ErrAlreadyExists
	case !found && mode == saveUpdate:
		return ErrNoSuchTable
	case !found && iceExists:
		return fmt.Errorf("an Iceberg table of that name: %w", ErrAlreadyExists)
	case !found:
		if err := ensureDatabase(ctx, tx, t.Database, mode == savePut || nsExists); err != nil {
			return err
		}
		t.Version, t.CreatedAt = 1, t.Updated
		created, err := insertTable(ctx, tx, t)
		if err != nil {
			return err
		}
		if !created {
			return errCreatedConcurrently
		}
		return writeVersion(ctx, tx, t)
	}
	t.Version, t.CreatedAt = old.Version, old.CreatedAt
	if schemaChanged(old, t) {
		t.Version++
	}
	if err := writeTable(ctx, tx, t); err != nil {
		return err
	}
	return writeVersion(ctx, tx, t)
}

// schemaChanged says whether b has other columns or partition keys than a
// (names, types or order; comments do not count).
func schemaChanged(a, b Table) bool {
	same := func(x, y []Column) bool {
		return slices.EqualFunc(x, y, func(c, d Column) bool { return c.Name == d.Name && c.Type == d.Type })
	}
	return !same(a.Columns, b.Columns) || !same(a.PartitionKeys, b.PartitionKeys)
}

// readTable reads an external table's definition, with suffix (a lock
// clause) appended to the query.
func readTable(ctx context.Context, q querier, database, name, suffix string) (Table, bool, error) {
	var def string
	err := q.QueryRowContext(ctx, `SELECT definition FROM streamlake_tables WHERE database_name = ? AND table_name = ?`+suffix,
		database, name).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return Table{}, false, nil
	}
	if err != nil {
		return Table{}, false, err
	}
	t, err := decodeDef[Table]("table", def)
	return t, err == nil, err
}

// insertTable inserts t unless a table of its name exists, and says
// whether it did.
func insertTable(ctx context.Context, q querier, t Table) (bool, error) {
	def, err := json.Marshal(t)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO streamlake_tables (database_name, table_name, definition, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (database_name, table_name) DO NOTHING`,
		t.Database, t.Name, string(def), formatTime(t.Updated))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func writeTable(ctx context.Context, q querier, t Table) error {
	def, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO streamlake_tables (database_name, table_name, definition, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (database_name, table_name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
		t.Database, t.Name, string(def), formatTime(t.Updated))
	return err
}

// writeVersion records t as its version (the latest state of that version).
func writeVersion(ctx context.Context, q querier, t Table) error {
	def, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO streamlake_table_versions (database_name, table_name, version, definition, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (database_name, table_name, version) DO UPDATE SET definition = excluded.definition`,
		t.Database, t.Name, t.Version, string(def), formatTime(t.Updated))
	return err
}

// decodeDef decodes a stored JSON definition of a database, table or
// partition (kind, for the error).
func decodeDef[T any](kind, def string) (T, error) {
	var v T
	if err := json.Unmarshal([]byte(def), &v); err != nil {
		var zero T
		return zero, fmt.Errorf("corrupt %s definition: %w", kind, err)
	}
	return v, nil
}

// GetTable returns the named table. For an Iceberg table the columns,
// partition keys, version and statistics come from its current metadata.
// A missing table is an error wrapping ErrNoSuchTable.
func (s *Store) GetTable(ctx context.Context, database, name string) (Table, error) {
	t, found, err := readTable(ctx, s.db, database, name, "")
	if err != nil {
		return Table{}, fmt.Errorf("catalog: table %s.%s: %w", database, name, err)
	}
	if found {
		return t, nil
	}
	tbl, err := s.LoadIceberg(ctx, database, name)
	if err != nil {
		return Table{}, err
	}
	return icebergTable(database, name, tbl), nil
}

// TableVersions returns every version of a table, oldest first. An
// Iceberg table has one per schema in its metadata.
func (s *Store) TableVersions(ctx context.Context, database, name string) ([]Table, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT definition FROM streamlake_table_versions
		WHERE database_name = ? AND table_name = ? ORDER BY version`, database, name)
	if err != nil {
		return nil, fmt.Errorf("catalog: versions of %s.%s: %w", database, name, err)
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, fmt.Errorf("catalog: versions of %s.%s: %w", database, name, err)
		}
		t, err := decodeDef[Table]("table", def)
		if err != nil {
			return nil, fmt.Errorf("catalog: versions of %s.%s: %w", database, name, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: versions of %s.%s: %w", database, name, err)
	}
	if len(out) > 0 {
		return out, nil
	}
	tbl, err := s.LoadIceberg(ctx, database, name)
	if err != nil {
		return nil, err
	}
	return icebergVersions(database, name, tbl), nil
}

// DeleteTable deletes a table: an external table with its versions and
// partitions, or an Iceberg table's catalog entry (not its data files). A
// missing table is an error wrapping ErrNoSuchTable.
func (s *Store) DeleteTable(ctx context.Context, database, name string) error {
	var found bool
	err := s.db.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM streamlake_tables WHERE database_name = ? AND table_name = ?`, database, name)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		found = n > 0
		for _, t := range []string{"streamlake_partitions", "streamlake_table_versions"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE database_name = ? AND table_name = ?`, database, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: delete table %s.%s: %w", database, name, err)
	}
	if found {
		return nil
	}
	if _, err := s.LoadIceberg(ctx, database, name); err != nil {
		return fmt.Errorf("catalog: delete table %s.%s: %w", database, name, ErrNoSuchTable)
	}
	if err := s.ice.DropTable(ctx, table.Identifier{database, name}); err != nil {
		return fmt.Errorf("catalog: delete table %s.%s: %w", database, name, err)
	}
	return nil
}

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

	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Database is a namespace of tables. Iceberg namespaces that the ETL
// created through Iceberg() are databases too (with only a Name and
// Properties until CreateDatabase or a table makes an entry for them).
type Database struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Location    string            `json:"location,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	CreatedAt   time.Time         `json:"created_at,omitzero"`
}

// CreateDatabase creates a database; an existing one (also as an Iceberg
// namespace) is an error wrapping ErrAlreadyExists.
func (s *Store) CreateDatabase(ctx context.Context, d Database) error {
	if err := validName("database", d.Name); err != nil {
		return fmt.Errorf("catalog: create database: %w", err)
	}
	if ok, err := s.ice.CheckNamespaceExists(ctx, table.Identifier{d.Name}); err != nil {
		return fmt.Errorf("catalog: create database %s: %w", d.Name, err)
	} else if ok {
		return fmt.Errorf("catalog: create database %s: %w", d.Name, ErrAlreadyExists)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	created, err := insertDatabase(ctx, s.db, d)
	if err != nil {
		return fmt.Errorf("catalog: create database %s: %w", d.Name, err)
	}
	if !created {
		return fmt.Errorf("catalog: create database %s: %w", d.Name, ErrAlreadyExists)
	}
	return nil
}

// insertDatabase inserts d unless a database of its name exists, and says
// whether it did.
func insertDatabase(ctx context.Context, q querier, d Database) (bool, error) {
	def, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO streamlake_databases (database_name, definition, created_at)
		VALUES (?, ?, ?) ON CONFLICT (database_name) DO NOTHING`, d.Name, string(def), formatTime(d.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetDatabase returns a database; a missing one is an error wrapping
// ErrNoSuchDatabase.
func (s *Store) GetDatabase(ctx context.Context, name string) (Database, error) {
	var def string
	err := s.db.QueryRowContext(ctx, `SELECT definition FROM streamlake_databases WHERE database_name = ?`, name).Scan(&def)
	switch {
	case err == nil:
		d, err := decodeDef[Database]("database", def)
		if err != nil {
			return Database{}, fmt.Errorf("catalog: database %s: %w", name, err)
		}
		return d, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Database{}, fmt.Errorf("catalog: database %s: %w", name, err)
	}
	props, err := s.ice.LoadNamespaceProperties(ctx, table.Identifier{name})
	if errors.Is(err, icecat.ErrNoSuchNamespace) {
		return Database{}, fmt.Errorf("catalog: database %s: %w", name, ErrNoSuchDatabase)
	}
	if err != nil {
		return Database{}, fmt.Errorf("catalog: database %s: %w", name, err)
	}
	return Database{Name: name, Properties: namespaceProps(props)}, nil
}

// namespaceProps drops the "exists" marker iceberg-go keeps for a
// namespace without properties.
func namespaceProps(p map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range p {
		if k != "exists" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Databases lists every database, sorted by name.
func (s *Store) Databases(ctx context.Context) ([]Database, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT definition FROM streamlake_databases`)
	if err != nil {
		return nil, fmt.Errorf("catalog: list databases: %w", err)
	}
	defer rows.Close()
	var out []Database
	seen := map[string]bool{}
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, fmt.Errorf("catalog: list databases: %w", err)
		}
		d, err := decodeDef[Database]("database", def)
		if err != nil {
			return nil, fmt.Errorf("catalog: list databases: %w", err)
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list databases: %w", err)
	}
	nss, err := s.ice.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: list databases: %w", err)
	}
	for _, ns := range nss {
		name := strings.Join(ns, ".")
		if !seen[name] {
			seen[name] = true
			out = append(out, Database{Name: name})
		}
	}
	slices.SortFunc(out, func(a, b Database) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteDatabase deletes a database with all its tables, their versions
// and partitions, and its Iceberg tables' catalog entries (not their data
// files). A missing database is an error wrapping ErrNoSuchDatabase.
func (s *Store) DeleteDatabase(ctx context.Context, name string) error {
	ns := table.Identifier{name}
	nsExists, err := s.ice.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return fmt.Errorf("catalog: delete database %s: %w", name, err)
	}
	var found bool
	err = s.db.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM streamlake_databases WHERE database_name = ?`, name)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		found = n > 0
		for _, t := range []string{"streamlake_partitions", "streamlake_table_versions", "streamlake_tables"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE database_name = ?`, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: delete database %s: %w", name, err)
	}
	if nsExists {
		for id, err := range s.ice.ListTables(ctx, ns) {
			if err != nil {
				return fmt.Errorf("catalog: delete database %s: %w", name, err)
			}
			if err := s.ice.DropTable(ctx, id); err != nil && !errors.Is(err, icecat.ErrNoSuchTable) {
				return fmt.Errorf("catalog: delete database %s: drop %v: %w", name, id, err)
			}
		}
		if err := s.ice.DropNamespace(ctx, ns); err != nil && !errors.Is(err, icecat.ErrNoSuchNamespace) {
			return fmt.Errorf("catalog: delete database %s: %w", name, err)
		}
	}
	if !found && !nsExists {
		return fmt.Errorf("catalog: delete database %s: %w", name, ErrNoSuchDatabase)
	}
	return nil
}

// namespaceExists says whether Iceberg has namespace name.
func (s *Store) namespaceExists(ctx context.Context, name string) (bool, error) {
	return s.ice.CheckNamespaceExists(ctx, table.Identifier{name})
}

// ensureDatabase makes sure the registry has database name, creating the
// entry if create is set (PutTable) or the Iceberg namespace exists.
func ensureDatabase(ctx context.Context, tx *sqlTx, name string, create bool) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM streamlake_databases WHERE database_name = ?`, name).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if !create {
		return fmt.Errorf("database %s: %w", name, ErrNoSuchDatabase)
	}
	_, err = insertDatabase(ctx, tx, Database{Name: name, CreatedAt: time.Now().UTC()})
	return err
}

func validName(what, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("empty %s name", what)
	}
	return nil
}

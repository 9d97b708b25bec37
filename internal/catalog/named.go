package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNoSuchNamedQuery is wrapped by lookups and deletes of a named query
// that the catalog does not have.
var ErrNoSuchNamedQuery = errors.New("no such named query")

// NamedQuery is saved SQL (Athena's NamedQuery). ID is unique in the
// catalog, Name within its Workgroup.
type NamedQuery struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Workgroup string `json:"workgroup"`
	// Database is the database the SQL is about; informational.
	Database    string    `json:"database,omitempty"`
	Description string    `json:"description,omitempty"`
	SQL         string    `json:"sql"`
	Created     time.Time `json:"created"`
}

// namedQueriesDDL is the table of named queries: the identity fields
// indexed, the whole query as a JSON definition (in schemaDDL's style).
var namedQueriesDDL = []string{
	`CREATE TABLE IF NOT EXISTS streamlake_named_queries (
	id          TEXT NOT NULL PRIMARY KEY,
	workgroup   TEXT NOT NULL,
	name        TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	definition  TEXT NOT NULL,
	UNIQUE (workgroup, name)
)`,
}

// CreateNamedQuery saves q. ID, Name, Workgroup and SQL must be set; a
// query of the same ID, or of the same Name in the Workgroup, is an error
// wrapping ErrAlreadyExists. A zero Created is now.
func (s *Store) CreateNamedQuery(ctx context.Context, q NamedQuery) error {
	for _, f := range []struct{ what, v string }{{"id", q.ID}, {"name", q.Name}, {"workgroup", q.Workgroup}, {"sql", q.SQL}} {
		if f.v == "" {
			return fmt.Errorf("catalog: create named query %q: %s is empty", q.Name, f.what)
		}
	}
	if q.Created.IsZero() {
		q.Created = time.Now()
	}
	q.Created = q.Created.UTC()
	def, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("catalog: create named query %s: %w", q.Name, err)
	}
	// Either unique key may conflict: DO NOTHING covers both.
	res, err := s.db.ExecContext(ctx, `INSERT INTO streamlake_named_queries (id, workgroup, name, created_at, definition)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, q.ID, q.Workgroup, q.Name, formatTime(q.Created), string(def))
	if err != nil {
		return fmt.Errorf("catalog: create named query %s: %w", q.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("catalog: create named query %s: %w", q.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("catalog: create named query %s in workgroup %s: %w (names are unique within a workgroup)",
			q.Name, q.Workgroup, ErrAlreadyExists)
	}
	return nil
}

// NamedQuery returns the named query of an id; a missing one is an error
// wrapping ErrNoSuchNamedQuery.
func (s *Store) NamedQuery(ctx context.Context, id string) (NamedQuery, error) {
	q, err := s.oneNamedQuery(ctx, `SELECT definition FROM streamlake_named_queries WHERE id = ?`, id)
	if err != nil {
		return NamedQuery{}, fmt.Errorf("catalog: named query %s: %w", id, err)
	}
	return q, nil
}

// NamedQueryByName returns the named query of a name in a workgroup; a
// missing one is an error wrapping ErrNoSuchNamedQuery.
func (s *Store) NamedQueryByName(ctx context.Context, workgroup, name string) (NamedQuery, error) {
	q, err := s.oneNamedQuery(ctx, `SELECT definition FROM streamlake_named_queries WHERE workgroup = ? AND name = ?`, workgroup, name)
	if err != nil {
		return NamedQuery{}, fmt.Errorf("catalog: named query %s in workgroup %s: %w", name, workgroup, err)
	}
	return q, nil
}

func (s *Store) oneNamedQuery(ctx context.Context, q string, args ...any) (NamedQuery, error) {
	var def string
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return NamedQuery{}, ErrNoSuchNamedQuery
	}
	if err != nil {
		return NamedQuery{}, err
	}
	return decodeDef[NamedQuery]("named query", def)
}

// NamedQueries lists the named queries of a workgroup ("" for every
// workgroup), sorted by workgroup and name.
func (s *Store) NamedQueries(ctx context.Context, workgroup string) ([]NamedQuery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT definition FROM streamlake_named_queries
		WHERE ? = '' OR workgroup = ? ORDER BY workgroup, name`, workgroup, workgroup)
	if err != nil {
		return nil, fmt.Errorf("catalog: list named queries: %w", err)
	}
	defer rows.Close()
	out := []NamedQuery{}
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, fmt.Errorf("catalog: list named queries: %w", err)
		}
		q, err := decodeDef[NamedQuery]("named query", def)
		if err != nil {
			return nil, fmt.Errorf("catalog: list named queries: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list named queries: %w", err)
	}
	return out, nil
}

// DeleteNamedQuery deletes the named query of an id; a missing one is an
// error wrapping ErrNoSuchNamedQuery.
func (s *Store) DeleteNamedQuery(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM streamlake_named_queries WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("catalog: delete named query %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("catalog: delete named query %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("catalog: delete named query %s: %w", id, ErrNoSuchNamedQuery)
	}
	return nil
}

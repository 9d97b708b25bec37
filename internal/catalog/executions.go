package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNoSuchExecution is wrapped by lookups of a query execution that the
// history does not have.
var ErrNoSuchExecution = errors.New("no such query execution")

// Execution is one query execution in the history. The catalog indexes the
// identity fields and keeps Document, the query layer's full record, as is.
type Execution struct {
	ID        string
	Workgroup string
	State     string
	Submitted time.Time
	// Document is the execution as JSON.
	Document json.RawMessage
}

// ExecutionFilter selects executions; zero fields select everything.
type ExecutionFilter struct {
	Workgroup string
	State     string
	// Before selects executions submitted strictly before it (paging).
	Before time.Time
	// Limit caps the number returned; 0 is no limit.
	Limit int
}

// executionsDDL is plain TEXT columns and one statement per entry, so that
// it serves SQLite and PostgreSQL alike.
var executionsDDL = []string{
	`CREATE TABLE IF NOT EXISTS streamlake_query_executions (
	id         TEXT PRIMARY KEY,
	workgroup  TEXT NOT NULL,
	state      TEXT NOT NULL,
	submitted  TEXT NOT NULL,
	document   TEXT NOT NULL
)`,
	`CREATE INDEX IF NOT EXISTS streamlake_query_executions_submitted ON streamlake_query_executions (submitted)`,
	`CREATE INDEX IF NOT EXISTS streamlake_query_executions_workgroup ON streamlake_query_executions (workgroup, submitted)`,
}

// migrateExecutions creates the history table if it does not exist. It is
// idempotent and cheap, so every method calls it rather than Open.
func (s *Store) migrateExecutions(ctx context.Context) error {
	for _, stmt := range executionsDDL {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create executions table: %w", err)
		}
	}
	return nil
}

// submittedFormat sorts as text in time order (fixed width, UTC).
const submittedFormat = "2006-01-02T15:04:05.000000000Z"

// PutExecution creates or replaces an execution in the history.
func (s *Store) PutExecution(ctx context.Context, e Execution) error {
	if err := s.migrateExecutions(ctx); err != nil {
		return fmt.Errorf("catalog: put execution %s: %w", e.ID, err)
	}
	if !json.Valid(e.Document) {
		return fmt.Errorf("catalog: put execution %s: document is not JSON", e.ID)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO streamlake_query_executions (id, workgroup, state, submitted, document)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET workgroup = excluded.workgroup, state = excluded.state,
			submitted = excluded.submitted, document = excluded.document`,
		e.ID, e.Workgroup, e.State, e.Submitted.UTC().Format(submittedFormat), string(e.Document))
	if err != nil {
		return fmt.Errorf("catalog: put execution %s: %w", e.ID, err)
	}
	return nil
}

// Execution returns one execution; a missing one is an error wrapping
// ErrNoSuchExecution.
func (s *Store) Execution(ctx context.Context, id string) (Execution, error) {
	if err := s.migrateExecutions(ctx); err != nil {
		return Execution{}, fmt.Errorf("catalog: execution %s: %w", id, err)
	}
	row := s.db.QueryRowContext(ctx, `SELECT id, workgroup, state, submitted, document
		FROM streamlake_query_executions WHERE id = ?`, id)
	e, err := scanExecution(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Execution{}, fmt.Errorf("catalog: execution %s: %w", id, ErrNoSuchExecution)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("catalog: execution %s: %w", id, err)
	}
	return e, nil
}

// Executions lists the executions f selects, newest first.
func (s *Store) Executions(ctx context.Context, f ExecutionFilter) ([]Execution, error) {
	if err := s.migrateExecutions(ctx); err != nil {
		return nil, fmt.Errorf("catalog: list executions: %w", err)
	}
	q := `SELECT id, workgroup, state, submitted, document FROM streamlake_query_executions WHERE 1 = 1`
	var args []any
	if f.Workgroup != "" {
		q += ` AND workgroup = ?`
		args = append(args, f.Workgroup)
	}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, f.State)
	}
	if !f.Before.IsZero() {
		q += ` AND submitted < ?`
		args = append(args, f.Before.UTC().Format(submittedFormat))
	}
	q += ` ORDER BY submitted DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: list executions: %w", err)
	}
	defer rows.Close()
	out := []Execution{}
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, fmt.Errorf("catalog: list executions: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list executions: %w", err)
	}
	return out, nil
}

func scanExecution(row interface{ Scan(...any) error }) (Execution, error) {
	var (
		e              Execution
		submitted, doc string
	)
	if err := row.Scan(&e.ID, &e.Workgroup, &e.State, &submitted, &doc); err != nil {
		return Execution{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, submitted)
	if err != nil {
		return Execution{}, fmt.Errorf("execution %s: corrupt submitted time %q", e.ID, submitted)
	}
	e.Submitted = t
	e.Document = json.RawMessage(doc)
	return e, nil
}

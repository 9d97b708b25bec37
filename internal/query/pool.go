package query

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// DefaultIdleInstances is how many prepared DuckDB instances an engine
// keeps for reuse when Options.IdleInstances is 0.
const DefaultIdleInstances = 4

// idleTimeout closes an instance that no query reused for that long.
const idleTimeout = time.Minute

// instance is one in-memory DuckDB with the connection queries run on,
// configured (threads, memory limit, time zone) and holding the views of
// one set of tables. Unless the engine allows file access it is restricted
// to the directories of those views, with its configuration locked: both
// are fixed for its lifetime, so an instance is only reused for the same
// tables (key) reading the same directories (dirs).
//
// An instance serves one query at a time. A reused query runs inside a
// transaction that is rolled back when it ends, so whatever its SQL
// creates, replaces or drops is gone for the next one (see readOnly).
type instance struct {
	db     *sql.DB
	conn   *sql.Conn
	key    string
	locked bool     // restricted to dirs, configuration locked
	dirs   []string // sorted
	// inTx: a transaction is open, begun for the last query (see
	// session.close).
	inTx bool
	// schemas and views are what the instance holds: schema names, and
	// quoted view name -> body.
	schemas map[string]bool
	views   map[string]string
	// macros marks the macros of athena the instance has created.
	macros []bool
	// stmts are prepared statements of the queries it ran outside a
	// transaction (see statement), most recently used last. They were
	// bound to its views, so apply closes them when a view changes.
	stmts []keptStmt
	timer *time.Timer // closes it while idle
}

// keptStmt is a prepared statement an instance keeps, with its query.
type keptStmt struct {
	query string
	stmt  *sql.Stmt
}

// maxStmts is how many prepared statements an instance keeps.
const maxStmts = 16

// instanceKey says which instances can serve a query: those for the same
// tables, of the same kind (see immutable), and memory limit.
func instanceKey(r refs, memoryLimit string) string {
	names := make([]string, len(r.tables))
	for i, t := range r.tables {
		names[i] = strings.ToLower(schema.QuoteIdent(t.Database) + "." + schema.QuoteIdent(t.Name))
	}
	for _, tr := range r.travels {
		names = append(names, strings.ToLower(schema.QuoteIdent(tr.table.Database)+"."+schema.QuoteIdent(tr.view)))
	}
	for _, m := range r.metas {
		names = append(names, strings.ToLower(schema.QuoteIdent(m.table.Database)+"."+schema.QuoteIdent(m.view)))
	}
	for _, v := range r.views {
		names = append(names, strings.ToLower(schema.QuoteIdent(v.table.Database)+"."+schema.QuoteIdent(v.table.Name)))
	}
	slices.Sort(names)
	return fmt.Sprint(immutable(r)) + "\x00" + memoryLimit + "\x00" + strings.Join(names, "\x00")
}

// newInstance opens and configures a DuckDB for the tables of r.
func (e *Engine) newInstance(ctx context.Context, key string, r refs, memoryLimit string) (*instance, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("query: open duckdb: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("query: open duckdb: %w", duckError(err))
	}
	in := &instance{db: db, conn: conn, key: key, schemas: map[string]bool{}, views: map[string]string{}, macros: make([]bool, len(athena))}
	if err := e.configure(ctx, conn, memoryLimit, immutable(r)); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

// immutable reports whether every file r's tables read is immutable:
// Iceberg's data files are never rewritten in place (a rewrite is a new
// file in a new snapshot); an external table's files are whatever sits
// in its folders, and a crawled folder's file can be overwritten.
func immutable(r refs) bool {
	for _, t := range r.tables {
		if t.Type != catalog.Iceberg {
			return false
		}
	}
	return true // time travel and metadata tables are Iceberg's
}

func (in *instance) close() {
	in.dropStatements()
	in.conn.Close()
	in.db.Close()
}

// statement returns a prepared statement of query on in's connection: the
// one kept from an earlier query with the same text, or a new one that is
// kept for the next.
//
// DuckDB binds a statement when it is prepared, and binds a statement
// that scans files again when it runs, since the files may have changed
// (a query through database/sql is both). Running a kept statement binds
// it once: the second bind, which expands and checks every data file's
// path against the allowed directories, is a few milliseconds over tens
// of files.
func (in *instance) statement(ctx context.Context, query string) (*sql.Stmt, error) {
	for i, k := range in.stmts {
		if k.query == query {
			in.stmts = append(slices.Delete(in.stmts, i, i+1), k)
			return k.stmt, nil
		}
	}
	stmt, err := in.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(in.stmts) >= maxStmts {
		in.stmts[0].stmt.Close()
		in.stmts = slices.Delete(in.stmts, 0, 1)
	}
	in.stmts = append(in.stmts, keptStmt{query: query, stmt: stmt})
	return stmt, nil
}

// forget closes and drops the kept statement of query, if any.
func (in *instance) forget(query string) {
	for i, k := range in.stmts {
		if k.query == query {
			k.stmt.Close()
			in.stmts = slices.Delete(in.stmts, i, i+1)
			return
		}
	}
}

// dropStatements closes the kept statements.
func (in *instance) dropStatements() {
	for _, k := range in.stmts {
		k.stmt.Close()
	}
	in.stmts = nil
}

// changes reports whether apply(dbs, vs) would change in.
func (in *instance) changes(dbs []string, vs []view) bool {
	for _, db := range dbs {
		if !in.schemas[db] {
			return true
		}
	}
	for _, v := range vs {
		if in.views[v.quotedName()] != v.body {
			return true
		}
	}
	return false
}

// quotedName is the view's qualified, quoted name.
func (v view) quotedName() string {
	return schema.QuoteIdent(v.table.Database) + "." + schema.QuoteIdent(cmp.Or(v.name, v.table.Name))
}

// apply creates the schemas of dbs and the views vs that in does not hold
// yet, and replaces those whose body changed (a new snapshot). A change
// closes the kept statements, which were bound to the views as they were.
func (in *instance) apply(ctx context.Context, dbs []string, vs []view) error {
	if in.changes(dbs, vs) {
		in.dropStatements()
	}
	for _, db := range dbs {
		if in.schemas[db] {
			continue
		}
		if _, err := in.conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema.QuoteIdent(db)); err != nil {
			return fmt.Errorf("query: create schema %s: %w", db, duckError(err))
		}
		in.schemas[db] = true
	}
	for _, v := range vs {
		name := v.quotedName()
		if in.views[name] == v.body {
			continue
		}
		delete(in.views, name)
		if _, err := in.conn.ExecContext(ctx, "CREATE OR REPLACE VIEW "+name+" AS "+v.body); err != nil {
			return fmt.Errorf("query: table %s.%s: create view: %w", v.table.Database, v.table.Name, duckError(err))
		}
		in.views[name] = v.body
	}
	return nil
}

// pool holds idle instances, most recently used last. It is safe for
// concurrent use.
type pool struct {
	max int

	mu     sync.Mutex
	idle   []*instance
	closed bool
}

// get takes an idle instance with key out of the pool; nil if none.
func (p *pool) get(key string) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		in := p.idle[i]
		if in.key == key {
			p.idle = slices.Delete(p.idle, i, i+1)
			in.timer.Stop()
			return in
		}
	}
	return nil
}

// put returns an instance to the pool, closing the least recently used
// one past max, and in itself after idleTimeout unless reused.
func (p *pool) put(in *instance) {
	p.mu.Lock()
	if p.closed || p.max <= 0 {
		p.mu.Unlock()
		in.close()
		return
	}
	var evict *instance
	if len(p.idle) >= p.max {
		evict = p.idle[0]
		evict.timer.Stop()
		p.idle = slices.Delete(p.idle, 0, 1)
	}
	p.idle = append(p.idle, in)
	in.timer = time.AfterFunc(idleTimeout, func() { p.expire(in) })
	p.mu.Unlock()
	if evict != nil {
		evict.close()
	}
}

// expire closes in if it is still idle.
func (p *pool) expire(in *instance) {
	p.mu.Lock()
	i := slices.Index(p.idle, in)
	if i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	p.mu.Unlock()
	if i >= 0 {
		in.close()
	}
}

// close closes the idle instances; instances put later are closed.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, in := range idle {
		in.timer.Stop()
		in.close()
	}
}

// pooledStatements are the first keywords of the statements that a reused
// instance runs; whatever they change in the database is undone by the
// rollback. Other statements (CREATE, SET, USE, PREPARE, BEGIN, COMMIT,
// ...) could change what outlives a transaction, so a query with one runs
// on an instance of its own, closed after it.
var pooledStatements = map[string]bool{
	"select": true, "with": true, "from": true, "values": true, "table": true,
	"describe": true, "show": true, "summarize": true, "explain": true,
	"pivot": true, "unpivot": true,
}

// oneQuery reports whether query is one statement that cannot change the
// database, so that a reused instance can run it outside a transaction
// and keep its prepared statement (see instance.statement): a SELECT,
// FROM, VALUES or TABLE statement, a parenthesized one, or a WITH
// statement without INSERT, UPDATE, DELETE or MERGE (DuckDB takes WITH
// before those too).
func oneQuery(query string) bool {
	toks := tokens(query)
	starts := statementStarts(toks)
	if len(starts) != 1 {
		return false
	}
	switch first := toks[starts[0]]; statementWord(first) {
	case "select", "from", "values", "table":
		return true
	case "with":
	default:
		if !isPunct(first, "(") {
			return false
		}
	}
	return !slices.ContainsFunc(toks, func(t token) bool {
		switch statementWord(t) {
		case "insert", "update", "delete", "merge":
			return true
		}
		return false
	})
}

// readsNoData reports whether every statement of query describes rather
// than runs: DESCRIBE (or DuckDB's SHOW of a table or query), and EXPLAIN
// without ANALYZE.
func readsNoData(query string) bool {
	toks := tokens(query)
	starts := statementStarts(toks)
	for _, i := range starts {
		switch statementWord(toks[i]) {
		case "describe", "show":
		case "explain":
			if i+1 < len(toks) && statementWord(toks[i+1]) == "analyze" {
				return false
			}
		default:
			return false
		}
	}
	return len(starts) > 0
}

// readOnly reports whether every statement of query starts with one of
// pooledStatements or a parenthesis.
func readOnly(query string) bool {
	toks := tokens(query)
	for _, i := range statementStarts(toks) {
		if !isPunct(toks[i], "(") && !pooledStatements[statementWord(toks[i])] {
			return false
		}
	}
	return true
}

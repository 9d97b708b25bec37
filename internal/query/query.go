// Package query is streamlake's SQL engine (the Athena stage): it runs SQL on
// an embedded DuckDB in which the catalog's tables appear as views.
//
// Contract:
//   - A qualified name db.table in the SQL, where db is a database of the
//     catalog, resolves through the catalog. An Iceberg table reads exactly
//     the Parquet data files of its current snapshot (scan planning with
//     iceberg-go), projected to the current schema: columns added after a
//     file was written read as NULL from it. An external table reads the
//     files under its location (json, optionally zstd or gzip compressed, or
//     parquet) with the catalog's column types and its partition keys taken
//     from Hive-style paths (dt=2026-01-02/hr=03/...). A table without data
//     files is an empty, typed view.
//   - External tables with partition keys k1..kn read the files in
//     location/k1=*/.../kn=*/ (Hive layout); without keys, every file under
//     the location with the format's extension (.zst for zstd JSON).
//   - In external JSON tables a value that does not fit its catalog type is
//     cast where DuckDB can (1.5 into BIGINT reads as 2) and otherwise reads
//     as NULL, and a malformed line reads as a row of NULLs (DuckDB
//     ignore_errors): rows are never dropped, but the crawler's sampled
//     schema can be narrower than the data.
//   - db.t FOR VERSION AS OF id, or FOR TIMESTAMP AS OF 'ts' (also
//     FOR SYSTEM_VERSION / SYSTEM_TIME), reads an Iceberg table's data
//     files of that snapshot with that snapshot's schema, as a view of its
//     own (see timetravel.go); a missing snapshot is an error wrapping
//     ErrNoSuchSnapshot, time travel on an external table one wrapping
//     ErrUnsupported.
//   - CREATE TABLE db.t [WITH (...)] AS SELECT and INSERT INTO db.t, where
//     db is a catalog database, write Iceberg tables of the catalog (see
//     write.go): DuckDB runs the query part like any query, and its rows
//     are appended in one iceberg-go commit. Other DuckDB writes stay in
//     the query's in-memory database.
//   - A name known_db.x right after FROM, JOIN (or TABLE, DESCRIBE, ...)
//     where the catalog has no table x fails before DuckDB runs, with a
//     *NotFoundError wrapping catalog.ErrNoSuchTable. Elsewhere db.x may be
//     a column path and is left to DuckDB. Every error is one line;
//     DuckDB's own message ("Catalog Error: ...") is kept without its
//     LINE/caret excerpt.
//   - Unless Options.AllowFileAccess is set, SQL can read only the files of
//     the tables it references (the directories their views read, or read
//     when a reused DuckDB was prepared for the same tables): file system
//     access outside them, ATTACH, COPY TO and extension loading are
//     disabled, and settings are locked (SET fails). Statements starting with ATTACH, DETACH,
//     INSTALL, LOAD, COPY, EXPORT or IMPORT fail before DuckDB runs, with an
//     error wrapping ErrNotAllowed.
//
// Data files in object storage (s3://) are read through Options.Cache, a
// bounded local cache of immutable files (see package filecache): a
// query fetches the files it reads that the cache does not hold, and
// they stay until the query ends. Files DuckDB cannot read (Avro object
// container files, bzip2 or snappy compressed text) are converted into
// the cache (Parquet, zstd). DuckDB may read the cache's directories of
// the referenced tables. Iceberg data files are matched to the schema by
// column name, or, in a table that has had a column renamed, by Iceberg
// field id (see renamed), so renamed columns read their values from older
// files too. Iceberg row-level deletes are not supported and fail the
// query rather than returning deleted rows.
//
// Each query runs alone on an in-memory DuckDB instance, so an Engine is
// safe for concurrent use and queries do not see each other's views. An
// instance is kept after a query (Options.IdleInstances) and reused by a
// later query on the same tables with the same memory limit when that query
// only reads (SELECT, WITH, FROM, DESCRIBE, ...): the reused instance keeps
// its restriction to the tables' directories and its locked settings, has
// its views replaced when a table has a new snapshot, and runs the query in
// a transaction that is rolled back (at the start of the next query on the
// instance, in the same DuckDB call; at once if the query failed), so
// nothing the query changes reaches the next one. Table names resolve
// against the engine's last listing of the catalog's tables while it holds
// for the query, with one indexed catalog read per Iceberg table instead of
// a listing (see names.go). Iceberg scan plans are cached per snapshot and
// row filter: a snapshot's files never change. A query with a simple range
// on an Iceberg table's partition source column (WHERE ts >= TIMESTAMPTZ
// '...' AND ts < ...; see rowFilter) plans only the files that can hold
// matching rows. A query that only counts an Iceberg table's rows, SELECT
// count(*) FROM db.t with at most a WHERE clause of partition-column
// comparisons that select whole partitions, is answered from the manifests'
// record counts without reading a data file (see countstar.go).
//
// A Service (exec.go) runs queries on an Engine as Athena-style executions:
// ids, states, statistics, workgroups with limits, saved results and a
// history.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/iceberg-go/table"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query/filecache"
	"github.com/streamlake/streamlake/internal/schema"
)

// Catalog is what the engine needs from the catalog; *catalog.Store
// implements it.
type Catalog interface {
	// Tables lists the tables of database ("" for all databases).
	Tables(ctx context.Context, database string) ([]catalog.Table, error)
	// Table returns one table; errors wrap catalog.ErrNoSuchTable.
	Table(ctx context.Context, database, name string) (catalog.Table, error)
	// LoadIceberg loads an Iceberg table's current metadata.
	LoadIceberg(ctx context.Context, database, name string) (*table.Table, error)
}

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Databases are known even while they hold no table (e.g. lake and
	// raw before the first commit), so that db.missing is "not found".
	Databases []string
	// Logger receives debug logs of planning and execution. Nil discards.
	Logger *slog.Logger
	// Threads caps DuckDB's worker threads per query; 0 is DuckDB's default
	// (one per core).
	Threads int
	// MemoryLimit caps DuckDB's memory per query, in DuckDB syntax
	// ("2GB"); "" is DuckDB's default (80% of RAM).
	MemoryLimit string
	// Maintainer runs OPTIMIZE and VACUUM; nil refuses them.
	Maintainer Maintainer
	// AllowFileAccess lets SQL read any local file (read_csv('/path'),
	// ATTACH, COPY TO). Off, only the referenced tables' files are readable.
	AllowFileAccess bool
	// IdleInstances is how many prepared DuckDB instances are kept for
	// reuse by later queries on the same tables; 0 is
	// DefaultIdleInstances, negative keeps none. Only engines without
	// AllowFileAccess reuse instances.
	IdleInstances int
	// Cache holds local copies of data files in object storage (s3://)
	// and conversions of files DuckDB cannot read (Avro, bzip2 and snappy
	// text); nil reads local files of readable formats only. Buckets
	// opens the object storage the copies are fetched from.
	Cache   *filecache.Cache
	Buckets Buckets
}

// Engine runs SQL against the catalog's tables.
type Engine struct {
	cat   Catalog
	opts  Options
	log   *slog.Logger
	plans plans
	count counts
	meta  tables
	cols  selectLists                  // see athenaNames
	names atomic.Pointer[tableListing] // the last listing (see names.go)
	pool  pool

	beforeCommit func() // tests: runs before a write commits
}

// New returns an engine over cat.
func New(cat Catalog, opts Options) *Engine {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{cat: cat, opts: opts, log: log}
	e.pool.max = opts.IdleInstances
	if e.pool.max == 0 {
		e.pool.max = DefaultIdleInstances
	}
	return e
}

// Close closes the DuckDB instances the engine keeps for reuse. Queries
// still running finish; their instances are closed after them.
func (e *Engine) Close() {
	e.pool.close()
}

// Result is a query's complete result.
type Result struct {
	// Columns are the result's column names, in order.
	Columns []string
	// Types are the DuckDB types of the columns (BIGINT, TIMESTAMPTZ,
	// STRUCT("a" VARCHAR), VARCHAR[], ...).
	Types []string
	// Rows hold values as the duckdb-go driver returns them: nil, bool,
	// signed and unsigned integers, float32/64, *big.Int, string, []byte,
	// time.Time (UTC), duckdb.Decimal, duckdb.Interval, []any (lists),
	// map[string]any (structs), duckdb.OrderedMap (maps), duckdb.Union.
	// Write renders them; struct field order comes from Types.
	Rows [][]any
}

// Query runs one SQL statement (or several; the last one's result is
// returned) and returns its complete result.
func (e *Engine) Query(ctx context.Context, query string) (*Result, error) {
	start := time.Now()
	s, err := e.open(ctx, query, e.opts.MemoryLimit)
	if err != nil {
		return nil, err
	}
	defer s.close()
	planned := time.Since(start)
	sql := s.sql
	if s.write != nil {
		n, err := e.write(ctx, s, nil)
		if err != nil {
			return nil, err
		}
		sql = rowsWritten(n)
	}
	res, err := run(ctx, s, sql, e.resultNames(ctx, s))
	if err != nil {
		return nil, err
	}
	s.ok = true
	e.log.Debug("query done", "tables", s.tables, "rows", len(res.Rows),
		"plan", planned, "elapsed", time.Since(start))
	return res, nil
}

// session is a DuckDB prepared for one query: the referenced tables are
// views, access is restricted, and scan says what the views read.
type session struct {
	in     *instance
	conn   *sql.Conn
	sql    string     // the query to run: rewritten by resolve; a write's query part; an answer from metadata (countstar.go); after the statements that start a pooled session's transaction
	named  string     // the query whose select list names the result (refs.named)
	write  *writeStmt // the write statement, or nil (write.go)
	tables int
	scan   scan
	pool   *pool // the instance goes back there, or nil: it is closed
	// kept: the query runs outside a transaction, through a prepared
	// statement the instance keeps (see oneQuery, instance.statement).
	kept bool
	ok   bool // the query ran to completion (see close)
}

// QueryContext runs query on the session's connection: its own query
// through the instance's kept statement when it has one (kept), any other
// (a rewrite of it) directly. A kept statement that fails is dropped.
func (s *session) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !s.kept || query != s.sql {
		return s.conn.QueryContext(ctx, query, args...)
	}
	stmt, err := s.in.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		s.in.forget(query)
	}
	return rows, err
}

// close ends the query. A pooled session that ran to completion (ok), or
// ran outside a transaction (kept), returns its instance to the pool, with
// its transaction still open if it had one: the next query on it rolls
// that back first, in the same call as it runs (see prepare), so the query
// changes nothing that a later one sees. Otherwise a pooled session rolls
// back now and returns the instance; if that fails, or the session is not
// pooled, the instance is closed.
func (s *session) close() {
	defer s.scan.release()
	if s.pool != nil {
		if s.ok || s.kept {
			s.pool.put(s.in)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.conn.ExecContext(ctx, "ROLLBACK")
		cancel()
		if err == nil {
			s.in.inTx = false
			s.pool.put(s.in)
			return
		}
	}
	s.in.close()
}

// errDirsChanged refuses to reuse an instance that cannot read every
// directory a query's views read. An instance can read more: directories
// that the same tables read when it was prepared (before a filter pruned
// them, or a compaction moved their files).
var errDirsChanged = errors.New("the tables' directories changed")

func subset(dirs, of []string) bool {
	for _, d := range dirs {
		if !slices.Contains(of, d) {
			return false
		}
	}
	return true
}

// catalogStatement runs query when it is a statement that changes the
// catalog rather than a query DuckDB runs (CREATE and DROP VIEW, ALTER
// TABLE, OPTIMIZE, VACUUM, DROP TABLE on one of dbs, the catalog's
// databases; nil for a query without DDL) and returns the query of its
// result: no rows, as in Athena, or OPTIMIZE's and VACUUM's counts.
func (e *Engine) catalogStatement(ctx context.Context, query string, dbs map[string]bool) (string, bool, error) {
	if len(dbs) == 0 {
		return "", false, nil
	}
	none := valuesSQL([]string{"result"}, nil)
	if v := parseViewDDL(query, dbs); v != nil {
		return none, true, e.viewStatement(ctx, v)
	}
	if a, err := parseAlter(query, dbs); err != nil || a != nil {
		if err == nil {
			err = e.alterStatement(ctx, a)
		}
		return none, true, err
	}
	if m, err := parseMaintain(query, dbs); err != nil || m != nil {
		if err != nil {
			return "", true, err
		}
		answer, err := e.maintainStatement(ctx, m)
		return answer, true, err
	}
	if d := parseDropTable(query, dbs); d != nil {
		return none, true, e.dropStatement(ctx, d)
	}
	return "", false, nil
}

// open plans query: it resolves the tables it references and prepares a
// DuckDB with memoryLimit ("" for DuckDB's default) holding their views:
// an idle one prepared for the same tables if the pool has one and query
// only reads (see readOnly), else a new one.
func (e *Engine) open(ctx context.Context, query, memoryLimit string) (*session, error) {
	if answer, ok, err := e.showQuery(ctx, query); err != nil {
		return nil, err
	} else if ok {
		query = answer // SHOW ...: the catalog's answer, as a VALUES table
	}
	query = rewriteAthena(query) // Athena's SQL that DuckDB reads otherwise (rewrite.go)
	if !e.opts.AllowFileAccess {
		if err := refuseStatements(query); err != nil {
			return nil, err
		}
	}
	dbs, err := e.writeDatabases(ctx, query)
	if err != nil {
		return nil, err
	}
	if answer, ok, err := e.catalogStatement(ctx, query, dbs); err != nil {
		return nil, err
	} else if ok {
		query = answer // the statement's result, as a VALUES table
	}
	w, err := parseWrite(query, dbs)
	if err != nil {
		return nil, err
	}
	if w != nil {
		query = w.query // DuckDB runs the query part
	} else if err := refuseCatalogDDL(query, dbs); err != nil {
		return nil, err
	}
	refs, err := e.resolve(ctx, query)
	if err != nil {
		return nil, err
	}
	if w == nil {
		refs.named = refs.query
	}
	if answer, ok := e.countFromMetadata(ctx, refs); ok {
		refs.tables, refs.query = nil, answer // no view: no file is read
	}
	key := instanceKey(refs, memoryLimit)
	pooled := !e.opts.AllowFileAccess && e.pool.max > 0 && readOnly(query)
	if pooled {
		if in := e.pool.get(key); in != nil {
			s, err := e.prepare(ctx, in, refs, true, w)
			if err == nil {
				return s, nil
			}
			in.close()
			if ctx.Err() != nil {
				return nil, err
			}
			e.log.Debug("query instance not reused", "err", err)
		}
	}
	in, err := e.newInstance(ctx, key, refs, memoryLimit)
	if err != nil {
		return nil, err
	}
	s, err := e.prepare(ctx, in, refs, pooled, w)
	if err != nil {
		in.close()
		return nil, err
	}
	return s, nil
}

// prepare makes in hold the views of refs, restricts a new instance to
// their directories and, for a pooled session, begins the transaction that
// close or the next query on in rolls back. w is the write statement
// whose query part refs.query is, or nil.
func (e *Engine) prepare(ctx context.Context, in *instance, refs refs, pooled bool, w *writeStmt) (_ *session, err error) {
	s := &session{in: in, conn: in.conn, sql: refs.query, named: refs.named, write: w, tables: len(refs.tables) + len(refs.travels) + len(refs.metas)}
	defer func() {
		if err != nil {
			s.scan.release()
		}
	}()
	views, dirs, err := e.defineViews(ctx, in.conn, refs, &s.scan)
	if err != nil {
		return nil, err
	}
	if in.locked && !subset(dirs, in.dirs) {
		return nil, errDirsChanged
	}
	kept := pooled && w == nil && oneQuery(refs.query)
	macros := athenaSQL(viewsText(refs.query, refs.views), in.macros)
	if in.inTx && (kept || w != nil || macros != "" || in.changes(refs.databases, views)) {
		// The views and macros change outside the last query's
		// transaction; a write's query part runs inside another statement;
		// a kept statement runs outside any.
		if _, err := in.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			return nil, fmt.Errorf("query: rollback: %w", duckError(err))
		}
		in.inTx = false
	}
	if macros != "" {
		// Before the views: a catalog view's query may call them.
		if _, err := in.conn.ExecContext(ctx, macros); err != nil {
			return nil, fmt.Errorf("query: Athena's functions: %w", duckError(err))
		}
	}
	if err := in.apply(ctx, refs.databases, views); err != nil {
		return nil, err
	}
	if !in.locked && !e.opts.AllowFileAccess {
		if err := restrict(ctx, in.conn, dirs); err != nil {
			return nil, err
		}
		in.locked, in.dirs = true, dirs
	}
	if pooled {
		s.pool = &e.pool
		switch {
		case kept:
			s.kept = true
		case in.inTx:
			// One call ends the last query's transaction, begins this
			// one's and runs the query.
			s.sql = txPrefix + s.sql
		default:
			if _, err := in.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
				return nil, fmt.Errorf("query: begin: %w", duckError(err))
			}
			in.inTx = true
		}
	}
	if readsNoData(refs.query) {
		// The views are bound, which reads footers, not data: as in
		// Athena, DESCRIBE and EXPLAIN scan nothing, and no workgroup's
		// bytes-scanned limit refuses them.
		s.scan.files, s.scan.bytes = 0, 0
	}
	return s, nil
}

// configure sets conn's DuckDB up for queries. immutable says that the
// files its queries read are never rewritten in place (see immutable).
func (e *Engine) configure(ctx context.Context, conn *sql.Conn, memoryLimit string, immutable bool) error {
	var stmts []string
	if e.opts.Threads > 0 {
		stmts = append(stmts, fmt.Sprintf("SET threads = %d", e.opts.Threads))
	}
	if memoryLimit != "" {
		stmts = append(stmts, "SET memory_limit = "+schema.QuoteString(memoryLimit))
	}
	// Footers are cached across the queries an instance serves; an entry
	// is used only while the file's modification time is unchanged. An
	// integer divided by an integer is an integer, as in Athena.
	stmts = append(stmts, "SET TimeZone = 'UTC'", "SET parquet_metadata_cache = true", "SET integer_division = true")
	if immutable {
		// DuckDB keeps what it read of a file in memory (its external
		// file cache) and by default opens and stats the file on every
		// query to check the entry: with the file restriction that is a
		// realpath per path component, per file. A file that never
		// changes needs no check.
		stmts = append(stmts, "SET validate_external_file_cache = 'NO_VALIDATION'")
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("query: configure duckdb: %s: %w", s, duckError(err))
		}
	}
	return nil
}

// restrict limits file access to dirs and locks the configuration so the
// user's SQL cannot lift the limit.
func restrict(ctx context.Context, conn *sql.Conn, dirs []string) error {
	var stmts []string
	if len(dirs) > 0 {
		quoted := make([]string, len(dirs))
		for i, d := range dirs {
			quoted[i] = schema.QuoteString(d)
		}
		stmts = append(stmts, "SET allowed_directories = ["+strings.Join(quoted, ", ")+"]")
	}
	stmts = append(stmts,
		"SET enable_external_access = false",
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET lock_configuration = true")
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("query: restrict file access: %w", duckError(err))
		}
	}
	return nil
}

// txPrefix ends a pooled instance's last transaction and begins the
// next query's, in the call that runs the query (see prepare).
const txPrefix = "ROLLBACK; BEGIN TRANSACTION; "

// queryer runs queries: a connection, or a session (session.QueryContext).
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// openRows runs query. The driver cannot read a struct whose fields have
// no names (row(1, 'a'), (1, 'a'), list_zip); a result with one is run
// again with those fields named as Athena names them, field0, field1, ...
func openRows(ctx context.Context, conn queryer, query string, params ...any) (*sql.Rows, error) {
	rows, err := conn.QueryContext(ctx, query, params...)
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	// An unnamed field's type reads `"" INTEGER`; only then is the type
	// parsed.
	if !slices.ContainsFunc(types, func(t *sql.ColumnType) bool {
		return strings.Contains(t.DatabaseTypeName(), `"" `) && parseDuckType(t.DatabaseTypeName()).unnamed()
	}) {
		return rows, nil
	}
	sel, cols := make([]string, len(types)), make([]string, len(types))
	for i, t := range types {
		cols[i] = "c" + strconv.Itoa(i)
		sel[i] = "q." + cols[i]
		if d := parseDuckType(t.DatabaseTypeName()); d.unnamed() {
			sel[i] = "CAST(" + sel[i] + " AS " + d.named() + ")"
		}
		sel[i] += " AS " + schema.QuoteIdent(t.Name())
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	// The first call ran the transaction statements already; a trailing
	// ; cannot end a subquery.
	query = strings.TrimRight(strings.TrimPrefix(query, txPrefix), " \t\r\n;")
	return conn.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM (\n"+query+"\n) AS q("+strings.Join(cols, ", ")+")", params...)
}

// resultNames returns what renames the result columns of s as Athena
// names them (athenaNames).
func (e *Engine) resultNames(ctx context.Context, s *session) func([]string) []string {
	return func(cols []string) []string { return e.cols.athenaNames(ctx, s.in.db, s.named, cols) }
}

func run(ctx context.Context, conn queryer, query string, names func([]string) []string) (*Result, error) {
	rows, err := openRows(ctx, conn, query)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, queryError(ctx, err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, queryError(ctx, err)
	}
	res := &Result{Columns: names(cols), Types: make([]string, len(types)), Rows: [][]any{}}
	for i, t := range types {
		res.Types[i] = t.DatabaseTypeName()
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, queryError(ctx, err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, queryError(ctx, err)
	}
	return res, nil
}

func queryError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("query: %w", ctxErr)
	}
	return &duckErr{msg: "query: " + oneLine(err.Error()), err: err}
}

// duckErr is an error with a one-line message that still unwraps to the
// driver's error.
type duckErr struct {
	msg string
	err error
}

func (e *duckErr) Error() string { return e.msg }
func (e *duckErr) Unwrap() error { return e.err }

// duckError shortens err to one line, keeping it in the chain.
func duckError(err error) error {
	return &duckErr{msg: oneLine(err.Error()), err: err}
}

// oneLine drops DuckDB's "LINE n: ..." excerpt with its caret and joins
// what remains onto one line.
func oneLine(msg string) string {
	if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = msg[:i]
	} else if strings.HasPrefix(msg, "LINE ") {
		msg = ""
	}
	return strings.Join(strings.Fields(msg), " ")
}

// NotFoundError reports a reference to a table that a known database does
// not have. It wraps catalog.ErrNoSuchTable.
type NotFoundError struct {
	Database, Table string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("query: table %s.%s not found", e.Database, e.Table)
}

// Unwrap returns catalog.ErrNoSuchTable.
func (e *NotFoundError) Unwrap() error { return catalog.ErrNoSuchTable }

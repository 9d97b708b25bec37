package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// IcebergCatalog is the optional capability of a Catalog that writes
// need: the Iceberg catalog to create and load tables in. *catalog.Store
// has it.
type IcebergCatalog interface {
	Iceberg() icecat.Catalog
}

// writeProps are the properties of the tables CTAS creates.
var writeProps = iceberg.Properties{
	table.ParquetCompressionKey: "zstd",
	"format-version":            "2",
	"created-by":                "streamlake query",
}

// plainIdent is a name of letters, digits and _: what a table CTAS creates
// may be called (its location is derived from it, so it cannot hold a
// path), and a column name DDL need not quote.
var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// write runs s's write statement: its query part (s.sql, with time travel
// rewritten) on s's DuckDB, the rows appended to the target table in one
// commit. It returns the rows written.
func (e *Engine) write(ctx context.Context, s *session, params []any) (int64, error) {
	w := s.write
	target := w.db + "." + w.name
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("query: %s %s: %w", w.verb(), target, err)
	}
	ic, ok := e.cat.(IcebergCatalog)
	if !ok {
		return fail(errors.New("the catalog cannot write Iceberg tables"))
	}
	cols, err := resultColumns(ctx, s.conn, s.sql, params)
	if err != nil {
		return 0, err
	}
	var (
		tbl *table.Table
		sc  *iceberg.Schema
		sel string
	)
	if w.kind == ctas {
		// An expression without an alias makes a column named as a
		// query shows it (_col1), not count_star().
		names := e.cols.athenaNames(ctx, s.in.db, s.sql, columnNames(cols))
		tbl, sc, sel, err = e.createTarget(ctx, ic.Iceberg(), w, cols, names)
		if tbl == nil && err == nil {
			return 0, nil // IF NOT EXISTS, and it does
		}
	} else {
		tbl, sc, sel, err = e.insertTarget(ctx, w, cols)
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return 0, err
	}
	if err != nil {
		return fail(err)
	}
	if tbl, err = rebasingTable(tbl, ic.Iceberg()); err != nil {
		return fail(err)
	}
	n, err := e.appendRows(ctx, s, tbl, sc, sel, len(cols), params)
	if err != nil {
		if w.kind == ctas {
			// A failed CTAS leaves no table behind, so it can be retried.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			derr := ic.Iceberg().DropTable(dctx, tbl.Identifier())
			cancel()
			if derr != nil {
				e.log.Warn("query failed CTAS not dropped", "stage", "query", "table", target, "err", derr)
			}
		}
		var de *duckErr
		if errors.As(err, &de) || ctx.Err() != nil {
			return 0, err
		}
		return fail(err)
	}
	if n > 0 {
		e.log.Info("query wrote table", "table", target, "rows", n)
	}
	return n, nil
}

// appendRows runs the select list sel over s's query (its ncols columns
// named src.c1...) and appends the rows to tbl, whose schema is sc, in one
// commit; nothing is committed if it fails. It returns the rows appended.
func (e *Engine) appendRows(ctx context.Context, s *session, tbl *table.Table, sc *iceberg.Schema, sel string, ncols int, params []any) (int64, error) {
	rows, err := s.conn.QueryContext(ctx, sel+" FROM (\n"+s.sql+"\n) AS src("+srcColumns(ncols)+")", params...)
	if err != nil {
		return 0, queryError(ctx, err)
	}
	defer rows.Close()
	rdr, err := newRowReader(ctx, rows, sc)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	tx := tbl.NewTransaction()
	if err := tx.Append(ctx, rdr, iceberg.Properties{"streamlake.writer": "query"}); err != nil {
		if rdr.err != nil {
			return 0, rdr.err
		}
		return 0, fmt.Errorf("append: %w", err)
	}
	if rdr.err != nil {
		return 0, rdr.err // not committed
	}
	if rdr.written == 0 {
		return 0, nil
	}
	if e.beforeCommit != nil {
		e.beforeCommit()
	}
	if _, err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return rdr.written, nil
}

// resultColumns are the columns of query (names, DuckDB types, decimal
// sizes), from running it with LIMIT 0.
func resultColumns(ctx context.Context, conn *sql.Conn, query string, params []any) ([]*sql.ColumnType, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM (\n"+query+"\n) LIMIT 0", params...)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return cols, nil
}

// srcColumns names the query's columns by position: c1, ..., cn.
func srcColumns(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i+1)
	}
	return strings.Join(names, ", ")
}

// createTarget creates the table of a CTAS with the query's columns and
// returns it, its schema and the select list that casts the query's
// columns (src.c1, ...) to it, named names. If it exists, it is nil with
// IF NOT EXISTS, else an error wrapping catalog.ErrAlreadyExists.
func (e *Engine) createTarget(ctx context.Context, ice icecat.Catalog, w *writeStmt, cols []*sql.ColumnType, names []string) (*table.Table, *iceberg.Schema, string, error) {
	if !plainIdent.MatchString(w.name) {
		return nil, nil, "", fmt.Errorf("table name %q: %w: a new table's name has letters, digits and underscores only", w.name, ErrNotAllowed)
	}
	db, name := strings.ToLower(w.db), strings.ToLower(w.name)
	if t, err := e.cat.Table(ctx, db, name); err == nil {
		if w.ifNotExists {
			return nil, nil, "", nil
		}
		return nil, nil, "", fmt.Errorf("table %s.%s already exists (%s): %w; use INSERT INTO to add rows", t.Database, t.Name, strings.ToLower(t.Type), catalog.ErrAlreadyExists)
	} else if !errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil, "", err
	}
	ids := &fieldIDs{}
	fields := make([]iceberg.NestedField, len(cols))
	list := make([]string, len(cols))
	for i, c := range cols {
		typ, err := icebergType(c, parseDuckType(c.DatabaseTypeName()).withNames(), ids)
		if err != nil {
			return nil, nil, "", fmt.Errorf("column %s: %w", names[i], err)
		}
		fields[i] = iceberg.NestedField{ID: ids.next(), Name: names[i], Type: typ}
		d, err := duckType(typ)
		if err != nil {
			return nil, nil, "", fmt.Errorf("column %s: %w", names[i], err)
		}
		list[i] = fmt.Sprintf("CAST(src.c%d AS %s) AS %s", i+1, d, schema.QuoteIdent(names[i]))
	}
	// Top-level fields first (ids 1..n), as Iceberg writers number them.
	sc, err := newSchema(fields)
	if err != nil {
		return nil, nil, "", err
	}
	opts := []icecat.CreateTableOpt{icecat.WithProperties(writeProps)}
	if len(w.partition) > 0 {
		spec, err := partitionSpec(sc, w.partition)
		if err != nil {
			return nil, nil, "", err
		}
		opts = append(opts, icecat.WithPartitionSpec(&spec))
	}
	ns := table.Identifier{db}
	if ok, err := ice.CheckNamespaceExists(ctx, ns); err != nil {
		return nil, nil, "", fmt.Errorf("database %s: %w", db, err)
	} else if !ok {
		if err := ice.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, icecat.ErrNamespaceAlreadyExists) {
			return nil, nil, "", fmt.Errorf("create database %s: %w", db, err)
		}
	}
	tbl, err := ice.CreateTable(ctx, table.Identifier{db, name}, sc, opts...)
	if err != nil {
		if errors.Is(err, icecat.ErrTableAlreadyExists) {
			return nil, nil, "", fmt.Errorf("table %s.%s already exists: %w", db, name, catalog.ErrAlreadyExists)
		}
		return nil, nil, "", fmt.Errorf("create table: %w", err)
	}
	e.log.Info("query created table", "table", db+"."+name, "partitioning", len(w.partition))
	// The created table's schema has the catalog's field ids.
	return tbl, tbl.Schema(), "SELECT " + strings.Join(list, ", "), nil
}

// newSchema makes a schema of fields, renumbered so that the top-level
// fields are 1..n and nested fields follow.
func newSchema(fields []iceberg.NestedField) (*iceberg.Schema, error) {
	names := map[string]bool{}
	for _, f := range fields {
		if names[strings.ToLower(f.Name)] {
			return nil, fmt.Errorf("the query has two columns named %s: %w; give them distinct aliases", f.Name, ErrUnsupported)
		}
		names[strings.ToLower(f.Name)] = true
	}
	sc := iceberg.NewSchema(0, fields...)
	fresh, err := iceberg.AssignFreshSchemaIDs(sc, nil)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return fresh, nil
}

// partitionSpec is the spec of a CTAS' partitioning property over sc.
func partitionSpec(sc *iceberg.Schema, fields []partitionField) (iceberg.PartitionSpec, error) {
	var opts []iceberg.PartitionOption
	for _, f := range fields {
		col, ok := sc.FindFieldByNameCaseInsensitive(f.column)
		if !ok {
			return iceberg.PartitionSpec{}, fmt.Errorf("partitioning %s(%s): the query has no column %s: %w", f.transform, f.column, f.column, ErrUnsupported)
		}
		tr := f.transformOf()
		if !tr.CanTransform(col.Type) {
			return iceberg.PartitionSpec{}, fmt.Errorf("partitioning %s(%s): column %s is %s, which %s cannot partition: %w",
				f.transform, f.column, col.Name, col.Type, f.transform, ErrUnsupported)
		}
		// A valid Avro name, which manifests need (schema.FileName):
		// day("@timestamp") is _x40timestamp_day.
		name := schema.FileName(col.Name)
		if f.transform != "identity" {
			name += "_" + f.transform
		}
		opts = append(opts, iceberg.AddPartitionFieldBySourceID(col.ID, name, tr, sc, nil))
	}
	spec, err := iceberg.NewPartitionSpecOpts(opts...)
	if err != nil {
		return iceberg.PartitionSpec{}, fmt.Errorf("partitioning: %w", err)
	}
	return spec, nil
}

// insertTarget loads the table of an INSERT and returns it, its schema and
// the select list that maps the query's columns (src.c1, ...) to the
// table's, in the table's types; NULL for table columns not in the
// statement's column list.
func (e *Engine) insertTarget(ctx context.Context, w *writeStmt, cols []*sql.ColumnType) (*table.Table, *iceberg.Schema, string, error) {
	t, err := e.cat.Table(ctx, w.db, w.name)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		t, err = e.cat.Table(ctx, strings.ToLower(w.db), strings.ToLower(w.name))
	}
	if err != nil {
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return nil, nil, "", &NotFoundError{Database: w.db, Table: w.name}
		}
		return nil, nil, "", err
	}
	if t.Type != catalog.Iceberg {
		return nil, nil, "", fmt.Errorf("%s.%s is an external (crawled) table, which queries cannot write (its files belong to whoever writes its location); only Iceberg tables can be written: %w",
			t.Database, t.Name, ErrUnsupported)
	}
	tbl, err := e.cat.LoadIceberg(ctx, t.Database, t.Name)
	if err != nil {
		return nil, nil, "", err
	}
	sc := tbl.Schema()
	fields := sc.Fields()
	// src[i] is the query column (1-based) feeding fields[i]; 0 for none.
	src := make([]int, len(fields))
	if len(w.columns) == 0 {
		if len(cols) != len(fields) {
			return nil, nil, "", fmt.Errorf("the query has %d columns, the table %d (%s): %w", len(cols), len(fields), fieldNames(fields), ErrUnsupported)
		}
		for i := range fields {
			src[i] = i + 1
		}
	} else {
		if len(cols) != len(w.columns) {
			return nil, nil, "", fmt.Errorf("the query has %d columns, the column list %d: %w", len(cols), len(w.columns), ErrUnsupported)
		}
		for j, name := range w.columns {
			i := fieldIndex(fields, name)
			if i < 0 {
				return nil, nil, "", fmt.Errorf("the table has no column %s (it has %s): %w", name, fieldNames(fields), ErrUnsupported)
			}
			if src[i] != 0 {
				return nil, nil, "", fmt.Errorf("column %s is listed twice: %w", name, ErrUnsupported)
			}
			src[i] = j + 1
		}
	}
	list := make([]string, len(fields))
	for i, f := range fields {
		d, err := duckType(f.Type)
		if err != nil {
			return nil, nil, "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		q := schema.QuoteIdent(f.Name)
		if src[i] == 0 {
			if f.Required {
				return nil, nil, "", fmt.Errorf("column %s is required (NOT NULL) and not in the column list: %w", f.Name, ErrUnsupported)
			}
			list[i] = "CAST(NULL AS " + d + ") AS " + q
			continue
		}
		c := cols[src[i]-1]
		if !assignable(parseDuckType(c.DatabaseTypeName()).withNames(), f.Type) {
			return nil, nil, "", fmt.Errorf("column %s is %s in the table, and the query's column %d (%s) is %s, which does not convert to it; CAST it: %w",
				f.Name, f.Type, src[i], c.Name(), c.DatabaseTypeName(), ErrUnsupported)
		}
		list[i] = fmt.Sprintf("CAST(src.c%d AS %s) AS %s", src[i], d, q)
	}
	return tbl, sc, "SELECT " + strings.Join(list, ", "), nil
}

func fieldIndex(fields []iceberg.NestedField, name string) int {
	for i, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

func fieldNames(fields []iceberg.NestedField) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// rowsWritten is the query of a write's result: one row, rows_written.
func rowsWritten(n int64) string {
	return fmt.Sprintf("SELECT %d::BIGINT AS rows_written", n)
}

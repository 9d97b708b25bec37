package query

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// column is a view column with its DuckDB type.
type column struct {
	name, duck string
	nested     bool // STRUCT, LIST or MAP: read as the files have it, not cast
}

// view is the definition of a referenced table's view.
type view struct {
	table catalog.Table
	name  string // in table.Database; "" is table.Name
	body  string
}

// defineViews returns the views of the referenced tables and the
// directories they read (sorted), and adds their data files to sc. conn is
// where files are described when their columns are not known yet.
func (e *Engine) defineViews(ctx context.Context, conn *sql.Conn, r refs, sc *scan) ([]view, []string, error) {
	var (
		views []view
		dirs  []string
	)
	for _, t := range r.tables {
		var (
			body string
			d    []string
			err  error
		)
		if t.Type == catalog.Iceberg {
			body, d, err = e.icebergView(ctx, conn, t, nil, r, sc)
		} else {
			body, d, err = e.externalView(ctx, conn, t, sc)
		}
		if err != nil {
			return nil, nil, err
		}
		e.log.Debug("query view", "table", t.Database+"."+t.Name, "type", t.Type, "dirs", len(d))
		views = append(views, view{table: t, body: body})
		dirs = append(dirs, d...)
	}
	for _, tr := range r.travels {
		body, d, err := e.icebergView(ctx, conn, tr.table, &tr, r, sc)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, view{table: tr.table, name: tr.view, body: body})
		dirs = append(dirs, d...)
	}
	for _, m := range r.metas {
		body, err := e.metaView(ctx, m, r)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, view{table: m.table, name: m.view, body: body})
	}
	// Catalog views last, each after the views it reads (DuckDB binds a
	// view when it is created).
	for _, v := range r.views {
		views = append(views, view{table: v.table, body: v.body})
	}
	slices.Sort(dirs)
	return views, slices.Compact(dirs), nil
}

// emptyView is a view with the columns' names and types and no rows.
func emptyView(cols []column) string {
	list := make([]string, len(cols))
	for i, c := range cols {
		list[i] = "CAST(NULL AS " + c.duck + ") AS " + schema.QuoteIdent(c.name)
	}
	return "SELECT " + strings.Join(list, ", ") + " LIMIT 0"
}

// projection is the select list that presents cols from a source whose
// columns and types are present (folded name -> DuckDB type): a missing
// column is a typed NULL, a scalar column of another type is cast.
func projection(cols []column, present map[string]string) string {
	list := make([]string, len(cols))
	for i, c := range cols {
		q := schema.QuoteIdent(c.name)
		have, ok := present[strings.ToLower(c.name)]
		switch {
		case !ok:
			list[i] = "CAST(NULL AS " + c.duck + ") AS " + q
		case !c.nested && !sameType(have, c.duck):
			list[i] = "CAST(" + q + " AS " + c.duck + ") AS " + q
		default:
			list[i] = q
		}
	}
	return strings.Join(list, ", ")
}

func sameType(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToUpper(strings.TrimSpace(s))
		return strings.ReplaceAll(s, "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
	}
	return norm(a) == norm(b)
}

// describe returns the columns (folded name -> type) of SELECT * FROM from.
func describe(ctx context.Context, conn *sql.Conn, from string) (map[string]string, error) {
	cols, err := describeColumns(ctx, conn, from)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cols))
	for _, c := range cols {
		out[strings.ToLower(c.name)] = c.typ
	}
	return out, nil
}

// namedType is a column of a DESCRIBE result.
type namedType struct{ name, typ string }

// describeColumns returns the columns of SELECT * FROM from, in order.
func describeColumns(ctx context.Context, conn *sql.Conn, from string) ([]namedType, error) {
	rows, err := conn.QueryContext(ctx, "DESCRIBE SELECT * FROM "+from)
	if err != nil {
		return nil, duckError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, duckError(err)
	}
	var out []namedType
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, duckError(err)
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		out = append(out, namedType{name: name, typ: typ})
	}
	if err := rows.Err(); err != nil {
		return nil, duckError(err)
	}
	return out, nil
}

// localPath turns a location (a path or a file:// URL) into an absolute
// local path.
func localPath(loc string) (string, error) {
	if !strings.Contains(loc, "://") && !strings.HasPrefix(loc, "file:") {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return "", fmt.Errorf("location %q: %w", loc, err)
		}
		return abs, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("location %q: %w", loc, err)
	}
	if u.Scheme != "file" || u.Path == "" {
		return "", fmt.Errorf("location %q: only local files (a path or file://) can be read", loc)
	}
	return filepath.Clean(filepath.FromSlash(u.Path)), nil
}

// dirOf is the allowed_directories entry for a directory: with a trailing
// separator, so /lake/t does not also admit /lake/t2.
func dirOf(dir string) string {
	return strings.TrimSuffix(dir, string(filepath.Separator)) + string(filepath.Separator)
}

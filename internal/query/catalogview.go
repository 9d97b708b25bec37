package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
)

// Views kept in the catalog, as Athena keeps them in Glue:
//
//	CREATE [OR REPLACE] VIEW db.v AS query
//	DROP VIEW [IF EXISTS] db.v
//
// A view is a catalog table of type VIRTUAL_VIEW holding its query's text
// and columns. A query that reads db.v resolves the view's query as it
// resolves its own (tables, time travel, metadata tables, views within
// views), and the DuckDB instance holds db.v as a view of that query over
// the views of those tables: the files it reads are theirs, counted in the
// bytes scanned and restricted to their directories.

// maxViewDepth bounds views within views.
const maxViewDepth = 16

// ErrInvalidView is a view that cannot be created or read: its query is
// not one query, or it reads itself.
var ErrInvalidView = errors.New("invalid view")

// viewDDL is a CREATE VIEW or DROP VIEW statement on a catalog database.
type viewDDL struct {
	drop, replace, ifExists bool
	db, name                string // folded
	query                   string // CREATE: the view's query
}

// catalogWriter keeps views in the catalog and drops tables from it
// (*catalog.Store).
type catalogWriter interface {
	CreateTable(ctx context.Context, t catalog.Table) error
	UpdateTable(ctx context.Context, t catalog.Table) error
	DeleteTable(ctx context.Context, database, name string) error
}

// parseViewDDL returns the view statement that query is, when it is one
// statement creating or dropping a view in one of the databases dbs
// (folded); nil otherwise.
func parseViewDDL(query string, dbs map[string]bool) *viewDDL {
	if !strings.Contains(strings.ToLower(query), "view") {
		return nil // most DDL: not tokenized again
	}
	toks := trimSemicolons(tokens(query))
	if len(statementStarts(toks)) != 1 {
		return nil
	}
	var v viewDDL
	i := 1
	switch { // one statement: toks is not empty
	case isWord(toks[0], "create"):
		if i+1 < len(toks) && isWord(toks[i], "or") && isWord(toks[i+1], "replace") {
			v.replace, i = true, i+2
		}
	case isWord(toks[0], "drop"):
		v.drop = true
	default:
		return nil
	}
	if i >= len(toks) || !isWord(toks[i], "view") {
		return nil
	}
	i++
	if v.drop && i+1 < len(toks) && isWord(toks[i], "if") && isWord(toks[i+1], "exists") {
		v.ifExists, i = true, i+2
	}
	if i+2 >= len(toks) || toks[i].kind != tokIdent || toks[i+1].kind != tokDot || toks[i+2].kind != tokIdent ||
		!dbs[strings.ToLower(toks[i].text)] {
		return nil
	}
	v.db, v.name = strings.ToLower(toks[i].text), strings.ToLower(toks[i+2].text)
	i += 3
	if v.drop {
		if i != len(toks) {
			return nil
		}
		return &v
	}
	if i+1 >= len(toks) || !isWord(toks[i], "as") {
		return nil
	}
	v.query = strings.TrimSpace(query[toks[i+1].pos:toks[len(toks)-1].end])
	return &v
}

// viewStatement runs v against the catalog. A new view's query is
// described first, which resolves and binds it as a query would (so a
// view over a missing table, or one that does not parse, is refused), and
// gives its columns.
func (e *Engine) viewStatement(ctx context.Context, v *viewDDL) error {
	name := v.db + "." + v.name
	w, ok := e.cat.(catalogWriter)
	if !ok {
		return fmt.Errorf("query: view %s: this catalog does not keep views: %w", name, ErrUnsupported)
	}
	cur, err := e.cat.Table(ctx, v.db, v.name)
	exists := err == nil
	if err != nil && !errors.Is(err, catalog.ErrNoSuchTable) {
		return fmt.Errorf("query: view %s: %w", name, err)
	}
	if exists && cur.Type != catalog.VirtualView {
		return fmt.Errorf("query: %s is a table, not a view: %w", name, ErrUnsupported)
	}
	if v.drop {
		switch {
		case exists:
			if err := w.DeleteTable(ctx, cur.Database, cur.Name); err != nil {
				return fmt.Errorf("query: drop view %s: %w", name, err)
			}
		case !v.ifExists:
			return fmt.Errorf("query: view %s not found (DROP VIEW IF EXISTS ignores a missing view): %w", name, catalog.ErrNoSuchTable)
		}
		return nil
	}
	if exists && !v.replace {
		return fmt.Errorf("query: view %s: %w (CREATE OR REPLACE VIEW replaces it)", name, catalog.ErrAlreadyExists)
	}
	if !oneQuery(v.query) {
		return fmt.Errorf("query: %w %s: a view is one query (SELECT, WITH, VALUES, ...)", ErrInvalidView, name)
	}
	r, err := e.resolve(ctx, rewriteAthena(v.query))
	if err != nil {
		return fmt.Errorf("query: view %s: %w", name, err)
	}
	if slices.ContainsFunc(r.views, func(x viewRef) bool {
		return strings.EqualFold(x.table.Database, v.db) && strings.EqualFold(x.table.Name, v.name)
	}) {
		return fmt.Errorf("query: %w %s: it would read itself", ErrInvalidView, name)
	}
	res, err := e.Query(ctx, "DESCRIBE "+v.query)
	if err != nil {
		return fmt.Errorf("query: view %s: %w", name, err)
	}
	t := catalog.Table{Database: v.db, Name: v.name, Type: catalog.VirtualView, ViewText: v.query}
	for _, row := range res.Rows {
		col, _ := row[0].(string)
		duck, _ := row[1].(string)
		t.Columns = append(t.Columns, catalog.Column{Name: col, Type: athenaTypeName(duck), DuckDB: duck})
	}
	if exists {
		err = w.UpdateTable(ctx, t)
	} else {
		err = w.CreateTable(ctx, t)
	}
	if err != nil {
		return fmt.Errorf("query: view %s: %w", name, err)
	}
	return nil
}

// athenaTypeName is the Athena (Hive DDL) name of a DuckDB type, for a
// view's columns in the catalog; a type without one keeps DuckDB's name,
// lower-cased.
func athenaTypeName(duck string) string {
	u := strings.ToUpper(strings.TrimSpace(duck))
	switch u {
	case "VARCHAR":
		return "string"
	case "INTEGER":
		return "int"
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ":
		return "timestamp"
	case "BLOB":
		return "binary"
	case "BIGINT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP":
		return strings.ToLower(u)
	}
	return strings.ToLower(duck)
}

// viewRef is a catalog view a query reads, with the query its DuckDB
// view runs: the view's text after Athena's rewrites and with its time
// travel clauses rewritten.
type viewRef struct {
	table catalog.Table
	body  string
}

// expandViews moves the views among r's tables to r.views, after the
// views they read, and adds what their queries reference to r. path is
// the views being expanded (folded db.name), outermost first.
func (l *tableListing) expandViews(r *refs, defined bool, path []string) error {
	var views []catalog.Table
	r.tables = slices.DeleteFunc(r.tables, func(t catalog.Table) bool {
		if t.Type == catalog.VirtualView {
			views = append(views, t)
			return true
		}
		return false
	})
	for _, v := range views {
		key := strings.ToLower(v.Database + "." + v.Name)
		switch {
		case slices.Contains(path, key):
			return fmt.Errorf("query: %w %s: it reads itself (%s)", ErrInvalidView, key, strings.Join(append(path, key), " -> "))
		case len(path) >= maxViewDepth:
			return fmt.Errorf("query: %w %s: views within views deeper than %d", ErrInvalidView, key, maxViewDepth)
		case slices.ContainsFunc(r.views, func(x viewRef) bool { return strings.EqualFold(x.table.Database+"."+x.table.Name, key) }):
			continue
		}
		body, travels, err := rewriteTimeTravel(rewriteAthena(v.ViewText))
		if err != nil {
			return fmt.Errorf("query: view %s: %w", key, err)
		}
		toks := tokens(body)
		var names map[string]bool
		if defined {
			names = definedNames(toks)
		}
		sub, err := l.resolveIn(body, travels, qualifiedNamesOf(toks), names, append(slices.Clone(path), key))
		if err != nil {
			if errors.Is(err, errStale) {
				return err
			}
			return fmt.Errorf("query: view %s: %w", key, err)
		}
		r.merge(sub)
		r.views = append(r.views, viewRef{table: v, body: sub.query})
	}
	return nil
}

// merge adds to r the tables, time travels, metadata tables and views of
// o that r lacks.
func (r *refs) merge(o refs) {
	for _, t := range o.tables {
		if !slices.ContainsFunc(r.tables, func(x catalog.Table) bool { return x.Database == t.Database && x.Name == t.Name }) {
			r.tables = append(r.tables, t)
		}
	}
	for _, tr := range o.travels {
		if !slices.ContainsFunc(r.travels, func(x travel) bool { return x.table.Database == tr.table.Database && x.view == tr.view }) {
			r.travels = append(r.travels, tr)
		}
	}
	for _, m := range o.metas {
		if !slices.ContainsFunc(r.metas, func(x metaRef) bool { return x.table.Database == m.table.Database && x.view == m.view }) {
			r.metas = append(r.metas, m)
		}
	}
	for _, v := range o.views {
		if !slices.ContainsFunc(r.views, func(x viewRef) bool { return x.table.Database == v.table.Database && x.table.Name == v.table.Name }) {
			r.views = append(r.views, v)
		}
	}
}

// viewsText is the text of query and of the views' queries, for what
// scans query text for functions (athenaSQL).
func viewsText(query string, views []viewRef) string {
	if len(views) == 0 {
		return query
	}
	parts := []string{query}
	for _, v := range views {
		parts = append(parts, v.body)
	}
	return strings.Join(parts, "\n;\n")
}

// createView is a view's DDL as SHOW CREATE VIEW shows it, one line per
// line of its query.
func createView(t catalog.Table) []string {
	return append([]string{"CREATE VIEW " + backtick(t.Database) + "." + backtick(t.Name) + " AS"}, strings.Split(t.ViewText, "\n")...)
}

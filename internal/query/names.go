package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
)

// Resolving names without listing the catalog. A query needs the
// catalog's databases (to tell db.table from a column path alias.column)
// and its tables by folded name (LAKE.Events is lake.events). Listing
// every table costs about a millisecond with a handful of tables, and
// grows with them, so the engine keeps its last listing (names) and a
// query resolves against it when the listing still holds for the query:
//   - every Iceberg table it finds there still exists, checked by one
//     indexed read of its current metadata location, which also loads
//     the table (refs.loaded), so a new snapshot or a dropped table is
//     seen at once; an external table's view reads its current
//     definition anyway (externalView), so a crawler's change is seen at
//     once too, and a dropped one is not found there;
//   - no reference in the query may name a table the listing lacks: a
//     missing table in a known database, a time travel or metadata table
//     the listing cannot answer, or db.x with db unknown to the listing
//     where a table can be named: after FROM, JOIN, ...; after ",", "(",
//     USING, PIVOT or UNPIVOT unless db is an alias or CTE name the query
//     defines (see qualifiedName.mayBeTable). A column path there whose
//     first part is not defined in the query (SELECT a, payload.x FROM
//     ...) lists the catalog for every query, as before the listing was
//     kept.
//
// Otherwise the catalog is listed again, as for the first query, and the
// new listing replaces the old one. Without the metadataLocator
// capability the catalog is listed for every query.

// errStale says that a listing cannot answer a query for sure.
var errStale = errors.New("query: the table listing may be out of date")

// tableListing is one listing of the catalog's tables. It is not modified
// after listTables returns it.
type tableListing struct {
	dbs       map[string]string           // folded -> catalog spelling, Options.Databases included
	byName    map[[2]string]catalog.Table // folded database and name
	databases []string                    // sorted catalog spellings
}

// listTables lists the catalog's tables and keeps the listing for later
// queries if the catalog can check them one by one.
func (e *Engine) listTables(ctx context.Context) (*tableListing, error) {
	all, err := e.cat.Tables(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	l := &tableListing{dbs: map[string]string{}, byName: make(map[[2]string]catalog.Table, len(all))}
	for _, db := range e.opts.Databases {
		l.dbs[strings.ToLower(db)] = db
	}
	for _, t := range all {
		l.dbs[strings.ToLower(t.Database)] = t.Database
		l.byName[[2]string{strings.ToLower(t.Database), strings.ToLower(t.Name)}] = t
	}
	for _, db := range l.dbs {
		l.databases = append(l.databases, db)
	}
	slices.Sort(l.databases)
	if _, ok := e.cat.(metadataLocator); ok {
		e.names.Store(l)
	}
	return l, nil
}

// fromListing resolves query's references against the earlier listing
// l, and checks every table found there against the catalog (see
// above). It returns an error wrapping errStale when l cannot answer.
func (e *Engine) fromListing(ctx context.Context, l *tableListing, query string, travels []travel, names []qualifiedName, defined map[string]bool) (refs, error) {
	ml, ok := e.cat.(metadataLocator)
	if !ok {
		return refs{}, errStale
	}
	r, err := l.resolve(query, travels, names, defined)
	if err != nil {
		return refs{}, err
	}
	check := func(t catalog.Table) error {
		key := [2]string{t.Database, t.Name}
		if r.loaded[key] != nil {
			return nil
		}
		loc, err := ml.IcebergMetadataLocation(ctx, t.Database, t.Name)
		if err != nil {
			if errors.Is(err, catalog.ErrNoSuchTable) {
				return errStale // dropped since l
			}
			return fmt.Errorf("query: table %s.%s: %w", t.Database, t.Name, err)
		}
		tbl, err := e.loadIcebergAt(ctx, t.Database, t.Name, loc)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return errStale // dropped since loc was read
		}
		if err != nil {
			return fmt.Errorf("query: table %s.%s: %w", t.Database, t.Name, err)
		}
		if r.loaded == nil {
			r.loaded = map[[2]string]*table.Table{}
		}
		r.loaded[key] = tbl
		return nil
	}
	for _, t := range r.tables {
		if t.Type != catalog.Iceberg {
			continue
		}
		if err := check(t); err != nil {
			return refs{}, err
		}
	}
	for _, tr := range r.travels {
		if err := check(tr.table); err != nil {
			return refs{}, err
		}
	}
	for _, m := range r.metas {
		if err := check(m.table); err != nil {
			return refs{}, err
		}
	}
	// A view's query is the catalog's current one: a view replaced or
	// dropped since l was listed is read from a new listing.
	for _, v := range r.views {
		cur, err := e.cat.Table(ctx, v.table.Database, v.table.Name)
		if errors.Is(err, catalog.ErrNoSuchTable) || err == nil && (cur.Type != catalog.VirtualView || cur.ViewText != v.table.ViewText) {
			return refs{}, errStale
		}
		if err != nil {
			return refs{}, fmt.Errorf("query: view %s.%s: %w", v.table.Database, v.table.Name, err)
		}
	}
	return r, nil
}

// definedNames are the names (folded) that a query may define as aliases
// or CTEs: a name after AS, after another name or ")" (FROM db.t s,
// (SELECT ...) s), or before AS ( (WITH d AS (...)), but not one
// followed by "." (a qualifier: FROM db.t). Keywords come along (FROM
// db.t WHERE ...): a name here only means that db.x with that db in a
// table position does not make a query list the catalog again.
func definedNames(toks []token) map[string]bool {
	out := map[string]bool{}
	for i, t := range toks {
		if t.kind != tokIdent || (i+1 < len(toks) && toks[i+1].kind == tokDot) {
			continue
		}
		switch {
		case i > 0 && (toks[i-1].kind == tokIdent || isPunct(toks[i-1], ")")):
		case i+2 < len(toks) && isWord(toks[i+1], "as") && isPunct(toks[i+2], "("):
		default:
			continue
		}
		out[strings.ToLower(t.text)] = true
	}
	return out
}

package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
)

// ErrInvalidChange is an ALTER TABLE that the table's schema does not
// allow: a column that is missing or exists already, a type change that
// Iceberg does not promote, a partition source dropped.
var ErrInvalidChange = errors.New("invalid table change")

// alterTable is one of Athena's ALTER TABLE statements on an Iceberg
// table of a catalog database:
//
//	ALTER TABLE db.t ADD COLUMNS (col type [COMMENT 'c'], ...)
//	ALTER TABLE db.t ADD COLUMN col type [COMMENT 'c']
//	ALTER TABLE db.t DROP COLUMN col
//	ALTER TABLE db.t CHANGE [COLUMN] col new_name type [COMMENT 'c']
//	ALTER TABLE db.t RENAME COLUMN col TO new_name
//	ALTER TABLE db.t SET TBLPROPERTIES ('key' = 'value', ...)
//
// A column of DROP, CHANGE and RENAME may be a struct's field (a.b).
type alterTable struct {
	db, name string             // folded
	add      []changeColumn     // newName, typ and comment of each
	drop     []string           // path
	change   *changeColumn      // CHANGE or RENAME COLUMN
	props    iceberg.Properties // SET TBLPROPERTIES
}

type changeColumn struct {
	path               []string
	newName            string
	typ, comment       string // typ: Hive DDL syntax; "" for unchanged
	hasComment, rename bool
}

// parseAlter returns the ALTER TABLE statement that query is, when it is
// one statement altering a table of one of the databases dbs (folded);
// nil if it is not one; an error wrapping ErrUnsupported naming what is
// allowed if it is one that cannot be read.
func parseAlter(query string, dbs map[string]bool) (*alterTable, error) {
	if !strings.Contains(strings.ToLower(query), "alter") {
		return nil, nil // most DDL: not tokenized again
	}
	toks := trimSemicolons(tokens(query))
	if len(statementStarts(toks)) != 1 || len(toks) < 6 || !isWord(toks[0], "alter") || !isWord(toks[1], "table") ||
		toks[2].kind != tokIdent || toks[3].kind != tokDot || toks[4].kind != tokIdent || !dbs[strings.ToLower(toks[2].text)] {
		return nil, nil
	}
	a := &alterTable{db: strings.ToLower(toks[2].text), name: strings.ToLower(toks[4].text)}
	bad := func(why string) error {
		return fmt.Errorf("query: ALTER TABLE %s.%s: %s (ALTER TABLE takes ADD COLUMNS (col type, ...), ADD COLUMN col type, DROP COLUMN col, CHANGE [COLUMN] col new_name type, RENAME COLUMN col TO new_name, SET TBLPROPERTIES ('key' = 'value', ...)): %w",
			a.db, a.name, why, ErrUnsupported)
	}
	rest := toks[5:]
	word := func(i int, w string) bool { return i < len(rest) && isWord(rest[i], w) }
	switch {
	case word(0, "add") && word(1, "columns"):
		items, ok := parenthesized(rest[2:])
		if !ok || len(items) == 0 {
			return nil, bad("ADD COLUMNS needs a list of columns in parentheses")
		}
		for _, item := range items {
			c, err := columnDef(query, item)
			if err != nil {
				return nil, bad(err.Error())
			}
			a.add = append(a.add, c)
		}
	case word(0, "add") && word(1, "column"): // Trino's
		c, err := columnDef(query, rest[2:])
		if err != nil {
			return nil, bad(err.Error())
		}
		a.add = []changeColumn{c}
	case word(0, "drop") && word(1, "column"):
		path, n := columnPath(rest[2:])
		if path == nil || 2+n != len(rest) {
			return nil, bad("DROP COLUMN needs one column")
		}
		a.drop = path
	case word(0, "change"):
		i := 1
		if word(1, "column") {
			i = 2
		}
		path, n := columnPath(rest[i:])
		if path == nil {
			return nil, bad("CHANGE needs the column, its new name and its type")
		}
		c, err := columnDef(query, rest[i+n:])
		if err != nil {
			return nil, bad(err.Error())
		}
		c.path = path
		c.rename = !strings.EqualFold(c.newName, path[len(path)-1])
		a.change = &c
	case word(0, "rename") && word(1, "column"):
		path, n := columnPath(rest[2:])
		if path == nil || !word(2+n, "to") || 2+n+2 != len(rest) || rest[2+n+1].kind != tokIdent {
			return nil, bad("RENAME COLUMN needs col TO new_name")
		}
		a.change = &changeColumn{path: path, newName: rest[len(rest)-1].text, rename: true}
	case word(0, "set") && word(1, "tblproperties"):
		items, ok := parenthesized(rest[2:])
		if !ok || len(items) == 0 {
			return nil, bad("SET TBLPROPERTIES needs ('key' = 'value', ...)")
		}
		a.props = iceberg.Properties{}
		for _, item := range items {
			if len(item) != 3 || item[0].kind != tokString || !isPunct(item[1], "=") || item[2].kind != tokString {
				return nil, bad("SET TBLPROPERTIES needs ('key' = 'value', ...)")
			}
			a.props[item[0].text] = item[2].text
		}
	default:
		return nil, bad("not a change it makes")
	}
	return a, nil
}

// parenthesized splits toks, which must be one parenthesized list and
// nothing after it, at its top-level commas.
func parenthesized(toks []token) ([][]token, bool) {
	if len(toks) < 2 || !isPunct(toks[0], "(") || !isPunct(toks[len(toks)-1], ")") {
		return nil, false
	}
	inner := toks[1 : len(toks)-1]
	var out [][]token
	depth, start := 0, 0
	for i, t := range inner {
		switch {
		case isPunct(t, "("), isPunct(t, "<"):
			depth++
		case isPunct(t, ")"), isPunct(t, ">"):
			depth--
			if depth < 0 {
				return nil, false
			}
		case depth == 0 && isPunct(t, ","):
			if i == start {
				return nil, false
			}
			out = append(out, inner[start:i])
			start = i + 1
		}
	}
	if depth != 0 || start == len(inner) {
		return nil, false
	}
	return append(out, inner[start:]), true
}

// columnPath reads a column name or a struct field's path (a.b.c) at the
// start of toks and returns it and the tokens it took; nil if there is
// none.
func columnPath(toks []token) ([]string, int) {
	var path []string
	i := 0
	for i < len(toks) && toks[i].kind == tokIdent {
		path = append(path, toks[i].text)
		i++
		if i+1 < len(toks) && toks[i].kind == tokDot && toks[i+1].kind == tokIdent {
			i++
			continue
		}
		break
	}
	return path, i
}

// columnDef reads "name type [COMMENT 'c']" from toks, the type's text
// taken from query as written.
func columnDef(query string, toks []token) (changeColumn, error) {
	if len(toks) < 2 || toks[0].kind != tokIdent {
		return changeColumn{}, fmt.Errorf("a column is a name and a type")
	}
	c := changeColumn{newName: toks[0].text}
	end := len(toks)
	if end >= 3 && isWord(toks[end-2], "comment") && toks[end-1].kind == tokString {
		c.comment, c.hasComment, end = toks[end-1].text, true, end-2
	}
	if end < 2 {
		return changeColumn{}, fmt.Errorf("column %s has no type", c.newName)
	}
	c.typ = strings.TrimSpace(query[toks[1].pos:toks[end-1].end])
	return c, nil
}

// icebergFromHive is the Iceberg type of a Hive DDL type (bigint,
// array<string>, struct<a:int>, decimal(10,2)), as CTAS types columns.
func icebergFromHive(s string) (iceberg.Type, error) {
	d, err := hiveToDuck(s)
	if err != nil {
		return nil, err
	}
	return icebergType(nil, parseDuckType(d), &fieldIDs{})
}

// alterStatement runs a against the catalog: one commit to the table, made
// again on the table's new metadata when another commit (the ETL's, say)
// came first.
func (e *Engine) alterStatement(ctx context.Context, a *alterTable) error {
	name := a.db + "." + a.name
	t, err := e.icebergTable(ctx, "ALTER TABLE", a.db, a.name,
		"it is a view (CREATE OR REPLACE VIEW changes it)", "it is a crawled (external) table, whose columns its crawler keeps")
	if err != nil {
		return err
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		tbl, err := e.cat.LoadIceberg(ctx, t.Database, t.Name)
		if err != nil {
			return fmt.Errorf("query: ALTER TABLE %s: %w", name, err)
		}
		txn := tbl.NewTransaction()
		if err := a.apply(tbl, txn); err != nil {
			return fmt.Errorf("query: ALTER TABLE %s: %w: %w", name, err, ErrInvalidChange)
		}
		_, err = txn.Commit(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, table.ErrCommitFailed) || attempt == attempts {
			return fmt.Errorf("query: ALTER TABLE %s: commit: %w", name, err)
		}
	}
}

// apply makes a's change to tbl in txn. Iceberg-go's schema update
// checks the change; apply also refuses what it lets through that would
// break the table: a column added under a name that is taken, and a
// partition source dropped (the spec would partition by a missing
// column).
func (a *alterTable) apply(tbl *table.Table, txn *table.Transaction) error {
	if a.props != nil {
		return txn.SetProperties(a.props)
	}
	sc := tbl.Schema()
	us := txn.UpdateSchema(false, false)
	for _, c := range a.add {
		if _, ok := sc.FindFieldByNameCaseInsensitive(c.newName); ok {
			return fmt.Errorf("column %s exists", c.newName)
		}
		typ, err := icebergFromHive(c.typ)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.newName, err)
		}
		us.AddColumn([]string{c.newName}, typ, c.comment, false, nil)
	}
	if a.drop != nil {
		name := strings.Join(a.drop, ".")
		f, ok := sc.FindFieldByNameCaseInsensitive(name)
		if !ok {
			return fmt.Errorf("column %s not found", name)
		}
		spec := tbl.Spec()
		for _, pf := range spec.Fields() {
			if pf.SourceID() == f.ID {
				return fmt.Errorf("column %s is the source of partition field %s, so it cannot be dropped", name, pf.Name)
			}
		}
		us.DeleteColumn(a.drop)
	}
	if c := a.change; c != nil {
		var upd table.ColumnUpdate
		if c.typ != "" {
			typ, err := icebergFromHive(c.typ)
			if err != nil {
				return fmt.Errorf("column %s: %w", strings.Join(c.path, "."), err)
			}
			upd.FieldType = iceberg.Optional[iceberg.Type]{Valid: true, Val: typ}
		}
		if c.hasComment {
			upd.Doc = iceberg.Optional[string]{Valid: true, Val: c.comment}
		}
		if upd.FieldType.Valid || upd.Doc.Valid {
			us.UpdateColumn(c.path, upd)
		}
		if c.rename {
			us.RenameColumn(c.path, c.newName)
		}
	}
	return us.Commit()
}

// icebergTable returns the catalog's Iceberg table db.name, which
// statement verb acts on: a missing table is a *NotFoundError, and a view
// or a crawled table an error wrapping ErrUnsupported that says onView or
// onExternal.
func (e *Engine) icebergTable(ctx context.Context, verb, db, name, onView, onExternal string) (catalog.Table, error) {
	t, err := e.cat.Table(ctx, db, name)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		return t, &NotFoundError{Database: db, Table: name}
	case err != nil:
		return t, fmt.Errorf("query: %s %s.%s: %w", verb, db, name, err)
	case t.Type == catalog.VirtualView:
		return t, fmt.Errorf("query: %s %s.%s: %s: %w", verb, db, name, onView, ErrUnsupported)
	case t.Type != catalog.Iceberg:
		return t, fmt.Errorf("query: %s %s.%s: %s: %w", verb, db, name, onExternal, ErrUnsupported)
	}
	return t, nil
}

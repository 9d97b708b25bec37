package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
)

// refs are the catalog objects a query needs.
type refs struct {
	query     string          // the SQL to run: without time travel clauses
	databases []string        // every catalog database, for CREATE SCHEMA
	tables    []catalog.Table // referenced tables, catalog spelling
	travels   []travel        // references at a snapshot (timetravel.go)
	metas     []metaRef       // metadata tables t$snapshots, t$history (metatables.go)
	views     []viewRef       // catalog views, each after the views it reads (catalogview.go)
	// loaded are Iceberg tables that resolving already loaded, by
	// database and name (catalog spelling): the views and the count from
	// metadata use them, so the query reads one snapshot of each.
	loaded map[[2]string]*table.Table
	// named is the query whose select list names the result's columns
	// (see athenaNames): query, before an answer from metadata replaced
	// it; "" for a write, whose result is its row count.
	named string
}

// iceberg returns the Iceberg table t, as resolving loaded it or loaded
// now.
func (e *Engine) iceberg(ctx context.Context, r refs, t catalog.Table) (*table.Table, error) {
	if tbl := r.loaded[[2]string{t.Database, t.Name}]; tbl != nil {
		return tbl, nil
	}
	return e.loadIceberg(ctx, t.Database, t.Name)
}

// resolve finds the catalog tables that query references, and rewrites
// its time travel clauses (see rewriteTimeTravel). It resolves against
// the engine's last listing of the catalog's tables when that listing
// still holds for the query (see fromListing), else lists them again.
func (e *Engine) resolve(ctx context.Context, query string) (refs, error) {
	query, travels, err := rewriteTimeTravel(query)
	if err != nil {
		return refs{}, err
	}
	toks := tokens(query)
	names := qualifiedNamesOf(toks)
	if l := e.names.Load(); l != nil {
		r, err := e.fromListing(ctx, l, query, travels, names, definedNames(toks))
		if err == nil {
			e.log.Debug("query resolved", "tables", len(r.tables), "snapshots", len(r.travels), "metadata", len(r.metas), "listed", false)
			return r, nil
		}
		if !errors.Is(err, errStale) {
			return refs{}, err
		}
	}
	l, err := e.listTables(ctx)
	if err != nil {
		return refs{}, err
	}
	r, err := l.resolve(query, travels, names, nil)
	if err != nil {
		return refs{}, err
	}
	e.log.Debug("query resolved", "tables", len(r.tables), "snapshots", len(r.travels), "metadata", len(r.metas), "listed", true)
	return r, nil
}

// resolve finds the tables that names and travels reference in l. With
// defined nil, l is a fresh listing and a reference to a missing table is
// a *NotFoundError. Otherwise l is an earlier listing and defined the
// names that query defines (aliases, CTEs; see definedNames): whatever
// l cannot answer for sure (a missing table, a name of a database that l
// does not know where a table can be) is errStale.
func (l *tableListing) resolve(query string, travels []travel, names []qualifiedName, defined map[string]bool) (refs, error) {
	return l.resolveIn(query, travels, names, defined, nil)
}

// resolveIn is resolve within the views of path (see expandViews).
func (l *tableListing) resolveIn(query string, travels []travel, names []qualifiedName, defined map[string]bool, path []string) (refs, error) {
	cached := defined != nil
	r := refs{query: query, databases: l.databases}
	seen := map[[2]string]bool{}
	for _, tr := range travels {
		t, ok := l.byName[[2]string{strings.ToLower(tr.db), strings.ToLower(tr.name)}]
		if cached && (!ok || t.Type != catalog.Iceberg) {
			return refs{}, errStale
		}
		if !ok {
			return refs{}, &NotFoundError{Database: tr.db, Table: tr.name}
		}
		if t.Type != catalog.Iceberg {
			return refs{}, fmt.Errorf("query: table %s.%s is an external (crawled) table: %s needs an Iceberg table (time travel reads its snapshots): %w",
				t.Database, t.Name, tr.clause(), ErrUnsupported)
		}
		tr.table = t
		r.travels = append(r.travels, tr)
		seen[[2]string{strings.ToLower(tr.db), strings.ToLower(tr.view)}] = true
	}
	for _, q := range names {
		key := [2]string{strings.ToLower(q.db), strings.ToLower(q.name)}
		if seen[key] {
			continue
		}
		if _, ok := l.dbs[key[0]]; !ok {
			if cached && q.mayBeTable(defined) {
				return refs{}, errStale // a database created since l?
			}
			continue
		}
		t, ok := l.byName[key]
		if !ok {
			if m, ok, err := metaTable(l.byName, q.db, q.name); err != nil {
				if cached {
					return refs{}, errStale
				}
				return refs{}, err
			} else if ok {
				seen[key] = true
				r.metas = append(r.metas, m)
				continue
			}
			if cached {
				return refs{}, errStale // a table created since l?
			}
			if q.inner || !tablePosition[q.prev] {
				// x.db.name, or db.name where a column may be: a struct
				// column or alias named like the database. DuckDB decides.
				continue
			}
			return refs{}, &NotFoundError{Database: q.db, Table: q.name}
		}
		seen[key] = true
		r.tables = append(r.tables, t)
	}
	if err := l.expandViews(&r, cached, path); err != nil {
		return refs{}, err
	}
	return r, nil
}

// qualifiedName is a pair a.b of identifiers in SQL text; inner marks a
// pair that follows another dot (x.a.b), prev is the preceding keyword
// (lower case) if any.
type qualifiedName struct {
	db, name string
	inner    bool
	prev     string
	list     bool // after "," or "("
}

// mayBeTable reports whether q may name a table rather than a column: it
// follows a keyword after which a table is named, or it follows a ","
// or "(" (FROM a, db.t) or USING, PIVOT, UNPIVOT and its first part is
// not a name the query defines (SELECT s.a, s.b FROM db.t s).
func (q qualifiedName) mayBeTable(defined map[string]bool) bool {
	switch {
	case q.inner:
		return false
	case tablePosition[q.prev]:
		return true
	}
	return !defined[strings.ToLower(q.db)] && (q.list || q.prev == "using" || q.prev == "pivot" || q.prev == "unpivot")
}

// tablePosition are the keywords after which a name can only be a table.
var tablePosition = map[string]bool{
	"from": true, "join": true, "table": true, "describe": true, "summarize": true,
	"into": true, "update": true,
}

// qualifiedNames returns the identifier pairs a.b of a SQL text, skipping
// string literals and comments. Quoted identifiers are unquoted.
func qualifiedNames(sql string) []qualifiedName {
	return qualifiedNamesOf(tokens(sql))
}

func qualifiedNamesOf(toks []token) []qualifiedName {
	var out []qualifiedName
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].kind != tokIdent || toks[i+1].kind != tokDot || toks[i+2].kind != tokIdent {
			continue
		}
		q := qualifiedName{db: toks[i].text, name: toks[i+2].text}
		if i > 0 {
			q.inner = toks[i-1].kind == tokDot
			if toks[i-1].kind == tokIdent && !toks[i-1].quoted {
				q.prev = strings.ToLower(toks[i-1].text)
			}
			q.list = isPunct(toks[i-1], ",") || isPunct(toks[i-1], "(")
		}
		out = append(out, q)
	}
	return out
}

type tokKind uint8

const (
	tokOther tokKind = iota
	tokIdent
	tokDot
	tokString // a 'string' literal; text is its value
)

type token struct {
	kind     tokKind
	text     string
	quoted   bool
	pos, end int // the token is sql[pos:end]
}

// statementStarts returns the index in toks of each statement's first
// token: statements are separated by ;, and empty ones are skipped.
func statementStarts(toks []token) []int {
	var out []int
	start := true
	for i, t := range toks {
		if isPunct(t, ";") {
			start = true
			continue
		}
		if start {
			out, start = append(out, i), false
		}
	}
	return out
}

// trimSemicolons returns toks without the semicolons that end them.
func trimSemicolons(toks []token) []token {
	for len(toks) > 0 && isPunct(toks[len(toks)-1], ";") {
		toks = toks[:len(toks)-1]
	}
	return toks
}

// statementWord is the keyword t, a statement's first token, starts the
// statement with, lower-cased; "" if it starts otherwise (a quoted name, a
// parenthesis).
func statementWord(t token) string {
	if t.kind != tokIdent || t.quoted {
		return ""
	}
	return strings.ToLower(t.text)
}

// tokens is a lexer just good enough to find identifiers: it knows
// comments, 'strings', "quoted identifiers" and $tag$ dollar quotes.
func tokens(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c, n, start := s[i], len(out), i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		case c == '\'':
			end := skipQuoted(s, i, '\'')
			text := strings.ReplaceAll(s[i+1:max(end-1, i+1)], "''", "'")
			out = append(out, token{kind: tokString, text: text})
			i = end
		case c == '"':
			end := skipQuoted(s, i, '"')
			text := strings.ReplaceAll(s[i+1:max(end-1, i+1)], `""`, `"`)
			out = append(out, token{kind: tokIdent, text: text, quoted: true})
			i = end
		case c == '$':
			i = skipDollar(s, i)
			out = append(out, token{kind: tokOther})
		case c == '.':
			out = append(out, token{kind: tokDot})
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			out = append(out, token{kind: tokIdent, text: s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			// A number, including its fraction: 1.5 is not a name.
			j := i + 1
			for j < len(s) && (isIdentPart(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, token{kind: tokOther})
			i = j
		default:
			out = append(out, token{kind: tokOther, text: s[i : i+1]})
			i++
		}
		if len(out) > n {
			out[n].pos, out[n].end = start, i
		}
	}
	return out
}

// skipQuoted returns the index after the quoted run starting at s[i],
// where a doubled quote is an escaped quote.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(s)
}

// skipDollar skips a $tag$...$tag$ string; a lone $ (a parameter such as
// $1) is one character.
func skipDollar(s string, i int) int {
	j := i + 1
	for j < len(s) && s[j] != '$' && (isIdentStart(s[j]) || (j > i+1 && s[j] >= '0' && s[j] <= '9')) {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		return i + 1
	}
	tag := s[i : j+1]
	k := strings.Index(s[j+1:], tag)
	if k < 0 {
		return len(s)
	}
	return j + 1 + k + len(tag)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

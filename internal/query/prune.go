package query

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
)

// rowFilter returns the Iceberg row filter that a query's WHERE clause
// implies for the table db.name, for scan planning to prune data files; nil
// if none. It is conservative: the query must be one SELECT with no
// subquery, CTE, set operation or join, reading only db.name, and the
// filter keeps only the top-level AND terms of the form
//
//	col op literal   or   literal op col
//
// where col is a source column of a partition field of spec (a timestamptz,
// timestamp or date column), op is =, <, <=, > or >=, and literal is a
// TIMESTAMPTZ, TIMESTAMP or DATE literal, or a string, of the column's
// kind. Other terms are left out, which only widens the filter; any OR at
// the top level drops it. The view still applies the whole WHERE clause:
// the filter only decides which files the view lists.
func rowFilter(query, db, name string, sch *iceberg.Schema, spec *iceberg.PartitionSpec) iceberg.BooleanExpression {
	where, alias, ok := whereClause(tokens(query), db, name)
	if !ok {
		return nil
	}
	return and(comparisons(where, alias, partitionSources(sch, spec)))
}

// viewRowFilter returns the row filter for db.name when query reads it
// through a catalog view of views: query reads only the view (as rowFilter
// asks of a table), and the view's query reads only db.name. The filter is
// the view's own WHERE clause's, AND query's terms on the view columns
// that are db.name's partition source columns passed through unchanged
// (c, t.c, c AS n, or *), when the view only filters and projects: no
// GROUP BY, HAVING, DISTINCT, window, LIMIT, OFFSET or sample, whose
// result a filter below them would change. nil if none.
func viewRowFilter(query string, views []viewRef, db, name string, sch *iceberg.Schema, spec *iceberg.PartitionSpec) iceberg.BooleanExpression {
	toks := tokens(query)
	for _, v := range views {
		outer, ok := selectFrom(toks, v.table.Database, v.table.Name)
		if !ok {
			continue
		}
		inner, ok := selectFrom(tokens(v.body), db, name)
		if !ok {
			return nil
		}
		sources := partitionSources(sch, spec)
		preds := comparisons(inner.where, inner.names, sources)
		if projectsOnly(inner) {
			columns := map[string]bool{}
			for _, f := range sch.Fields() {
				columns[strings.ToLower(f.Name)] = true
			}
			preds = append(preds, comparisons(outer.where, outer.names, passedThrough(inner, sources, columns))...)
		}
		return and(preds)
	}
	return nil
}

// partitionSources are the source columns of spec's fields, by folded
// name.
func partitionSources(sch *iceberg.Schema, spec *iceberg.PartitionSpec) map[string]iceberg.NestedField {
	sources := map[string]iceberg.NestedField{}
	for _, f := range spec.Fields() {
		if src, ok := sch.FindFieldByID(f.SourceID()); ok {
			sources[strings.ToLower(src.Name)] = src
		}
	}
	return sources
}

// comparisons are the predicates of where's top-level AND terms on
// sources (see comparison); none if where has a top-level OR.
func comparisons(where []token, table map[string]bool, sources map[string]iceberg.NestedField) []iceberg.BooleanExpression {
	var preds []iceberg.BooleanExpression
	for _, term := range conjuncts(where) {
		if p := comparison(term, table, sources); p != nil {
			preds = append(preds, p)
		}
	}
	return preds
}

// and is the conjunction of preds, nil for none.
func and(preds []iceberg.BooleanExpression) iceberg.BooleanExpression {
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return iceberg.NewAnd(preds[0], preds[1], preds[2:]...)
}

// projectsOnly reports whether s only filters and projects its table's
// rows: a filter on its result is a filter on the table's rows.
func projectsOnly(s simpleSelect) bool {
	if len(s.list) > 0 && (isWord(s.list[0], "distinct") || isWord(s.list[0], "all") && len(s.list) > 1 && isWord(s.list[1], "distinct")) {
		return false
	}
	for _, t := range s.list {
		if isWord(t, "over") {
			return false
		}
	}
	for _, t := range s.rest {
		switch {
		case isWord(t, "group"), isWord(t, "having"), isWord(t, "window"), isWord(t, "qualify"),
			isWord(t, "limit"), isWord(t, "offset"), isWord(t, "using"), isWord(t, "sample"):
			return false
		}
	}
	return true
}

// passedThrough are the columns of s's result that are sources passed
// through unchanged, by folded result name: an item * or t.*, which
// passes every column of the table (columns, folded) under its name, or c,
// t.c, c AS n or c n for a source c. A name that another item of the list
// may also give a column (x AS n, f(x) n, s.n, or * for a column of the
// table) is left out, as is one two items give different sources.
func passedThrough(s simpleSelect, sources map[string]iceberg.NestedField, columns map[string]bool) map[string]iceberg.NestedField {
	items := splitList(s.list)
	star := false
	for _, item := range items {
		if src, _, ok := passItem(item, s.names); ok && src == "*" {
			star = true
		}
	}
	passed := map[string]iceberg.NestedField{}
	claimed := map[string]bool{}
	give := func(out string, f iceberg.NestedField) {
		if prev, seen := passed[out]; seen && prev.ID != f.ID {
			claimed[out] = true
		}
		passed[out] = f
	}
	for _, item := range items {
		src, out, ok := passItem(item, s.names)
		switch {
		case ok && src == "*":
			for n, f := range sources {
				give(n, f)
			}
		case ok:
			f, isSource := sources[src]
			if !isSource || star && columns[out] && src != out {
				claimed[out] = true // another column under that name
				continue
			}
			give(out, f)
		default:
			if last := item[len(item)-1]; last.kind == tokIdent {
				claimed[strings.ToLower(last.text)] = true
			}
		}
	}
	for n := range claimed {
		delete(passed, n)
	}
	return passed
}

// passItem matches a select-list item that passes a column through: *,
// t.*, c, t.c, each optionally followed by [AS] n; it returns the folded
// column ("*" for a star) and result name.
func passItem(item []token, table map[string]bool) (src, out string, ok bool) {
	ref := item
	if len(ref) >= 3 && ref[0].kind == tokIdent && table[strings.ToLower(ref[0].text)] && ref[1].kind == tokDot {
		ref = ref[2:]
	}
	if len(ref) == 1 && isPunct(ref[0], "*") {
		return "*", "", true
	}
	if len(ref) == 0 || ref[0].kind != tokIdent || !ref[0].quoted && clauseEnd[strings.ToLower(ref[0].text)] {
		return "", "", false
	}
	src = strings.ToLower(ref[0].text)
	switch {
	case len(ref) == 1:
		return src, src, true
	case len(ref) == 2 && ref[1].kind == tokIdent:
		return src, strings.ToLower(ref[1].text), true
	case len(ref) == 3 && isWord(ref[1], "as") && ref[2].kind == tokIdent:
		return src, strings.ToLower(ref[2].text), true
	}
	return "", "", false
}

// splitList splits a select list at its top-level commas; items are not
// empty.
func splitList(list []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range list {
		switch {
		case isPunct(t, "("), isPunct(t, "["):
			depth++
		case isPunct(t, ")"), isPunct(t, "]"):
			depth--
		case depth == 0 && isPunct(t, ","):
			if i > start {
				out = append(out, list[start:i])
			}
			start = i + 1
		}
	}
	if start < len(list) {
		out = append(out, list[start:])
	}
	return out
}

// whereClause returns the tokens of the WHERE clause of a query of the form
// SELECT ... FROM db.name [[AS] alias] WHERE ... [GROUP|ORDER|LIMIT ...],
// and the names the table goes by (name and alias, folded).
func whereClause(toks []token, db, name string) ([]token, map[string]bool, bool) {
	s, ok := selectFrom(toks, db, name)
	if !ok || s.where == nil {
		return nil, nil, false
	}
	return s.where, s.names, true
}

// simpleSelect is a query of the form
//
//	SELECT list FROM db.name [[AS] alias] [WHERE where] [rest]
//
// with one SELECT, no subquery, join or set operation; rest starts with a
// clauseEnd keyword.
type simpleSelect struct {
	list, where, rest []token
	names             map[string]bool // what the table goes by: name, or its alias (folded)
}

// selectFrom parses toks as a simpleSelect reading db.name.
func selectFrom(toks []token, db, name string) (simpleSelect, bool) {
	toks = trimSemicolons(toks)
	if len(toks) == 0 || !isWord(toks[0], "select") {
		return simpleSelect{}, false
	}
	from := -1
	depth := 0
	for i, t := range toks {
		switch {
		case isPunct(t, ";"):
			return simpleSelect{}, false
		case isPunct(t, "("):
			depth++
		case isPunct(t, ")"):
			depth--
		case i > 0 && isWord(t, "select"), isWord(t, "join"), isWord(t, "union"),
			isWord(t, "intersect"), isWord(t, "except"):
			return simpleSelect{}, false
		case depth == 0 && isWord(t, "from"):
			if from >= 0 {
				return simpleSelect{}, false
			}
			from = i
		}
	}
	if from < 0 || from+4 > len(toks) {
		return simpleSelect{}, false
	}
	ref := toks[from+1 : from+4]
	if ref[0].kind != tokIdent || ref[1].kind != tokDot || ref[2].kind != tokIdent ||
		!strings.EqualFold(ref[0].text, db) || !strings.EqualFold(ref[2].text, name) {
		return simpleSelect{}, false
	}
	s := simpleSelect{list: toks[1:from], names: map[string]bool{strings.ToLower(name): true}}
	i := from + 4
	if i < len(toks) && isWord(toks[i], "as") {
		i++
	}
	if i < len(toks) && toks[i].kind == tokIdent && !isWord(toks[i], "where") && (toks[i].quoted || !clauseEnd[strings.ToLower(toks[i].text)]) {
		s.names = map[string]bool{strings.ToLower(toks[i].text): true}
		i++
	}
	rest := func(j int) (simpleSelect, bool) {
		if j < len(toks) && (toks[j].kind != tokIdent || toks[j].quoted || !clauseEnd[strings.ToLower(toks[j].text)]) {
			return simpleSelect{}, false
		}
		s.rest = toks[j:]
		return s, true
	}
	if i >= len(toks) || !isWord(toks[i], "where") {
		return rest(i)
	}
	start := i + 1
	depth = 0
	for j := start; j < len(toks); j++ {
		t := toks[j]
		switch {
		case isPunct(t, "("):
			depth++
		case isPunct(t, ")"):
			depth--
		case depth == 0 && t.kind == tokIdent && !t.quoted && clauseEnd[strings.ToLower(t.text)]:
			s.where = toks[start:j]
			return rest(j)
		}
	}
	s.where = toks[start:]
	return s, true
}

// clauseEnd are the keywords that end a WHERE clause.
var clauseEnd = map[string]bool{
	"group": true, "having": true, "window": true, "qualify": true, "order": true,
	"limit": true, "offset": true, "using": true,
}

// conjuncts splits a WHERE clause at its top-level ANDs; nil if it has a
// top-level OR. The AND of a BETWEEN stays inside its term.
func conjuncts(where []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	between := false
	for i, t := range where {
		switch {
		case isPunct(t, "("):
			depth++
		case isPunct(t, ")"):
			depth--
		case depth == 0 && isWord(t, "or"):
			return nil
		case depth == 0 && isWord(t, "between"):
			between = true
		case depth == 0 && isWord(t, "and"):
			if between {
				between = false
				continue
			}
			out = append(out, where[start:i])
			start = i + 1
		}
	}
	return append(out, where[start:])
}

// comparison is the Iceberg predicate of one term, or nil.
func comparison(term []token, table map[string]bool, sources map[string]iceberg.NestedField) iceberg.BooleanExpression {
	// The operator: <, <=, =, >=, > (as one or two punctuation tokens).
	for i := 1; i < len(term)-1; i++ {
		op := operator(term[i:])
		if op == "" {
			continue
		}
		left, right := term[:i], term[i+len(op):]
		if f, ok := columnRef(left, table, sources); ok {
			return predicate(f, op, right)
		}
		if f, ok := columnRef(right, table, sources); ok {
			return predicate(f, flip[op], left)
		}
		return nil
	}
	return nil
}

var flip = map[string]string{"<": ">", "<=": ">=", "=": "=", ">=": "<=", ">": "<"}

func operator(toks []token) string {
	if len(toks) == 0 || toks[0].kind != tokOther {
		return ""
	}
	switch toks[0].text {
	case "=":
		return "="
	case "<", ">":
		if len(toks) > 1 && isPunct(toks[1], "=") {
			return toks[0].text + "="
		}
		if len(toks) > 1 && toks[1].kind == tokOther && (toks[1].text == ">" || toks[1].text == "<") {
			return "" // <>, <<, >>
		}
		return toks[0].text
	}
	return ""
}

// columnRef matches col or table.col, col a partition source column.
func columnRef(toks []token, table map[string]bool, sources map[string]iceberg.NestedField) (iceberg.NestedField, bool) {
	switch {
	case len(toks) == 1 && toks[0].kind == tokIdent:
	case len(toks) == 3 && toks[0].kind == tokIdent && toks[1].kind == tokDot && toks[2].kind == tokIdent &&
		table[strings.ToLower(toks[0].text)]:
		toks = toks[2:]
	default:
		return iceberg.NestedField{}, false
	}
	f, ok := sources[strings.ToLower(toks[0].text)]
	return f, ok
}

// predicate is col op literal, or nil if lit is not a literal of the
// column's kind.
func predicate(f iceberg.NestedField, op string, lit []token) iceberg.BooleanExpression {
	typ, val, ok := literal(lit)
	if !ok {
		return nil
	}
	ref := iceberg.Reference(f.Name)
	switch f.Type.(type) {
	case iceberg.TimestampTzType:
		if typ != "" && typ != "timestamptz" && typ != "timestamp" {
			return nil
		}
		us, ok := parseTimestamp(val, typ != "timestamp")
		if !ok {
			return nil
		}
		return compare(ref, op, iceberg.Timestamp(us))
	case iceberg.TimestampType:
		if typ != "" && typ != "timestamp" {
			return nil
		}
		us, ok := parseTimestamp(val, false)
		if !ok {
			return nil
		}
		return compare(ref, op, iceberg.Timestamp(us))
	case iceberg.DateType:
		if typ != "" && typ != "date" {
			return nil
		}
		d, err := time.Parse(time.DateOnly, val)
		if err != nil {
			return nil
		}
		return compare(ref, op, iceberg.Date(d.Unix()/86400))
	}
	return nil
}

func compare[T iceberg.LiteralType](ref iceberg.UnboundTerm, op string, v T) iceberg.BooleanExpression {
	switch op {
	case "=":
		return iceberg.EqualTo(ref, v)
	case "<":
		return iceberg.LessThan(ref, v)
	case "<=":
		return iceberg.LessThanEqual(ref, v)
	case ">":
		return iceberg.GreaterThan(ref, v)
	case ">=":
		return iceberg.GreaterThanEqual(ref, v)
	}
	return nil
}

// literal matches 'v', TYPE 'v' or 'v'::TYPE and returns the folded type
// ("" for a bare string; timestamptz for TIMESTAMP WITH TIME ZONE).
func literal(toks []token) (typ, val string, ok bool) {
	switch {
	case len(toks) == 1 && toks[0].kind == tokString:
		return "", toks[0].text, true
	case len(toks) == 2 && toks[0].kind == tokIdent && !toks[0].quoted && toks[1].kind == tokString:
		return strings.ToLower(toks[0].text), toks[1].text, true
	case len(toks) == 4 && toks[0].kind == tokString && isPunct(toks[1], ":") && isPunct(toks[2], ":") &&
		toks[3].kind == tokIdent && !toks[3].quoted:
		return strings.ToLower(toks[3].text), toks[0].text, true
	}
	return "", "", false
}

// timestampText is the subset of DuckDB's timestamp syntax that
// parseTimestamp reads: date, optional time with up to 6 fractional
// digits, optional UTC offset.
var timestampText = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$`)

// parseTimestamp returns the microseconds since the epoch of a timestamp
// literal read in UTC (the session time zone); an offset is allowed only
// with tz.
func parseTimestamp(s string, tz bool) (int64, bool) {
	m := timestampText.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || (m[6] != "" && !tz) {
		return 0, false
	}
	d, err := time.Parse(time.DateOnly, m[1])
	if err != nil {
		return 0, false
	}
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	h, mi, sec := num(m[2]), num(m[3]), num(m[4])
	if h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	frac := 0
	if m[5] != "" {
		frac = num((m[5] + "00000")[:6])
	}
	us := d.Unix()*1e6 + int64(h*3600+mi*60+sec)*1e6 + int64(frac)
	if off := m[6]; off != "" && off != "Z" {
		digits := strings.ReplaceAll(off[1:], ":", "")
		secs := num(digits[:2]) * 3600
		if len(digits) == 4 {
			secs += num(digits[2:]) * 60
		}
		if off[0] == '+' {
			secs = -secs
		}
		us += int64(secs) * 1e6
	}
	return us, true
}

func isPunct(t token, s string) bool { return t.kind == tokOther && t.text == s }

func isWord(t token, w string) bool {
	return t.kind == tokIdent && !t.quoted && strings.EqualFold(t.text, w)
}

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
	sources := map[string]iceberg.NestedField{}
	for _, f := range spec.Fields() {
		if src, ok := sch.FindFieldByID(f.SourceID()); ok {
			sources[strings.ToLower(src.Name)] = src
		}
	}
	var preds []iceberg.BooleanExpression
	for _, term := range conjuncts(where) {
		if p := comparison(term, alias, sources); p != nil {
			preds = append(preds, p)
		}
	}
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return iceberg.NewAnd(preds[0], preds[1], preds[2:]...)
}

// whereClause returns the tokens of the WHERE clause of a query of the form
// SELECT ... FROM db.name [[AS] alias] WHERE ... [GROUP|ORDER|LIMIT ...],
// and the names the table goes by (name and alias, folded).
func whereClause(toks []token, db, name string) ([]token, map[string]bool, bool) {
	toks = trimSemicolons(toks)
	if len(toks) == 0 || !isWord(toks[0], "select") {
		return nil, nil, false
	}
	from := -1
	depth := 0
	for i, t := range toks {
		switch {
		case isPunct(t, ";"):
			return nil, nil, false
		case isPunct(t, "("):
			depth++
		case isPunct(t, ")"):
			depth--
		case i > 0 && isWord(t, "select"), isWord(t, "join"), isWord(t, "union"),
			isWord(t, "intersect"), isWord(t, "except"):
			return nil, nil, false
		case depth == 0 && isWord(t, "from"):
			if from >= 0 {
				return nil, nil, false
			}
			from = i
		}
	}
	if from < 0 || from+3 >= len(toks) {
		return nil, nil, false
	}
	ref := toks[from+1 : from+4]
	if ref[0].kind != tokIdent || ref[1].kind != tokDot || ref[2].kind != tokIdent ||
		!strings.EqualFold(ref[0].text, db) || !strings.EqualFold(ref[2].text, name) {
		return nil, nil, false
	}
	names := map[string]bool{strings.ToLower(name): true}
	i := from + 4
	if i < len(toks) && isWord(toks[i], "as") {
		i++
	}
	if i < len(toks) && toks[i].kind == tokIdent && !isWord(toks[i], "where") {
		names = map[string]bool{strings.ToLower(toks[i].text): true}
		i++
	}
	if i >= len(toks) || !isWord(toks[i], "where") {
		return nil, nil, false
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
			return toks[start:j], names, true
		}
	}
	return toks[start:], names, true
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

package query

import (
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

// Athena's (Trino's) SQL that DuckDB reads otherwise or not at all, and
// that no macro can stand in for, rewritten in the query text by
// rewriteAthena.
//
// Functions whose format DuckDB takes only as a constant, or in another
// syntax (a macro's parameter is not a constant), when the format is a
// string literal, as it nearly always is:
//
//	date_parse(s, '%Y-%m-%d %H:%i:%s')         strptime(s, '%Y-%m-%d %H:%M:%S')
//	parse_datetime(s, 'yyyy-MM-dd HH:mm')      CAST(strptime(s, '%Y-%m-%d %H:%M') AS TIMESTAMPTZ)
//	format_datetime(ts, 'yyyy-MM-dd')          strftime(ts, '%Y-%m-%d')
//	format('%s: %.2f', name, x)                printf('%s: %.2f', CAST(name AS VARCHAR), x)
//
// date_parse takes MySQL's format letters (as date_format does),
// parse_datetime and format_datetime Java's (Joda) patterns, format Java's
// printf conversions, whose %s formats any value (DuckDB's printf takes
// only strings for %s; DuckDB's format has {} placeholders and would
// print '%s' as it is). A call whose format is not a literal is left for
// DuckDB, which names what it lacks.
//
// Functions that take a lambda (a macro cannot pass one on):
//
//	transform(a, x -> x * 2)                   list_transform(a, x -> x * 2)
//	any_match(a, x -> x > 0)                   list_bool_or(list_transform(a, x -> x > 0))
//	all_match(a, x -> x > 0)                   list_bool_and(list_transform(a, x -> x > 0))
//	none_match(a, x -> x > 0)                  (NOT list_bool_or(list_transform(a, x -> x > 0)))
//	reduce(a, 0, (s, x) -> s + x, s -> s * 2)  list_transform([list_reduce(a, (s, x) -> s + x, 0)], s -> s * 2)[1]
//	zip_with(a, b, (x, y) -> x + y)            list_transform(list_zip(a, b), sl_e -> (sl_e[1] + sl_e[2]))
//	map_filter(m, (k, v) -> v > 0)             map_from_entries(list_filter(map_entries(m), sl_e -> (sl_e.value > 0)))
//	transform_keys(m, (k, v) -> upper(k))      map_from_entries(list_transform(map_entries(m), sl_e -> {'key': (upper(sl_e.key)), 'value': sl_e.value}))
//	transform_values(m, (k, v) -> v * 2)       map_from_entries(list_transform(map_entries(m), sl_e -> {'key': sl_e.key, 'value': (sl_e.value * 2)}))
//
// The last four take a lambda of two parameters, which DuckDB's list
// functions do not: the lambda's body is rewritten over one parameter,
// its uses of the two parameters replaced by the parts of a list_zip pair
// or a map entry.
//
// (filter is the same in both.) And sampling, whose size is a percentage
// in Trino and a row count in DuckDB:
//
//	TABLESAMPLE BERNOULLI (10)                 TABLESAMPLE BERNOULLI (10 PERCENT)
//	TABLESAMPLE SYSTEM (10)                    TABLESAMPLE SYSTEM (10 PERCENT)

// lambdaFunctions are Athena's functions of an array and a lambda, as the
// text before and after their arguments.
var lambdaFunctions = map[string][2]string{
	"transform":  {"list_transform(", ")"},
	"any_match":  {"list_bool_or(list_transform(", "))"},
	"all_match":  {"list_bool_and(list_transform(", "))"},
	"none_match": {"(NOT list_bool_or(list_transform(", ")))"},
}

// rewritten are the words rewriteAthena looks for.
var rewritten = []string{"date_parse", "parse_datetime", "format_datetime", "format",
	"transform", "any_match", "all_match", "none_match", "reduce", "tablesample",
	"zip_with", "map_filter", "transform_keys", "transform_values"}

// edit replaces query[pos:end] with text (an insertion when pos == end).
type edit struct {
	pos, end int
	text     string
}

// rewriteAthena returns query with Athena's SQL that DuckDB reads
// otherwise rewritten for DuckDB (see above).
func rewriteAthena(query string) string {
	lower := strings.ToLower(query)
	if !slices.ContainsFunc(rewritten, func(w string) bool { return strings.Contains(lower, w) }) {
		return query
	}
	toks := tokens(query)
	var edits []edit
	skip := 0 // a call rewritten whole ends there: its tokens are done
	for i, t := range toks {
		if t.pos < skip || t.kind != tokIdent || t.quoted || i+1 >= len(toks) || i > 0 && toks[i-1].kind == tokDot {
			continue
		}
		name := strings.ToLower(t.text)
		if name == "tablesample" {
			// TABLESAMPLE BERNOULLI|SYSTEM ( number )
			if i+4 < len(toks) && (isWord(toks[i+1], "bernoulli") || isWord(toks[i+1], "system")) && isPunct(toks[i+2], "(") &&
				toks[i+3].kind == tokOther && toks[i+3].text == "" && isPunct(toks[i+4], ")") {
				edits = append(edits, edit{toks[i+3].end, toks[i+3].end, " PERCENT"})
			}
			continue
		}
		if !isPunct(toks[i+1], "(") || !slices.Contains(rewritten, name) {
			continue
		}
		args, end := callArgs(toks, i+1)
		if end < 0 {
			continue
		}
		if f, ok := lambdaFunctions[name]; ok {
			edits = append(edits, edit{t.pos, toks[i+1].end, f[0]}, edit{end - 1, end, f[1]})
			continue
		}
		if name == "reduce" {
			// reduce(a, init, (s, x) -> f, s -> g) is g of list_reduce(a,
			// (s, x) -> f, init); a lambda is applied to a value as the
			// one element of a list. The arguments move, so each is
			// rewritten on its own and the call replaced whole.
			if len(args) == 4 && !slices.ContainsFunc(args, func(a []token) bool { return len(a) == 0 }) {
				arg := func(k int) string { return rewriteAthena(query[args[k][0].pos:args[k][len(args[k])-1].end]) }
				edits = append(edits, edit{t.pos, end, "list_transform([list_reduce(" + arg(0) + ", " + arg(2) + ", " + arg(1) + ")], " + arg(3) + ")[1]"})
				skip = end
			}
			continue
		}
		switch name {
		case "zip_with", "map_filter", "transform_keys", "transform_values":
			// The arguments move: the call is replaced whole.
			if text, ok := rewritePairLambda(query, name, args); ok {
				edits = append(edits, edit{t.pos, end, text})
				skip = end
			}
		case "date_parse", "parse_datetime", "format_datetime":
			if len(args) != 2 || len(args[1]) != 1 || args[1][0].kind != tokString {
				continue
			}
			lit := args[1][0]
			switch name {
			case "date_parse":
				edits = append(edits, edit{t.pos, t.end, "strptime"}, edit{lit.pos, lit.end, schema.QuoteString(mysqlFormats.Replace(lit.text))})
			case "parse_datetime":
				edits = append(edits, edit{t.pos, t.end, "CAST(strptime"}, edit{lit.pos, lit.end, schema.QuoteString(jodaFormat(lit.text))},
					edit{end, end, " AS TIMESTAMPTZ)"})
			default:
				edits = append(edits, edit{t.pos, t.end, "strftime"}, edit{lit.pos, lit.end, schema.QuoteString(jodaFormat(lit.text))})
			}
		case "format":
			if len(args) < 1 || len(args[0]) != 1 || args[0][0].kind != tokString {
				continue
			}
			edits = append(edits, edit{t.pos, t.end, "printf"})
			for k, conv := range printfConversions(args[0][0].text) {
				if k+1 >= len(args) || len(args[k+1]) == 0 || conv != 's' && conv != 'S' {
					continue
				}
				a := args[k+1]
				edits = append(edits, edit{a[0].pos, a[0].pos, "CAST("}, edit{a[len(a)-1].end, a[len(a)-1].end, " AS VARCHAR)"})
			}
		}
	}
	if len(edits) == 0 {
		return query
	}
	// Insertions before replacements at the same place: CAST( goes
	// before a name that is itself rewritten.
	slices.SortStableFunc(edits, func(a, b edit) int {
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		return (a.end - a.pos) - (b.end - b.pos)
	})
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.pos < at {
			continue // overlaps the last edit: not a call this rewrites
		}
		b.WriteString(query[at:e.pos])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(query[at:])
	return b.String()
}

// pairParam is the parameter of the one-parameter lambda that
// rewritePairLambda writes.
const pairParam = "sl_e"

// rewritePairLambda rewrites a call of zip_with(a, b, (x, y) -> f) or of
// map_filter, transform_keys or transform_values(m, (k, v) -> f) (see
// above); ok is false for a call of another shape, left for DuckDB.
func rewritePairLambda(query, name string, args [][]token) (_ string, ok bool) {
	n := 2
	if name == "zip_with" {
		n = 3
	}
	if len(args) != n || slices.ContainsFunc(args, func(a []token) bool { return len(a) == 0 }) {
		return "", false
	}
	params, body, ok := lambdaParts(args[n-1])
	if !ok || len(params) != 2 {
		return "", false
	}
	arg := func(k int) string { return rewriteAthena(query[args[k][0].pos:args[k][len(args[k])-1].end]) }
	e := pairParam
	if name == "zip_with" {
		f := rewriteAthena(substitute(query, body, params, []string{e + "[1]", e + "[2]"}))
		return "list_transform(list_zip(" + arg(0) + ", " + arg(1) + "), " + e + " -> (" + f + "))", true
	}
	f := "(" + rewriteAthena(substitute(query, body, params, []string{e + ".key", e + ".value"})) + ")"
	entries := "map_entries(" + arg(0) + "), " + e + " -> "
	switch name {
	case "map_filter":
		return "map_from_entries(list_filter(" + entries + f + "))", true
	case "transform_keys":
		return "map_from_entries(list_transform(" + entries + "{'key': " + f + ", 'value': " + e + ".value}))", true
	}
	return "map_from_entries(list_transform(" + entries + "{'key': " + e + ".key, 'value': " + f + "}))", true
}

// lambdaParts splits the tokens of a lambda, x -> f or (x, y) -> f, into
// its parameters (folded) and its body; ok is false for anything else.
func lambdaParts(toks []token) (params []string, body []token, ok bool) {
	i := 0
	switch {
	case len(toks) > 0 && isPunct(toks[0], "("):
		for i = 1; ; i++ {
			if i+1 >= len(toks) || toks[i].kind != tokIdent {
				return nil, nil, false
			}
			params = append(params, strings.ToLower(toks[i].text))
			i++
			if isPunct(toks[i], ")") {
				i++
				break
			}
			if !isPunct(toks[i], ",") {
				return nil, nil, false
			}
		}
	case len(toks) > 0 && toks[0].kind == tokIdent:
		params, i = []string{strings.ToLower(toks[0].text)}, 1
	default:
		return nil, nil, false
	}
	if i+2 >= len(toks) || !isPunct(toks[i], "-") || !isPunct(toks[i+1], ">") || toks[i+1].pos != toks[i].end {
		return nil, nil, false
	}
	return params, toks[i+2:], true
}

// substitute returns the text of toks, tokens of query, with each use of
// a parameter params[k] replaced by with[k]: the name, unqualified and
// not called as a function.
func substitute(query string, toks []token, params, with []string) string {
	var b strings.Builder
	at := toks[0].pos
	for j, t := range toks {
		if t.kind != tokIdent || j > 0 && toks[j-1].kind == tokDot || j+1 < len(toks) && isPunct(toks[j+1], "(") {
			continue
		}
		if k := slices.Index(params, strings.ToLower(t.text)); k >= 0 {
			b.WriteString(query[at:t.pos])
			b.WriteString(with[k])
			at = t.end
		}
	}
	b.WriteString(query[at:toks[len(toks)-1].end])
	return b.String()
}

// callArgs returns the arguments (their tokens) of the call whose opening
// parenthesis is toks[open], split at its top-level commas, and the
// position after its closing parenthesis; end is -1 if none closes it.
func callArgs(toks []token, open int) (args [][]token, end int) {
	depth, start := 0, open+1
	for j := open; j < len(toks); j++ {
		switch {
		case isPunct(toks[j], "(") || isPunct(toks[j], "[") || isPunct(toks[j], "{"):
			depth++
		case isPunct(toks[j], ")") || isPunct(toks[j], "]") || isPunct(toks[j], "}"):
			depth--
			if depth == 0 {
				if j > start || len(args) > 0 {
					args = append(args, toks[start:j])
				}
				return args, toks[j].end
			}
		case depth == 1 && isPunct(toks[j], ","):
			args = append(args, toks[start:j])
			start = j + 1
		}
	}
	return nil, -1 // unbalanced: DuckDB reports it
}

// mysqlFormats translates MySQL's format letters, which Athena's
// date_format and date_parse take, to strftime's and strptime's.
var mysqlFormats = strings.NewReplacer(mysqlFormatPairs...)

var mysqlFormatPairs = []string{
	"%%", "%%", "%M", "%B", "%i", "%M", "%s", "%S", "%e", "%-d", "%c", "%-m", "%k", "%-H",
	"%l", "%-I", "%h", "%I", "%W", "%A", "%T", "%H:%M:%S", "%r", "%I:%M:%S %p", "%v", "%V",
}

// jodaFormat translates a Java (Joda) date pattern, which Athena's
// parse_datetime and format_datetime take, to strptime's and strftime's
// format: letters repeat for width (yyyy, MM, dd, HH, mm, ss, SSS), text
// in single quotes is literal.
func jodaFormat(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				j = len(p) - i - 1
			}
			lit := p[i+1 : i+1+j]
			if lit == "" {
				lit = "'" // '' is a quote
			}
			b.WriteString(strings.ReplaceAll(lit, "%", "%%"))
			i += j + 2
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		i += n
		var f string
		switch c {
		case 'y', 'Y', 'u':
			f = "%Y"
			if n == 2 {
				f = "%y"
			}
		case 'M':
			f = [...]string{"%-m", "%m", "%b", "%B"}[min(n, 4)-1]
		case 'd':
			f = pick(n, "%-d", "%d")
		case 'H':
			f = pick(n, "%-H", "%H")
		case 'h':
			f = pick(n, "%-I", "%I")
		case 'm':
			f = pick(n, "%-M", "%M")
		case 's':
			f = pick(n, "%-S", "%S")
		case 'S':
			f = "%g" // milliseconds
			if n > 3 {
				f = "%f"
			}
		case 'a':
			f = "%p"
		case 'E':
			f = "%a"
			if n >= 4 {
				f = "%A"
			}
		case 'D':
			f = "%j"
		case 'Z':
			f = "%z"
		case 'z':
			f = "%Z"
		case '%':
			f = strings.Repeat("%%", n)
		default:
			f = strings.Repeat(string(c), n)
		}
		b.WriteString(f)
	}
	return b.String()
}

// pick is short for one letter, long for two or more.
func pick(n int, short, long string) string {
	if n == 1 {
		return short
	}
	return long
}

// printfConversions returns the conversion letters of a Java printf format
// in argument order (%% and %n take no argument).
func printfConversions(f string) []byte {
	var out []byte
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-#+ 0,(.123456789$", f[j]) >= 0 {
			j++
		}
		if j >= len(f) {
			break
		}
		if f[j] != '%' && f[j] != 'n' {
			out = append(out, f[j])
		}
		i = j
	}
	return out
}

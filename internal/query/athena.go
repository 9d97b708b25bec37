package query

import (
	"fmt"
	"slices"
	"strings"
)

// athenaMacros give query instances the names (and, where DuckDB's
// function of the same name differs, the semantics) of the Athena (Trino)
// functions users bring over from their Athena queries; an instance
// creates those its queries call (athenaSQL). DuckDB's other functions
// keep working; those it shares a name with are overloaded (date_add) or
// answer as Athena's do (date_diff, regexp_replace, ... below). Each one
// has a case in testdata/sql/athena.sql. A macro comes after the macros
// its body calls: DuckDB binds the body when the macro is created.
var athenaMacros = []string{
	// Aggregates.
	`approx_distinct(x) AS approx_count_distinct(x), (x, e) AS approx_count_distinct(x)`,
	`approx_percentile(x, p) AS approx_quantile(x, p)`,
	// Unix and ISO 8601 times.
	`from_unixtime(x) AS to_timestamp(x)`,
	`to_unixtime(x) AS epoch(x)`,
	`from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
	`from_iso8601_date(s) AS CAST(s AS DATE)`,
	`to_iso8601(x) AS CASE typeof(x)
		WHEN 'DATE' THEN strftime(x, '%Y-%m-%d')
		WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ')
		ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END`,
	// date_add(unit, value, timestamp) beside DuckDB's date_add(date,
	// interval); units as Athena's (millisecond ... year, quarter too).
	`date_add(d, i) AS d + i, (unit, n, x) AS x + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)`,
	// Athena counts whole units between the two times (DuckDB's
	// date_sub); DuckDB's date_diff counts unit boundaries crossed, which
	// its alias datediff still does.
	`date_diff(unit, a, b) AS date_sub(unit, a, b)`,
	// MySQL-style formats, as Athena's date_format takes (mysqlFormats).
	// (date_parse is rewritten in the query text instead: DuckDB's
	// strptime takes only a constant format, which a macro's parameter
	// is not; see rewriteAthena.)
	mysqlFormatMacro(),
	`date_format(x, f) AS strftime(x, __streamlake_mysql_format(f))`,
	// Date parts.
	`day_of_week(x) AS isodow(x)`,
	`dow(x) AS isodow(x)`,
	`day_of_month(x) AS dayofmonth(x)`,
	`day_of_year(x) AS dayofyear(x)`,
	`doy(x) AS dayofyear(x)`,
	`week_of_year(x) AS weekofyear(x)`,
	`year_of_week(x) AS isoyear(x)`,
	`yow(x) AS isoyear(x)`,
	`last_day_of_month(x) AS last_day(x)`,
	// Strings, JSON, arrays, numbers.
	`regexp_like(s, p) AS regexp_matches(s, p)`,
	`levenshtein_distance(a, b) AS levenshtein(a, b)`,
	`json_extract_scalar(j, p) AS CASE WHEN json_type(json_extract(j, p)) IN ('OBJECT', 'ARRAY') THEN NULL
		ELSE json_extract_string(j, p) END`,
	`array_join(a, sep) AS array_to_string(a, sep),
		(a, sep, null_replacement) AS array_to_string(list_transform(a, v -> coalesce(CAST(v AS VARCHAR), null_replacement)), sep)`,
	`sequence(a, b) AS generate_series(a, b), (a, b, step) AS generate_series(a, b, step)`,
	`is_nan(x) AS isnan(x)`,
	// Functions DuckDB has under the same name with other results, which
	// would silently change a query brought over: Athena's regexp_replace
	// replaces every match (DuckDB's the first) and writes groups as $1;
	// regexp_extract, split_part (an index past the end) and json_size
	// give NULL where DuckDB gives ''; array_position gives 0 when the
	// element is missing; concat is NULL when an argument is; array_distinct
	// keeps first appearances in order (and a NULL). system.main names
	// DuckDB's own function beside the macro.
	`regexp_replace(s, p) AS system.main.regexp_replace(s, p, '', 'g'),
		(s, p, r) AS system.main.regexp_replace(s, p, system.main.regexp_replace(r, '\$(\d)', '\\\1', 'g'), 'g')`,
	`regexp_extract(s, p) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p) END,
		(s, p, g) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p, g) END`,
	`split_part(s, d, i) AS CASE WHEN i >= 1 AND i <= len(string_split(s, d)) THEN system.main.split_part(s, d, i) END`,
	`array_position(a, x) AS CASE WHEN a IS NOT NULL THEN coalesce(system.main.array_position(a, x), 0) END`,
	concatMacro(10),
	`array_distinct(a) AS list_filter(a, (x, i) -> list_position(a, x) = i)`,
	// Arrays and maps. cardinality takes both (DuckDB's, maps only): a map
	// of any types binds to the MAP(VARCHAR, VARCHAR) overload.
	`cardinality(x) AS len(x), (x MAP(VARCHAR, VARCHAR)) AS len(map_keys(x))`,
	`element_at(x, k) AS x[k]`,
	`array_max(a) AS list_max(a)`,
	`array_min(a) AS list_min(a)`,
	`array_remove(a, e) AS list_filter(a, x -> x IS DISTINCT FROM e)`,
	`arrays_overlap(a, b) AS list_has_any(a, b)`,
	`array_union(a, b) AS array_distinct(list_concat(a, b))`,
	`array_except(a, b) AS list_filter(array_distinct(a), x -> NOT list_contains(b, x))`,
	`slice(a, start, n) AS list_slice(a, CASE WHEN start > 0 THEN start ELSE len(a) + start + 1 END,
		CASE WHEN start > 0 THEN start ELSE len(a) + start + 1 END + n - 1)`,
	`zip(a, b) AS list_zip(a, b)`,
	`map_agg(k, v) AS map_from_entries(list({'k': k, 'v': v}))`,
	`split_to_map(s, entry, kv) AS map_from_entries(list_transform(string_split(s, entry), x -> {'k': split_part(x, kv, 1), 'v': split_part(x, kv, 2)}))`,
	// JSON, bytes, numbers, zones.
	`json_parse(s) AS json(s)`,
	`json_format(j) AS CAST(j AS VARCHAR)`,
	`json_size(j, p) AS CASE WHEN json_type(j, p) IS NULL THEN NULL WHEN json_type(j, p) = 'ARRAY' THEN json_array_length(j, p)
		WHEN json_type(j, p) = 'OBJECT' THEN len(json_keys(j, p)) ELSE 0 END`,
	`to_utf8(s) AS encode(s)`,
	`from_utf8(b) AS decode(b)`,
	`codepoint(s) AS unicode(s)`,
	`truncate(x) AS trunc(x), (x, n) AS trunc(x, n)`,
	`width_bucket(x, lo, hi, n) AS CASE WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1 ELSE CAST(floor((x - lo) * n / (hi - lo)) AS BIGINT) + 1 END`,
	`bitwise_and(a, b) AS a & b`,
	`bitwise_or(a, b) AS a | b`,
	`bitwise_xor(a, b) AS xor(a, b)`,
	`bitwise_not(a) AS ~a`,
	`current_timezone() AS current_setting('TimeZone')`,
	// with_timezone reads a timestamp as wall time in a zone; at_timezone
	// gives the wall time in a zone of an instant (a TIMESTAMP: DuckDB's
	// TIMESTAMPTZ keeps no zone), so date_trunc('day', at_timezone(ts,
	// 'America/New_York')) is the local day.
	`with_timezone(ts, tz) AS timezone(tz, ts)`,
	`at_timezone(ts, tz) AS timezone(tz, ts)`,
	// URLs, as Athena's url_extract_*: NULL for a part a URL lacks.
	`url_extract_protocol(u) AS regexp_extract(u, '^([A-Za-z][A-Za-z0-9+.-]*):', 1)`,
	`url_extract_host(u) AS nullif(regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^:/?#]*)', 1), '')`,
	`url_extract_port(u) AS TRY_CAST(regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)', 1) AS BIGINT)`,
	`url_extract_path(u) AS regexp_extract(u, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1)`,
	`url_extract_query(u) AS regexp_extract(u, '\?([^#]*)', 1)`,
	`url_extract_fragment(u) AS regexp_extract(u, '#(.*)$', 1)`,
	`url_extract_parameter(u, name) AS url_decode(regexp_extract(u, '[?&]' || regexp_escape(name) || '=([^&#]*)', 1))`,
}

// mysqlFormatMacro translates a MySQL format to strftime's as
// mysqlFormats does, one replace after another (no replacement makes text
// a later one matches).
func mysqlFormatMacro() string {
	expr := "f"
	for i := 2; i < len(mysqlFormatPairs); i += 2 { // after %%, which needs no replace
		expr = "replace(" + expr + ", '" + mysqlFormatPairs[i] + "', '" + mysqlFormatPairs[i+1] + "')"
	}
	return "__streamlake_mysql_format(f) AS " + expr
}

// concatMacro is Athena's concat for 1 to n arguments: NULL if any is
// (DuckDB's concat skips NULLs), arrays joined as well as strings.
func concatMacro(n int) string {
	var b strings.Builder
	b.WriteString("concat")
	for k := 1; k <= n; k++ {
		if k > 1 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for i := range k {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "a%d", i)
		}
		b.WriteString(") AS ")
		for i := range k {
			if i > 0 {
				b.WriteString(" || ")
			}
			fmt.Fprintf(&b, "a%d", i)
		}
	}
	return b.String()
}

// athena is athenaMacros, each with its name and the macros its body
// calls; athenaIndex finds one by name.
var athena, athenaIndex = func() ([]athenaMacro, map[string]int) {
	ms := make([]athenaMacro, len(athenaMacros))
	index := make(map[string]int, len(athenaMacros))
	for i, m := range athenaMacros {
		name, _, _ := strings.Cut(m, "(")
		ms[i] = athenaMacro{name: name, sql: "CREATE OR REPLACE TEMP MACRO " + m + ";\n"}
		index[name] = i
	}
	for i, m := range athenaMacros {
		_, body, _ := strings.Cut(m, "(")
		eachIdent(body, func(id string) {
			if j, ok := index[id]; ok && j != i && !slices.Contains(ms[i].uses, j) {
				ms[i].uses = append(ms[i].uses, j)
			}
		})
	}
	return ms, index
}()

type athenaMacro struct {
	name string
	sql  string // creates it
	uses []int  // the macros its body calls
}

// athenaSQL creates the macros of athena that query names (or that those
// use) and have does not mark, and marks them in have. Creating all of
// them takes ~15 ms, which every new query instance (each streamlake
// query command) would pay; so an instance creates those its queries
// call. It returns "" when none is missing.
func athenaSQL(query string, have []bool) string {
	var need []int
	var add func(i int)
	add = func(i int) {
		if have[i] || slices.Contains(need, i) {
			return
		}
		need = append(need, i)
		for _, j := range athena[i].uses {
			add(j)
		}
	}
	var lower []byte
	eachIdent(query, func(id string) {
		lower = append(lower[:0], id...)
		for k, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[k] = c + 'a' - 'A'
			}
		}
		if i, ok := athenaIndex[string(lower)]; ok {
			add(i)
		}
	})
	if len(need) == 0 {
		return ""
	}
	// In the order of athenaMacros, where a macro comes after those it
	// uses: DuckDB binds a macro's body when it is created.
	slices.Sort(need)
	var b strings.Builder
	for _, i := range need {
		b.WriteString(athena[i].sql)
		have[i] = true
	}
	return b.String()
}

// eachIdent calls fn with every word of s that could be an unquoted
// identifier (letters, digits and _, not starting with a digit). Quoted
// identifiers and string contents are scanned as words too: a macro
// created for nothing costs only its creation.
func eachIdent(s string, fn func(string)) {
	isWord := func(c byte) bool {
		return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for i := 0; i < len(s); {
		if !isWord(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWord(s[j]) {
			j++
		}
		if s[i] < '0' || s[i] > '9' {
			fn(s[i:j])
		}
		i = j
	}
}

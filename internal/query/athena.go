package query

import "strings"

// athenaMacros give every query instance the names (and, where DuckDB's
// function of the same name differs, the semantics) of the Athena (Trino)
// functions users bring over from their Athena queries. DuckDB's own
// functions keep working; the two it shares a name with are overloaded
// (date_add) or changed (date_diff) as noted. Each one has a case in
// testdata/sql/athena.sql.
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
	// MySQL-style formats, as Athena's date_format takes. (Its date_parse
	// is left out: DuckDB's strptime takes only a constant format, which
	// a macro's parameter is not.)
	`__streamlake_mysql_format(f) AS
		replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		replace(f, '%M', '%B'), '%i', '%M'), '%s', '%S'), '%e', '%-d'), '%c', '%-m'), '%k', '%-H'),
		'%l', '%-I'), '%h', '%I'), '%W', '%A'), '%T', '%H:%M:%S'), '%r', '%I:%M:%S %p'), '%v', '%V')`,
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
}

// athenaSQL creates athenaMacros as temporary macros, in one call.
var athenaSQL = func() string {
	var b strings.Builder
	for _, m := range athenaMacros {
		b.WriteString("CREATE OR REPLACE TEMP MACRO ")
		b.WriteString(m)
		b.WriteString(";\n")
	}
	return b.String()
}()

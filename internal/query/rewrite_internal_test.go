package query

import (
	"slices"
	"strings"
	"testing"
)

func TestRewriteAthena(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT date_parse(s, '%Y-%m-%d %H:%i:%s') FROM t`, `SELECT strptime(s, '%Y-%m-%d %H:%M:%S') FROM t`},
		{`SELECT DATE_PARSE (s, '%M %e, %Y %%i')`, `SELECT strptime (s, '%B %-d, %Y %%i')`},
		{`SELECT parse_datetime(concat(a, 'x'), 'yyyy-MM-dd''T''HH:mm:ss.SSS')`, `SELECT CAST(strptime(concat(a, 'x'), '%Y-%m-%dT%H:%M:%S.%g') AS TIMESTAMPTZ)`},
		{`SELECT format_datetime(ts, 'EEE, d MMM yy h:m a Z')`, `SELECT strftime(ts, '%a, %-d %b %y %-I:%-M %p %z')`},
		{`SELECT format('%s: %.2f%% %5s %n %d', a.b, f(x, y), [1, 2], n)`, `SELECT printf('%s: %.2f%% %5s %n %d', CAST(a.b AS VARCHAR), f(x, y), CAST([1, 2] AS VARCHAR), n)`},
		// Nested: the outer argument's cast wraps the inner rewrite.
		{`SELECT format('%s', date_parse(s, '%i'))`, `SELECT printf('%s', CAST(strptime(s, '%M') AS VARCHAR))`},
		// Left alone: a format that is not a literal, a quoted or
		// qualified name, the words in strings and comments.
		{`SELECT date_parse(s, f), "format"('%s', 1), x.format('%s', 1)`, `SELECT date_parse(s, f), "format"('%s', 1), x.format('%s', 1)`},
		{`SELECT 'format(''%s'', 1)' -- date_parse(s, '%i')`, `SELECT 'format(''%s'', 1)' -- date_parse(s, '%i')`},
		{`SELECT format(`, `SELECT format(`}, // unbalanced: DuckDB reports it
		// Lambdas.
		{`SELECT transform(a, x -> x * 2), Any_Match(a, x -> x > 0), all_match(a, x -> x IS NULL), none_match(filter(a, x -> x > 1), y -> y = 3)`,
			`SELECT list_transform(a, x -> x * 2), list_bool_or(list_transform(a, x -> x > 0)), list_bool_and(list_transform(a, x -> x IS NULL)), (NOT list_bool_or(list_transform(filter(a, x -> x > 1), y -> y = 3)))`},
		{`SELECT any_match(transform(a, x -> [x]), y -> len(y) > 0)`, `SELECT list_bool_or(list_transform(list_transform(a, x -> [x]), y -> len(y) > 0))`},
		{`SELECT transform(a, x -> x`, `SELECT transform(a, x -> x`},
		{`SELECT reduce(transform(a, x -> x + 1), 0, (s, x) -> s + x, s -> s * 2), reduce(a, 1, f)`,
			`SELECT list_transform([list_reduce(list_transform(a, x -> x + 1), (s, x) -> s + x, 0)], s -> s * 2)[1], reduce(a, 1, f)`},
		// Lambdas of two parameters: over one, a list_zip pair or a map
		// entry, the arguments rewritten on their own.
		{`SELECT zip_with(a, transform(b, x -> x + 1), (x, y) -> x + coalesce(Y, 0) + f(x).x)`,
			`SELECT list_transform(list_zip(a, list_transform(b, x -> x + 1)), sl_e -> (sl_e[1] + coalesce(sl_e[2], 0) + f(sl_e[1]).x))`},
		{`SELECT map_filter(m, (k, v) -> v.n > 0 AND k <> 'x'), transform_keys(m, (k, v) -> upper(k)), transform_values(m, (k, v) -> transform(v, x -> x * 2))`,
			`SELECT map_from_entries(list_filter(map_entries(m), sl_e -> (sl_e.value.n > 0 AND sl_e.key <> 'x'))), ` +
				`map_from_entries(list_transform(map_entries(m), sl_e -> {'key': (upper(sl_e.key)), 'value': sl_e.value})), ` +
				`map_from_entries(list_transform(map_entries(m), sl_e -> {'key': sl_e.key, 'value': (list_transform(sl_e.value, x -> x * 2))}))`},
		{`SELECT map_filter(m, f), zip_with(a, b, x -> x), transform_values(m, (k, v) -)`, `SELECT map_filter(m, f), zip_with(a, b, x -> x), transform_values(m, (k, v) -)`},
		// Sampling: a percentage in Trino.
		{`SELECT * FROM t TABLESAMPLE BERNOULLI (10) JOIN u TABLESAMPLE system(2.5) ON true`, `SELECT * FROM t TABLESAMPLE BERNOULLI (10 PERCENT) JOIN u TABLESAMPLE system(2.5 PERCENT) ON true`},
		{`SELECT * FROM t TABLESAMPLE 10%`, `SELECT * FROM t TABLESAMPLE 10%`},
	} {
		if got := rewriteAthena(tc.in); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func FuzzRewriteAthena(f *testing.F) {
	for _, s := range []string{`SELECT format('%s %d', a, b)`, `date_parse(x, '%i')`, `parse_datetime(s, 'yyyy''T''')`, `format(('%s'), [1,`, `format_datetime(t, '''')`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := rewriteAthena(q)
		lower := strings.ToLower(q)
		if !slices.ContainsFunc(rewritten, func(w string) bool { return strings.Contains(lower, w) }) && out != q {
			t.Errorf("rewrote a query without the functions: %q -> %q", q, out)
		}
	})
}

package catalogtest

import (
	"errors"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// filterTable creates web.events with these partitions (year int, dt
// date, region string), named year/region.
func filterTable(t *testing.T, s *catalog.Store) {
	t.Helper()
	partitionedTable(t, s)
	var parts []catalog.Partition
	for _, v := range [][]string{
		{"2026", "2026-11-23", "eu_west"},
		{"9", "2009-05-01", "eu"},
		{"100", "2100-01-01", "ap"},
		{"10", "2010-01-15", "us"},
		{"2025", "2025-12-31", "eu"},
		{"1", "2001-01-01", "o'neil"},
		{"2026", "2026-11-22", "us-east"},
	} {
		parts = append(parts, catalog.Partition{Values: v})
	}
	must(t, s.BatchCreatePartitions(t.Context(), "web", "events", parts))
}

func testFilter(t *testing.T, open func(t *testing.T) *catalog.Store) {
	s := open(t)
	filterTable(t, s)
	all := "[1/o'neil 9/eu 10/us 100/ap 2025/eu 2026/us-east 2026/eu_west]"
	for _, tc := range []struct{ filter, want string }{
		{"", all},
		{"  ", all},
		// Each comparison; year compares as a number (9 < 10 < 100).
		{"year = 2026", "[2026/us-east 2026/eu_west]"},
		{"year = '2026'", "[2026/us-east 2026/eu_west]"},
		{"year <> 2026", "[1/o'neil 9/eu 10/us 100/ap 2025/eu]"},
		{"year != 9", "[1/o'neil 10/us 100/ap 2025/eu 2026/us-east 2026/eu_west]"},
		{"year < 10", "[1/o'neil 9/eu]"},
		{"year <= 10", "[1/o'neil 9/eu 10/us]"},
		{"year > 100", "[2025/eu 2026/us-east 2026/eu_west]"},
		{"year >= 100", "[100/ap 2025/eu 2026/us-east 2026/eu_west]"},
		// Dates and strings compare as text.
		{"dt < '2010-01-15'", "[1/o'neil 9/eu]"},
		{"dt >= '2026-11-22'", "[100/ap 2026/us-east 2026/eu_west]"},
		{"region = 'eu'", "[9/eu 2025/eu]"},
		{"region = 'o''neil'", "[1/o'neil]"},
		{"region > 'o'", "[1/o'neil 10/us 2026/us-east]"},
		// AND, OR, precedence, parentheses, NOT.
		{"year = 2026 AND region = 'us-east'", "[2026/us-east]"},
		{"region = 'eu' OR year = 2026 AND region = 'us-east'", "[9/eu 2025/eu 2026/us-east]"},
		{"(region = 'eu' OR year = 2026) AND region = 'us-east'", "[2026/us-east]"},
		{"year = 9 OR year = 10 AND region = 'eu'", "[9/eu]"},
		{"(year = 9 OR year = 10) AND region = 'us'", "[10/us]"},
		{"year = 10 OR year = 100 OR year = 1", "[1/o'neil 10/us 100/ap]"},
		{"((year > 1)) AND ((region = 'ap'))", "[100/ap]"},
		{"NOT region = 'eu'", "[1/o'neil 10/us 100/ap 2026/us-east 2026/eu_west]"},
		{"NOT (year = 9 OR year = 10)", "[1/o'neil 100/ap 2025/eu 2026/us-east 2026/eu_west]"},
		{"YEAR = 9 and Region = 'eu'", "[9/eu]"},
		{"`year` = 1", "[1/o'neil]"},
		// IN.
		{"year IN (9, 100, 7)", "[9/eu 100/ap]"},
		{"region IN ('eu', 'ap')", "[9/eu 100/ap 2025/eu]"},
		{"year NOT IN (2026, 2025)", "[1/o'neil 9/eu 10/us 100/ap]"},
		// BETWEEN, inclusive; numeric for year (lexically nothing is between "9" and "100").
		{"year BETWEEN 9 AND 100", "[9/eu 10/us 100/ap]"},
		{"dt BETWEEN '2010-01-01' AND '2025-12-31'", "[10/us 2025/eu]"},
		{"year BETWEEN 2026 AND 2026 AND region = 'eu_west'", "[2026/eu_west]"},
		{"year NOT BETWEEN 10 AND 2025", "[1/o'neil 9/eu 2026/us-east 2026/eu_west]"},
		// LIKE with % and _.
		{"region LIKE 'eu%'", "[9/eu 2025/eu 2026/eu_west]"},
		{"region LIKE 'u_-%'", "[2026/us-east]"},
		{`region LIKE 'eu\_%'`, "[2026/eu_west]"},
		{"region LIKE 'e_'", "[9/eu 2025/eu]"},
		{"region LIKE 'us'", "[10/us]"},
		{"region NOT LIKE '%e%'", "[10/us 100/ap]"},
		{"dt LIKE '2026-%'", "[2026/us-east 2026/eu_west]"},
		{"year LIKE '1%'", "[1/o'neil 10/us 100/ap]"},
		{"year = 3", "[]"},
	} {
		ps, err := s.GetPartitions(t.Context(), "web", "events", tc.filter)
		if err != nil {
			t.Errorf("GetPartitions(%q): %v", tc.filter, err)
			continue
		}
		if got := names(ps, func(p catalog.Partition) string { return p.Values[0] + "/" + p.Values[2] }); got != tc.want {
			t.Errorf("GetPartitions(%q) = %s, want %s", tc.filter, got, tc.want)
		}
	}
}

func testFilterErrors(t *testing.T, open func(t *testing.T) *catalog.Store) {
	s := open(t)
	filterTable(t, s)
	for _, tc := range []struct{ filter, want string }{
		{"year = 1 OR AND region = 'eu'", `filter: unexpected "AND" at 12`},
		{"year = 2026 AND", `filter: unexpected end of filter at 15`},
		{"year = 1)", `filter: unexpected ")" at 8`},
		{"(year = 1", `filter: expected ")", found end of filter at 9`},
		{"year = 'abc'", `filter: "'abc'" is not a value of key "year" (int) at 7`},
		{"year = 1.5", `filter: "1.5" is not a value of key "year" (int) at 7`},
		{"month = 1", `filter: unknown partition key "month" (keys: year, dt, region) at 0`},
		{"region = 'eu", `filter: unterminated string at 9`},
		{"`region = 'eu'", "filter: unterminated quoted name at 0"},
		{"year # 1", `filter: unexpected character '#' at 5`},
		{"year BETWEEN 1 OR 2", `filter: expected AND in BETWEEN, found "OR" at 15`},
		{"year IN 1", `filter: expected "(" after IN, found "1" at 8`},
		{"year IN (1 2)", `filter: expected "," or ")" in IN list, found "2" at 11`},
		{"year IN ()", `filter: expected a value, found ")" at 9`},
		{"region LIKE 5", `filter: LIKE needs a string pattern, found "5" at 12`},
		{`region LIKE 'a\'`, `filter: LIKE pattern ends with an escape at 12`},
		{"year NOT = 1", `filter: expected IN, BETWEEN or LIKE after NOT, found "=" at 9`},
		{"year", `filter: expected a comparison, IN, BETWEEN or LIKE after "year", found end of filter at 4`},
		{"year = region", `filter: expected a value, found "region" at 7`},
		{"= 1", `filter: unexpected "=" at 0`},
		{"year = 1 region = 'eu'", `filter: unexpected "region" at 9`},
	} {
		_, err := s.GetPartitions(t.Context(), "web", "events", tc.filter)
		var fe *catalog.FilterError
		if !errors.As(err, &fe) {
			t.Errorf("GetPartitions(%q) = %v, want a *catalog.FilterError", tc.filter, err)
			continue
		}
		if fe.Error() != tc.want || fe.Filter != tc.filter {
			t.Errorf("GetPartitions(%q) error\n got %s\nwant %s", tc.filter, fe.Error(), tc.want)
		}
	}
}

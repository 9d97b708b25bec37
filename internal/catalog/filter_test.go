package catalog

import (
	"errors"
	"testing"
)

var filterKeys = []Column{{Name: "year", Type: "int"}, {Name: "dt", Type: "date"}, {Name: "region", Type: "string"}, {Name: "ratio", Type: "double"}}

func TestFilterMatch(t *testing.T) {
	values := []string{"2026", "2026-11-23", "eu-west", "0.5"}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"ratio > 0.25 AND ratio < 1e0", true},
		{"ratio = .5", true},
		{"ratio BETWEEN -1 AND 0.4", false},
		{"NOT NOT year = 2026", true},
		{"year = 2026 AND NOT region LIKE 'eu%'", false},
		{"region LIKE '%-%'", true},
		{"region LIKE '%\\%'", false},
		{"region LIKE 'eu-wes_'", true},
		{"region LIKE 'eu-we_'", false},
		{"year IN (1, 2, 2026)", true},
		{"region IN ('a')", false},
		{"dt = '2026-11-23' or year = 1", true},
		{"year >= 2026 AND year <= 2026 AND dt > '2026-11-22' AND dt < '2026-11-24'", true},
	} {
		p, err := parseFilter(tc.filter, filterKeys)
		if err != nil {
			t.Errorf("parseFilter(%q): %v", tc.filter, err)
			continue
		}
		if got := p.match(values); got != tc.want {
			t.Errorf("%q matches %v = %v, want %v", tc.filter, values, got, tc.want)
		}
	}
}

// A value that is not of its key's type (a key whose type changed after
// the partition was made) matches no comparison, and sorts after those that are.
func TestFilterForeignValue(t *testing.T) {
	p, err := parseFilter("year <> 1 OR year = 1 OR year IN (1) OR year BETWEEN 0 AND 9", filterKeys)
	if err != nil {
		t.Fatal(err)
	}
	if p.match([]string{"x", "2026-11-23", "eu", "1"}) {
		t.Error("a non-integer year matched an integer comparison")
	}
	if c := compareTuples([]keyKind{kindInt}, []string{"x"}, []string{"10"}); c <= 0 {
		t.Errorf("compareTuples(x, 10) = %d, want > 0", c)
	}
	if c := compareTuples([]keyKind{kindInt}, []string{"9"}, []string{"10"}); c >= 0 {
		t.Errorf("compareTuples(9, 10) = %d, want < 0", c)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"year = 2026", "year = 1 OR AND region = 'eu'", "(region = 'eu' OR year = 2026) AND region = 'us-east'",
		"year NOT IN (2026, 2025)", "year BETWEEN 9 AND 100", `region LIKE 'eu\_%'`, "region = 'o''neil'",
		"`year` = 1", "ratio >= -1.5e3", "NOT (year = 9 OR dt < '2020-01-01')", "year IN (", "'", "`", "--1",
	} {
		f.Add(s)
	}
	values := []string{"2026", "2026-11-23", "eu", "0.5"}
	f.Fuzz(func(t *testing.T, filter string) {
		p, err := parseFilter(filter, filterKeys)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("parseFilter(%q) error %v is not a *FilterError", filter, err)
			}
			if fe.Pos < 0 || fe.Pos > len(filter) || fe.Filter != filter {
				t.Fatalf("parseFilter(%q): error at %d, outside the filter", filter, fe.Pos)
			}
			return
		}
		p.match(values)
		p.match(nil)
	})
}

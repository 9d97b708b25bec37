package query

import (
	"strings"
	"testing"
)

// A query gets the macros it names, in any case, and the macros those
// use, once per instance; names inside longer words do not count.
func TestAthenaSQLCreatesWhatAQueryCalls(t *testing.T) {
	have := make([]bool, len(athena))
	sql := athenaSQL(`SELECT URL_EXTRACT_HOST(u), list_concat(a, b), "cardinality"(x) FROM t`, have)
	var created []string
	for _, line := range strings.Split(strings.TrimSpace(sql), "\n") {
		if !strings.HasPrefix(line, "CREATE OR REPLACE TEMP MACRO ") {
			continue // a body's continuation line
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "CREATE OR REPLACE TEMP MACRO "), "(")
		created = append(created, name)
	}
	if got, want := strings.Join(created, " "), "regexp_extract cardinality url_extract_host"; got != want {
		t.Errorf("created %s, want %s (regexp_extract first: url_extract_host uses it)", got, want)
	}
	if again := athenaSQL(`SELECT cardinality(y), url_extract_host(v)`, have); again != "" {
		t.Errorf("created again:\n%s", again)
	}
	if none := athenaSQL(`SELECT 1, 'x' AS concatenated, t.array_max_col FROM t`, have); none != "" {
		t.Errorf("created for no call:\n%s", none)
	}
}

// DuckDB binds a macro's body when it is created, so every macro comes
// after those it uses.
func TestAthenaMacrosFollowWhatTheyUse(t *testing.T) {
	for i, m := range athena {
		for _, j := range m.uses {
			if j >= i {
				t.Errorf("%s uses %s, which comes after it", m.name, athena[j].name)
			}
		}
	}
}

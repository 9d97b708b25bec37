package main

import (
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		in    string
		stmts []string
		rest  string
	}{
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1; SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}, "\n"},
		{"SELECT 1\n", nil, "SELECT 1\n"},
		{"SELECT ';' AS s;", []string{"SELECT ';' AS s"}, ""},
		{"SELECT 'it''s;' AS s; x", []string{"SELECT 'it''s;' AS s"}, " x"},
		{`SELECT 1 AS "a;b";`, []string{`SELECT 1 AS "a;b"`}, ""},
		{"SELECT 1 -- c;\n;", []string{"SELECT 1 -- c;"}, ""},
		{"SELECT /* ; */ 1;", []string{"SELECT /* ; */ 1"}, ""},
		{"SELECT $$a;b$$, $t$;$t$, $1;", []string{"SELECT $$a;b$$, $t$;$t$, $1"}, ""},
		{";; -- only a comment\n;", nil, ""},
		{"SELECT 'open;\n", nil, "SELECT 'open;\n"},
		{"SELECT 1 /* open;", nil, "SELECT 1 /* open;"},
		{"SELECT $$open;", nil, "SELECT $$open;"},
	}
	for _, c := range cases {
		stmts, rest := splitStatements(c.in)
		if !slices.Equal(stmts, c.stmts) || rest != c.rest {
			t.Errorf("splitStatements(%q) = %q, %q; want %q, %q", c.in, stmts, rest, c.stmts, c.rest)
		}
	}
}

func TestTypedValueAndHumanBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_234_567, "1.2 MB"}, {999_999_999, "1.0 GB"}} {
		if got := humanBytes(c.n); got != c.want {
			t.Errorf("humanBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if v := typedValue("12", "BIGINT"); v != int64(12) {
		t.Errorf("BIGINT: %#v", v)
	}
	if v := typedValue("x", "BIGINT"); v != "x" {
		t.Errorf("unparsable BIGINT: %#v", v)
	}
	if v := typedValue("true", "BOOLEAN"); v != true {
		t.Errorf("BOOLEAN: %#v", v)
	}
}

package query

import (
	"fmt"
	"testing"
)

func TestQualifiedNames(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string
	}{
		{`SELECT * FROM lake.t`, `[{lake t false from}]`},
		{`select a.b.c from "Lake"."T ""x""" JOIN raw . orders`, `[{a b false select} {b c true } {Lake T "x" false from} {raw orders false join}]`},
		{`SELECT 'lake.t', $$raw.x$$, $q$raw.y$q$, 1.5 -- lake.c
		/* lake.d */ FROM e.f`, `[{e f false from}]`},
		{`SELECT $1, x.y FROM "from".a.b`, `[{x y false } {from a false from} {a b true }]`},
		{`SELECT 'unterminated lake.t`, `[]`},
		{`SELECT "unterminated`, `[]`},
	} {
		if got := fmt.Sprint(qualifiedNames(tc.sql)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.sql, got, tc.want)
		}
	}
}

func TestHiveToDuck(t *testing.T) {
	for _, tc := range []struct{ hive, want string }{
		{"bigint", "BIGINT"},
		{"STRING", "VARCHAR"},
		{"varchar(10)", "VARCHAR"},
		{"decimal(10, 2)", "DECIMAL(10,2)"},
		{"array<struct<key:string,value:string>>", `STRUCT("key" VARCHAR, "value" VARCHAR)[]`},
		{"map<string,array<double>>", "MAP(VARCHAR, DOUBLE[])"},
		{"struct<a b:int, `c:d`:timestamp>", `STRUCT("a b" INTEGER, "c:d" TIMESTAMP)`},
	} {
		got, err := hiveToDuck(tc.hive)
		if err != nil || got != tc.want {
			t.Errorf("hiveToDuck(%q) = %q, %v; want %q", tc.hive, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "nope", "array<int", "struct<a>", "int extra"} {
		if got, err := hiveToDuck(bad); err == nil {
			t.Errorf("hiveToDuck(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseDuckType(t *testing.T) {
	ty := parseDuckType(`STRUCT("a ""q""" INTEGER, "b" MAP(VARCHAR, DECIMAL(10,2)[]), "c" STRUCT("x" DATE)[2])[]`)
	if ty.name != "LIST" || ty.elem.name != "STRUCT" {
		t.Fatalf("got %+v", ty)
	}
	s := ty.elem
	if len(s.fields) != 3 || s.fields[0].name != `a "q"` || s.fields[0].typ.name != "INTEGER" {
		t.Fatalf("fields = %+v", s.fields)
	}
	if m := s.field("b"); m.name != "MAP" || m.key.name != "VARCHAR" || m.val.name != "LIST" || m.val.elem.name != "DECIMAL" {
		t.Errorf("b = %+v", m)
	}
	if c := s.field("c"); c.name != "LIST" || c.elem.field("x").name != "DATE" {
		t.Errorf("c = %+v", c)
	}
}

func TestOneLine(t *testing.T) {
	in := "Catalog Error: Table with name x does not exist!\nDid you mean \"y\"?\n\nLINE 1: SELECT * FROM x\n                      ^"
	if got, want := oneLine(in), `Catalog Error: Table with name x does not exist! Did you mean "y"?`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The parsers take arbitrary text (user SQL, catalog and driver type names)
// and must not panic.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "a"."b" WHERE x = 'y' -- c`, `$a$ $$ /* */ "" ''`,
		`STRUCT("a" INTEGER, "b" MAP(VARCHAR, INTEGER[])[])[3]`, `struct<a:array<map<string,int>>>`,
		`SELECT * FROM lake.t FOR VERSION AS OF 1 x JOIN lake.t FOR TIMESTAMP AS OF TIMESTAMP '2026-11-20 10:00:00 UTC'`,
		`CREATE TABLE lake.t WITH (partitioning = ARRAY['day(ts)', 'bucket(8, id)']) AS SELECT 1`,
		`INSERT INTO lake.t (a, "b") VALUES (1, 2);`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		qualifiedNames(s)
		parseDuckType(s)
		hiveToDuck(s)
		if out, trs, err := rewriteTimeTravel(s); err == nil && len(trs) == 0 && out != s {
			t.Errorf("%q without time travel rewritten to %q", s, out)
		}
		parseWrite(s, map[string]bool{"lake": true})
	})
}

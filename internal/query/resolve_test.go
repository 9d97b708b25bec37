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
		{`SELECT * FROM lake.t`, `[{lake t false from false}]`},
		{`select a.b.c from "Lake"."T ""x""" JOIN raw . orders`, `[{a b false select false} {b c true  false} {Lake T "x" false from false} {raw orders false join false}]`},
		{`SELECT 'lake.t', $$raw.x$$, $q$raw.y$q$, 1.5 -- lake.c
		/* lake.d */ FROM e.f`, `[{e f false from false}]`},
		{`SELECT $1, x.y FROM "from".a.b`, `[{x y false  true} {from a false from false} {a b true  false}]`},
		{`SELECT f(s.a) FROM lake.t s, raw.u`, `[{s a false  true} {lake t false from false} {raw u false  true}]`},
		{`SELECT 'unterminated lake.t`, `[]`},
		{`SELECT "unterminated`, `[]`},
	} {
		if got := fmt.Sprint(qualifiedNames(tc.sql)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.sql, got, tc.want)
		}
	}
}

// A name that may be a table, where its first part is not a name the
// query defines, makes a query list the catalog again when that part is
// not a known database.
func TestMayBeTable(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // the names that may be tables
	}{
		{`SELECT * FROM lake.t`, `[lake.t]`},
		{`SELECT s.site, d.a FROM lake.t s JOIN d USING (device) WHERE s.x > d.a`, `[lake.t]`},
		{`WITH d AS (SELECT 1) SELECT d.a, s.b FROM d, lake.t AS s WHERE f(s.a, d.b)`, `[lake.t]`},
		{`SELECT a, payload.x FROM lake.t`, `[payload.x lake.t]`},
		{`SELECT 1 FROM lake.a x, newdb.t JOIN other.u ON x.a = other.u.a`, `[lake.a newdb.t other.u]`},
		{`SELECT x.a.b FROM (SELECT 1) x`, `[]`},
		{`DESCRIBE lake.t; SUMMARIZE raw.u; PIVOT lake.v ON a`, `[lake.t raw.u lake.v]`},
		{`SELECT 1 FROM lake.t x JOIN x.y ON true`, `[lake.t x.y]`},
	} {
		toks := tokens(tc.sql)
		defined := definedNames(toks)
		var got []string
		for _, q := range qualifiedNamesOf(toks) {
			if q.mayBeTable(defined) {
				got = append(got, q.db+"."+q.name)
			}
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%q: got %v, want %s", tc.sql, got, tc.want)
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

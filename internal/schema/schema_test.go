package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func infer(t *testing.T, doc string) *Type {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return Infer(v)
}

func TestInfer(t *testing.T) {
	cases := []struct{ doc, hive string }{
		{`true`, "boolean"},
		{`12`, "bigint"},
		{`12.5`, "double"},
		{`1e3`, "double"},
		{`"x"`, "string"},
		{`"2026-11-22T10:00:00.123Z"`, "timestamp"},
		{`"2026-11-22 10:00:00+01:00"`, "timestamp"},
		{`"2026-11-22"`, "string"},
		{`[1, 2.5]`, "array<double>"},
		{`[{"a":1},{"b":"x"}]`, "array<struct<a:bigint,b:string>>"},
		{`{"z":1,"a":{"b":[true]}}`, "struct<a:struct<b:array<boolean>>,z:bigint>"},
		{`99999999999999999999`, "double"},
	}
	for _, c := range cases {
		if got := infer(t, c.doc).Hive(); got != c.hive {
			t.Errorf("Infer(%s) = %s, want %s", c.doc, got, c.hive)
		}
	}
}

func TestMergeRules(t *testing.T) {
	cases := []struct {
		a, b, want string
		conflict   bool
	}{
		{`null`, `1`, "bigint", false},
		{`1`, `1.5`, "double", false},
		{`"2026-11-22T10:00:00Z"`, `"x"`, "string", false},
		{`{"a":1}`, `{"b":true}`, "struct<a:bigint,b:boolean>", false},
		{`{"a":1}`, `{"a":2.5}`, "struct<a:double>", false},
		{`[1]`, `["x"]`, "array<string>", true},
		{`1`, `"x"`, "string", true},
		{`{"a":1}`, `[1]`, "string", true},
	}
	for _, c := range cases {
		got, conflict := Merge(infer(t, c.a), infer(t, c.b))
		if got.Hive() != c.want || conflict != c.conflict {
			t.Errorf("Merge(%s, %s) = %s (conflict %v), want %s (conflict %v)", c.a, c.b, got.Hive(), conflict, c.want, c.conflict)
		}
	}
}

func TestMergeFirstKeepsTheFirstShape(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{`1`, `1.5`, "double"},
		{`1`, `"x"`, "bigint"},
		{`{"ok":true}`, `{"ok":"maybe","site":"north"}`, "struct<ok:boolean,site:string>"},
		{`{"a":{"b":1}}`, `{"a":{"b":"x","c":2.5}}`, "struct<a:struct<b:bigint,c:double>>"},
		{`[1]`, `["x"]`, "array<bigint>"},
		{`{"a":1}`, `[1]`, "struct<a:bigint>"},
	}
	for _, c := range cases {
		if got := MergeFirst(infer(t, c.a), infer(t, c.b)).Hive(); got != c.want {
			t.Errorf("MergeFirst(%s, %s) = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

func TestDuckDBRendering(t *testing.T) {
	got := infer(t, `{"a b":[1],"c":{"d":"2026-11-22T10:00:00Z"}}`).DuckDB()
	want := `STRUCT("a b" BIGINT[], "c" STRUCT("d" TIMESTAMPTZ))`
	if got != want {
		t.Fatalf("DuckDB() = %s, want %s", got, want)
	}
}

func FuzzInfer(f *testing.F) {
	f.Add(`{"a":[1,{"b":null}],"c":"2026-11-22T10:00:00Z"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		ty := Infer(v)
		m, _ := Merge(ty, ty)
		if m.Hive() != ty.Hive() {
			t.Fatalf("Merge(t, t) = %s, want %s", m.Hive(), ty.Hive())
		}
	})
}

func TestFitsAgreesWithMerge(t *testing.T) {
	docs := []string{`{"a":1,"b":"x","c":[1,2],"d":{"e":true}}`, `{"a":1.5}`, `{"a":2,"f":null}`, `{"b":"2026-11-22T10:00:00Z"}`,
		`{"c":[3.5]}`, `{"d":{"e":false,"g":1}}`, `{"d":null}`, `{"a":"x"}`, `{"c":[]}`, `{"d":{}}`}
	for _, base := range docs {
		for _, doc := range docs {
			tb := infer(t, base)
			v, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			m, conflict := Merge(tb, Infer(stripNulls(v)))
			want := !conflict && equal(m, tb)
			if got := Fits(v, tb); got != want {
				t.Errorf("Fits(%s, %s) = %v, Merge says %v", doc, tb.Hive(), got, want)
			}
		}
	}
}

// stripNulls drops null-valued object members: Fits ignores them, since a
// null carries no type.
func stripNulls(v any) any {
	switch x := v.(type) {
	case Object:
		var out Object
		for _, m := range x {
			if m.Value != nil {
				out = append(out, Member{m.Key, stripNulls(m.Value)})
			}
		}
		if out == nil {
			out = Object{}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripNulls(e)
		}
		return out
	}
	return v
}

func equal(a, b *Type) bool {
	if a.Kind != b.Kind || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || !equal(a.Fields[i].Type, b.Fields[i].Type) {
			return false
		}
	}
	if a.Kind == List {
		return equal(a.Elem, b.Elem)
	}
	return true
}

func FuzzFits(f *testing.F) {
	f.Add(`{"a":1,"b":[{"c":"2026-11-22T10:00:00Z"}]}`, `{"a":2.5,"b":[{"c":"x","d":null}]}`)
	f.Fuzz(func(t *testing.T, base, doc string) {
		bv, err := Parse([]byte(base))
		if err != nil {
			return
		}
		v, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		tb := Infer(bv)
		m, conflict := Merge(tb, Infer(stripNulls(v)))
		if want := !conflict && equal(m, tb); Fits(v, tb) != want {
			t.Fatalf("Fits(%s, %s) = %v, Merge says %v", doc, tb.Hive(), !want, want)
		}
	})
}

func TestAsMap(t *testing.T) {
	cases := []struct {
		doc, want string // want "" : not a map
	}{
		{`{"a":1,"b":2}`, "map<string,bigint>"},
		{`{"a":1,"b":2.5}`, "map<string,double>"},
		{`{"a":"x","b":"2026-11-22T10:00:00Z"}`, "map<string,string>"},
		{`{"a":"2026-11-22T10:00:00Z"}`, "map<string,string>"},
		{`{"a":true,"b":null}`, "map<string,boolean>"},
		{`{"a":1,"b":"x"}`, "map<string,string>"}, // mixed kinds: their texts
		{`{"a":{"x":1},"b":{"x":2}}`, "map<string,string>"},
		{`{"a":[1],"b":[2]}`, "map<string,string>"},
		{`{"a":null}`, "map<string,string>"},
		{`{}`, ""},
		{`[1]`, ""},
	}
	for _, c := range cases {
		m, ok := AsMap(infer(t, c.doc))
		got := ""
		if ok {
			got = m.Hive()
		}
		if got != c.want {
			t.Errorf("AsMap(%s) = %q, want %q", c.doc, got, c.want)
		}
	}
}

func TestMergeWithMap(t *testing.T) {
	m := func(elem string) *Type {
		mt, ok := AsMap(infer(t, `{"k":`+elem+`}`))
		if !ok {
			t.Fatalf("AsMap of %s", elem)
		}
		return mt
	}
	cases := []struct {
		a, b     *Type
		want     string
		conflict bool
	}{
		{m(`1`), infer(t, `{"x":2,"y":3}`), "map<string,bigint>", false},
		{m(`1`), infer(t, `{"x":2.5}`), "map<string,double>", false},
		{infer(t, `{"x":2.5}`), m(`1`), "map<string,double>", false},
		{m(`1`), m(`true`), "map<string,string>", true},
		{m(`"s"`), infer(t, `{"x":1,"y":{"z":true}}`), "map<string,string>", false}, // a map of strings takes anything
		{m(`1`), infer(t, `{"x":"s"}`), "map<string,string>", true},
		{m(`1`), infer(t, `[1]`), "string", true},
		{m(`1`), infer(t, `null`), "map<string,bigint>", false},
	}
	for _, c := range cases {
		got, conflict := Merge(c.a, c.b)
		if got.Hive() != c.want || conflict != c.conflict {
			t.Errorf("Merge(%s, %s) = %s (conflict %v), want %s (conflict %v)", c.a.Hive(), c.b.Hive(), got.Hive(), conflict, c.want, c.conflict)
		}
	}
	// The first shape wins: a map stays a map of its values' type.
	if got := MergeFirst(m(`1`), infer(t, `{"x":"s","y":2}`)).Hive(); got != "map<string,bigint>" {
		t.Errorf("MergeFirst(map<string,bigint>, struct with a string) = %s", got)
	}
	if got := m(`1.5`).DuckDB(); got != "MAP(VARCHAR, DOUBLE)" {
		t.Errorf("DuckDB() = %s", got)
	}
	for doc, want := range map[string]bool{`{"a":1,"b":null}`: true, `{}`: true, `{"a":1.5}`: false, `{"a":"x"}`: false, `[1]`: false} {
		v, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := Fits(v, m(`1`)); got != want {
			t.Errorf("Fits(%s, map<string,bigint>) = %v, want %v", doc, got, want)
		}
		if got, want := Fits(v, m(`"s"`)), doc != `[1]`; got != want {
			t.Errorf("Fits(%s, map<string,string>) = %v, want %v", doc, got, want)
		}
	}
}

// InferFirst gives a list whose elements conflict the first element's
// type, nested too, where Infer falls back to string; lists that merge
// without conflict infer the same both ways.
func TestInferFirst(t *testing.T) {
	for doc, want := range map[string][2]string{
		`{"z":[{"k":1},{"k":"two"}]}`: {"struct<z:array<struct<k:bigint>>>", "struct<z:array<struct<k:string>>>"},
		`{"a":[1,"x",true]}`:          {"struct<a:array<bigint>>", "struct<a:array<string>>"},
		`{"a":[1,2.5,null]}`:          {"struct<a:array<double>>", "struct<a:array<double>>"},
		`{"a":[[1],["x"]]}`:           {"struct<a:array<array<bigint>>>", "struct<a:array<array<string>>>"},
	} {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := InferFirst(v).Hive(); got != want[0] {
			t.Errorf("InferFirst(%s) = %s, want %s", doc, got, want[0])
		}
		if got := Infer(v).Hive(); got != want[1] {
			t.Errorf("Infer(%s) = %s, want %s", doc, got, want[1])
		}
	}
}

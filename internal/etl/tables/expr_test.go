package tables

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/schema"
)

const exprRecord = `{"temp":21,"f":2.5,"name":"Ada Lovelace","zero":0,"big":9223372036854775807,
	"ok":true,"no":false,"nil":null,"loc":{"lat":52.5,"city":"Berlin"},"odd-name":7,"s":{"a":1},"l":[1]}`

func TestExpr(t *testing.T) {
	rec := parseObj(t, exprRecord)
	cases := []struct {
		src  string
		want any // json.Number, string, bool, nil
		err  string
	}{
		{"temp * 9 / 5 + 32", json.Number("69.8"), ""},
		{"temp + 1", json.Number("22"), ""},
		{"temp - 1 - 1", json.Number("19"), ""},               // left associative
		{"2 + 3 * 4", json.Number("14"), ""},                  // precedence
		{"(2 + 3) * 4", json.Number("20"), ""},                // parentheses
		{"10 / 4", json.Number("2.5"), ""},                    // / is always double
		{"10 / 5", json.Number("2.0"), ""},                    // and stays double
		{"10 % 4", json.Number("2"), ""},                      // % of longs is a long
		{"f % 2", json.Number("0.5"), ""},                     //
		{"-temp", json.Number("-21"), ""},                     //
		{"- -temp", json.Number("21"), ""},                    //
		{"big + 1", json.Number("9223372036854776000.0"), ""}, // overflow widens to double
		{"big * 2", json.Number("18446744073709552000.0"), ""},
		{"1e3 + 0", json.Number("1000.0"), ""},
		{"loc.lat * 2", json.Number("105.0"), ""},
		{"`odd-name` + 1", json.Number("8"), ""},
		{"missing + 1", nil, ""},
		{"nil * 2", nil, ""},
		{`"a" + 'b'`, "ab", ""},
		{`'it\'s'`, "it's", ""},
		{"lower(name)", "ada lovelace", ""},
		{"upper(loc.city)", "BERLIN", ""},
		{"lower(nil)", nil, ""},
		{`concat(name, " ", temp, "/", f, ok, nil)`, "Ada Lovelace 21/2.5true", ""},
		{"coalesce(nil, missing, loc.city, name)", "Berlin", ""},
		{"coalesce(nil)", nil, ""},
		{"substr(name, 1, 3)", "Ada", ""},
		{"substr(name, 5)", "Lovelace", ""},
		{"substr(name, 0, 2)", "Ad", ""},
		{"substr('ñandú', 2, 3)", "and", ""},
		{"temp > 20", true, ""},
		{"temp >= 21 && f < 3", true, ""},
		{"temp == 21.0", true, ""},
		{"name = 'Ada Lovelace'", true, ""},
		{"name <> 'x'", true, ""},
		{"name == 21", false, ""},
		{"name != 21", true, ""},
		{"nil == null", true, ""},
		{"missing != null", false, ""},
		{"nil > 1", nil, ""},
		{"ok && !no", true, ""},
		{"no && missing > 1", false, ""},
		{"ok || missing > 1", true, ""},
		{"ok && nil", nil, ""},
		{"no || nil", nil, ""},
		{"'a' < 'b'", true, ""},
		{"ok == true", true, ""},
		{"s", schema.Object{{Key: "a", Value: json.Number("1")}}, ""},
		// evaluation errors name operators and types, never values
		{"name - 1", nil, "operator - cannot apply to string and long"},
		{"temp / zero", nil, "operator /: division by zero"},
		{"temp % zero", nil, "operator %: division by zero"},
		{"-name", nil, "operator - cannot apply to string"},
		{"!temp", nil, "operator ! cannot apply to long"},
		{"temp && ok", nil, "operator && wants booleans, got long"},
		{"lower(temp)", nil, "lower: wants a string, got long"},
		{"name < 1", nil, "operator < cannot compare string and long"},
		{"s + 1", nil, "operator + cannot apply to struct and long"},
		{"concat(l)", nil, "concat: cannot join a list"},
		{"substr(name, 'a')", nil, "substr: start wants a long, got string"},
		{"substr(name, 1, -1)", nil, "substr: length must not be negative"},
		{"1e308 * 10", nil, "operator *: result is not a finite number"},
	}
	for _, c := range cases {
		e, err := parseExpr(c.src)
		if err != nil {
			t.Errorf("parse %q: %v", c.src, err)
			continue
		}
		got, err := e.eval(rec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want %q", c.src, err, c.err)
			}
			if err != nil && (strings.Contains(err.Error(), "Ada") || strings.Contains(err.Error(), "21")) {
				t.Errorf("%q: error %q quotes a value", c.src, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %#v, %v; want %#v", c.src, got, err, c.want)
		}
	}
}

func TestExprParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                 "is empty",
		"1 +":              "at offset 3: unexpected end of expression",
		"(1":               "at offset 2: want ')', got end of expression",
		"1 2":              `at offset 2: unexpected "2"`,
		"a < b < c":        "comparisons do not chain",
		"foo(1)":           `unknown function "foo"`,
		"a.b(1)":           `unknown function "a.b"`,
		"upper()":          "upper takes 1 arguments, got 0",
		"concat()":         "concat takes at least 1 arguments, got 0",
		"upper(1, 2)":      "upper takes 1 arguments, got 2",
		"'abc":             "unterminated string",
		`'\x'`:             `unknown escape \x`,
		"1e":               "has no exponent digits",
		"12abc":            "bad number",
		"a.":               "want a field name after '.'",
		"``":               "unterminated or empty `name`",
		"a # b":            `unexpected character '#'`,
		"99999999999e9999": "out of range",
		"concat(1 2)":      "want ',' or ')'",
		strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100): "nested deeper than 64",
		strings.Repeat("-", 100) + "1":                            "nested deeper than 64",
		strings.Repeat("1+", 3000) + "1":                          "longer than 4096 bytes",
	}
	for src, want := range cases {
		_, err := parseExpr(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parse %.40q: err = %v, want %q", src, err, want)
		}
	}
	e, err := parseExpr("coalesce(a.b, `c d`.e) + x")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"a", "b"}, {"c d", "e"}, {"x"}}; !reflect.DeepEqual(e.refs, want) {
		t.Errorf("refs = %q, want %q", e.refs, want)
	}
}

// FuzzExpr: parsing and evaluating any text never panics, and a result is
// a value the loader can store (a JSON value with numbers as json.Number).
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"temp * 9 / 5 + 32", "concat(name, ' ', loc.city)", "substr(name, 2, 3)",
		"coalesce(nil, 1) % 0", "big * big", "-(-(1))", "a < b && !c || d", "`odd-name`", "'\\n' + \"x\"",
		"1e308 * 1e308", "lower(upper(name))"} {
		f.Add(s)
	}
	rec := parseObj(f, exprRecord)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := parseExpr(src)
		if err != nil {
			return
		}
		v, err := e.eval(rec)
		if err != nil {
			return
		}
		switch x := v.(type) {
		case nil, bool, string, schema.Object, []any:
		case json.Number:
			if _, err := schema.Parse([]byte(x)); err != nil {
				t.Fatalf("%q: number %q is not JSON: %v", src, x, err)
			}
		default:
			t.Fatalf("%q: result %T is not a JSON value", src, v)
		}
	})
}

// FuzzScrub: Scrub never panics, and whatever the input, the output holds
// no raw device (only its hash) and no battery, and parses as JSON.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"device":"D1","ts":"2024-05-01T10:00:00Z","temp":21,"battery":87,"location":{"lat":52.5,"lon":13.4}}`,
		`{"device":"a","device":{"x":1},"battery":[1],"location":"x"}`,
		`{"dev":"raw"}`, `[1]`, `"x"`, `{`, ``, `null`, `{"location":{"lat":1,"lat":2}}`,
	} {
		f.Add([]byte(s))
	}
	tbl := mustCompile(f, sensorsSpec(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := tbl.Scrub(raw)
		if raw == nil {
			return
		}
		v, err := schema.Parse(out)
		if err != nil {
			t.Fatalf("Scrub(%q) = %q: not JSON: %v", raw, out, err)
		}
		o, ok := v.(schema.Object)
		if !ok {
			t.Fatalf("Scrub(%q) = %q: not an object", raw, out)
		}
		for _, m := range o {
			switch m.Key {
			case "battery", "device", "location_lat":
				t.Fatalf("Scrub(%q) = %q keeps %s", raw, out, m.Key)
			case "dev":
				if s, ok := m.Value.(string); m.Value != nil && (!ok || len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "") {
					t.Fatalf("Scrub(%q) = %q: dev is not a hash", raw, out)
				}
			}
		}
	})
}

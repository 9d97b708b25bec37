package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// plain converts Parse's values to what encoding/json yields, for comparison.
func plain(v any) any {
	switch x := v.(type) {
	case Object:
		m := make(map[string]any, len(x))
		for _, kv := range x {
			m[kv.Key] = plain(kv.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func stdlib(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, &json.SyntaxError{}
	}
	// Trailing non-space after the value is an error for Unmarshal too.
	// (json.Valid, not Unmarshal into any: that decodes numbers as
	// float64 and refuses the ones out of its range, which UseNumber keeps.)
	if !json.Valid(data) {
		return nil, &json.SyntaxError{}
	}
	return v, nil
}

var parseSeeds = []string{
	`{"a":1,"b":[true,false,null],"c":{"d":"x\u00e9\n","e":-1.5e-3}}`,
	`{"z":1,"a":2,"z":3}`, `[]`, `{}`, `"\ud83d\ude00"`, `"bad \ud800"`, "\"\xff\"", `01`, `1.`, `-`, `1e`,
	`{"a" 1}`, `[1,]`, `{"a":1,}`, ` 1 `, `1 2`, `"a\tb"`, "\"a\tb\"", `nul`, `tru`, `{"a":[{"b":[[]]}]}`,
}

func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseSeeds {
		checkParse(t, []byte(s))
	}
	v, _ := Parse([]byte(`{"z":1,"a":2}`))
	if o := v.(Object); o[0].Key != "z" || o[1].Key != "a" {
		t.Fatalf("source order lost: %v", o)
	}
	if v, _ := Parse([]byte(`{"k":1,"k":2}`)); v.(Object).Get("k") != json.Number("2") {
		t.Fatal("duplicate key: last must win")
	}
}

func checkParse(t *testing.T, data []byte) {
	want, werr := stdlib(data)
	got, gerr := Parse(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("Parse(%q) error %v, encoding/json error %v", data, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(plain(got), want) {
		t.Fatalf("Parse(%q) = %#v, encoding/json = %#v", data, plain(got), want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkParse)
}

func BenchmarkParse(b *testing.B) {
	rec := []byte(`{"id":"abc-000001","ts":"2026-11-22T10:15:30.123Z","device":"dev-0042","site":"ams-1","temperature":21.37,"humidity":55.2,"battery":87,"status":"ok"}`)
	b.Run("schema.Parse", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for range b.N {
			if _, err := Parse(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for range b.N {
			d := json.NewDecoder(bytes.NewReader(rec))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAppendJSONRoundTrips checks that re-encoding a parsed value gives
// JSON that encoding/json reads as the same value, members in order.
func TestAppendJSONRoundTrips(t *testing.T) {
	in := `{"b":1,"a":{"z":[1,2.5,"x",null,true],"y":{}},"s":"q\"\u00e9<"}`
	v, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out := string(AppendJSON(nil, v))
	if out != `{"b":1,"a":{"z":[1,2.5,"x",null,true],"y":{}},"s":"q\"é\u003c"}` {
		t.Fatalf("re-encoded as %s", out)
	}
	if Text("plain") != "plain" || Text(json.Number("2.5")) != "2.5" || Text(v.(Object).Get("a")) != `{"z":[1,2.5,"x",null,true],"y":{}}` {
		t.Fatal("Text gives the wrong text")
	}
}

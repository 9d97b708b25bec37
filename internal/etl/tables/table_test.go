package tables

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/streamlake/streamlake/internal/schema"
)

func parseObj(t testing.TB, s string) schema.Object {
	t.Helper()
	v, err := schema.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v.(schema.Object)
}

func js(v any) string { return string(appendJSON(nil, v)) }

func mustCompile(t testing.TB, s Spec) *Table {
	t.Helper()
	tbl, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// transformsYAML decodes a YAML list of transforms.
func transformsYAML(t testing.TB, y string) []Transform {
	t.Helper()
	c, err := decode([]byte("tables:\n  - topic: x\n    transforms:\n" + y))
	if err != nil {
		t.Fatal(err)
	}
	return c.Tables[0].Transforms
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestApply(t *testing.T) {
	cases := []struct {
		name, transforms, in, want, err string
	}{
		{"rename", "- rename: {from: temperature, to: temp}",
			`{"a":1,"temperature":20,"b":2}`, `{"a":1,"temp":20,"b":2}`, ""},
		{"rename replaces target", "- rename: {from: t2, to: t}",
			`{"t":1,"t2":2}`, `{"t":2}`, ""},
		{"rename nested", "- rename: {from: location.lat, to: latitude}",
			`{"location":{"lat":1.5,"lon":2}}`, `{"location":{"latitude":1.5,"lon":2}}`, ""},
		{"rename missing is a no-op", "- rename: {from: nope, to: t}",
			`{"t":1}`, `{"t":1}`, ""},
		{"drop", "- drop: battery", `{"a":1,"battery":87}`, `{"a":1}`, ""},
		{"drop duplicates", "- drop: battery", `{"battery":1,"a":1,"battery":2}`, `{"a":1}`, ""},
		{"drop nested", "- drop: location.lat", `{"location":{"lat":1,"lon":2}}`, `{"location":{"lon":2}}`, ""},
		{"drop nested missing parent", "- drop: location.lat", `{"location":"x"}`, `{"location":"x"}`, ""},
		{"drop struct", "- drop: location", `{"location":{"lat":1},"a":null}`, `{"a":null}`, ""},
		{"cast long from string", "- cast: {field: n, type: long}", `{"n":" 42 "}`, `{"n":42}`, ""},
		{"cast long from integral double", "- cast: {field: n, type: long}", `{"n":4.0e2}`, `{"n":400}`, ""},
		{"cast long from bool", "- cast: {field: n, type: long}", `{"n":true}`, `{"n":1}`, ""},
		{"cast long null stays null", "- cast: {field: n, type: long}", `{"n":null}`, `{"n":null}`, ""},
		{"cast long abc", "- cast: {field: n, type: long}", `{"n":"abc"}`, "",
			`transforms[0] (cast n): "abc" is not a number`},
		{"cast long fraction", "- cast: {field: n, type: long}", `{"n":1.5}`, "",
			`transforms[0] (cast n): 1.5 has a fraction; cannot cast to long`},
		{"cast long range", "- cast: {field: n, type: long}", `{"n":1e30}`, "",
			`transforms[0] (cast n): 1e30 is out of the range of a long`},
		{"cast long NaN", "- cast: {field: n, type: long}", `{"n":"NaN"}`, "",
			`transforms[0] (cast n): "NaN" is not a number`},
		{"cast long struct", "- cast: {field: n, type: long}", `{"n":{"a":1}}`, "",
			`transforms[0] (cast n): {"a":1} is a struct; cannot cast to long`},
		{"cast double", "- cast: {field: n, type: double}", `{"n":"2"}`, `{"n":2.0}`, ""},
		{"cast double nested", "- cast: {field: a.n, type: double}", `{"a":{"n":3}}`, `{"a":{"n":3.0}}`, ""},
		{"cast double bad", "- cast: {field: n, type: double}", `{"n":"NaN"}`, "",
			`transforms[0] (cast n): "NaN" is not a finite number`},
		{"cast string", "- cast: {field: n, type: string}", `{"n":12.50,"s":{"a":[1]}}`, `{"n":"12.50","s":{"a":[1]}}`, ""},
		{"cast string struct", "- cast: {field: s, type: string}", `{"s":{"a":[1,"x"]}}`, `{"s":"{\"a\":[1,\"x\"]}"}`, ""},
		{"cast boolean", "- cast: {field: b, type: boolean}", `{"b":"Yes"}`, `{"b":true}`, ""},
		{"cast boolean number", "- cast: {field: b, type: boolean}", `{"b":0}`, `{"b":false}`, ""},
		{"cast boolean bad", "- cast: {field: b, type: boolean}", `{"b":2}`, "",
			`transforms[0] (cast b): 2 is not a boolean (true/false, yes/no, 1/0)`},
		{"cast timestamp epoch", "- cast: {field: t, type: timestamp}", `{"t":1700000000123}`,
			`{"t":"2023-11-14T22:13:20.123Z"}`, ""},
		{"cast timestamp rfc3339 to utc", "- cast: {field: t, type: timestamp}", `{"t":"2024-01-02T03:04:05+02:00"}`,
			`{"t":"2024-01-02T01:04:05Z"}`, ""},
		{"cast timestamp bad", "- cast: {field: t, type: timestamp}", `{"t":"yesterday"}`, "",
			`transforms[0] (cast t): "yesterday" is not an RFC 3339 timestamp or epoch number`},
		{"flatten", "- flatten: location", `{"id":1,"location":{"lat":1,"lon":2},"z":0}`,
			`{"id":1,"location_lat":1,"location_lon":2,"z":0}`, ""},
		{"flatten separator nested", "- flatten: {field: a.b, separator: __}", `{"a":{"b":{"c":{"d":1}}}}`,
			`{"a":{"b__c":{"d":1}}}`, ""},
		{"flatten null and missing", "- flatten: location", `{"location":null}`, `{"location":null}`, ""},
		{"flatten scalar", "- flatten: location", `{"location":"here"}`, "",
			`transforms[0] (flatten location): "here" is a string, not a struct`},
		{"hash", "- hash: device", `{"device":"DEV-1","n":1}`, `{"device":"` + sha("DEV-1") + `","n":1}`, ""},
		{"hash number and salt", "- hash: {field: n, salt: pep}", `{"n":12.0}`, `{"n":"` + sha("pep12.0") + `"}`, ""},
		{"hash struct", "- hash: s", `{"s":{"a":1}}`, `{"s":"` + sha(`{"a":1}`) + `"}`, ""},
		{"hash null stays null", "- hash: device", `{"device":null}`, `{"device":null}`, ""},
		{"hash duplicates", "- hash: d", `{"d":"a","d":"b"}`, `{"d":"` + sha("a") + `","d":"` + sha("b") + `"}`, ""},
		{"mask", "- mask: card", `{"card":"4111111111111111"}`, `{"card":"****"}`, ""},
		{"mask keep last", "- mask: {field: card, keep_last: 4}", `{"card":"4111 1111 1111 1234"}`, `{"card":"****1234"}`, ""},
		{"mask short whole", "- mask: {field: pin, keep_last: 4}", `{"pin":"1234"}`, `{"pin":"****"}`, ""},
		{"mask unicode number", "- mask: {field: p, keep_last: 2}", `{"p":"ñañaña","q":123456}`, `{"p":"****ña","q":123456}`, ""},
		{"derive", "- derive: {name: temp_f, expr: \"temp * 9 / 5 + 32\"}", `{"temp":21}`, `{"temp":21,"temp_f":69.8}`, ""},
		{"derive replaces", "- derive: {name: a, expr: \"a + 1\"}", `{"a":1,"b":2}`, `{"a":2,"b":2}`, ""},
		{"derive null", "- derive: {name: f, expr: \"temp * 2\"}", `{}`, `{"f":null}`, ""},
		{"derive error names types not values", "- derive: {name: f, expr: \"temp - 1\"}", `{"temp":"hot"}`, "",
			`transforms[0] (derive f): operator - cannot apply to string and long`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := mustCompile(t, Spec{Topic: "x", Transforms: transformsYAML(t, "      "+c.transforms+"\n")})
			in := parseObj(t, c.in)
			got, err := tbl.Apply(in)
			if js(in) != js(parseObj(t, c.in)) {
				t.Errorf("Apply modified its input: %s", js(in))
			}
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if js(got) != c.want {
				t.Fatalf("got  %s\nwant %s", js(got), c.want)
			}
		})
	}
}

// sensorsSpec is the acceptance test's table: hash(device), drop(battery),
// plus a rename and a flatten around them.
func sensorsSpec(t testing.TB) Spec {
	return Spec{Topic: "sensors", Partition: []string{"day(ts)", "bucket(16, dev)"}, Transforms: transformsYAML(t, `
      - rename: {from: device, to: dev}
      - drop: battery
      - hash: {field: dev, salt: s}
      - cast: {field: temp, type: double}
      - flatten: location
      - drop: location_lat
`)}
}

const (
	rawDevice  = "DEV-7731-QX"
	rawBattery = "87.0625"
	rawLat     = "52.520008"
)

func TestSensorsPII(t *testing.T) {
	tbl := mustCompile(t, sensorsSpec(t))
	records := []string{
		`{"id":1,"device":"DEV-7731-QX","ts":"2024-05-01T10:00:00Z","temp":21,"battery":87.0625,"location":{"lat":52.520008,"lon":13.4}}`,
		// a duplicate device key and a dev key that the rename overwrites
		`{"id":2,"dev":"DEV-7731-QX","device":"x","device":"DEV-7731-QX","ts":"2024-05-01T10:00:00Z","temp":21,"battery":87.0625,"location":{"lat":52.520008}}`,
	}
	for _, r := range records {
		row, err := tbl.Apply(parseObj(t, r))
		if err != nil {
			t.Fatal(err)
		}
		out := js(row)
		for _, secret := range []string{rawDevice, rawBattery, rawLat, "battery"} {
			if strings.Contains(out, secret) {
				t.Errorf("Apply output %s contains %q", out, secret)
			}
		}
		if !strings.Contains(out, `"dev":"`+hashText("s", rawDevice)+`"`) || !strings.Contains(out, `"temp":21.0`) {
			t.Errorf("Apply output %s: want hashed dev and double temp", out)
		}
		scrubbed := string(tbl.Scrub([]byte(r)))
		for _, secret := range []string{rawDevice, rawBattery, rawLat} {
			if strings.Contains(scrubbed, secret) {
				t.Errorf("Scrub output %s contains %q", scrubbed, secret)
			}
		}
		if _, err := schema.Parse([]byte(scrubbed)); err != nil {
			t.Errorf("Scrub output is not JSON: %v", err)
		}
	}
	// A record that fails (cast of temp) is dead-lettered: neither the
	// reason nor the scrubbed raw value holds the device or battery.
	bad := `{"id":3,"device":"DEV-7731-QX","temp":"warm","battery":87.0625,"location":"unknown"}`
	_, err := tbl.Apply(parseObj(t, bad))
	if err == nil || !strings.Contains(err.Error(), `(cast temp): "warm" is not a finite number`) {
		t.Fatalf("err = %v", err)
	}
	scrubbed := string(tbl.Scrub([]byte(bad)))
	if strings.Contains(scrubbed, rawDevice) || strings.Contains(scrubbed, rawBattery) || !strings.Contains(scrubbed, `"location":"unknown"`) {
		t.Errorf("Scrub(%s) = %s", bad, scrubbed)
	}
	// An error about a PII field names its type, not its value.
	tbl2 := mustCompile(t, Spec{Topic: "s", Transforms: transformsYAML(t, `
      - cast: {field: device, type: long}
      - hash: device
`)})
	_, err = tbl2.Apply(parseObj(t, `{"device":"DEV-7731-QX"}`))
	if err == nil || strings.Contains(err.Error(), rawDevice) || !strings.Contains(err.Error(), "the string value (not shown") {
		t.Errorf("err = %v", err)
	}
	_, err = tbl2.Apply(parseObj(t, `{"device":{"serial":"DEV-7731-QX"}}`))
	if err == nil || strings.Contains(err.Error(), rawDevice) {
		t.Errorf("err = %v", err)
	}
}

func TestScrub(t *testing.T) {
	tbl := mustCompile(t, sensorsSpec(t))
	for _, raw := range []string{
		`not json DEV-7731-QX`,
		`["DEV-7731-QX"]`,
		`"DEV-7731-QX"`,
		`{"device":"DEV-7731-QX"`,
	} {
		got := tbl.Scrub([]byte(raw))
		v, err := schema.Parse(got)
		o, ok := v.(schema.Object)
		if err != nil || !ok || len(o) != 1 || o[0].Key != RedactedKey || strings.Contains(string(got), rawDevice) {
			t.Errorf("Scrub(%s) = %s, want a %s placeholder", raw, got, RedactedKey)
		}
	}
	if got := tbl.Scrub(nil); got != nil {
		t.Errorf("Scrub(nil) = %q", got)
	}
	// Without PII transforms the raw value is kept byte for byte.
	plain := mustCompile(t, Spec{Topic: "x", Transforms: []Transform{{Cast: &Cast{Field: "a", Type: "long"}}}})
	for _, raw := range []string{`not json`, `{ "a" : "x" }`} {
		if got := string(plain.Scrub([]byte(raw))); got != raw {
			t.Errorf("Scrub(%s) = %s", raw, got)
		}
	}
	// Object members keep their order; mask applies too.
	m := mustCompile(t, Spec{Topic: "x", Transforms: transformsYAML(t, "      - mask: {field: card, keep_last: 2}\n")})
	if got := string(m.Scrub([]byte(`{"z":1, "card":"12345678", "a":[true,null,"é"]}`))); got != `{"z":1,"card":"****78","a":[true,null,"é"]}` {
		t.Errorf("Scrub = %s", got)
	}
}

func TestMatchAndSelect(t *testing.T) {
	clicks := mustCompile(t, Spec{Topic: "events", Name: "clicks", Match: map[string]string{"type": "click", "meta.v": "2"}})
	all := mustCompile(t, Spec{Topic: "events", Name: "events"})
	other := mustCompile(t, Spec{Topic: "other"})
	ts := []*Table{other, clicks, all}
	cases := []struct {
		topic, rec, want string
	}{
		{"events", `{"type":"click","meta":{"v":2}}`, "clicks"},
		{"events", `{"type":"click","meta":{"v":"2"}}`, "clicks"},
		{"events", `{"type":"click","meta":{"v":3}}`, "events"},
		{"events", `{"type":"click"}`, "events"},
		{"events", `{"type":"view","meta":{"v":2}}`, "events"},
		{"other", `{"type":"click","meta":{"v":2}}`, "other"},
		{"nope", `{}`, ""},
	}
	for _, c := range cases {
		got := Select(ts, c.topic, parseObj(t, c.rec))
		name := ""
		if got != nil {
			name = got.Name()
		}
		if name != c.want {
			t.Errorf("Select(%s, %s) = %q, want %q", c.topic, c.rec, name, c.want)
		}
	}
}

// A Table is read-only: concurrent use gives every goroutine the same
// results (and `go test -race` finds no race).
func TestConcurrentUse(t *testing.T) {
	tbl := mustCompile(t, sensorsSpec(t))
	in := parseObj(t, `{"id":1,"device":"D","ts":"2024-05-01T10:00:00Z","temp":21,"battery":87,"location":{"lat":1,"lon":2}}`)
	want, err := tbl.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for range 200 {
				got, err := tbl.Apply(in)
				if err != nil || js(got) != js(want) {
					errs <- js(got)
					return
				}
				tbl.Scrub([]byte(`{"device":"D"}`))
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Fatalf("concurrent Apply = %s, want %s", e, js(want))
		}
	}
}

func BenchmarkPrepare(b *testing.B) {
	tbl := mustCompile(b, sensorsSpec(b))
	raw := []byte(`{"id":1,"device":"DEV-7731-QX","ts":"2024-05-01T10:00:00Z","temp":21,"battery":87.0625,"location":{"lat":52.520008,"lon":13.4}}`)
	kafka := time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		v, _ := schema.Parse(raw)
		if _, _, reason := tbl.Prepare(v.(schema.Object), kafka, kafka); reason != "" {
			b.Fatal(reason)
		}
	}
}

func TestCoerceString(t *testing.T) {
	rec := parseObj(t, `{"s":"x","n":12.50,"b":true,"o":{"a":[1,null]},"z":null}`)
	want := []string{"x", "12.50", "true", `{"a":[1,null]}`, "null"}
	for i, m := range rec {
		if got := CoerceString(m.Value); got != want[i] {
			t.Errorf("CoerceString(%s) = %q, want %q", m.Key, got, want[i])
		}
	}
	if !mustCompile(t, Spec{Topic: "x", OnTypeMismatch: MismatchString}).CoerceToString() || mustCompile(t, Spec{Topic: "x"}).CoerceToString() {
		t.Error("CoerceToString does not follow on_type_mismatch")
	}
	long := strings.Repeat("é", 40)
	if p := preview(long); !utf8.ValidString(p) || !strings.HasSuffix(p, "...") {
		t.Errorf("preview = %q", p)
	}
}

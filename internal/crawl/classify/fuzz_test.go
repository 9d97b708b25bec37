package classify

import (
	"encoding/json"
	"testing"
)

// FuzzSniffCSV: the sniffer never panics, is deterministic, and what it
// accepts is consistent (2+ named, typed columns; a header's names are
// unique).
func FuzzSniffCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a\tb\nx\ty\n", "a|b|c\n1|\"x|y\"|3\n", "a;b\n\"1\n2\";3\n",
		"first_name,last_name\nAlice,Smith\n", "1,2\n3,4\n", "\"\"\"\",a\n,\n",
	} {
		f.Add([]byte(s), false, 10)
	}
	f.Fuzz(func(t *testing.T, data []byte, truncated bool, n int) {
		n = n%50 + 1
		if n < 1 {
			n = 1
		}
		r1, ok1 := sniffCSV(data, truncated, n)
		r2, ok2 := sniffCSV(data, truncated, n)
		if ok1 != ok2 || !sameJSON(t, r1, r2) {
			t.Fatalf("not deterministic")
		}
		if !ok1 {
			return
		}
		if len(r1.Columns) < 2 || len(r1.CSV.Names) != len(r1.Columns) {
			t.Fatalf("accepted %d columns, %d names", len(r1.Columns), len(r1.CSV.Names))
		}
		if r1.Records > int64(n) {
			t.Fatalf("sampled %d records, limit %d", r1.Records, n)
		}
		seen := map[string]bool{}
		for _, c := range r1.Columns {
			if c.Type == nil || seen[c.Name] {
				t.Fatalf("column %q missing type or repeated", c.Name)
			}
			seen[c.Name] = true
		}
	})
}

// FuzzJSONRecords: the JSON sniffer (lines and arrays) and the whole text
// classifier never panic and are deterministic.
func FuzzJSONRecords(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"b\":[1,2]}\n", "[{\"a\":{\"b\":null}}]", "[{}, {\"x\":\"2024-01-01\"}]",
		"{\"a\":1}{\"a\":2}", "[", "[{\"a\":1},", "{\"a\":\"\\u00e9\"}\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, truncated bool) {
		r1 := classifyText(data, truncated, Options{SampleRecords: 20, SampleBytes: 1 << 20})
		r2 := classifyText(data, truncated, Options{SampleRecords: 20, SampleBytes: 1 << 20})
		if !sameJSON(t, r1, r2) {
			t.Fatalf("not deterministic")
		}
		if r1.Format == Unclassified && r1.Reason == "" {
			t.Fatalf("unclassified without a reason")
		}
		if r1.Format == JSON {
			for _, c := range r1.Columns {
				_ = c.Type.Hive() // renders without recursion trouble
			}
		}
	})
}

func sameJSON(t *testing.T, a, b Result) bool {
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

package produce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const tsLayout = "2006-01-02T15:04:05.000Z07:00"

var testNow = time.Date(2026, 11, 22, 10, 15, 30, 123_000_000, time.UTC)

// generate returns n records of dataset as raw JSON and their Append ids.
func generate(t testing.TB, dataset string, seed int64, runID string, n int) (recs, ids [][]byte) {
	g, err := NewGenerator(dataset, seed, runID, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		out, id := g.Append(nil)
		recs = append(recs, out)
		ids = append(ids, id)
	}
	return recs, ids
}

func checkCommon(t *testing.T, i int, raw, appendID []byte, m map[string]any, seen map[string]bool) {
	t.Helper()
	id, ok := m["id"].(string)
	if !ok || id == "" {
		t.Fatalf("record %d: id %v is not a non-empty string: %s", i, m["id"], raw)
	}
	if string(appendID) != id {
		t.Fatalf("record %d: Append returned id %q, record has %q", i, appendID, id)
	}
	if seen[id] {
		t.Fatalf("record %d: duplicate id %q", i, id)
	}
	seen[id] = true
	ts, ok := m["ts"].(string)
	if !ok {
		t.Fatalf("record %d: ts %v is not a string", i, m["ts"])
	}
	parsed, err := time.Parse(tsLayout, ts)
	if err != nil {
		t.Fatalf("record %d: ts %q: %v", i, ts, err)
	}
	if back := parsed.UTC().Format(tsLayout); back != ts {
		t.Fatalf("record %d: ts %q does not round-trip (got %q)", i, ts, back)
	}
	if parsed.After(testNow) || parsed.Before(testNow.Add(-tsSpan)) {
		t.Fatalf("record %d: ts %s outside [now-%s, now]", i, ts, tsSpan)
	}
}

func decodeStrict(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	if !json.Valid(raw) {
		t.Fatalf("invalid JSON: %s", raw)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, raw)
	}
	return m
}

func TestSensors(t *testing.T) {
	recs, ids := generate(t, DatasetSensors, 1, "testrun1", 20_000)
	seen := map[string]bool{}
	statuses := map[string]int{}
	for i, raw := range recs {
		m := decodeStrict(t, raw)
		checkCommon(t, i, raw, ids[i], m, seen)
		for _, f := range []string{"device", "site", "status"} {
			if s, ok := m[f].(string); !ok || s == "" {
				t.Fatalf("record %d: %s = %v, want a string", i, f, m[f])
			}
		}
		for _, f := range []string{"temperature", "humidity", "battery"} {
			if _, ok := m[f].(json.Number); !ok {
				t.Fatalf("record %d: %s = %v, want a number", i, f, m[f])
			}
		}
		if len(m) != 8 {
			t.Fatalf("record %d: %d fields, want 8: %s", i, len(m), raw)
		}
		statuses[m["status"].(string)]++
	}
	if len(statuses) != 3 {
		t.Errorf("statuses %v, want ok, warn and error", statuses)
	}
}

func TestOrders(t *testing.T) {
	recs, ids := generate(t, DatasetOrders, 7, "testrun2", 10_000)
	seen := map[string]bool{}
	for i, raw := range recs {
		m := decodeStrict(t, raw)
		checkCommon(t, i, raw, ids[i], m, seen)
		cust, ok := m["customer"].(map[string]any)
		if !ok || cust["id"] == nil || cust["name"] == nil || cust["tier"] == nil {
			t.Fatalf("record %d: customer %v lacks id, name or tier", i, m["customer"])
		}
		items, ok := m["items"].([]any)
		if !ok || len(items) == 0 {
			t.Fatalf("record %d: items %v, want a non-empty list", i, m["items"])
		}
		var sum int64 // cents
		for _, it := range items {
			item := it.(map[string]any)
			if s, _ := item["sku"].(string); !strings.HasPrefix(s, "SKU-") {
				t.Fatalf("record %d: sku %v", i, item["sku"])
			}
			qty, err := item["qty"].(json.Number).Int64()
			if err != nil || qty < 1 {
				t.Fatalf("record %d: qty %v", i, item["qty"])
			}
			sum += qty * cents(t, item["price"].(json.Number))
		}
		if total := cents(t, m["total"].(json.Number)); total != sum {
			t.Fatalf("record %d: total %v, sum of items %d cents: %s", i, m["total"], sum, raw)
		}
		if m["currency"] == nil || m["country"] == nil {
			t.Fatalf("record %d: missing currency or country", i)
		}
	}
}

// cents parses a number that must have exactly two decimals.
func cents(t *testing.T, n json.Number) int64 {
	t.Helper()
	s := n.String()
	if dot := strings.IndexByte(s, '.'); dot < 0 || len(s)-dot != 3 {
		t.Fatalf("amount %s does not have exactly two decimals", s)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return int64(math.Round(f * 100))
}

func TestGeneratorDeterministic(t *testing.T) {
	for _, ds := range datasets {
		a, _ := generate(t, ds, 42, "run", 100)
		b, _ := generate(t, ds, 42, "run", 100)
		c, _ := generate(t, ds, 43, "run", 100)
		if !slicesEqual(a, b) {
			t.Errorf("%s: same seed gave different records", ds)
		}
		if slicesEqual(a, c) {
			t.Errorf("%s: different seeds gave the same records", ds)
		}
	}
}

func slicesEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestUnknownDataset(t *testing.T) {
	_, err := NewGenerator("foo", 1, "r", testNow)
	if err == nil || err.Error() != `--dataset: "foo" is not one of sensors, orders` {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendTimestampMatchesTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []int64{0, 999, 1000, 253402300799999} // 9999-12-31T23:59:59.999Z
	for range 10_000 {
		cases = append(cases, r.Int64N(4102444800000)) // up to 2100
	}
	for _, ms := range cases {
		want := time.UnixMilli(ms).UTC().Format(tsLayout)
		if got := string(appendTimestamp(nil, ms)); got != want {
			t.Fatalf("appendTimestamp(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestAppendFixed(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {-5, "-0.05"}, {-150, "-1.50"}, {123456, "1234.56"}} {
		if got := string(appendFixed2(nil, tc.v)); got != tc.want {
			t.Errorf("appendFixed2(%d) = %s, want %s", tc.v, got, tc.want)
		}
	}
	if got := string(appendFixed1(nil, 7)); got != "0.7" {
		t.Errorf("appendFixed1(7) = %s", got)
	}
}

func TestIDsBeyondPadding(t *testing.T) {
	g, _ := NewGenerator(DatasetSensors, 1, "r", testNow)
	g.seq = 999_999_998
	for _, want := range []string{"r-999999999", "r-1000000000"} {
		rec, id := g.Append(nil)
		if string(id) != want || !bytes.HasPrefix(rec, []byte(`{"id":"`+want+`"`)) {
			t.Fatalf("id = %q in %s, want %q", id, rec, want)
		}
	}
}

func benchmarkDataset(b *testing.B, dataset string) {
	g, err := NewGenerator(dataset, 1, "benchrun", testNow)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = g.Append(buf[:0])
		n += int64(len(buf))
	}
	b.SetBytes(n / int64(b.N))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}

func BenchmarkSensors(b *testing.B) { benchmarkDataset(b, DatasetSensors) }

func BenchmarkOrders(b *testing.B) { benchmarkDataset(b, DatasetOrders) }

func ExampleGenerator() {
	g, _ := NewGenerator(DatasetSensors, 1, "k3f9q2ab", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	rec, id := g.Append(nil)
	fmt.Println(string(id), json.Valid(rec))
	// Output: k3f9q2ab-000000001 true
}

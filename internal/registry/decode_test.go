package registry_test

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamlake/streamlake/internal/registry"
)

const orderSchema = `{"type": "record", "name": "Order", "namespace": "shop", "fields": [
	{"name": "id", "type": "long"},
	{"name": "customer", "type": ["null", "string"], "default": null},
	{"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
	{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	{"name": "day", "type": {"type": "int", "logicalType": "date"}},
	{"name": "score", "type": ["null", "double"]},
	{"name": "tags", "type": {"type": "array", "items": "string"}},
	{"name": "attrs", "type": {"type": "map", "values": "long"}},
	{"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
	{"name": "ship", "type": ["null", {"type": "record", "name": "Ship", "fields": [{"name": "city", "type": "string"}, {"name": "raw", "type": "bytes"}]}]}
]}`

// Values produced with franz-go's Serde against a schema registered with
// its client (a registry and a client nobody here wrote) decode to JSON
// objects; values the registry cannot explain get reasons.
func TestDecode(t *testing.T) {
	ctx := t.Context()
	reg, cl := fakeRegistry(t)
	ss, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	js, err := cl.CreateSchema(ctx, "clicks-value", sr.Schema{Schema: `{"type": "object"}`, Type: sr.TypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := cl.CreateSchema(ctx, "pb-value", sr.Schema{Schema: `syntax = "proto3"; message M { int64 id = 1; }`, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	sch := avro.MustParse(orderSchema)
	var serde sr.Serde
	serde.Register(ss.ID, map[string]any{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(sch, v) }))

	customer := "ann"
	full, err := serde.Encode(map[string]any{
		"id": int64(7), "customer": &customer, "amount": big.NewRat(1999, 100),
		"ts": time.Date(2026, 12, 3, 10, 0, 0, 500e6, time.UTC), "day": time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		"score": map[string]any{"double": 4.5}, "tags": []any{"a", "b"}, "attrs": map[string]any{"z": int64(1), "a": int64(2), "q\x01": int64(3)},
		"status": "PAID", "ship": map[string]any{"shop.Ship": map[string]any{"city": "Oslo", "raw": []byte{1, 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := serde.Encode(map[string]any{
		"id": int64(8), "customer": nil, "amount": big.NewRat(-5, 1), "ts": time.UnixMilli(0), "day": time.Unix(0, 0),
		"score": nil, "tags": []any{}, "attrs": map[string]any{}, "status": "NEW", "ship": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := registry.New(reg.URL())
	if err != nil {
		t.Fatal(err)
	}
	header := func(id int) []byte { return []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)} }
	for _, tc := range []struct {
		name   string
		value  []byte
		json   string
		reason string
	}{
		{"avro", full, `{"id":7,"customer":"ann","amount":19.99,"ts":"2026-12-03T10:00:00.5Z","day":"2026-12-03T00:00:00Z","score":4.5,"tags":["a","b"],"attrs":{"a":2,"q\u0001":3,"z":1},"status":"PAID","ship":{"city":"Oslo","raw":"AQI="}}`, ""},
		{"avro nulls", empty, `{"id":8,"customer":null,"amount":-5,"ts":"1970-01-01T00:00:00Z","day":"1970-01-01T00:00:00Z","score":null,"tags":[],"attrs":{},"status":"NEW","ship":null}`, ""},
		{"json schema", append(header(js.ID), `{"page":"/a"}`...), `{"page":"/a"}`, ""},
		{"protobuf", append(header(pb.ID), 0, 8, 1), `{"id":1}`, ""},
		{"unknown id", header(999), "", "schema id 999 is not in the schema registry at " + reg.URL()},
		{"truncated", full[:8], "", "does not decode with Avro schema id"},
		{"not wire format", []byte(`{"a":1}`), "", "not in Schema Registry's wire format"},
	} {
		out, reason, err := d.Decode(ctx, tc.value)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(out) != tc.json || !strings.Contains(reason, tc.reason) || (tc.reason == "") != (reason == "") {
			t.Errorf("%s: %s, reason %q; want %s, reason %q", tc.name, out, reason, tc.json, tc.reason)
		}
	}
	// A registry that cannot be reached is an error to retry, not a reason.
	reg.Close()
	down, _ := registry.New(reg.URL())
	if _, reason, err := down.Decode(ctx, full); err == nil || reason != "" {
		t.Errorf("registry down: reason %q, err %v; want an error", reason, err)
	}
	// Schemas are fetched once: the closed registry is not asked again.
	if out, _, err := d.Decode(ctx, full); err != nil || !strings.HasPrefix(string(out), `{"id":7,`) {
		t.Errorf("cached schema: %s, %v", out, err)
	}
}

func FuzzDecode(f *testing.F) {
	reg, cl := fakeRegistry(f)
	ss, err := cl.CreateSchema(f.Context(), "orders-value", sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	if err != nil {
		f.Fatal(err)
	}
	d, err := registry.New(reg.URL())
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0, 0, 0, 0, byte(ss.ID), 14, 0, 4, 7, 208})
	f.Fuzz(func(t *testing.T, v []byte) {
		if len(v) >= 5 {
			v[0], v[1], v[2], v[3], v[4] = 0, 0, 0, 0, byte(ss.ID) // the registered schema
		}
		out, reason, err := d.Decode(t.Context(), v)
		if err != nil {
			t.Fatal(err)
		}
		if reason == "" && !jsonValid(out) {
			t.Errorf("%x decoded to invalid JSON %s", v, out)
		}
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// fakeRegistry starts franz-go's srfake registry, closed when tb ends,
// and returns it with a client of it.
func fakeRegistry(tb testing.TB) (*srfake.Registry, *sr.Client) {
	tb.Helper()
	reg := srfake.New()
	tb.Cleanup(reg.Close)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		tb.Fatal(err)
	}
	return reg, cl
}

// The other logical types, fixed, and a union of several primitive types
// (whose branches decode as their values) decode too.
func TestDecodeLogicalTypes(t *testing.T) {
	const s = `{"type": "record", "name": "T", "fields": [
		{"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
		{"name": "lt", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
		{"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
		{"name": "fx", "type": {"type": "fixed", "name": "F", "size": 4}},
		{"name": "fd", "type": {"type": "fixed", "name": "D", "size": 8, "logicalType": "decimal", "precision": 10, "scale": 3}},
		{"name": "f", "type": "float"},
		{"name": "multi", "type": ["null", "string", "long"]},
		{"name": "tsu", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]}
	]}`
	reg, cl := fakeRegistry(t)
	ss, err := cl.CreateSchema(t.Context(), "t-value", sr.Schema{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	sch := avro.MustParse(s)
	var serde sr.Serde
	serde.Register(ss.ID, map[string]any{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(sch, v) }))
	d, err := registry.New(reg.URL())
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	for multi, want := range map[string]string{
		"string": `"x"`, "long": `5`,
	} {
		branch := map[string]any{"string": map[string]any{"string": "x"}, "long": map[string]any{"long": int64(5)}}[multi]
		v, err := serde.Encode(map[string]any{"u": "0b1e0f6a-8f7c-4c0a-9a3e-6f0e2b8c1d2e", "lt": ts, "tm": 3 * time.Second,
			"fx": [4]byte{1, 2, 3, 4}, "fd": big.NewRat(12345, 1000), "f": float32(1.5), "multi": branch,
			"tsu": map[string]any{"long.timestamp-micros": ts}})
		if err != nil {
			t.Fatal(err)
		}
		out, reason, err := d.Decode(t.Context(), v)
		if want := `{"u":"0b1e0f6a-8f7c-4c0a-9a3e-6f0e2b8c1d2e","lt":"2026-01-02T03:04:05.000006Z","tm":"00:00:03","fx":"AQIDBA==","fd":12.345,"f":1.5,"multi":` + want + `,"tsu":"2026-01-02T03:04:05.000006Z"}`; string(out) != want || reason != "" || err != nil {
			t.Errorf("%s branch: %s, %q, %v\nwant %s", multi, out, reason, err, want)
		}
	}
}

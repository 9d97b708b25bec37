package produce

import (
	"context"
	"reflect"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamlake/streamlake/internal/registry"
)

// decodedObject is the JSON object b, with ts as the Unix milliseconds of
// the instant it names.
func decodedObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, obj["ts"].(string))
	if err != nil {
		t.Fatalf("ts of %s: %v", b, err)
	}
	obj["ts"] = ts.UnixMilli()
	return obj
}

// Each dataset's Avro and Protobuf values, decoded through the schema
// registry they were registered in (as the ETL decodes them), are its
// JSON records: the same fields and values, ts the same instant.
func TestRegistrySources(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	dec, err := registry.New(reg.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	encoders := map[string]func(src source, ds string) (source, error){
		FormatAvro: func(src source, ds string) (source, error) {
			return newAvroSource(ctx, src, ds, "avro-"+ds, reg.URL())
		},
		FormatProtobuf: func(src source, ds string) (source, error) {
			return newProtoSource(ctx, src, ds, "proto-"+ds, reg.URL())
		},
	}
	for format, encoder := range encoders {
		for _, ds := range datasets {
			t.Run(format+"/"+ds, func(t *testing.T) {
				const n = 500
				plain, err := NewGenerator(ds, 7, "run", now)
				if err != nil {
					t.Fatal(err)
				}
				same, _ := NewGenerator(ds, 7, "run", now)
				src, err := encoder(&genSource{gen: same, left: n}, ds)
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					want, wantKey := plain.Append(nil)
					value, key, err := src.next()
					if err != nil {
						t.Fatalf("record %d: %v", i, err)
					}
					if string(key) != string(wantKey) {
						t.Fatalf("record %d: key %q, want %q", i, key, wantKey)
					}
					if id, ok := registry.WireFormat(value); !ok || id == 0 {
						t.Fatalf("record %d: %x is not in the wire format", i, value[:min(8, len(value))])
					}
					out, reason, err := dec.Decode(ctx, value)
					if err != nil || reason != "" {
						t.Fatalf("record %d: decode: %v %s", i, err, reason)
					}
					if got, want := decodedObject(t, out), decodedObject(t, want); !reflect.DeepEqual(got, want) {
						t.Fatalf("record %d:\n got  %v\n want %v", i, got, want)
					}
				}
			})
		}
	}
}

// Run sends a dataset as Avro to the broker, every value in the wire
// format; a file cannot be sent as Avro, and Avro needs a registry.
func TestRunAvro(t *testing.T) {
	addr := startBroker(t)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	const n = 300
	sum, err := Run(context.Background(), Config{Brokers: []string{addr}, Topic: "avro-orders", Dataset: "orders", Records: n,
		ValueFormat: FormatAvro, Registry: reg.URL(), Logger: testLogger(t)})
	if err != nil || sum.Records != n {
		t.Fatalf("Run: %+v, %v", sum, err)
	}
	recs := consume(t, addr, "avro-orders", n)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if _, ok := registry.WireFormat(r.Value); !ok {
			t.Fatalf("%x is not in the wire format", r.Value[:min(8, len(r.Value))])
		}
	}
	for cfg, want := range map[*Config]string{
		{Brokers: []string{addr}, Topic: "x", File: "x.jsonl", ValueFormat: FormatAvro, Registry: reg.URL()}: "--value-format avro: needs --dataset (a --file's records are sent as they are)",
		{Brokers: []string{addr}, Topic: "x", Dataset: "orders", Records: 1, ValueFormat: FormatAvro}:        "--registry: required with --value-format avro (or kafka.schema_registry / kafka.registry_listen in the config)",
		{Brokers: []string{addr}, Topic: "x", Dataset: "orders", Records: 1, ValueFormat: "thrift"}:          `--value-format: "thrift" is not json, avro or protobuf`,
	} {
		if err := cfg.Validate(); err == nil || err.Error() != want {
			t.Errorf("%+v: %v, want %q", *cfg, err, want)
		}
	}
}

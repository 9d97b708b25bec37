package registry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/streamlake/streamlake/internal/registry"
)

const moneyProto = `syntax = "proto3";
package shop;
message Money { int64 units = 1; int32 nanos = 2; }
`

const orderProto = `syntax = "proto3";
package shop;
import "money.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Order {
  enum Status { NEW = 0; PAID = 1; }
  message Line { string sku = 1; uint64 qty = 2; }
  int64 id = 1;
  string customer = 2;
  Money amount = 3;
  google.protobuf.Timestamp ts = 4;
  repeated string tags = 5;
  map<string, int64> attrs = 6;
  Status status = 7;
  optional double score = 8;
  google.protobuf.StringValue note = 9;
  bytes raw = 10;
  repeated Line lines = 11;
}
message Other { string x = 1; }
`

// registerOrderProto registers moneyProto and orderProto, which
// references it, and returns orderProto's schema.
func registerOrderProto(tb testing.TB, cl *sr.Client) sr.SubjectSchema {
	tb.Helper()
	if _, err := cl.CreateSchema(tb.Context(), "money", sr.Schema{Schema: moneyProto, Type: sr.TypeProtobuf}); err != nil {
		tb.Fatal(err)
	}
	ss, err := cl.CreateSchema(tb.Context(), "orders-value", sr.Schema{Schema: orderProto, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "money.proto", Subject: "money", Version: 1}}})
	if err != nil {
		tb.Fatal(err)
	}
	return ss
}

// Protobuf values in Confluent's wire format (message indexes after the
// schema id) decode to JSON objects with the schema the registry holds,
// its referenced schemas and Protobuf's well-known types compiled with
// it; values and schemas that do not decode get reasons.
func TestDecodeProtobuf(t *testing.T) {
	ctx := t.Context()
	reg, cl := fakeRegistry(t)
	ss := registerOrderProto(t, cl)
	bad, err := cl.CreateSchema(ctx, "bad-value", sr.Schema{Schema: `syntax = "proto3"; message B { Missing m = 1; }`, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}

	// The producer's side: the same files compiled, messages built and
	// encoded with Protobuf's own library.
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"order.proto": orderProto, "money.proto": moneyProto})})}
	fds, err := comp.Compile(ctx, "order.proto")
	if err != nil {
		t.Fatal(err)
	}
	orderMD := fds[0].Messages().ByName("Order")
	encode := func(md protoreflect.MessageDescriptor, set func(m *dynamicpb.Message)) []byte {
		m := dynamicpb.NewMessage(md)
		set(m)
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	field := func(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
		return md.Fields().ByName(protoreflect.Name(name))
	}
	full := encode(orderMD, func(m *dynamicpb.Message) {
		m.Set(field(orderMD, "id"), protoreflect.ValueOfInt64(1<<62+1))
		m.Set(field(orderMD, "customer"), protoreflect.ValueOfString("ann"))
		money := m.Mutable(field(orderMD, "amount")).Message()
		money.Set(money.Descriptor().Fields().ByName("units"), protoreflect.ValueOfInt64(19))
		money.Set(money.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(990000000))
		ts := m.Mutable(field(orderMD, "ts")).Message()
		at := time.Date(2026, 12, 3, 10, 0, 0, 500e6, time.UTC)
		ts.Set(ts.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(at.Unix()))
		ts.Set(ts.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(at.Nanosecond())))
		tags := m.Mutable(field(orderMD, "tags")).List()
		tags.Append(protoreflect.ValueOfString("a"))
		tags.Append(protoreflect.ValueOfString("b"))
		attrs := m.Mutable(field(orderMD, "attrs")).Map()
		attrs.Set(protoreflect.ValueOfString("z").MapKey(), protoreflect.ValueOfInt64(1))
		attrs.Set(protoreflect.ValueOfString("a").MapKey(), protoreflect.ValueOfInt64(2))
		m.Set(field(orderMD, "status"), protoreflect.ValueOfEnum(1))
		m.Set(field(orderMD, "score"), protoreflect.ValueOfFloat64(4.5))
		note := m.Mutable(field(orderMD, "note")).Message()
		note.Set(note.Descriptor().Fields().ByName("value"), protoreflect.ValueOfString("hi"))
		m.Set(field(orderMD, "raw"), protoreflect.ValueOfBytes([]byte{1, 2}))
		line := m.Mutable(field(orderMD, "lines")).List().AppendMutable().Message()
		line.Set(line.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString("s1"))
		line.Set(line.Descriptor().Fields().ByName("qty"), protoreflect.ValueOfUint64(3))
	})
	lineMD := orderMD.Messages().ByName("Line")
	otherMD := fds[0].Messages().ByName("Other")
	header := func(id int, index ...byte) []byte {
		return append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, index...)
	}
	d, err := registry.New(reg.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		value  []byte
		json   string
		reason string
	}{
		{"order", append(header(ss.ID, 0), full...),
			`{"id":4611686018427387905,"customer":"ann","amount":{"units":19,"nanos":990000000},"ts":"2026-12-03T10:00:00.5Z","tags":["a","b"],"attrs":{"a":2,"z":1},"status":"PAID","score":4.5,"note":"hi","raw":"AQI=","lines":[{"sku":"s1","qty":3}]}`, ""},
		{"empty order", header(ss.ID, 0),
			`{"id":0,"customer":"","amount":null,"ts":null,"tags":[],"attrs":{},"status":"NEW","score":null,"note":null,"raw":"","lines":[]}`, ""},
		// Indexes are zigzag varints: a count, then the path.
		{"second message", append(header(ss.ID, 2, 2), encode(otherMD, func(m *dynamicpb.Message) {
			m.Set(field(otherMD, "x"), protoreflect.ValueOfString("y"))
		})...), `{"x":"y"}`, ""},
		{"nested message", append(header(ss.ID, 4, 0, 0), encode(lineMD, func(m *dynamicpb.Message) {
			m.Set(field(lineMD, "qty"), protoreflect.ValueOfUint64(1<<63))
		})...), `{"sku":"","qty":9223372036854775808}`, ""},
		{"index out of range", header(ss.ID, 2, 18), "", "message index [9] is not in the schema"},
		// A field cut short (tag 15, 5 bytes declared, 1 there). Cutting
		// bytes off full's end may leave whole fields: dynamicpb marshals
		// fields in no fixed order.
		{"truncated", append(append(header(ss.ID, 0), full...), 15<<3|2, 5, 'x'), "", "does not decode with Protobuf schema id"},
		{"schema does not compile", header(bad.ID, 0), "", "does not compile"},
	} {
		out, reason, err := d.Decode(ctx, tc.value)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(out) != tc.json || !strings.Contains(reason, tc.reason) || (tc.reason == "") != (reason == "") {
			t.Errorf("%s: %s, reason %q; want %s, reason %q", tc.name, out, reason, tc.json, tc.reason)
		}
	}
}

func FuzzDecodeProtobuf(f *testing.F) {
	reg, cl := fakeRegistry(f)
	ss := registerOrderProto(f, cl)
	d, err := registry.New(reg.URL())
	if err != nil {
		f.Fatal(err)
	}
	id := byte(ss.ID)
	f.Add([]byte{0, 0, 0, 0, id, 0, 8, 7, 18, 3, 'a', 'n', 'n'})
	f.Add([]byte{0, 0, 0, 0, id, 4, 0, 0, 16, 3})
	f.Add([]byte{0, 0, 0, 0, id, 0, 50, 6, 10, 1, 'a', 16, 2})
	f.Fuzz(func(t *testing.T, v []byte) {
		if len(v) >= 5 {
			v[0], v[1], v[2], v[3], v[4] = 0, 0, 0, 0, id
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

// BenchmarkDecode decodes a typical record value per op (an order with a
// nested message, a timestamp, a list and a map) from each wire format,
// and reports records/s; CPU seconds per million records is 1e6 / that
// on one core.
func BenchmarkDecode(b *testing.B) {
	reg, cl := fakeRegistry(b)
	pb := registerOrderProto(b, cl)
	av, err := cl.CreateSchema(b.Context(), "orders-avro", sr.Schema{Schema: orderSchemaAvro, Type: sr.TypeAvro})
	if err != nil {
		b.Fatal(err)
	}
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"order.proto": orderProto, "money.proto": moneyProto})})}
	fds, err := comp.Compile(b.Context(), "order.proto")
	if err != nil {
		b.Fatal(err)
	}
	md := fds[0].Messages().ByName("Order")
	m := dynamicpb.NewMessage(md)
	f := func(name string) protoreflect.FieldDescriptor { return md.Fields().ByName(protoreflect.Name(name)) }
	m.Set(f("id"), protoreflect.ValueOfInt64(123456789))
	m.Set(f("customer"), protoreflect.ValueOfString("customer-0042"))
	amount := m.Mutable(f("amount")).Message()
	amount.Set(amount.Descriptor().Fields().ByName("units"), protoreflect.ValueOfInt64(19))
	ts := m.Mutable(f("ts")).Message()
	ts.Set(ts.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1764756000))
	m.Mutable(f("tags")).List().Append(protoreflect.ValueOfString("web"))
	m.Mutable(f("attrs")).Map().Set(protoreflect.ValueOfString("n").MapKey(), protoreflect.ValueOfInt64(3))
	m.Set(f("status"), protoreflect.ValueOfEnum(1))
	payload, err := proto.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	header := func(id int, rest ...byte) []byte {
		return append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, rest...)
	}
	avroValue, err := avro.Marshal(avro.MustParse(orderSchemaAvro), map[string]any{
		"id": int64(123456789), "customer": "customer-0042", "units": int64(19), "ts": int64(1764756000000),
		"tags": []string{"web"}, "attrs": map[string]int64{"n": 3}, "status": "PAID"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := registry.New(reg.URL())
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"protobuf", append(header(pb.ID, 0), payload...)},
		{"avro", append(header(av.ID), avroValue...)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, reason, err := d.Decode(b.Context(), tc.value); err != nil || reason != "" {
					b.Fatal(reason, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// orderSchemaAvro is BenchmarkDecode's order as an Avro record.
const orderSchemaAvro = `{"type": "record", "name": "O", "fields": [
	{"name": "id", "type": "long"}, {"name": "customer", "type": "string"}, {"name": "units", "type": "long"},
	{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	{"name": "tags", "type": {"type": "array", "items": "string"}}, {"name": "attrs", "type": {"type": "map", "values": "long"}},
	{"name": "status", "type": {"type": "enum", "name": "S", "symbols": ["NEW", "PAID"]}}]}`

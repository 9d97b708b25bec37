package registry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
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
		{"truncated", append(header(ss.ID, 0), full[:len(full)-3]...), "", "does not decode with Protobuf schema id"},
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

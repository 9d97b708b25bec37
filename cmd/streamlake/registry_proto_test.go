package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

const shipmentProto = `syntax = "proto3";
package logistics;
import "google/protobuf/timestamp.proto";
message Shipment {
  enum State { CREATED = 0; SHIPPED = 1; }
  message Dest { string city = 1; int32 zip = 2; }
  int64 id = 1;
  google.protobuf.Timestamp ts = 2;
  State state = 3;
  Dest dest = 4;
  repeated string tags = 5;
}
`

// TestSchemaRegistryProtobuf produces Protobuf values in Schema Registry's
// wire format (encoded with Protobuf's own library against a schema
// registered with franz-go's client) and loads them with `run`: their
// fields are the table's columns, the Timestamp a timestamp, the nested
// message a struct, the enum its value's name.
func TestSchemaRegistryProtobuf(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	addr, _, _ := startBroker(t, dir)
	reg := srfake.New()
	defer reg.Close()
	rc, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := rc.CreateSchema(ctx, "shipments-value", sr.Schema{Schema: shipmentProto, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"shipment.proto": shipmentProto})})}
	fds, err := comp.Compile(ctx, "shipment.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := fds[0].Messages().ByName("Shipment")
	f := func(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
		return md.Fields().ByName(protoreflect.Name(name))
	}
	var values [][]byte
	for id := range int64(6) {
		m := dynamicpb.NewMessage(md)
		m.Set(f(md, "id"), protoreflect.ValueOfInt64(id))
		ts := m.Mutable(f(md, "ts")).Message()
		ts.Set(f(ts.Descriptor(), "seconds"), protoreflect.ValueOfInt64(time.Date(2026, 12, 3, 10, 0, int(id), 0, time.UTC).Unix()))
		m.Set(f(md, "state"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(id%2)))
		if id%3 == 0 {
			dest := m.Mutable(f(md, "dest")).Message()
			dest.Set(f(dest.Descriptor(), "city"), protoreflect.ValueOfString("Oslo"))
			dest.Set(f(dest.Descriptor(), "zip"), protoreflect.ValueOfInt32(150))
		}
		m.Mutable(f(md, "tags")).List().Append(protoreflect.ValueOfString("t"))
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// Magic byte, schema id, message index [0] (one zero byte).
		values = append(values, append([]byte{0, byte(ss.ID >> 24), byte(ss.ID >> 16), byte(ss.ID >> 8), byte(ss.ID), 0}, b...))
	}
	produceValues(t, addr, "shipments", values...)
	cfg := filepath.Join(dir, "registry.yml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  schema_registry: "+reg.URL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inDir(t, dir, "run", "--brokers", addr, "--topics", "shipments", "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn", "--config", cfg)
	q := func(sql string) string { t.Helper(); return inDir(t, dir, "query", "--format", "csv", sql) }
	if got := q("SELECT count(*) AS n, sum(id) AS s, count(*) FILTER (WHERE state = 'SHIPPED') AS shipped, count(dest) AS dests, " +
		"max(dest.zip) AS zip, typeof(max(ts)) AS t, max(ts) AS last, min(tags[1]) AS tag FROM lake.shipments"); got !=
		"n,s,shipped,dests,zip,t,last,tag\n6,15,3,2,150,TIMESTAMP WITH TIME ZONE,2026-12-03T10:00:05Z,t" {
		t.Fatalf("rows:\n%s", got)
	}
	if got := q("SHOW TABLES IN lake"); got != "tab_name\nshipments" {
		t.Errorf("tables (no dead letters, so no dead-letter table):\n%s", got)
	}
}

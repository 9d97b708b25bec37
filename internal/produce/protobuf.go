package produce

import (
	"context"
	"fmt"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protoSchemas are the Protobuf schemas of the datasets' values, their
// message the first of the file (message index 0), registered under
// <topic>-value. ts is a google.protobuf.Timestamp.
var protoSchemas = map[string]string{
	"sensors": `syntax = "proto3";
package streamlake.produce;
import "google/protobuf/timestamp.proto";
message Sensor {
  string id = 1;
  google.protobuf.Timestamp ts = 2;
  string device = 3;
  string site = 4;
  double temperature = 5;
  double humidity = 6;
  int64 battery = 7;
  string status = 8;
}
`,
	"orders": `syntax = "proto3";
package streamlake.produce;
import "google/protobuf/timestamp.proto";
message Order {
  message Customer {
    string id = 1;
    string name = 2;
    string tier = 3;
  }
  message Item {
    string sku = 1;
    int64 qty = 2;
    double price = 3;
  }
  string id = 1;
  google.protobuf.Timestamp ts = 2;
  Customer customer = 3;
  repeated Item items = 4;
  double total = 5;
  string currency = 6;
  string country = 7;
}
`,
}

// protoSource encodes the JSON records of src, a dataset's, as Protobuf
// messages in the wire format (magic byte 0, the schema's registry id, the
// message index [0], the message).
type protoSource struct {
	src    source
	md     protoreflect.MessageDescriptor
	header []byte
}

// newProtoSource registers dataset's Protobuf schema under topic-value in
// the registry at url and returns src's records encoded with it.
func newProtoSource(ctx context.Context, src source, dataset, topic, url string) (*protoSource, error) {
	text := protoSchemas[dataset]
	file := dataset + ".proto"
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{file: text})})}
	fds, err := comp.Compile(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("produce: Protobuf schema of %s: %w", dataset, err)
	}
	id, err := register(ctx, url, topic, dataset, sr.Schema{Schema: text, Type: sr.TypeProtobuf})
	if err != nil {
		return nil, err
	}
	var h sr.ConfluentHeader
	header, err := h.AppendEncode(nil, id, []int{0})
	if err != nil {
		return nil, fmt.Errorf("produce: wire-format header: %w", err)
	}
	return &protoSource{src: src, md: fds[0].Messages().Get(0), header: header}, nil
}

func (s *protoSource) next() (value, key []byte, err error) {
	v, key, err := s.src.next()
	if err != nil {
		return nil, nil, err
	}
	msg := dynamicpb.NewMessage(s.md)
	if err := protojson.Unmarshal(v, msg); err != nil {
		return nil, nil, fmt.Errorf("produce: record %s: %w", v, err)
	}
	out, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(append([]byte(nil), s.header...), msg)
	if err != nil {
		return nil, nil, fmt.Errorf("produce: record %s: encode Protobuf: %w", v, err)
	}
	return out, key, nil
}

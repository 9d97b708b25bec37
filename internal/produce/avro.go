package produce

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	json "github.com/goccy/go-json"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// Value formats (--value-format).
const (
	FormatJSON     = "json"     // JSON text, the default
	FormatAvro     = "avro"     // Avro in Schema Registry's wire format
	FormatProtobuf = "protobuf" // Protobuf in Schema Registry's wire format
)

// avroSchemas are the Avro schemas of the datasets' values, registered
// under <topic>-value. ts is a timestamp-millis, as Avro producers write
// event times.
var avroSchemas = map[string]string{
	"sensors": `{"type": "record", "name": "Sensor", "namespace": "streamlake.produce", "fields": [
		{"name": "id", "type": "string"},
		{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
		{"name": "device", "type": "string"},
		{"name": "site", "type": "string"},
		{"name": "temperature", "type": "double"},
		{"name": "humidity", "type": "double"},
		{"name": "battery", "type": "long"},
		{"name": "status", "type": "string"}]}`,
	"orders": `{"type": "record", "name": "Order", "namespace": "streamlake.produce", "fields": [
		{"name": "id", "type": "string"},
		{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
		{"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
			{"name": "id", "type": "string"}, {"name": "name", "type": "string"}, {"name": "tier", "type": "string"}]}},
		{"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
			{"name": "sku", "type": "string"}, {"name": "qty", "type": "long"}, {"name": "price", "type": "double"}]}}},
		{"name": "total", "type": "double"},
		{"name": "currency", "type": "string"},
		{"name": "country", "type": "string"}]}`,
}

// avroSource encodes the JSON records of src, a dataset's, as Avro values
// of schema in the wire format (magic byte 0, the schema's registry id,
// the Avro binary).
type avroSource struct {
	src    source
	schema avro.Schema
	header [5]byte
}

// newAvroSource registers dataset's Avro schema under topic-value in the
// registry at url and returns src's records encoded with it.
func newAvroSource(ctx context.Context, src source, dataset, topic, url string) (*avroSource, error) {
	text := avroSchemas[dataset]
	schema, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("produce: Avro schema of %s: %w", dataset, err)
	}
	id, err := register(ctx, url, topic, dataset, sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		return nil, err
	}
	s := &avroSource{src: src, schema: schema}
	binary.BigEndian.PutUint32(s.header[1:], uint32(id))
	return s, nil
}

// register registers schema, dataset's, under topic-value in the registry
// at url and returns its id.
func register(ctx context.Context, url, topic, dataset string, schema sr.Schema) (int, error) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return 0, fmt.Errorf("produce: --registry %s: %w", url, err)
	}
	ss, err := cl.CreateSchema(ctx, topic+"-value", schema)
	if err != nil {
		return 0, fmt.Errorf("produce: register the %s schema of %s as %s-value at %s: %w", schema.Type, dataset, topic, url, err)
	}
	return ss.ID, nil
}

func (s *avroSource) next() (value, key []byte, err error) {
	v, key, err := s.src.next()
	if err != nil {
		return nil, nil, err
	}
	var rec any
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, nil, fmt.Errorf("produce: record %s: %w", v, err)
	}
	native, err := avroValue(s.schema, rec)
	if err != nil {
		return nil, nil, fmt.Errorf("produce: record %s: %w", v, err)
	}
	body, err := avro.Marshal(s.schema, native)
	if err != nil {
		return nil, nil, fmt.Errorf("produce: record %s: encode Avro: %w", v, err)
	}
	return append(s.header[:], body...), key, nil
}

// avroValue is v, a decoded JSON value, as the Go value hamba/avro encodes
// as schema: JSON numbers become int64 for longs, and RFC 3339 strings
// time.Time for timestamp-millis.
func avroValue(schema avro.Schema, v any) (any, error) {
	switch s := schema.(type) {
	case *avro.RecordSchema:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an object for record %s", v, s.Name())
		}
		out := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			fv, err := avroValue(f.Type(), obj[f.Name()])
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name(), err)
			}
			out[f.Name()] = fv
		}
		return out, nil
	case *avro.ArraySchema:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an array", v)
		}
		out := make([]any, len(list))
		for i, e := range list {
			var err error
			if out[i], err = avroValue(s.Items(), e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *avro.PrimitiveSchema:
		if s.Logical() != nil && s.Logical().Type() == avro.TimestampMillis {
			text, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not an RFC 3339 time", v)
			}
			return time.Parse(time.RFC3339Nano, text)
		}
		if s.Type() == avro.Long {
			n, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("%v is not a number", v)
			}
			return int64(n), nil
		}
	}
	return v, nil
}

// Package registry decodes record values in Schema Registry's wire format
// (Confluent's: a zero magic byte, a 4-byte big-endian schema id, then the
// encoded value) into JSON objects, fetching each schema once from a
// Confluent-compatible registry (Confluent, Redpanda, Karapace, Apicurio's
// ccompat API). Avro, Protobuf and JSON Schema values are decoded.
package registry

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/streamlake/streamlake/internal/schema"
)

// avroAPI bounds what a value's length prefixes can make the decoder
// allocate (a corrupt value could otherwise ask for gigabytes): 64 MiB a
// string or byte string, 8 Mi items a list or map. Kafka's default record
// size limit is 1 MiB.
var avroAPI = avro.Config{MaxByteSliceSize: 64 << 20, MaxSliceAllocSize: 8 << 20}.Freeze()

// Decoder decodes wire-format values. It is safe for concurrent use.
type Decoder struct {
	cl  *sr.Client
	url string

	mu      sync.Mutex
	schemas map[uint32]*decoding // by schema id; schemas never change
}

// decoding is how the values of one schema id decode: an Avro schema,
// JSON as it is, or a reason they cannot be decoded.
type decoding struct {
	avro   avro.Schema
	proto  protoreflect.FileDescriptor
	json   bool
	reason string
}

// New returns a Decoder that asks the registry at url.
func New(url string) (*Decoder, error) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return nil, fmt.Errorf("schema registry %s: %w", url, err)
	}
	return &Decoder{cl: cl, url: url, schemas: map[uint32]*decoding{}}, nil
}

// WireFormat reports whether v is in the wire format, and its schema id.
func WireFormat(v []byte) (uint32, bool) {
	if len(v) < 5 || v[0] != 0 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v[1:5]), true
}

// Decode returns the JSON object of v, a wire-format value. A value that
// cannot be decoded (its schema is not in the registry or does not
// decode it) has a reason instead; err is only for a registry
// that cannot be asked (down, unreachable), which a later try may reach.
func (d *Decoder) Decode(ctx context.Context, v []byte) (out []byte, reason string, err error) {
	id, ok := WireFormat(v)
	if !ok {
		return nil, "value is not in Schema Registry's wire format", nil
	}
	dec, err := d.decoding(ctx, id)
	if err != nil {
		return nil, "", err
	}
	switch {
	case dec.reason != "":
		return nil, dec.reason, nil
	case dec.json:
		return v[5:], "", nil
	case dec.proto != nil:
		out, err := decodeProto(dec.proto, v[5:])
		if err != nil {
			return nil, fmt.Sprintf("value does not decode with Protobuf schema id %d: %v", id, err), nil
		}
		return out, "", nil
	}
	var native any
	if err := avroAPI.Unmarshal(dec.avro, v[5:], &native); err != nil {
		return nil, fmt.Sprintf("value does not decode with Avro schema id %d: %v", id, err), nil
	}
	out, err = appendJSON(nil, dec.avro, native)
	if err != nil {
		return nil, fmt.Sprintf("value of Avro schema id %d: %v", id, err), nil
	}
	return out, "", nil
}

// decoding returns how values of schema id decode, asking the registry
// the first time.
func (d *Decoder) decoding(ctx context.Context, id uint32) (*decoding, error) {
	d.mu.Lock()
	dec := d.schemas[id]
	d.mu.Unlock()
	if dec != nil {
		return dec, nil
	}
	s, err := d.cl.SchemaByID(ctx, int(id))
	var re *sr.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == 404:
		// Not cached: the schema may be registered later.
		return &decoding{reason: fmt.Sprintf("schema id %d is not in the schema registry at %s", id, d.url)}, nil
	case err != nil:
		return nil, fmt.Errorf("schema registry %s: schema id %d: %w", d.url, id, err)
	}
	dec = &decoding{}
	switch s.Type {
	case sr.TypeJSON:
		dec.json = true
	case sr.TypeProtobuf:
		if dec.proto, err = d.compileProto(ctx, id, s); err != nil {
			var ue *unreachableError
			if errors.As(err, &ue) {
				return nil, fmt.Errorf("schema registry %s: schema id %d: %w", d.url, id, err)
			}
			dec.reason = fmt.Sprintf("Protobuf schema id %d does not compile: %v", id, err)
		}
	default:
		if len(s.References) > 0 {
			dec.reason = fmt.Sprintf("Avro schema id %d references other schemas, which is not supported", id)
		} else if dec.avro, err = avro.ParseBytes([]byte(s.Schema)); err != nil {
			dec.reason = fmt.Sprintf("Avro schema id %d does not parse: %v", id, err)
		}
	}
	d.mu.Lock()
	d.schemas[id] = dec
	d.mu.Unlock()
	return dec, nil
}

// appendJSON appends v, a value hamba/avro decoded with schema s, as JSON:
// records as objects with their fields in schema order, unions as their
// branch's value, bytes and fixed as base64, decimals as numbers,
// timestamps and dates as RFC 3339 text, times of day as HH:MM:SS text,
// NaN and infinities as null (JSON has no such numbers).
func appendJSON(b []byte, s avro.Schema, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	switch s := s.(type) {
	case *avro.RefSchema:
		return appendJSON(b, s.Schema(), v)
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s decoded as %T", s.FullName(), v)
		}
		b = append(b, '{')
		for i, f := range s.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, f.Name())
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, f.Type(), m[f.Name()]); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name(), err)
			}
		}
		return append(b, '}'), nil
	case *avro.UnionSchema:
		// A branch decodes as {branch name: value}, or, in a union of
		// null and one type, as the value itself.
		var other []avro.Schema
		for _, t := range s.Types() {
			if t.Type() != avro.Null {
				other = append(other, t)
			}
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for name, val := range m {
				for _, t := range other {
					if branchName(t) == name {
						return appendJSON(b, t, val)
					}
				}
			}
		}
		if len(other) == 1 {
			return appendJSON(b, other[0], v)
		}
		// A branch of a primitive type decodes as its value.
		return appendAny(b, v)
	case *avro.ArraySchema:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("array decoded as %T", v)
		}
		return appendList(b, list, func(b []byte, e any) ([]byte, error) { return appendJSON(b, s.Items(), e) })
	case *avro.MapSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("map decoded as %T", v)
		}
		return appendMap(b, m, func(b []byte, e any) ([]byte, error) { return appendJSON(b, s.Values(), e) })
	}
	return appendScalar(b, v)
}

// appendList appends list as a JSON array, each element as elem writes it.
func appendList(b []byte, list []any, elem func([]byte, any) ([]byte, error)) ([]byte, error) {
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendMap appends m as a JSON object, keys sorted, each value as elem
// writes it.
func appendMap(b []byte, m map[string]any, elem func([]byte, any) ([]byte, error)) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(schema.AppendJSONString(b, k), ':')
		var err error
		if b, err = elem(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendAny appends v, decoded without its schema at hand, as JSON:
// lists and maps (keys sorted) of values as appendScalar writes them.
func appendAny(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case []any:
		return appendList(b, v, appendAny)
	case map[string]any:
		return appendMap(b, v, appendAny)
	}
	return appendScalar(b, v)
}

// branchName is the key hamba/avro decodes a union branch of type t under.
func branchName(t avro.Schema) string {
	if n, ok := t.(avro.NamedSchema); ok {
		return n.FullName()
	}
	if l, ok := t.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return string(t.Type()) + "." + string(l.Logical().Type())
	}
	return string(t.Type())
}

// appendScalar appends a decoded primitive or logical value.
func appendScalar(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float32:
		return appendFloat(b, float64(v), 32), nil
	case float64:
		return appendFloat(b, v, 64), nil
	case string:
		return schema.AppendJSONString(b, v), nil
	case []byte:
		return appendBase64(b, v), nil
	case *big.Rat:
		return append(b, v.FloatString(decimalPlaces(v))...), nil
	case time.Time:
		return strconv.AppendQuote(b, v.UTC().Format(time.RFC3339Nano)), nil
	case time.Duration:
		return strconv.AppendQuote(b, time.Time{}.Add(v).Format("15:04:05.999999")), nil
	}
	// A fixed decodes as a byte array of its size.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
		a := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(a), rv)
		return appendBase64(b, a), nil
	}
	return nil, fmt.Errorf("value of type %T", v)
}

func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendBase64 appends v as a JSON string of its standard base64.
func appendBase64(b, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// decimalPlaces is how many digits after the point r needs: the fewest n
// with r * 10^n whole (an Avro decimal's scale at most; its Rat is in
// lowest terms, so 12.345 is 2469/200), or 18 for a fraction no power of
// ten clears.
func decimalPlaces(r *big.Rat) int {
	p := big.NewInt(1)
	ten := big.NewInt(10)
	m := new(big.Int)
	for n := 0; n <= 38; n++ {
		if m.Mod(p, r.Denom()).Sign() == 0 {
			return n
		}
		p.Mul(p, ten)
	}
	return 18
}

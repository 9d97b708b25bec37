package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/streamlake/streamlake/internal/schema"
)

// maxProtoRefs bounds the schemas a Protobuf schema may import through
// references, transitively.
const maxProtoRefs = 64

// unreachableError is a registry that could not be asked, which a later
// try may reach.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// compileProto compiles the Protobuf schema s (a .proto file's text) of
// schema id, with the files it imports: Protobuf's well-known types, and
// the registry's schemas its references name (fetched by subject and
// version).
func (d *Decoder) compileProto(ctx context.Context, id uint32, s sr.Schema) (protoreflect.FileDescriptor, error) {
	main := fmt.Sprintf("schema-registry-id-%d.proto", id)
	files := map[string]string{main: s.Schema}
	pending := slices.Clone(s.References)
	for len(pending) > 0 {
		ref := pending[0]
		pending = pending[1:]
		if _, ok := files[ref.Name]; ok {
			continue
		}
		if len(files) > maxProtoRefs {
			return nil, fmt.Errorf("more than %d referenced schemas", maxProtoRefs)
		}
		ss, err := d.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		var re *sr.ResponseError
		switch {
		case errors.As(err, &re) && re.StatusCode == 404:
			return nil, fmt.Errorf("referenced schema %s (subject %s, version %d) is not in the registry", ref.Name, ref.Subject, ref.Version)
		case err != nil:
			return nil, &unreachableError{fmt.Errorf("referenced schema %s (subject %s, version %d): %w", ref.Name, ref.Subject, ref.Version, err)}
		}
		files[ref.Name] = ss.Schema.Schema
		pending = append(pending, ss.Schema.References...)
	}
	comp := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(files)}),
	}
	fds, err := comp.Compile(ctx, main)
	if err != nil {
		return nil, err
	}
	return fds[0], nil
}

// decodeProto decodes v (after the schema id: the message indexes, then
// the message) with the schema file fd into a JSON object.
func decodeProto(fd protoreflect.FileDescriptor, v []byte) ([]byte, error) {
	var h sr.ConfluentHeader
	index, payload, err := h.DecodeIndex(v, 32)
	if err != nil {
		return nil, fmt.Errorf("message indexes: %w", err)
	}
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range index {
		if i < 0 || i >= msgs.Len() {
			return nil, fmt.Errorf("message index %v is not in the schema", index)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	if md == nil {
		return nil, errors.New("the schema has no message")
	}
	msg := dynamicpb.NewMessage(md)
	// Required fields (proto2) are not checked: one that is missing is
	// null, as any unset field with presence.
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(payload, msg); err != nil {
		return nil, fmt.Errorf("message %s: %w", md.FullName(), err)
	}
	return appendMessage(nil, msg)
}

// appendMessage appends m as a JSON object: every field of its message
// type in declaration order, under its name in the .proto file, as
// Protobuf 3 reads an unset one (its default; null for an unset message,
// optional field or oneof member); 64-bit integers as numbers, enums as
// their value's name, bytes as base64, maps as objects; Timestamps as RFC
// 3339 text, wrappers as their value, other well-known types as
// Protobuf's JSON mapping has them.
func appendMessage(b []byte, m protoreflect.Message) ([]byte, error) {
	if out, ok, err := appendWellKnown(b, m); ok || err != nil {
		return out, err
	}
	fields := m.Descriptor().Fields()
	b = append(b, '{')
	for i := range fields.Len() {
		fd := fields.Get(i)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(schema.AppendJSONString(b, string(fd.Name())), ':')
		var err error
		switch {
		case fd.HasPresence() && !m.Has(fd):
			b = append(b, "null"...)
		case fd.IsList():
			list := m.Get(fd).List()
			b = append(b, '[')
			for j := range list.Len() {
				if j > 0 {
					b = append(b, ',')
				}
				if b, err = appendProtoValue(b, fd, list.Get(j)); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
		case fd.IsMap():
			mp := m.Get(fd).Map()
			keys := make([]protoreflect.MapKey, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			slices.SortFunc(keys, func(x, y protoreflect.MapKey) int { return cmp.Compare(x.String(), y.String()) })
			b = append(b, '{')
			for j, k := range keys {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(schema.AppendJSONString(b, k.String()), ':')
				if b, err = appendProtoValue(b, fd.MapValue(), mp.Get(k)); err != nil {
					return nil, err
				}
			}
			b = append(b, '}')
		default:
			if b, err = appendProtoValue(b, fd, m.Get(fd)); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

// appendProtoValue appends one value of field fd (an element of a list
// or a map's value).
func appendProtoValue(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) ([]byte, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64), nil
	case protoreflect.StringKind:
		return schema.AppendJSONString(b, v.String()), nil
	case protoreflect.BytesKind:
		return appendBase64(b, v.Bytes()), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return schema.AppendJSONString(b, string(ev.Name())), nil
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return appendMessage(b, v.Message())
	}
	return nil, fmt.Errorf("field %s: kind %s", fd.FullName(), fd.Kind())
}

// appendWellKnown appends m if it is one of Protobuf's well-known types.
func appendWellKnown(b []byte, m protoreflect.Message) ([]byte, bool, error) {
	md := m.Descriptor()
	if md.ParentFile() == nil || md.ParentFile().Package() != "google.protobuf" {
		return b, false, nil
	}
	switch md.Name() {
	case "Timestamp":
		f := md.Fields()
		sec, nanos := m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()
		b = append(b, '"')
		b = time.Unix(sec, nanos).UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), true, nil
	case "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue":
		fd := md.Fields().ByName("value")
		out, err := appendProtoValue(b, fd, m.Get(fd))
		return out, true, err
	case "Duration", "Struct", "Value", "ListValue", "FieldMask", "Empty", "Any":
		j, err := protojson.Marshal(m.Interface())
		if err != nil {
			return nil, true, err
		}
		return append(b, j...), true, nil
	}
	return b, false, nil
}

package classify

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

var avroMagic = []byte("Obj\x01")

// maxAvroHeader bounds the metadata read from an Avro header.
const maxAvroHeader = 16 << 20

// avroResult reads the header of an Avro object container file (magic,
// then the metadata map with avro.schema and avro.codec) and maps the
// writer's schema to Hive types. The data blocks are not read. The
// compression reported is the block codec (deflate reads as gzip, as Glue
// reports it).
func avroResult(r io.ReaderAt, size int64) (Result, error) {
	br := bufio.NewReader(io.NewSectionReader(r, 4, min(size-4, maxAvroHeader)))
	meta, err := avroMeta(br)
	if err != nil {
		return unclassified(None, "avro magic but unreadable header: "+err.Error()), nil
	}
	var js any
	if err := json.Unmarshal(meta["avro.schema"], &js); err != nil {
		return unclassified(None, "avro schema: "+err.Error()), nil
	}
	p := avroParser{named: map[string]*Type{}, building: map[*Type]bool{}}
	t, err := p.parse(js, "")
	if err != nil {
		return unclassified(None, "avro schema: "+err.Error()), nil
	}
	if t.Kind != Struct {
		t = StructOf(Field{Name: "value", Type: t}) // a file of non-records
	}
	comp := None
	switch string(meta["avro.codec"]) {
	case "deflate":
		comp = Gzip
	case "snappy":
		comp = Snappy
	case "zstandard":
		comp = Zstd
	case "bzip2":
		comp = Bzip2
	}
	return Result{Format: Avro, Compression: comp, Columns: t.Fields}, nil
}

func avroMeta(r *bufio.Reader) (map[string][]byte, error) {
	meta := map[string][]byte{}
	for {
		n, err := avroLong(r)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := avroLong(r); err != nil { // block size in bytes
				return nil, err
			}
		}
		for range n {
			k, err := avroBytes(r)
			if err != nil {
				return nil, err
			}
			v, err := avroBytes(r)
			if err != nil {
				return nil, err
			}
			meta[string(k)] = v
		}
	}
	if _, ok := meta["avro.schema"]; !ok {
		return nil, errors.New("no avro.schema")
	}
	return meta, nil
}

func avroLong(r *bufio.Reader) (int64, error) {
	var u uint64
	for shift := 0; shift < 64; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		u |= uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errors.New("varint overflow")
}

func avroBytes(r *bufio.Reader) ([]byte, error) {
	n, err := avroLong(r)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxAvroHeader {
		return nil, fmt.Errorf("bad length %d", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// avroParser maps Avro schemas: records -> struct, enum -> string, array
// -> array, map -> map<string,V>, fixed and bytes -> binary, int -> int,
// long -> bigint, float, double, boolean, string; a union of null and one
// type -> that type (columns are nullable); other unions -> string.
// Logical types: date -> date, timestamp-*/local-timestamp-* ->
// timestamp, decimal -> decimal(p,s), time-millis -> int, time-micros ->
// bigint, uuid -> string. Named types are resolved by full and short name.
type avroParser struct {
	named    map[string]*Type
	building map[*Type]bool // records being defined: a reference is recursive
	depth    int
}

func (p *avroParser) parse(s any, ns string) (*Type, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return nil, errors.New("schema nested too deeply")
	}
	switch s := s.(type) {
	case string:
		return p.primitive(s, ns)
	case []any:
		return p.union(s, ns)
	case map[string]any:
		return p.complex(s, ns)
	}
	return nil, fmt.Errorf("unexpected schema %T", s)
}

func (p *avroParser) primitive(s, ns string) (*Type, error) {
	switch s {
	case "null":
		return Of(Null), nil
	case "boolean":
		return Of(Boolean), nil
	case "int":
		return Of(Int), nil
	case "long":
		return Of(BigInt), nil
	case "float":
		return Of(Float), nil
	case "double":
		return Of(Double), nil
	case "bytes":
		return Of(Binary), nil
	case "string":
		return Of(String), nil
	}
	t, ok := p.named[ns+"."+s]
	if !ok {
		t, ok = p.named[s]
	}
	if !ok {
		return nil, fmt.Errorf("unknown type %q", s)
	}
	if p.building[t] {
		return Of(String), nil // a recursive type has no finite Hive type
	}
	return t, nil
}

func (p *avroParser) union(s []any, ns string) (*Type, error) {
	var types []*Type
	for _, b := range s {
		t, err := p.parse(b, ns)
		if err != nil {
			return nil, err
		}
		if t.Kind != Null {
			types = append(types, t)
		}
	}
	switch len(types) {
	case 0:
		return Of(Null), nil
	case 1:
		return types[0], nil
	}
	return Of(String), nil
}

func (p *avroParser) complex(s map[string]any, ns string) (*Type, error) {
	typ, _ := s["type"].(string)
	logical, _ := s["logicalType"].(string)
	switch logical {
	case "date":
		return Of(Date), nil
	case "timestamp-millis", "timestamp-micros", "timestamp-nanos",
		"local-timestamp-millis", "local-timestamp-micros", "local-timestamp-nanos":
		return Of(Timestamp), nil
	case "time-millis":
		return Of(Int), nil
	case "time-micros":
		return Of(BigInt), nil
	case "decimal":
		prec, _ := s["precision"].(float64)
		scale, _ := s["scale"].(float64)
		if prec >= 1 {
			t := DecimalOf(min(int(prec), 38), int(scale))
			if typ == "fixed" {
				p.define(s, ns, t)
			}
			return t, nil
		}
	}
	switch typ {
	case "record", "error":
		name, ns := p.fullName(s, ns)
		t := &Type{Kind: Struct}
		p.named[name] = t
		p.building[t] = true
		defer delete(p.building, t)
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			p.named[name[i+1:]] = t
		}
		fields, _ := s["fields"].([]any)
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				return nil, errors.New("record field is not an object")
			}
			fname, _ := fm["name"].(string)
			ft, err := p.parse(fm["type"], ns)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", fname, err)
			}
			t.Fields = append(t.Fields, Field{Name: fname, Type: ft})
		}
		return t, nil
	case "enum":
		t := Of(String)
		p.define(s, ns, t)
		return t, nil
	case "fixed":
		t := Of(Binary)
		p.define(s, ns, t)
		return t, nil
	case "array":
		e, err := p.parse(s["items"], ns)
		if err != nil {
			return nil, err
		}
		return ArrayOf(e), nil
	case "map":
		v, err := p.parse(s["values"], ns)
		if err != nil {
			return nil, err
		}
		return MapOf(Of(String), v), nil
	case "":
		return nil, errors.New("schema object without type")
	}
	// {"type": "long", "logicalType": "unknown"} or {"type": "MyRecord"}
	if inner, ok := s["type"]; ok {
		return p.parse(inner, ns)
	}
	return nil, fmt.Errorf("unknown type %q", typ)
}

func (p *avroParser) define(s map[string]any, ns string, t *Type) {
	name, _ := p.fullName(s, ns)
	if name == "" {
		return
	}
	p.named[name] = t
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		p.named[name[i+1:]] = t
	}
}

// fullName returns a named schema's full name and the namespace its
// children inherit.
func (p *avroParser) fullName(s map[string]any, ns string) (string, string) {
	name, _ := s["name"].(string)
	if n, ok := s["namespace"].(string); ok {
		ns = n
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name, name[:i]
	}
	if ns == "" {
		return name, ns
	}
	return ns + "." + name, ns
}

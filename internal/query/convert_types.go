package query

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// arrowType is the Arrow type of a DuckDB type name as the catalog gives
// it (BIGINT, DECIMAL(10,2), VARCHAR[], STRUCT("a" INTEGER), MAP(VARCHAR,
// BIGINT)).
func arrowType(duck string) (arrow.DataType, error) {
	p := &duckTypeParser{s: duck}
	t, err := p.typ()
	if err == nil && strings.TrimSpace(p.s[p.i:]) != "" {
		err = fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", duck, err)
	}
	return t, nil
}

type duckTypeParser struct {
	s string
	i int
}

func (p *duckTypeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *duckTypeParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

var arrowScalars = map[string]arrow.DataType{
	"BOOLEAN": arrow.FixedWidthTypes.Boolean, "TINYINT": arrow.PrimitiveTypes.Int8,
	"SMALLINT": arrow.PrimitiveTypes.Int16, "INTEGER": arrow.PrimitiveTypes.Int32,
	"BIGINT": arrow.PrimitiveTypes.Int64, "FLOAT": arrow.PrimitiveTypes.Float32,
	"DOUBLE": arrow.PrimitiveTypes.Float64, "VARCHAR": arrow.BinaryTypes.String,
	"BLOB": arrow.BinaryTypes.Binary, "DATE": arrow.FixedWidthTypes.Date32,
	"TIMESTAMP":   &arrow.TimestampType{Unit: arrow.Microsecond},
	"TIMESTAMPTZ": &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	"REAL":        arrow.PrimitiveTypes.Float32, "FLOAT4": arrow.PrimitiveTypes.Float32,
	"FLOAT8": arrow.PrimitiveTypes.Float64, "INT": arrow.PrimitiveTypes.Int32,
	"INT4": arrow.PrimitiveTypes.Int32, "INT8": arrow.PrimitiveTypes.Int64,
	"INT2": arrow.PrimitiveTypes.Int16, "INT1": arrow.PrimitiveTypes.Int8,
	"TEXT": arrow.BinaryTypes.String, "STRING": arrow.BinaryTypes.String,
	"UUID": arrow.BinaryTypes.String, "BYTEA": arrow.BinaryTypes.Binary,
}

func (p *duckTypeParser) typ() (arrow.DataType, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= 'a' && p.s[p.i] <= 'z') {
		p.i++
	}
	word := strings.ToUpper(p.s[start:p.i])
	if word == "TIMESTAMP" && strings.HasPrefix(strings.ToUpper(p.s[p.i:]), " WITH TIME ZONE") {
		p.i += len(" WITH TIME ZONE")
		word = "TIMESTAMPTZ"
	}
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' { // INT8, FLOAT4
		word += p.s[p.i : p.i+1]
		p.i++
	}
	var t arrow.DataType
	switch word {
	case "STRUCT":
		st, err := p.structType()
		if err != nil {
			return nil, err
		}
		t = st
	case "MAP":
		if !p.eat('(') {
			return nil, fmt.Errorf("expected ( after MAP")
		}
		k, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("expected , in MAP")
		}
		v, err := p.typ()
		if err != nil {
			return nil, err
		}
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ) after MAP")
		}
		t = arrow.MapOf(k, v)
	case "DECIMAL":
		prec, scale := int32(18), int32(3)
		if p.eat('(') {
			end := strings.IndexByte(p.s[p.i:], ')')
			if end < 0 {
				return nil, fmt.Errorf("unterminated DECIMAL(")
			}
			a, b, _ := strings.Cut(p.s[p.i:p.i+end], ",")
			p.i += end + 1
			pp, err1 := strconv.Atoi(strings.TrimSpace(a))
			ss, err2 := strconv.Atoi(strings.TrimSpace(cmp.Or(strings.TrimSpace(b), "0")))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad DECIMAL arguments")
			}
			prec, scale = int32(pp), int32(ss)
		}
		t = &arrow.Decimal128Type{Precision: prec, Scale: scale}
	default:
		s, ok := arrowScalars[word]
		if !ok {
			return nil, fmt.Errorf("type %q cannot be converted to", word)
		}
		t = s
	}
	for p.i+1 < len(p.s) && p.s[p.i] == '[' && p.s[p.i+1] == ']' {
		p.i += 2
		t = arrow.ListOf(t)
	}
	return t, nil
}

func (p *duckTypeParser) structType() (arrow.DataType, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected ( after STRUCT")
	}
	var fields []arrow.Field
	for {
		p.space()
		var name string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			var b strings.Builder
			p.i++
			for {
				if p.i >= len(p.s) {
					return nil, fmt.Errorf("unterminated field name")
				}
				if p.s[p.i] == '"' {
					if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
						b.WriteByte('"')
						p.i += 2
						continue
					}
					p.i++
					break
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			name = b.String()
		} else {
			end := strings.IndexByte(p.s[p.i:], ' ')
			if end < 0 {
				return nil, fmt.Errorf("expected a field name")
			}
			name = p.s[p.i : p.i+end]
			p.i += end
		}
		t, err := p.typ()
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		fields = append(fields, arrow.Field{Name: name, Type: t, Nullable: true})
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			return arrow.StructOf(fields...), nil
		}
		return nil, fmt.Errorf("expected , or ) in STRUCT")
	}
}

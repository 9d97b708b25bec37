package query

import (
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

// dtype is a parsed DuckDB type name as the driver reports it (BIGINT,
// DECIMAL(10,2), STRUCT("a" INTEGER, "b" VARCHAR[]), MAP(VARCHAR, BIGINT),
// UNION("n" INTEGER)). Output uses it for struct field order and for how to
// render a time.Time (DATE, TIME, TIMESTAMP).
type dtype struct {
	name     string   // upper case: BIGINT, DECIMAL, STRUCT, LIST, MAP, UNION, ...
	params   string   // DECIMAL's "(10,2)"
	fields   []dfield // STRUCT, UNION
	elem     *dtype   // LIST (also fixed-size ARRAY)
	key, val *dtype   // MAP
}

type dfield struct {
	name string
	typ  *dtype
}

var unknownType = &dtype{}

// parseDuckType parses a type name. It never fails: what it does not
// understand becomes a scalar named by the text.
func parseDuckType(s string) *dtype {
	p := typeParser{s: s}
	return p.parse()
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) rest() string { return p.s[p.i:] }

func (p *typeParser) skip(prefix string) bool {
	if strings.HasPrefix(p.rest(), prefix) {
		p.i += len(prefix)
		return true
	}
	return false
}

func (p *typeParser) parse() *dtype {
	var t *dtype
	switch {
	case p.skip("STRUCT("):
		t = &dtype{name: "STRUCT", fields: p.fields()}
	case p.skip("UNION("):
		t = &dtype{name: "UNION", fields: p.fields()}
	case p.skip("MAP("):
		k := p.parse()
		p.skip(", ")
		v := p.parse()
		p.skip(")")
		t = &dtype{name: "MAP", key: k, val: v}
	default:
		start := p.i
		depth := 0
		for p.i < len(p.s) {
			c := p.s[p.i]
			if depth == 0 && (c == ',' || c == ')' || c == '[') {
				break
			}
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
			p.i++
		}
		name, params := strings.TrimSpace(p.s[start:p.i]), ""
		if j := strings.IndexByte(name, '('); j >= 0 {
			name, params = name[:j], name[j:] // DECIMAL(10,2) -> DECIMAL
		}
		t = &dtype{name: strings.ToUpper(name), params: params}
	}
	for p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.rest(), ']')
		if end < 0 {
			break
		}
		p.i += end + 1
		t = &dtype{name: "LIST", elem: t}
	}
	return t
}

// fields parses `"name" TYPE, ...)` after STRUCT( or UNION(.
func (p *typeParser) fields() []dfield {
	var out []dfield
	for p.i < len(p.s) && !p.skip(")") {
		var name string
		if p.s[p.i] == '"' {
			end := skipQuoted(p.s, p.i, '"')
			name = strings.ReplaceAll(p.s[p.i+1:max(end-1, p.i+1)], `""`, `"`)
			p.i = end
		} else {
			j := strings.IndexByte(p.rest(), ' ')
			if j < 0 {
				p.i = len(p.s)
				break
			}
			name = p.s[p.i : p.i+j]
			p.i += j
		}
		p.skip(" ")
		out = append(out, dfield{name: name, typ: p.parse()})
		p.skip(", ")
	}
	return out
}

// unnamed reports whether t is or holds a struct with unnamed fields.
func (t *dtype) unnamed() bool {
	if t == nil {
		return false
	}
	for _, f := range t.fields {
		if (f.name == "" && t.name == "STRUCT") || f.typ.unnamed() {
			return true
		}
	}
	return t.elem.unnamed() || t.key.unnamed() || t.val.unnamed()
}

// withNames returns t with the unnamed fields of its structs named as
// named names them; t itself when it has none.
func (t *dtype) withNames() *dtype {
	if !t.unnamed() {
		return t
	}
	c := *t
	c.fields = make([]dfield, len(t.fields))
	for i, f := range t.fields {
		if f.name == "" && t.name == "STRUCT" {
			f.name = "field" + strconv.Itoa(i)
		}
		c.fields[i] = dfield{name: f.name, typ: f.typ.withNames()}
	}
	if t.elem != nil {
		c.elem = t.elem.withNames()
	}
	if t.key != nil {
		c.key, c.val = t.key.withNames(), t.val.withNames()
	}
	return &c
}

// named renders t as DuckDB type text, with the unnamed fields of its
// structs named field0, field1, ... by position, as Athena shows the
// fields of an anonymous ROW.
func (t *dtype) named() string {
	switch t.name {
	case "STRUCT", "UNION":
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			name := f.name
			if name == "" {
				name = "field" + strconv.Itoa(i)
			}
			parts[i] = schema.QuoteIdent(name) + " " + f.typ.named()
		}
		return t.name + "(" + strings.Join(parts, ", ") + ")"
	case "LIST":
		return t.elem.named() + "[]"
	case "MAP":
		return "MAP(" + t.key.named() + ", " + t.val.named() + ")"
	}
	return t.name + t.params
}

func (t *dtype) field(name string) *dtype {
	if t != nil {
		for _, f := range t.fields {
			if f.name == name {
				return f.typ
			}
		}
	}
	return unknownType
}

func (t *dtype) element() *dtype {
	if t == nil || t.elem == nil {
		return unknownType
	}
	return t.elem
}

func (t *dtype) numeric() bool {
	switch t.name {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
		"UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BIGNUM":
		return true
	}
	return false
}

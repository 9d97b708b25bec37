package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Object is a JSON object with its members in source order. Get finds a
// member; with duplicate keys the last one wins, as in encoding/json.
type Object []Member

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// Get returns the value of key, or nil.
func (o Object) Get(key string) any {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value
		}
	}
	return nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

// Parse decodes one JSON value: nil, bool, json.Number, string, []any or
// Object. It accepts exactly what encoding/json accepts and yields the same
// values (objects in source order), several times faster, because records
// are decoded once per row on the ETL's hot path.
func Parse(data []byte) (any, error) {
	p := parser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected %q after the value", p.data[p.pos])
	}
	return v, nil
}

type parser struct {
	data []byte
	pos  int
}

var errEnd = errors.New("unexpected end of JSON input")

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: "+format, append([]any{p.pos}, args...)...)
}

func (p *parser) space() { p.pos = SkipSpace(p.data, p.pos) }

// SkipSpace returns the position of the first byte at or after pos that is
// not JSON whitespace.
func SkipSpace(data []byte, pos int) int {
	for pos < len(data) {
		switch data[pos] {
		case ' ', '\t', '\n', '\r':
			pos++
		default:
			return pos
		}
	}
	return pos
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, errEnd
	}
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d", maxDepth)
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal, want %s", word)
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object(depth int) (any, error) {
	p.pos++ // {
	obj := make(Object, 0, 8)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if p.data[p.pos] != '"' {
			return nil, p.errorf("object key must be a string")
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		if p.data[p.pos] != ':' {
			return nil, p.errorf("want ':' after object key")
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj = append(obj, Member{Key: k, Value: v})
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, nil
		default:
			return nil, p.errorf("want ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.pos++ // [
	arr := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return arr, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return arr, nil
		default:
			return nil, p.errorf("want ',' or ']' in array")
		}
	}
}

// string decodes a string; the common case (no escapes, valid UTF-8) is a
// single scan and copy, the rest goes through encoding/json for identical
// escape and replacement-character handling.
func (p *parser) string() (string, error) {
	start := p.pos
	p.pos++ // "
	simple := true
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if simple && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			simple = false
			p.pos += 2
		case c < 0x20:
			return "", p.errorf("control character in string")
		default:
			p.pos++
		}
	}
	return "", errEnd
}

func (p *parser) number() (any, error) {
	start := p.pos
	end, ok, why := NumberEnd(p.data, p.pos)
	p.pos = end
	switch {
	case !ok && why == "":
		return nil, errEnd
	case !ok:
		return nil, p.errorf("%s", why)
	}
	return json.Number(p.data[start:end]), nil
}

// NumberEnd scans the JSON number starting at data[pos] (a '-' or a
// digit) and returns where it ends; when it is not a number, ok is false,
// end is where the scan stopped and why says what is wrong (empty when the
// input ends inside the number). It is the grammar Parse accepts, shared
// with the ETL's columnar decoder.
func NumberEnd(data []byte, pos int) (end int, ok bool, why string) {
	digits := func() int {
		n := 0
		for pos < len(data) && data[pos] >= '0' && data[pos] <= '9' {
			pos++
			n++
		}
		return n
	}
	if data[pos] == '-' {
		pos++
	}
	if pos >= len(data) {
		return pos, false, ""
	}
	switch c := data[pos]; {
	case c == '0':
		pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return pos, false, "invalid number"
	}
	if pos < len(data) && data[pos] == '.' {
		pos++
		if digits() == 0 {
			return pos, false, "invalid number: no digits after '.'"
		}
	}
	if pos < len(data) && (data[pos] == 'e' || data[pos] == 'E') {
		pos++
		if pos < len(data) && (data[pos] == '+' || data[pos] == '-') {
			pos++
		}
		if digits() == 0 {
			return pos, false, "invalid number: no digits in exponent"
		}
	}
	return pos, true, ""
}

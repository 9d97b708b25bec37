package tables

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

// A path is a dotted field name split at the dots: location.lat ->
// [location lat]. With duplicate keys in a record, reading follows the last
// one (as schema.Object.Get does) but every change applies to all of them,
// so a hashed or dropped field cannot survive under a duplicate key.

func splitPath(p string) []string { return strings.Split(p, ".") }

// getPath returns the value at path, or nil.
func getPath(o schema.Object, path []string) any {
	var v any = o
	for _, k := range path {
		obj, ok := v.(schema.Object)
		if !ok {
			return nil
		}
		v = obj.Get(k)
	}
	return v
}

// inParents calls fn with every object holding path's last step, for each
// chain of members matching the steps before it, and stores the object fn
// returns in its place. fn's error stops the walk.
func inParents(o schema.Object, path []string, fn func(schema.Object) (schema.Object, error)) (schema.Object, error) {
	if len(path) == 1 {
		return fn(o)
	}
	for i := range o {
		if o[i].Key != path[0] {
			continue
		}
		child, ok := o[i].Value.(schema.Object)
		if !ok {
			continue
		}
		c, err := inParents(child, path[1:], fn)
		if err != nil {
			return o, err
		}
		o[i].Value = c
	}
	return o, nil
}

// eachValue replaces every value at path by f's result; nulls are skipped.
func eachValue(o schema.Object, path []string, f func(any) (any, error)) (schema.Object, error) {
	last := path[len(path)-1]
	return inParents(o, path, func(p schema.Object) (schema.Object, error) {
		for i := range p {
			if p[i].Key != last || p[i].Value == nil {
				continue
			}
			v, err := f(p[i].Value)
			if err != nil {
				return p, err
			}
			p[i].Value = v
		}
		return p, nil
	})
}

// setPath sets path to v, replacing every member of that name and creating
// missing parent objects; it does nothing where a parent is not an object.
func setPath(o schema.Object, path []string, v any) schema.Object {
	k := path[0]
	found := false
	for i := range o {
		if o[i].Key != k {
			continue
		}
		found = true
		if len(path) == 1 {
			o[i].Value = v
		} else if child, ok := o[i].Value.(schema.Object); ok {
			o[i].Value = setPath(child, path[1:], v)
		} else if o[i].Value == nil {
			o[i].Value = setPath(nil, path[1:], v)
		}
	}
	if !found {
		if len(path) > 1 {
			v = setPath(nil, path[1:], v)
		}
		o = append(o, schema.Member{Key: k, Value: v})
	}
	return o
}

// clone copies every object in v, so changes to the copy never reach v.
// Lists are copied too, as they may hold objects.
func clone(v any) any {
	switch x := v.(type) {
	case schema.Object:
		c := make(schema.Object, len(x))
		for i, m := range x {
			c[i] = schema.Member{Key: m.Key, Value: clone(m.Value)}
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = clone(e)
		}
		return c
	}
	return v
}

// text is a value's text: a string itself, anything else its JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(appendJSON(nil, v))
}

// appendJSON encodes a decoded value (nil, bool, json.Number, string, []any,
// schema.Object) as compact JSON, objects in their order.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		return append(b, x...)
	case string:
		s, _ := json.Marshal(x)
		return append(b, s...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case schema.Object:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, m.Key)
			b = append(b, ':')
			b = appendJSON(b, m.Value)
		}
		return append(b, '}')
	}
	s, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, s...)
}

// preview is a short JSON rendering of v for error messages.
func preview(v any) string {
	b := appendJSON(nil, v)
	if len(b) > 64 {
		return strings.ToValidUTF8(string(b[:61]), "") + "..."
	}
	return string(b)
}

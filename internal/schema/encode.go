package schema

import (
	"encoding/json"
	"strconv"
)

// AppendJSON appends v, a value as Parse returns it (Object, []any,
// json.Number, string, bool or nil), as compact JSON with object members in
// their order.
func AppendJSON(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, v)
	case json.Number:
		return append(dst, v...)
	case string:
		b, _ := json.Marshal(v)
		return append(dst, b...)
	case Object:
		dst = append(dst, '{')
		for i, m := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, m.Key)
			dst = append(dst, ':')
			dst = AppendJSON(dst, m.Value)
		}
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	}
	b, _ := json.Marshal(v)
	return append(dst, b...)
}

// MarshalJSON encodes o with its members in order.
func (o Object) MarshalJSON() ([]byte, error) { return AppendJSON(nil, o), nil }

// Text is v as a string column would hold it: a string as itself, anything
// else as its compact JSON.
func Text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(AppendJSON(nil, v))
}

package tables

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/schema"
)

// compileStep turns a valid transform into a step.
func compileStep(tr Transform) (step, error) {
	switch {
	case tr.Rename != nil:
		from, to := splitPath(tr.Rename.From), tr.Rename.To
		last := from[len(from)-1]
		return step{kind: "rename", path: from, apply: func(_ *Table, o schema.Object) (schema.Object, error) {
			return inParents(o, from, func(p schema.Object) (schema.Object, error) {
				if !slices.ContainsFunc(p, func(m schema.Member) bool { return m.Key == last }) || last == to {
					return p, nil
				}
				p = slices.DeleteFunc(p, func(m schema.Member) bool { return m.Key == to })
				for i := range p {
					if p[i].Key == last {
						p[i].Key = to
					}
				}
				return p, nil
			})
		}}, nil
	case tr.Drop != "":
		path := splitPath(tr.Drop)
		last := path[len(path)-1]
		return step{kind: "drop", path: path, apply: func(_ *Table, o schema.Object) (schema.Object, error) {
			return inParents(o, path, func(p schema.Object) (schema.Object, error) {
				return slices.DeleteFunc(p, func(m schema.Member) bool { return m.Key == last }), nil
			})
		}}, nil
	case tr.Cast != nil:
		path, typ := splitPath(tr.Cast.Field), tr.Cast.Type
		return step{kind: "cast", path: path, apply: func(t *Table, o schema.Object) (schema.Object, error) {
			return eachValue(o, path, func(v any) (any, error) {
				c, err := castValue(v, typ)
				if err != nil {
					return nil, fmt.Errorf("%s %s", t.show(path, v), err)
				}
				return c, nil
			})
		}}, nil
	case tr.Flatten != nil:
		path, sep := splitPath(tr.Flatten.Field), sep(tr.Flatten)
		last := path[len(path)-1]
		return step{kind: "flatten", path: path, apply: func(t *Table, o schema.Object) (schema.Object, error) {
			return inParents(o, path, func(p schema.Object) (schema.Object, error) {
				return flatten(t, p, path, last, sep)
			})
		}}, nil
	case tr.Hash != nil:
		path, salt := splitPath(tr.Hash.Field), tr.Hash.Salt
		return step{kind: "hash", path: path, apply: func(_ *Table, o schema.Object) (schema.Object, error) {
			return eachValue(o, path, func(v any) (any, error) { return hashText(salt, v), nil })
		}}, nil
	case tr.Mask != nil:
		path, keep := splitPath(tr.Mask.Field), tr.Mask.KeepLast
		return step{kind: "mask", path: path, apply: func(_ *Table, o schema.Object) (schema.Object, error) {
			return eachValue(o, path, func(v any) (any, error) { return maskText(v, keep), nil })
		}}, nil
	case tr.Derive != nil:
		e, err := parseExpr(tr.Derive.Expr)
		if err != nil {
			return step{}, err
		}
		path := []string{tr.Derive.Name}
		return step{kind: "derive", path: path, apply: func(_ *Table, o schema.Object) (schema.Object, error) {
			v, err := e.eval(o)
			if err != nil {
				return o, err
			}
			return setPath(o, path, v), nil
		}}, nil
	}
	return step{}, errors.New("no transform set")
}

// flatten replaces the struct members named last in p by their fields.
func flatten(t *Table, p schema.Object, path []string, last, sep string) (schema.Object, error) {
	i := slices.IndexFunc(p, func(m schema.Member) bool { return m.Key == last && m.Value != nil })
	if i < 0 {
		return p, nil
	}
	out := make(schema.Object, 0, len(p)+4)
	for _, m := range p {
		if m.Key != last || m.Value == nil {
			out = append(out, m)
			continue
		}
		s, ok := m.Value.(schema.Object)
		if !ok {
			return p, fmt.Errorf("%s is a %s, not a struct", t.show(path, m.Value), typeName(m.Value))
		}
		for _, f := range s {
			out = append(out, schema.Member{Key: last + sep + f.Key, Value: f.Value})
		}
	}
	return out, nil
}

// castValue converts a non-null value to a cast type.
func castValue(v any, typ string) (any, error) {
	if typ == CastString {
		return text(v), nil
	}
	if isObject(v) {
		return nil, fmt.Errorf("is a struct; cannot cast to %s", typ)
	}
	if _, ok := v.([]any); ok {
		return nil, fmt.Errorf("is a list; cannot cast to %s", typ)
	}
	switch typ {
	case CastLong:
		return castLong(v)
	case CastDouble:
		return castDouble(v)
	case CastBoolean:
		return castBool(v)
	case CastTimestamp:
		ts, ok := parseTime(v, FormatAuto)
		if !ok {
			return nil, errors.New("is not an RFC 3339 timestamp or epoch number")
		}
		return ts.UTC().Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("unknown cast type %q", typ)
}

func castLong(v any) (any, error) {
	var s string
	switch x := v.(type) {
	case bool:
		if x {
			return json.Number("1"), nil
		}
		return json.Number("0"), nil
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return json.Number(strconv.FormatInt(n, 10)), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f):
		return nil, errors.New("is not a number")
	case err != nil || f >= 1<<63 || f < -(1<<63):
		return nil, errors.New("is out of the range of a long")
	case f != math.Trunc(f):
		return nil, errors.New("has a fraction; cannot cast to long")
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), nil
}

func castDouble(v any) (any, error) {
	var s string
	switch x := v.(type) {
	case bool:
		if x {
			return json.Number("1.0"), nil
		}
		return json.Number("0.0"), nil
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		if errors.Is(err, strconv.ErrRange) {
			return nil, errors.New("is out of the range of a double")
		}
		return nil, errors.New("is not a finite number")
	}
	return json.Number(formatFloat(f)), nil
}

func castBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case json.Number:
		switch string(x) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "t", "yes", "y", "1":
			return true, nil
		case "false", "f", "no", "n", "0":
			return false, nil
		}
	}
	return nil, errors.New("is not a boolean (true/false, yes/no, 1/0)")
}

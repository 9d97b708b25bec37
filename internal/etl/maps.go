package etl

import (
	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// Map inference follows DuckDB's read_json, so that a lake table and
// DuckDB reading the same JSON agree: an object column becomes a map
// (schema.AsMap: map<string, T> when its values share a scalar type T, else
// a map of their texts) when it has more than mapMaxFields distinct keys
// (DuckDB's map_inference_threshold), or when its keys appear, on average,
// in fewer than mapMinAppearance of the objects holding them (DuckDB's
// field_appearance_threshold): keys that are data (ids, tag names, hosts)
// rather than fields. Only columns the table does not have yet are
// decided; an existing struct column keeps adding its new fields as
// columns, and an existing map takes new keys.
const (
	mapMaxFields     = 200
	mapMinAppearance = 0.1
)

// step is one step of a path into a row: a struct member, or into the
// elements of a list.
type step struct {
	name string
	elem bool
}

// mapStats reports, for the objects at path in a batch's rows, how many
// there are and how many members they hold in all.
type mapStats func(path []step) (objects, members int)

// mapRules are what decides, beside an object's inferred type, whether it
// holds a map.
type mapRules struct {
	// stats gives the appearance counts of the sparse-keys rule; nil
	// leaves only the many-keys rule.
	stats mapStats
	// named reports whether the table's maps setting names the object
	// field at a path of member names; nil for none.
	named func(names []string) bool
}

// inferMaps returns inf with the struct fields that hold maps turned into
// map types, where cols (the table's columns at that level, nil for none)
// lack them. inf is returned as is when nothing changes.
func inferMaps(inf *schema.Type, cols []iceberg.NestedField, path []step, r mapRules) *schema.Type {
	if inf == nil {
		return inf
	}
	switch inf.Kind {
	case schema.List: // cols are those of the elements (nestedColumns)
		e := inferMaps(inf.Elem, cols, append(path[:len(path):len(path)], step{elem: true}), r)
		if e == inf.Elem {
			return inf
		}
		return &schema.Type{Kind: schema.List, Elem: e}
	case schema.Struct:
	default:
		return inf
	}
	var fields []schema.Field
	for i, f := range inf.Fields {
		t := f.Type
		existing, found := findField(cols, f.Name)
		p := append(path[:len(path):len(path)], step{name: f.Name})
		switch {
		case !found && (r.isNamed(p) || isMap(t, p, r.stats)):
			if m, ok := schema.AsMap(t); ok {
				t = m
			}
		case !found:
			t = inferMaps(t, nil, p, r)
		default: // the column's type decides; only its nested columns are compared
			if nested := nestedColumns(existing.Type, t); nested != nil {
				t = inferMaps(t, nested, p, r)
			}
		}
		if t != f.Type && fields == nil {
			fields = append(make([]schema.Field, 0, len(inf.Fields)), inf.Fields...)
		}
		if fields != nil {
			fields[i].Type = t
		}
	}
	if fields == nil {
		return inf
	}
	return &schema.Type{Kind: schema.Struct, Fields: fields}
}

// hasWide reports whether t holds a struct of more than mapMaxFields
// fields below its top level: only then can inferMaps without stats change
// anything.
func hasWide(t *schema.Type) bool {
	switch t.Kind {
	case schema.List:
		return hasWide(t.Elem)
	case schema.Struct:
		for _, f := range t.Fields {
			if f.Type.Kind == schema.Struct && len(f.Type.Fields) > mapMaxFields || hasWide(f.Type) {
				return true
			}
		}
	}
	return false
}

// nestedColumns are the columns below an existing column of type col that
// inferred type t is compared with: a struct's fields, or those of a list's
// struct elements. nil when there are none to compare (the column's type
// decides, and a value that does not fit it is a dead letter).
func nestedColumns(col iceberg.Type, t *schema.Type) []iceberg.NestedField {
	switch c := col.(type) {
	case *iceberg.StructType:
		if t.Kind == schema.Struct {
			return c.FieldList
		}
	case *iceberg.ListType:
		if st, ok := c.Element.(*iceberg.StructType); ok && t.Kind == schema.List {
			return st.FieldList
		}
	}
	return nil
}

// mapRules are the batch's map rules with stats (nil: none).
func (b *batch) mapRules(stats mapStats) mapRules {
	r := mapRules{stats: stats}
	if len(b.spec.Spec().Maps) > 0 {
		r.named = b.spec.IsMap
	}
	return r
}

// isNamed reports whether the table's maps setting names the field at
// path.
func (r mapRules) isNamed(path []step) bool {
	return r.named != nil && r.named(names(path))
}

// isMap reports whether the objects of inferred type t at path hold a map.
func isMap(t *schema.Type, path []step, stats mapStats) bool {
	if t.Kind != schema.Struct || len(t.Fields) == 0 {
		return false
	}
	if len(t.Fields) > mapMaxFields {
		return true
	}
	if stats == nil {
		return false
	}
	objects, members := stats(path)
	return objects > 0 && float64(members) < mapMinAppearance*float64(objects)*float64(len(t.Fields))
}

// names are the member names of path, its list steps left out.
func names(path []step) []string {
	out := make([]string, 0, len(path))
	for _, s := range path {
		if !s.elem {
			out = append(out, s.name)
		}
	}
	return out
}

// rowStats is the mapStats of rows.
func rowStats(rows []row) mapStats {
	return func(path []step) (objects, members int) {
		for _, r := range rows {
			objectsAt(r.value, path, func(o schema.Object) {
				objects++
				members += len(o)
			})
		}
		return objects, members
	}
}

// objectsAt calls fn with every object at path in v.
func objectsAt(v any, path []step, fn func(schema.Object)) {
	if len(path) == 0 {
		if o, ok := v.(schema.Object); ok {
			fn(o)
		}
		return
	}
	s := path[0]
	if s.elem {
		l, _ := v.([]any)
		for _, e := range l {
			objectsAt(e, path[1:], fn)
		}
		return
	}
	if o, ok := v.(schema.Object); ok {
		objectsAt(o.Get(s.name), path[1:], fn)
	}
}

// mapSeed is the inferred type a batch for a table with columns fields
// starts from: the table's map columns, within structs and lists of
// structs too, each as a map of strings, which every object fits
// (schema.Fits). Objects of a map column then skip inference instead of
// growing the batch's type by every key they bring; the column's own type
// decides what its values must be (checkValue). nil without any.
func mapSeed(fields []iceberg.NestedField) *schema.Type {
	var out []schema.Field
	for _, f := range fields {
		if t := seedType(f.Type); t != nil {
			out = append(out, schema.Field{Name: f.Name, Type: t})
		}
	}
	if out == nil {
		return nil
	}
	return &schema.Type{Kind: schema.Struct, Fields: out}
}

// seedType is mapSeed's type for a column of type col, or nil.
func seedType(col iceberg.Type) *schema.Type {
	switch c := col.(type) {
	case *iceberg.MapType:
		return &schema.Type{Kind: schema.Map, Elem: schema.Of(schema.String)}
	case *iceberg.StructType:
		return mapSeed(c.FieldList)
	case *iceberg.ListType:
		if e := seedType(c.Element); e != nil && e.Kind == schema.Struct {
			return &schema.Type{Kind: schema.List, Elem: e}
		}
	}
	return nil
}

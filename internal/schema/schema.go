// Package schema infers column types from JSON values and merges them.
//
// The type model is the small set a JSON document can carry plus timestamps:
// boolean, bigint, double, string, timestamp (RFC 3339 strings), struct, list,
// and map (string keys): Infer never returns a map, since one object cannot
// show whether its keys are fields or data; a caller that has seen many
// objects decides that (AsMap) and merges into the map from then on.
// Inference is deterministic: struct fields keep first-seen order. Merge rules:
//
//	null + T          -> T
//	bigint + double   -> double
//	timestamp + string-> string
//	struct + struct   -> struct with the union of fields (fields merged pairwise)
//	list<A> + list<B> -> list<merge(A,B)>
//	map<A> + map<B>   -> map<merge(A,B)>
//	map<A> + struct   -> map<A merged with every field's type>
//	map<string> + map or struct -> map<string> (it holds any value's text)
//	any other pair    -> string, reported as a conflict
//
// Types are immutable once built; functions here are safe for concurrent use.
package schema

import (
	"encoding/json"
	"slices"
	"strings"
)

// Kind is a column type's kind.
type Kind uint8

// The kinds, in widening order where it applies.
const (
	Null Kind = iota
	Bool
	Long
	Double
	Timestamp
	String
	Struct
	List
	Map
)

// Type is an inferred column type.
type Type struct {
	Kind   Kind
	Fields []Field // Struct
	Elem   *Type   // List: the elements; Map: the values (keys are strings)
}

// Field is a named struct member.
type Field struct {
	Name string
	Type *Type
}

var (
	tNull      = &Type{Kind: Null}
	tBool      = &Type{Kind: Bool}
	tLong      = &Type{Kind: Long}
	tDouble    = &Type{Kind: Double}
	tTimestamp = &Type{Kind: Timestamp}
	tString    = &Type{Kind: String}
)

// Of returns the scalar type of kind k (not Struct, List or Map).
func Of(k Kind) *Type {
	switch k {
	case Bool:
		return tBool
	case Long:
		return tLong
	case Double:
		return tDouble
	case Timestamp:
		return tTimestamp
	case String:
		return tString
	}
	return tNull
}

// Infer returns the type of a value decoded by Parse (nil, bool,
// json.Number, string, []any, Object) or by encoding/json with UseNumber
// (map[string]any). Struct fields follow source order for an Object and
// sorted order for a map.
func Infer(v any) *Type {
	return inferWith(v, false)
}

// InferFirst is Infer, except that the elements of a list whose kinds
// conflict take the first element's type (as MergeFirst merges), where
// Infer falls back to string: the ETL infers with it, so that a record's
// list reads like a run of records.
func InferFirst(v any) *Type {
	return inferWith(v, true)
}

func inferWith(v any, first bool) *Type {
	switch x := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBool
	case json.Number:
		if isInteger(string(x)) {
			return tLong
		}
		return tDouble
	case float64:
		if x == float64(int64(x)) && x < 1<<53 && x > -(1<<53) {
			return tLong
		}
		return tDouble
	case string:
		if _, ok := ParseTimestamp(x); ok {
			return tTimestamp
		}
		return tString
	case []any:
		elem := tNull
		for _, e := range x {
			if first {
				elem = MergeFirst(elem, inferWith(e, first))
			} else {
				elem, _ = Merge(elem, inferWith(e, first))
			}
		}
		return &Type{Kind: List, Elem: elem}
	case Object:
		fields := make([]Field, 0, len(x))
		for _, m := range x {
			t := inferWith(m.Value, first)
			if i := indexOf(fields, m.Key); i >= 0 {
				fields[i].Type = t // duplicate key: the last wins
				continue
			}
			fields = append(fields, Field{Name: m.Key, Type: t})
		}
		return &Type{Kind: Struct, Fields: fields}
	case map[string]any:
		keys := sortedKeys(x)
		fields := make([]Field, 0, len(keys))
		for _, k := range keys {
			fields = append(fields, Field{Name: k, Type: inferWith(x[k], first)})
		}
		return &Type{Kind: Struct, Fields: fields}
	}
	return tString
}

func isInteger(s string) bool {
	if strings.ContainsAny(s, ".eE") {
		return false
	}
	// Integers beyond int64 are stored as doubles.
	return len(strings.TrimPrefix(s, "-")) <= 18 || fitsInt64(s)
}

func fitsInt64(s string) bool {
	var n json.Number = json.Number(s)
	_, err := n.Int64()
	return err == nil
}

// Merge returns the narrowest type holding both a and b, and whether the
// merge had to fall back to string because the kinds conflict.
func Merge(a, b *Type) (*Type, bool) {
	switch {
	case a == nil || a.Kind == Null:
		return nonNil(b), false
	case b == nil || b.Kind == Null:
		return a, false
	case a.Kind == b.Kind && a.Kind == Struct:
		return mergeStruct(a, b)
	case a.Kind == b.Kind && a.Kind == List:
		e, c := Merge(a.Elem, b.Elem)
		if e == a.Elem {
			return a, c
		}
		return &Type{Kind: List, Elem: e}, c
	case a.Kind == Map && (b.Kind == Map || b.Kind == Struct):
		return mergeIntoMap(a, b)
	case a.Kind == Struct && b.Kind == Map:
		return mergeIntoMap(b, a)
	case a.Kind == b.Kind:
		return a, false
	case (a.Kind == Long && b.Kind == Double) || (a.Kind == Double && b.Kind == Long):
		return tDouble, false
	case (a.Kind == Timestamp && b.Kind == String) || (a.Kind == String && b.Kind == Timestamp):
		return tString, false
	}
	return tString, true
}

// MergeFirst merges b into a as Merge does, except where kinds conflict:
// there a's type is kept (the first shape seen wins) instead of string,
// while b's other fields are still added and long/double still widen. The
// ETL infers a batch's columns with it, so that one record whose field has
// the wrong type neither turns the column into a string nor hides the new
// fields it brings.
func MergeFirst(a, b *Type) *Type {
	m, conflict := Merge(a, b)
	if !conflict {
		return m
	}
	switch {
	case a.Kind == Struct && b.Kind == Struct:
		fields := slices.Clone(a.Fields)
		for _, bf := range b.Fields {
			if i := indexOf(fields, bf.Name); i < 0 {
				fields = append(fields, bf)
			} else {
				fields[i].Type = MergeFirst(fields[i].Type, bf.Type)
			}
		}
		return &Type{Kind: Struct, Fields: fields}
	case a.Kind == List && b.Kind == List:
		return &Type{Kind: List, Elem: MergeFirst(a.Elem, b.Elem)}
	}
	return a
}

// mergeIntoMap merges b, a map or a struct, into the map m: b's values (a
// map's value type, or each of a struct's field types) into m's. A map of
// strings takes any values (a loader stores them as their JSON text).
func mergeIntoMap(m, b *Type) (*Type, bool) {
	if m.Elem.Kind == String {
		return m, false
	}
	elem, conflict := m.Elem, false
	if b.Kind == Map {
		elem, conflict = Merge(elem, b.Elem)
	}
	for _, f := range b.Fields {
		var c bool
		elem, c = Merge(elem, f.Type)
		conflict = conflict || c
	}
	if elem == m.Elem {
		return m, conflict
	}
	return &Type{Kind: Map, Elem: elem}, conflict
}

// AsMap returns the map type of the objects of struct type t when its
// keys are taken for data: a map of the one scalar type its fields' types
// merge into (bigint and double into double; timestamps as strings, so
// that a later value that is not one still fits), or else (mixed, nested
// or only null values) a map of strings, which a loader fills with each
// value's JSON text, as DuckDB's read_json infers MAP(VARCHAR, JSON). ok is
// false unless t is a struct with at least one field.
func AsMap(t *Type) (*Type, bool) {
	if t == nil || t.Kind != Struct || len(t.Fields) == 0 {
		return nil, false
	}
	elem := tNull
	for _, f := range t.Fields {
		var conflict bool
		if elem, conflict = Merge(elem, f.Type); conflict {
			return &Type{Kind: Map, Elem: tString}, true
		}
	}
	switch elem.Kind {
	case Bool, Long, Double, String:
	default:
		elem = tString
	}
	return &Type{Kind: Map, Elem: elem}, true
}

func nonNil(t *Type) *Type {
	if t == nil {
		return tNull
	}
	return t
}

func mergeStruct(a, b *Type) (*Type, bool) {
	conflict := false
	changed := false
	fields := make([]Field, len(a.Fields), len(a.Fields)+len(b.Fields))
	copy(fields, a.Fields)
	for _, bf := range b.Fields {
		i := indexOf(fields, bf.Name)
		if i < 0 {
			fields = append(fields, bf)
			changed = true
			continue
		}
		m, c := Merge(fields[i].Type, bf.Type)
		conflict = conflict || c
		if m != fields[i].Type {
			fields[i].Type = m
			changed = true
		}
	}
	if !changed {
		return a, conflict
	}
	return &Type{Kind: Struct, Fields: fields}, conflict
}

func indexOf(fields []Field, name string) int {
	for i := range fields {
		if fields[i].Name == name {
			return i
		}
	}
	return -1
}

// Field returns the named struct field's type, or nil.
func (t *Type) Field(name string) *Type {
	if t == nil || t.Kind != Struct {
		return nil
	}
	if i := indexOf(t.Fields, name); i >= 0 {
		return t.Fields[i].Type
	}
	return nil
}

// Hive renders the type in Glue/Hive DDL syntax: bigint, struct<a:string>.
func (t *Type) Hive() string {
	var b strings.Builder
	t.render(&b, hive)
	return b.String()
}

// DuckDB renders the type as a DuckDB SQL type: BIGINT, STRUCT("a" VARCHAR).
func (t *Type) DuckDB() string {
	var b strings.Builder
	t.render(&b, duck)
	return b.String()
}

type dialect struct {
	names                             [String + 1]string
	itemSep                           string
	structOpen, fieldSep, structClose string
	listOpen, listClose               string
	mapOpen, mapClose                 string
	quote                             func(string) string
}

var (
	hive = dialect{
		names:      [...]string{"string", "boolean", "bigint", "double", "timestamp", "string"},
		itemSep:    ",",
		structOpen: "struct<", fieldSep: ":", structClose: ">",
		listOpen: "array<", listClose: ">",
		mapOpen: "map<string,", mapClose: ">",
		quote: func(s string) string { return s },
	}
	duck = dialect{
		names:      [...]string{"VARCHAR", "BOOLEAN", "BIGINT", "DOUBLE", "TIMESTAMPTZ", "VARCHAR"},
		itemSep:    ", ",
		structOpen: "STRUCT(", fieldSep: " ", structClose: ")",
		listOpen: "", listClose: "[]",
		mapOpen: "MAP(VARCHAR, ", mapClose: ")",
		quote: QuoteIdent,
	}
)

func (t *Type) render(b *strings.Builder, d dialect) {
	switch t.Kind {
	case Struct:
		if len(t.Fields) == 0 {
			b.WriteString(d.names[String]) // an always-empty object carries no columns
			return
		}
		b.WriteString(d.structOpen)
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(d.itemSep)
			}
			b.WriteString(d.quote(f.Name))
			b.WriteString(d.fieldSep)
			f.Type.render(b, d)
		}
		b.WriteString(d.structClose)
	case List:
		b.WriteString(d.listOpen)
		t.Elem.render(b, d)
		b.WriteString(d.listClose)
	case Map:
		b.WriteString(d.mapOpen)
		t.Elem.render(b, d)
		b.WriteString(d.mapClose)
	default:
		b.WriteString(d.names[t.Kind])
	}
}

// QuoteIdent quotes a SQL identifier with double quotes.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteString quotes a SQL string literal with single quotes.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// StringList is a DuckDB list literal of strings, e.g. the files of a
// read_parquet call.
func StringList(ss []string) string {
	quoted := make([]string, len(ss))
	for i, s := range ss {
		quoted[i] = QuoteString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Fits reports whether merging the type of v into t would leave t
// unchanged (Merge(t, Infer(v)) == t, no conflict), without building the
// type of v; null-valued members are ignored, since a null carries no type.
// It lets a loader skip inference for rows of a known shape.
func Fits(v any, t *Type) bool {
	if v == nil {
		return true
	}
	if t == nil {
		return false
	}
	switch x := v.(type) {
	case bool:
		return t.Kind == Bool
	case json.Number:
		if t.Kind == Double {
			return true
		}
		return t.Kind == Long && isInteger(string(x))
	case string:
		switch t.Kind {
		case String:
			return true
		case Timestamp:
			_, ok := ParseTimestamp(x)
			return ok
		}
		return false
	case []any:
		if t.Kind != List {
			return false
		}
		for _, e := range x {
			if !Fits(e, t.Elem) {
				return false
			}
		}
		return true
	case Object:
		if t.Kind == Map {
			if t.Elem.Kind == String {
				return true // a map of strings takes any values, as their text
			}
			for _, m := range x {
				if !Fits(m.Value, t.Elem) {
					return false
				}
			}
			return true
		}
		if t.Kind != Struct {
			return false
		}
		for _, m := range x {
			f := t.Field(m.Key)
			if f == nil {
				if m.Value == nil {
					continue // a null field adds nothing
				}
				return false
			}
			if !Fits(m.Value, f) {
				return false
			}
		}
		return true
	}
	return false
}

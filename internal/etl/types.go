package etl

import (
	"fmt"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// idGen hands out field IDs for a schema under construction. Catalogs
// reassign fresh IDs on create; for schema updates iceberg-go assigns them.
type idGen struct{ next int }

func (g *idGen) id() int { g.next++; return g.next }

// icebergType maps an inferred type to an Iceberg type. ok is false for types
// that carry no information yet (null, empty struct, list of null): such
// fields get a column once a value shows their type.
func icebergType(t *schema.Type, g *idGen) (iceberg.Type, bool) {
	switch t.Kind {
	case schema.Bool:
		return iceberg.PrimitiveTypes.Bool, true
	case schema.Long:
		return iceberg.PrimitiveTypes.Int64, true
	case schema.Double:
		return iceberg.PrimitiveTypes.Float64, true
	case schema.String:
		return iceberg.PrimitiveTypes.String, true
	case schema.Timestamp:
		return iceberg.PrimitiveTypes.TimestampTz, true
	case schema.Struct:
		fields := structFields(t, g)
		if len(fields) == 0 {
			return nil, false
		}
		return &iceberg.StructType{FieldList: fields}, true
	case schema.List:
		elem, ok := icebergType(t.Elem, g)
		if !ok {
			return nil, false
		}
		return &iceberg.ListType{ElementID: g.id(), Element: elem}, true
	case schema.Map:
		value, ok := icebergType(t.Elem, g)
		if !ok {
			return nil, false
		}
		return &iceberg.MapType{KeyID: g.id(), KeyType: iceberg.PrimitiveTypes.String, ValueID: g.id(), ValueType: value}, true
	}
	return nil, false
}

func structFields(t *schema.Type, g *idGen) []iceberg.NestedField {
	var fields []iceberg.NestedField
	for _, f := range t.Fields {
		id := g.id()
		ft, ok := icebergType(f.Type, g)
		if !ok {
			continue
		}
		fields = append(fields, iceberg.NestedField{ID: id, Name: f.Name, Type: ft})
	}
	return fields
}

// addition is a column to add to a table: its path and type.
type addition struct {
	path []string
	typ  iceberg.Type
}

// missingColumns returns the columns of inferred that fields (a table
// struct's columns) lack, recursing into structs present on both sides.
func missingColumns(fields []iceberg.NestedField, inferred *schema.Type, prefix []string, g *idGen) []addition {
	var out []addition
	for _, f := range inferred.Fields {
		path := append(append([]string(nil), prefix...), f.Name)
		existing, found := findField(fields, f.Name)
		if !found {
			if t, ok := icebergType(f.Type, g); ok {
				out = append(out, addition{path, t})
			}
			continue
		}
		if st, inf := structsOf(existing.Type, f.Type); st != nil {
			out = append(out, missingColumns(st.FieldList, inf, path, g)...)
		}
	}
	return out
}

func findField(fields []iceberg.NestedField, name string) (iceberg.NestedField, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return iceberg.NestedField{}, false
}

func describe(t iceberg.Type) string {
	switch t.(type) {
	case *iceberg.StructType:
		return "struct"
	case *iceberg.ListType:
		return "list"
	case *iceberg.MapType:
		return "map"
	}
	return fmt.Sprint(t)
}

// structsOf returns the table struct and inferred struct to compare below a
// column: the column itself when both are structs, or the list elements
// when both are lists of structs (iceberg-go resolves a path through a list
// to its element). Otherwise nil.
func structsOf(col iceberg.Type, inferred *schema.Type) (*iceberg.StructType, *schema.Type) {
	switch t := col.(type) {
	case *iceberg.StructType:
		if inferred.Kind == schema.Struct {
			return t, inferred
		}
	case *iceberg.ListType:
		if st, ok := t.Element.(*iceberg.StructType); ok && inferred.Kind == schema.List && inferred.Elem.Kind == schema.Struct {
			return st, inferred.Elem
		}
	}
	return nil, nil
}

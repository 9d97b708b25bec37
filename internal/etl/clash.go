package etl

import (
	"slices"
	"strings"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// clash is a new field a table cannot take beside an earlier one at the
// same level: their names are the same but for case, which SQL engines
// (DuckDB, Trino, Athena, Spark) do not tell apart, or data files would
// spell them alike (schema.FileName: "a.b" and "a_x2Eb"), which writers
// refuse. The records that carry it go to the dead-letter table instead,
// until a transform renames it.
type clash struct {
	path   []string // from the top; a list's elements are passed through
	reason string
}

// clashes returns the fields of st with an id above known (the fields a
// commit adds) that clash with an earlier sibling, below prefix.
func clashes(st *iceberg.StructType, known int, prefix []string) []clash {
	var out []clash
	folded := map[string]string{}
	inFiles := map[string]string{}
	for _, f := range st.FieldList {
		path := append(slices.Clone(prefix), f.Name)
		fold, file := strings.ToLower(f.Name), schema.FileName(f.Name)
		prevFold, sameFold := folded[fold]
		prevFile, sameFile := inFiles[file]
		switch {
		case f.ID > known && sameFold:
			out = append(out, clash{path, "its name differs only in case from field " + prevFold +
				"'s, and SQL engines do not tell such names apart (rename one with a transform)"})
			continue
		case f.ID > known && sameFile:
			out = append(out, clash{path, "data files would name it " + file + ", as they name field " + prevFile +
				" (rename one with a transform)"})
			continue
		}
		folded[fold], inFiles[file] = f.Name, f.Name
		if inner := structOf(f.Type); inner != nil {
			out = append(out, clashes(inner, known, path)...)
		}
	}
	return out
}

// structOf is t's struct, or its elements' when t is a list of structs.
func structOf(t iceberg.Type) *iceberg.StructType {
	switch t := t.(type) {
	case *iceberg.StructType:
		return t
	case *iceberg.ListType:
		if st, ok := t.Element.(*iceberg.StructType); ok {
			return st
		}
	}
	return nil
}

// carries reports whether v has a member at path (through the elements
// of lists).
func carries(v any, path []string) bool {
	switch v := v.(type) {
	case schema.Object:
		for _, m := range v {
			if m.Key == path[0] && (len(path) == 1 || carries(m.Value, path[1:])) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return carries(e, path) })
	}
	return false
}

// withoutClashes returns the additions that add none of cl's fields: an
// addition whose path is a clash's, or a prefix of it (a new struct with a
// clash inside), is left out whole, and its path is returned with the
// clash's reason for the rows that carry it.
func withoutClashes(adds []addition, cl []clash) (kept []addition, refused []clash) {
	for _, a := range adds {
		i := slices.IndexFunc(cl, func(c clash) bool {
			return len(a.path) <= len(c.path) && slices.Equal(a.path, c.path[:len(a.path)])
		})
		if i < 0 {
			kept = append(kept, a)
			continue
		}
		refused = append(refused, clash{a.path, "field $." + strings.Join(cl[i].path, ".") + ": " + cl[i].reason})
	}
	return kept, refused
}

// dropClashes returns fields (a new table's) without the top-level fields
// that hold a clash: the commit that follows the table's creation adds
// them again, and refuses them (withoutClashes).
func dropClashes(fields []iceberg.NestedField) []iceberg.NestedField {
	cl := clashes(&iceberg.StructType{FieldList: fields}, 0, nil)
	return slices.DeleteFunc(slices.Clone(fields), func(f iceberg.NestedField) bool {
		return slices.ContainsFunc(cl, func(c clash) bool { return c.path[0] == f.Name })
	})
}

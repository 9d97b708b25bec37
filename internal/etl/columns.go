package etl

import (
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
)

// countFields counts fields and the fields below them: struct members,
// list elements and map keys and values, each an Iceberg field id.
func countFields(fields []iceberg.NestedField) int {
	n := 0
	for _, f := range fields {
		n += 1 + countBelow(f.Type)
	}
	return n
}

func countBelow(t iceberg.Type) int {
	switch t := t.(type) {
	case *iceberg.StructType:
		return countFields(t.FieldList)
	case *iceberg.ListType:
		return 1 + countBelow(t.Element)
	case *iceberg.MapType:
		return 2 + countBelow(t.KeyType) + countBelow(t.ValueType)
	}
	return 0
}

// withinColumns keeps the additions, in order, while the table's fields
// (have now) stay within max, and refuses the rest: the rows that carry a
// refused field become dead letters with the reason. A table is named in
// it.
func withinColumns(adds []addition, have, max int, table string) (kept []addition, refused []clash) {
	for _, a := range adds {
		n := 1 + countBelow(a.typ)
		if have+n <= max {
			kept = append(kept, a)
			have += n
			continue
		}
		refused = append(refused, clash{a.path, fmt.Sprintf("field $.%s: table %s would pass etl.max_columns (%d fields, nested ones included); "+
			"store objects whose keys are data as maps (tables[].maps), or raise etl.max_columns", strings.Join(a.path, "."), table, max)})
	}
	return kept, refused
}

// firstColumns returns the leading fields of a new table that fit within
// max fields in all: the commit that follows its creation adds the others
// again, and refuses them (withinColumns).
func firstColumns(fields []iceberg.NestedField, max int) []iceberg.NestedField {
	n := 0
	for i, f := range fields {
		if n += 1 + countBelow(f.Type); n > max {
			return fields[:i]
		}
	}
	return fields
}

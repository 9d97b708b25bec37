package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/schema"
)

// renamed reports whether a column of md's table has had another name in
// an earlier schema. Data files name columns as they were called when the
// file was written, so such a table is read by field id (readByID);
// others by name, which is the same and lets DuckDB bind without the
// field-id mapping.
func renamed(md table.Metadata) bool {
	names := map[int]string{}
	for _, sc := range md.Schemas() {
		for id := 1; id <= sc.HighestFieldID(); id++ {
			name, ok := sc.FindColumnName(id)
			if !ok {
				continue
			}
			if prev, seen := names[id]; seen && prev != name {
				return true
			}
			names[id] = name
		}
	}
	return false
}

// readByID is the view body over files that reads the columns of sc by
// Iceberg field id (read_parquet's schema parameter): a column renamed
// after a file was written reads its values under the new name, a column
// added after reads as NULL, and values are cast to the schema's types.
func readByID(files []string, sc *iceberg.Schema) (string, error) {
	fields := sc.Fields()
	entries := make([]string, len(fields))
	cols := make([]string, len(fields))
	for i, f := range fields {
		d, err := duckType(f.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		entries[i] = strconv.Itoa(f.ID) + ": {name: " + schema.QuoteString(f.Name) + ", type: " + schema.QuoteString(d) + ", default_value: NULL}"
		cols[i] = schema.QuoteIdent(f.Name)
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM read_parquet(" + schema.StringList(files) +
		", hive_partitioning = false, schema = MAP {" + strings.Join(entries, ", ") + "})", nil
}

package etl

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
)

// TestParquetLayout: the DuckDB writer's expected Parquet columns and
// FIELD_IDS follow the schema's nesting, and it refuses what DuckDB cannot
// write as iceberg-go would (required columns and elements, maps, types
// whose Parquet form it does not map).
func TestParquetLayout(t *testing.T) {
	fields := []iceberg.NestedField{
		{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.String},
		{ID: 2, Name: "s", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{{ID: 3, Name: "it's", Type: iceberg.PrimitiveTypes.Int64}}}},
		{ID: 4, Name: "l", Type: &iceberg.ListType{ElementID: 5, Element: iceberg.PrimitiveTypes.TimestampTz}},
	}
	cols, ids, err := parquetLayout(fields)
	if err != nil {
		t.Fatal(err)
	}
	want := []parquetColumn{{"id", "BYTE_ARRAY", 1}, {"s", "", 2}, {"it's", "INT64", 3}, {"l", "", 4}, {"list", "", -1}, {"element", "INT64", 5}}
	if len(cols) != len(want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	for i := range want {
		if cols[i] != want[i] {
			t.Fatalf("columns %v, want %v", cols, want)
		}
	}
	if got, w := strings.Join(ids, ", "), `'id': 1, 's': {__duckdb_field_id: 2, 'it''s': 3}, 'l': {__duckdb_field_id: 4, element: 5}`; got != w {
		t.Fatalf("FIELD_IDS %s, want %s", got, w)
	}
	for _, bad := range []iceberg.NestedField{
		{ID: 1, Name: "r", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		{ID: 1, Name: "l", Type: &iceberg.ListType{ElementID: 2, Element: iceberg.PrimitiveTypes.Int64, ElementRequired: true}},
		{ID: 1, Name: "m", Type: &iceberg.MapType{KeyID: 2, KeyType: iceberg.PrimitiveTypes.String, ValueID: 3, ValueType: iceberg.PrimitiveTypes.Int64}},
		{ID: 1, Name: "d", Type: iceberg.DecimalTypeOf(10, 2)},
		{ID: 1, Name: "u", Type: iceberg.PrimitiveTypes.UUID},
	} {
		if _, _, err := parquetLayout([]iceberg.NestedField{bad}); !errors.Is(err, errIneligible) {
			t.Errorf("column %s %s: %v, want not eligible", bad.Name, bad.Type, err)
		}
	}
}

package query

import (
	"testing"

	"github.com/apache/iceberg-go"
)

// TestSanitizedAgreesWithWriters checks sanitized against what writers do
// (iceberg.SanitizeColumnNames) for names at every depth.
func TestSanitizedAgreesWithWriters(t *testing.T) {
	names := []string{"id", "_x", "user_id", "Ünïcode", "user-id", "a.b", "@type", "9lives", "a b", "x9", "emoji🌍", "日本"}
	for _, name := range names {
		for _, sch := range []*iceberg.Schema{
			iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: name, Type: iceberg.PrimitiveTypes.String}),
			iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "s", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
				{ID: 2, Name: name, Type: iceberg.PrimitiveTypes.Int64}}}}),
			iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "l", Type: &iceberg.ListType{ElementID: 2, Element: &iceberg.StructType{FieldList: []iceberg.NestedField{
				{ID: 3, Name: name, Type: iceberg.PrimitiveTypes.Int64}}}}}),
			iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "m", Type: &iceberg.MapType{KeyID: 2, KeyType: iceberg.PrimitiveTypes.String, ValueID: 3,
				ValueType: &iceberg.StructType{FieldList: []iceberg.NestedField{{ID: 4, Name: name, Type: iceberg.PrimitiveTypes.Int64}}}}}),
		} {
			san, err := iceberg.SanitizeColumnNames(sch)
			if err != nil {
				t.Fatal(err)
			}
			want := !san.Equals(sch)
			if got := sanitized(sch); got != want {
				t.Errorf("%s: sanitized = %v, writers rename: %v (%s)", sch, got, want, san)
			}
		}
	}
}

// TestDuckNames checks the names columns equal but for case read as.
func TestDuckNames(t *testing.T) {
	fields := []iceberg.NestedField{{Name: "Name"}, {Name: "name"}, {Name: "NAME"}, {Name: "name_1x"}, {Name: "id"}, {Name: "Name_2"}}
	got := duckNames(fields)
	want := []string{"Name", "name_1", "NAME_3", "name_1x", "id", "Name_2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("duckNames = %v, want %v", got, want)
		}
	}
	if !foldCollision(fields) || foldCollision(fields[3:]) {
		t.Error("foldCollision wrong")
	}
}

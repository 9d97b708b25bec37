package schema_test

import (
	"testing"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// TestFileNameAgreesWithIceberg checks FileName against iceberg-go's
// SanitizeColumnNames, which the writers apply.
func TestFileNameAgreesWithIceberg(t *testing.T) {
	for _, n := range []string{"id", "_x", "user_id", "Ünïcode", "user-id", "a.b", "@type", "9lives", "a b", "x9", "emoji🌍", "日本", "a_x2Eb", "٣d", "x٣"} {
		sch := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: n, Type: iceberg.PrimitiveTypes.String})
		san, err := iceberg.SanitizeColumnNames(sch)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := schema.FileName(n), san.Field(0).Name; got != want {
			t.Errorf("FileName(%q) = %q, iceberg-go writes %q", n, got, want)
		}
	}
}

func FuzzFileName(f *testing.F) {
	for _, n := range []string{"id", "user-id", "9lives", "emoji🌍", "a b"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n string) {
		sch := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: n, Type: iceberg.PrimitiveTypes.String})
		san, err := iceberg.SanitizeColumnNames(sch)
		if err != nil {
			return // empty or not UTF-8: writers refuse it
		}
		if got, want := schema.FileName(n), san.Field(0).Name; got != want {
			t.Errorf("FileName(%q) = %q, iceberg-go writes %q", n, got, want)
		}
	})
}

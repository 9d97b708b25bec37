package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

func TestTableName(t *testing.T) {
	for topic, want := range map[string]string{
		"orders": "orders", "Orders.V1": "orders_v1", "a-b_c": "a_b_c", "été": "_t_", "a..b": "a__b",
	} {
		if got := TableName(topic); got != want {
			t.Errorf("TableName(%q) = %q, want %q", topic, got, want)
		}
	}
}

func TestExternalAndIcebergTables(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "catalog.db"), "file://"+filepath.ToSlash(filepath.Join(dir, "lake")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Table(ctx, "raw", "nope"); !errors.Is(err, ErrNoSuchTable) {
		t.Fatalf("missing table: %v, want ErrNoSuchTable", err)
	}
	ext := Table{Database: "raw", Name: "events", Format: "json", Location: dir,
		Columns: []Column{{Name: "id", Type: "string", DuckDB: "VARCHAR"}}}
	if err := s.PutTable(ctx, ext); err != nil {
		t.Fatal(err)
	}
	ext.Columns = append(ext.Columns, Column{Name: "n", Type: "bigint", DuckDB: "BIGINT"})
	if err := s.PutTable(ctx, ext); err != nil { // replace
		t.Fatal(err)
	}
	got, err := s.Table(ctx, "raw", "events")
	if err != nil || got.Type != External || len(got.Columns) != 2 {
		t.Fatalf("external table: %+v, %v", got, err)
	}
	if err := s.Iceberg().CreateNamespace(ctx, table.Identifier{"lake"}, nil); err != nil {
		t.Fatal(err)
	}
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.String})
	if _, err := s.Iceberg().CreateTable(ctx, table.Identifier{"lake", "events"}, sc); err != nil {
		t.Fatal(err)
	}
	ice, err := s.Table(ctx, "lake", "events")
	if err != nil || ice.Type != Iceberg {
		t.Fatalf("iceberg table: %+v, %v", ice, err)
	}
	all, err := s.Tables(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range all {
		names = append(names, t.Database+"."+t.Name+":"+t.Type)
	}
	if strings.Join(names, ",") != "lake.events:ICEBERG,raw.events:EXTERNAL" {
		t.Fatalf("Tables = %v", names)
	}
	// A second process sees the same catalog.
	s2, err := Open(ctx, filepath.Join(dir, "catalog.db"), "file:///unused")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.LoadIceberg(ctx, "lake", "events"); err != nil {
		t.Fatal(err)
	}
}

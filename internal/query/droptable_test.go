package query_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/stage"
)

// DROP TABLE drops an Iceberg table as Athena drops a managed table: the
// catalog entry and every file under its location go, and an engine that
// read it before finds it missing. An external table's entry goes and its
// files stay.
func TestDropTable(t *testing.T) {
	store, dir := eventsLake(t)
	createEvents(t, store, "kept") // lake stays a database the engine knows
	e := newEngine(t, store)
	defer e.Close()
	if got := queryRows(t, e, "SELECT count(*) FROM lake.events"); got != "[[5]]" {
		t.Fatalf("before the drop: %s", got)
	}
	tableDir := filepath.Join(dir, "lake", "lake.db", "events")
	if n, _ := dataFiles(t, tableDir); n == 0 {
		t.Fatalf("no data files under %s", tableDir)
	}
	queryRows(t, e, "DROP TABLE lake.events")
	if _, err := store.LoadIceberg(t.Context(), "lake", "events"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("the catalog still has lake.events: %v", err)
	}
	var left []string
	filepath.WalkDir(tableDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("files left after the drop: %v", left)
	}
	if _, err := os.Stat(tableDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the table's directory is still there: %v", err)
	}
	if _, err := e.Query(t.Context(), "SELECT count(*) FROM lake.events"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("query of the dropped table: %v, want not found", err)
	}

	staging := filepath.Join(dir, "staging")
	writeStaging(t, staging, stage.Record{Topic: "orders", Partition: 0, Offset: 0,
		Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Value: []byte(`{"id": 1}`)})
	if err := store.PutTable(t.Context(), stagingTable("orders", filepath.Join(staging, "orders"))); err != nil {
		t.Fatal(err)
	}
	if got := queryRows(t, e, "SELECT count(*) FROM raw.orders"); got != "[[1]]" {
		t.Fatalf("the external table: %s", got)
	}
	queryRows(t, e, "DROP TABLE raw.orders")
	if _, err := store.Table(t.Context(), "raw", "orders"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("the catalog still has raw.orders: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(staging, "orders", "*", "*", "*", "*")); len(files) == 0 {
		t.Error("the external table's files were deleted with it")
	}
}

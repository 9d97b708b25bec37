package query_test

import (
	"path/filepath"
	"testing"

	"github.com/streamlake/streamlake/internal/query"
)

// A view is read through the files of the tables its query reads: they
// are the bytes scanned, and a workgroup's bytes-scanned limit refuses a
// view over a table as it refuses the table.
func TestViewScansItsTables(t *testing.T) {
	store, dir := eventsLake(t)
	files, bytes := dataFiles(t, filepath.Join(dir, "lake"))
	s := newService(t, store, nil, query.ServiceConfig{ResultsDir: filepath.Join(dir, "results"), Workgroups: []query.Workgroup{
		{Name: "small", BytesScannedLimit: bytes - 1},
	}})
	if x := execute(t, s, query.StartInput{SQL: "CREATE VIEW lake.named AS SELECT id, name FROM lake.events WHERE name IS NOT NULL"}); x.State != query.Succeeded {
		t.Fatalf("create view: %s %+v", x.State, x.Error)
	}
	x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.named"})
	if x.State != query.Succeeded || x.Statistics.BytesScanned != bytes || x.Statistics.FilesScanned != int64(files) {
		t.Errorf("view query: %s, scanned %d bytes in %d files; want %d in %d", x.State, x.Statistics.BytesScanned, x.Statistics.FilesScanned, bytes, files)
	}
	if x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM lake.named", Workgroup: "small"}); x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser {
		t.Errorf("view over the limit: %s %+v, want FAILED USER", x.State, x.Error)
	}
}

// A view replaced or dropped through one engine is seen at once by
// another that resolved it before (from its kept table listing), and
// replacing a view so that it reads itself through another is refused.
func TestViewChangedElsewhere(t *testing.T) {
	store, _ := eventsLake(t)
	a, b := newEngine(t, store), newEngine(t, store)
	defer a.Close()
	defer b.Close()
	if got := queryRows(t, a, "CREATE VIEW lake.v AS SELECT count(id) AS n FROM lake.events"); got != "[]" {
		t.Fatalf("create view = %s", got)
	}
	if got := queryRows(t, b, "SELECT n FROM lake.v"); got != "[[5]]" {
		t.Fatalf("through b = %s", got)
	}
	queryRows(t, a, "CREATE OR REPLACE VIEW lake.v AS SELECT count(id) + 1 AS n FROM lake.events")
	if got := queryRows(t, b, "SELECT n FROM lake.v"); got != "[[6]]" {
		t.Errorf("after the replace, through b = %s, want [[6]]", got)
	}
	queryRows(t, a, "CREATE VIEW lake.w AS SELECT n FROM lake.v")
	if _, err := b.Query(t.Context(), "CREATE OR REPLACE VIEW lake.v AS SELECT n FROM lake.w"); err == nil {
		t.Error("a view that reads itself through another was created")
	}
	if got := queryRows(t, a, "SELECT n FROM lake.w"); got != "[[6]]" {
		t.Errorf("the view over the view = %s, want [[6]]", got)
	}
	queryRows(t, a, "DROP VIEW lake.w")
	queryRows(t, a, "DROP VIEW lake.v")
	if _, err := b.Query(t.Context(), "SELECT n FROM lake.v"); err == nil {
		t.Error("a dropped view is still read")
	}
}

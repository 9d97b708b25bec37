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

	// A view's WHERE on the partition source prunes files, and so does a
	// query's on the view's column that passes it through, as in Athena: the
	// three days are three files.
	if x := execute(t, s, query.StartInput{SQL: "CREATE VIEW lake.timed AS SELECT id, ts AS event_time FROM lake.events WHERE ts >= TIMESTAMPTZ '2026-11-22 00:00:00+00'"}); x.State != query.Succeeded {
		t.Fatalf("create view: %s %+v", x.State, x.Error)
	}
	for _, c := range []struct {
		sql   string
		files int64
		count string
	}{
		{"SELECT count(*) FROM lake.timed", 2, "[4]"},
		{"SELECT count(*) FROM lake.timed t WHERE t.event_time >= TIMESTAMPTZ '2026-11-23 00:00:00+00' AND id > 0", 1, "[2]"},
		{"SELECT count(*) FROM lake.timed WHERE event_time < TIMESTAMPTZ '2026-11-23 00:00:00+00'", 1, "[2]"},
		{"SELECT count(*) FROM lake.timed WHERE event_time < TIMESTAMPTZ '2026-11-23 00:00:00+00' OR id = 5", 2, "[3]"},
		{"SELECT count(*) FROM lake.named WHERE id > 0", files, "[4]"},
	} {
		x := execute(t, s, query.StartInput{SQL: c.sql})
		if x.State != query.Succeeded {
			t.Fatalf("%s: %s %+v", c.sql, x.State, x.Error)
		}
		page, err := s.Results(t.Context(), x.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := pageRows(page); x.Statistics.FilesScanned != c.files || got != c.count {
			t.Errorf("%s: %s in %d files, want %s in %d", c.sql, got, x.Statistics.FilesScanned, c.count, c.files)
		}
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

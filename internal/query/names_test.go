package query_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// listingCatalog is a real catalog that counts how often the engine lists
// every table.
type listingCatalog struct {
	*catalog.Store
	lists atomic.Int64
}

func (c *listingCatalog) Tables(ctx context.Context, database string) ([]catalog.Table, error) {
	if database == "" {
		c.lists.Add(1)
	}
	return c.Store.Tables(ctx, database)
}

// A query resolves against the engine's last listing of the catalog's
// tables while it holds, and sees every change to the catalog all the
// same: new snapshots, new and dropped tables, new databases.
func TestListingFollowsCatalog(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	cat := &listingCatalog{Store: store}
	e := query.New(cat, query.Options{Databases: []string{"lake"}, Logger: testLogger(t), Threads: 1})
	defer e.Close()
	events := appendJSON(ctx, t, createEvents(t, store, "events"), `[{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"}]`)

	step := func(name, sql, want string, lists int64) {
		t.Helper()
		before := cat.lists.Load()
		if got := queryRows(t, e, sql); got != want {
			t.Errorf("%s: %s = %s, want %s", name, sql, got, want)
		}
		if got := cat.lists.Load() - before; got != lists {
			t.Errorf("%s: %s listed the catalog %d times, want %d", name, sql, got, lists)
		}
	}
	step("first query", `SELECT count(id) FROM lake.events`, "[[1]]", 1)
	step("same query", `SELECT count(id) FROM lake.events`, "[[1]]", 0)
	step("other spelling", `SELECT count(id) FROM LAKE."Events"`, "[[1]]", 0)
	step("aliases and a CTE", `WITH d AS (SELECT 1 AS one) SELECT count(e.id), max(d.one) FROM lake.events e, d WHERE e.id > d.one - 1`, "[[1 1]]", 0)

	events = appendJSON(ctx, t, events, `[{"id": 2, "name": "b", "ts": "2026-11-22T10:00:00Z"}]`)
	step("new snapshot", `SELECT count(id), sum(id) FROM lake.events`, "[[2 3]]", 0)
	step("new snapshot, count(*) from metadata", `SELECT count(*) FROM lake.events`, "[[2]]", 0)
	step("new snapshot, metadata table", `SELECT count(*) FROM lake."events$snapshots"`, "[[2]]", 0)
	step("new snapshot, time travel", `SELECT count(id) FROM lake.events FOR VERSION AS OF `+itoa(*events.CurrentSnapshot().ParentSnapshotID), "[[1]]", 0)

	appendJSON(ctx, t, createEvents(t, store, "later"), `[{"id": 7, "name": "c", "ts": "2026-11-21T10:00:00Z"}]`)
	step("new table", `SELECT sum(id) FROM lake.later`, "[[7]]", 1)
	step("new table again", `SELECT sum(id) FROM lake.later`, "[[7]]", 0)

	ice := store.Iceberg()
	if err := ice.CreateNamespace(ctx, table.Identifier{"other"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ice.CreateTable(ctx, table.Identifier{"other", "t"}, eventsSchema); err != nil {
		t.Fatal(err)
	}
	step("new database after a comma", `SELECT count(l.id), count(o.id) FROM lake.later l, other.t o`, "[[0 0]]", 1)

	if err := ice.DropTable(ctx, table.Identifier{"lake", "events"}); err != nil {
		t.Fatal(err)
	}
	before := cat.lists.Load()
	_, err := e.Query(ctx, `SELECT count(id) FROM lake.events`)
	var nf *query.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("dropped table: err = %v, want a NotFoundError", err)
	}
	if cat.lists.Load() != before+1 {
		t.Errorf("dropped table: listed the catalog %d times, want 1", cat.lists.Load()-before)
	}
	step("after the drop", `SELECT sum(id) FROM lake.later`, "[[7]]", 0)
}

// An external table's definition is read again for every query, so a
// crawler's change (a new column, another location) shows at once.
func TestListingSeesExternalChanges(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	cat := &listingCatalog{Store: store}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, d := range []string{"v1", "v2"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []struct{ path, sel string }{
		{"v1/a.parquet", `SELECT 1::BIGINT AS a, 'x' AS b`},
		{"v2/a.parquet", `SELECT 2::BIGINT AS a, 'y' AS b`},
	} {
		if _, err := db.ExecContext(ctx, "COPY ("+f.sel+") TO '"+filepath.Join(dir, f.path)+"' (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	tbl := catalog.Table{
		Database: "ext", Name: "files", Format: "parquet", Location: "file://" + filepath.Join(dir, "v1"),
		Columns: []catalog.Column{{Name: "a", Type: "bigint"}},
	}
	if err := store.PutTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	e := query.New(cat, query.Options{Databases: []string{"ext"}, Logger: testLogger(t), Threads: 1})
	defer e.Close()
	if got := queryRows(t, e, `SELECT * FROM ext.files`); got != "[[1]]" {
		t.Fatalf("before the change: %s", got)
	}
	tbl.Columns = append(tbl.Columns, catalog.Column{Name: "b", Type: "string"})
	tbl.Location = "file://" + filepath.Join(dir, "v2")
	if err := store.PutTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	before := cat.lists.Load()
	if got := queryRows(t, e, `SELECT * FROM ext.files`); got != "[[2 y]]" {
		t.Errorf("after the change: %s, want [[2 y]]", got)
	}
	if cat.lists.Load() != before {
		t.Errorf("the changed table listed the catalog again")
	}
	if err := store.DeleteTable(ctx, "ext", "files"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, `SELECT * FROM ext.files`); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("deleted table: err = %v, want ErrNoSuchTable", err)
	}
}

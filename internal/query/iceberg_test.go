package query_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// openCatalog opens a real catalog in a temporary directory.
func openCatalog(t *testing.T) (*catalog.Store, string) {
	t.Helper()
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	store, err := catalog.Open(t.Context(), filepath.Join(dir, "catalog.db"), (&url.URL{Scheme: "file", Path: lake}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, dir
}

func newEngine(t *testing.T, cat query.Catalog) *query.Engine {
	return query.New(cat, query.Options{Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})), Threads: 1})
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

var eventsSchema = iceberg.NewSchema(0,
	iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
	iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	iceberg.NestedField{ID: 3, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
)

// createEvents creates lake.<name>, partitioned by day(ts).
func createEvents(t *testing.T, store *catalog.Store, name string) *table.Table {
	t.Helper()
	ctx := t.Context()
	ice := store.Iceberg()
	if err := ice.CreateNamespace(ctx, table.Identifier{"lake"}, nil); err != nil {
		if ok, _ := ice.CheckNamespaceExists(ctx, table.Identifier{"lake"}); !ok {
			t.Fatal(err)
		}
	}
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{3}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}})
	tbl, err := ice.CreateTable(ctx, table.Identifier{"lake", name}, eventsSchema, icecat.WithPartitionSpec(&spec))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// appendJSON appends rows given as a JSON array to tbl, in the table's
// current schema.
func appendJSON(ctx context.Context, t *testing.T, tbl *table.Table, rows string) *table.Table {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	at, err := array.TableFromJSON(memory.DefaultAllocator, sc, []string{rows})
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	next, err := tbl.AppendTable(ctx, at, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestIcebergTable(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "events")
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"},
		{"id": 2, "name": "b", "ts": "2026-11-22T11:30:00.5Z"},
		{"id": 3, "name": null, "ts": "2026-11-22T12:00:00Z"}]`)
	appendJSON(ctx, t, tbl, `[
		{"id": 4, "name": "d", "ts": "2026-11-23T00:00:00Z"},
		{"id": 5, "name": "e", "ts": "2026-11-23T23:59:59Z"}]`)

	e := newEngine(t, store)
	for _, q := range []string{
		`SELECT count(*) AS n, sum(id) AS s FROM lake.events`,
		`select COUNT(*) AS n, SUM(id) AS s from LAKE.Events`,
		`SELECT count(*) AS n, sum(id) AS s FROM "lake"."events"`,
	} {
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := res.Rows[0][0]; got != int64(5) {
			t.Errorf("%s: count = %v, want 5", q, got)
		}
		if got := res.Rows[0][1].(interface{ String() string }).String(); got != "15" {
			t.Errorf("%s: sum = %v, want 15", q, got)
		}
	}

	res, err := e.Query(ctx, `SELECT * FROM lake.events WHERE ts >= TIMESTAMPTZ '2026-11-22 00:00:00+00' ORDER BY id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Columns, []string{"id", "name", "ts"}; !slices.Equal(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
	if got, want := res.Types, []string{"BIGINT", "VARCHAR", "TIMESTAMPTZ"}; !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("rows = %v", res.Rows)
	}
	if res.Rows[0][0] != int64(2) || res.Rows[0][1] != "b" || res.Rows[1][1] != nil {
		t.Errorf("rows = %v", res.Rows)
	}
	want := time.Date(2026, 11, 22, 11, 30, 0, 5e8, time.UTC)
	if ts, ok := res.Rows[0][2].(time.Time); !ok || !ts.Equal(want) {
		t.Errorf("ts = %v, want %v", res.Rows[0][2], want)
	}
}

func TestIcebergEmptyTable(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	createEvents(t, store, "empty")
	e := newEngine(t, store)

	res, err := e.Query(ctx, `SELECT count(*) FROM lake.empty`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(0) {
		t.Errorf("count = %v, want 0", res.Rows[0][0])
	}
	res, err = e.Query(ctx, `SELECT * FROM lake.empty`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("rows = %v, want none", res.Rows)
	}
	if got, want := res.Types, []string{"BIGINT", "VARCHAR", "TIMESTAMPTZ"}; !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}
}

func TestIcebergSchemaEvolution(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "evolving")
	tbl = appendJSON(ctx, t, tbl, `[{"id": 1, "name": "old", "ts": "2026-11-22T10:00:00Z"}]`)

	e := newEngine(t, store)
	txn := tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).
		AddColumn([]string{"score"}, iceberg.PrimitiveTypes.Float64, "", false, nil).
		AddColumn([]string{"tags"}, &iceberg.ListType{ElementID: 6, Element: iceberg.PrimitiveTypes.String}, "", false, nil).
		Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The new columns exist before any file has them.
	res, err := e.Query(ctx, `SELECT id, score, tags FROM lake.evolving`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][1] != nil || res.Rows[0][2] != nil {
		t.Errorf("rows = %v, want [[1 <nil> <nil>]]", res.Rows)
	}
	if got, want := res.Types, []string{"BIGINT", "DOUBLE", "VARCHAR[]"}; !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v", got, want)
	}

	appendJSON(ctx, t, tbl, `[{"id": 2, "name": "new", "ts": "2026-11-23T10:00:00Z", "score": 2.5, "tags": ["x", "y"]}]`)
	res, err = e.Query(ctx, `SELECT id, name, score, tags FROM lake.evolving ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Columns, []string{"id", "name", "score", "tags"}; !slices.Equal(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("rows = %v", res.Rows)
	}
	if res.Rows[0][2] != nil || res.Rows[0][3] != nil {
		t.Errorf("old row = %v, want NULL score and tags", res.Rows[0])
	}
	if res.Rows[1][2] != 2.5 {
		t.Errorf("new row = %v, want score 2.5", res.Rows[1])
	}
	if tags, _ := res.Rows[1][3].([]any); len(tags) != 2 || tags[0] != "x" {
		t.Errorf("new row tags = %v", res.Rows[1][3])
	}
	// Star order is the schema's.
	res, err = e.Query(ctx, `SELECT * FROM lake.evolving LIMIT 0`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Columns, []string{"id", "name", "ts", "score", "tags"}; !slices.Equal(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
}

// An Engine serves concurrent queries, each in its own DuckDB.
func TestConcurrentQueries(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "events")
	appendJSON(ctx, t, tbl, `[{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"}, {"id": 2, "name": "b", "ts": "2026-11-22T10:00:00Z"}]`)
	e := query.New(store, query.Options{Threads: 1})
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			res, err := e.Query(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM lake.events`, i))
			if err == nil && res.Rows[0][0] != int64(2+i) {
				err = fmt.Errorf("query %d: got %v", i, res.Rows[0][0])
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A field of a struct renamed after files were written reads from those
// files under its old name, as Iceberg reads by field id at every depth; a
// field added later under a name an older field had reads as NULL from the
// files written before it, and the old snapshot still reads its own names.
func TestIcebergNestedRename(t *testing.T) {
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "nested")
	evolve := func(update func(*table.UpdateSchema) *table.UpdateSchema) {
		t.Helper()
		txn := tbl.NewTransaction()
		if err := update(txn.UpdateSchema(true, false)).Commit(); err != nil {
			t.Fatal(err)
		}
		var err error
		if tbl, err = txn.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	evolve(func(u *table.UpdateSchema) *table.UpdateSchema {
		return u.AddColumn([]string{"loc"}, &iceberg.StructType{FieldList: []iceberg.NestedField{
			{ID: 1, Name: "city", Type: iceberg.PrimitiveTypes.String},
			{ID: 2, Name: "zip", Type: iceberg.PrimitiveTypes.Int32},
		}}, "", false, nil).
			AddColumn([]string{"visits"}, &iceberg.ListType{ElementID: 3, Element: &iceberg.StructType{FieldList: []iceberg.NestedField{
				{ID: 4, Name: "page", Type: iceberg.PrimitiveTypes.String},
			}}}, "", false, nil)
	})
	tbl = appendJSON(ctx, t, tbl, `[{"id": 1, "name": "old", "ts": "2026-11-22T10:00:00Z", "loc": {"city": "Oslo", "zip": 150}, "visits": [{"page": "/a"}, {"page": "/b"}]}]`)
	old := tbl.CurrentSnapshot().SnapshotID
	evolve(func(u *table.UpdateSchema) *table.UpdateSchema {
		return u.RenameColumn([]string{"loc", "city"}, "town").
			RenameColumn([]string{"visits", "element", "page"}, "path").
			UpdateColumn([]string{"loc", "zip"}, table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Valid: true, Val: iceberg.PrimitiveTypes.Int64}})
	})
	evolve(func(u *table.UpdateSchema) *table.UpdateSchema {
		return u.AddColumn([]string{"loc", "city"}, iceberg.PrimitiveTypes.String, "", false, nil)
	})
	appendJSON(ctx, t, tbl, `[{"id": 2, "name": "new", "ts": "2026-11-23T10:00:00Z", "loc": {"town": "Bergen", "zip": 5000, "city": "Vestland"}, "visits": [{"path": "/c"}]}]`)

	e := newEngine(t, store)
	for _, c := range []struct{ sql, want string }{
		{`SELECT id, loc.town, loc.zip, loc.city, visits[1].path FROM lake.nested ORDER BY id`, `[[1 Oslo 150 <nil> /a] [2 Bergen 5000 Vestland /c]]`},
		{`SELECT id FROM lake.nested WHERE loc.town = 'Oslo'`, `[[1]]`},
		{`SELECT id, loc FROM lake.nested WHERE id = 1`, `[[1 map[city:<nil> town:Oslo zip:150]]]`},
		{`SELECT id, list_transform(visits, v -> v.path) FROM lake.nested WHERE id = 1`, `[[1 [/a /b]]]`},
		{fmt.Sprintf(`SELECT id, loc.city, visits[2].page FROM lake.nested FOR VERSION AS OF %d`, old), `[[1 Oslo /b]]`},
	} {
		res, err := e.Query(ctx, c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got := fmt.Sprint(res.Rows); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.sql, got, c.want)
		}
	}
}

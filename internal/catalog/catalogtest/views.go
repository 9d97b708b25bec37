package catalogtest

import (
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// testViews: a view is a table of type VirtualView with its query; it is
// listed, replaced and deleted like an external table, shares the
// table namespace, and a view without a query or a table with one is
// refused.
func testViews(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createDB(t, s, "web")
	must(t, s.CreateTable(ctx, externalTable("web", "clicks")))
	v := catalog.Table{Database: "web", Name: "daily", Type: catalog.VirtualView,
		ViewText: "SELECT dt, count(*) AS n FROM web.clicks GROUP BY dt",
		Columns:  []catalog.Column{{Name: "dt", Type: "date", DuckDB: "DATE"}, {Name: "n", Type: "bigint", DuckDB: "BIGINT"}}}
	must(t, s.CreateTable(ctx, v))
	got, err := open(t).GetTable(ctx, "web", "daily") // another process sees it
	must(t, err)
	if got.Type != catalog.VirtualView || got.ViewText != v.ViewText || len(got.Columns) != 2 {
		t.Errorf("view read back: type %q, text %q, %d columns", got.Type, got.ViewText, len(got.Columns))
	}
	all, err := s.Tables(ctx, "web")
	must(t, err)
	if got := names(all, func(t catalog.Table) string { return t.Name + ":" + t.Type }); got != "[clicks:EXTERNAL daily:VIRTUAL_VIEW]" {
		t.Errorf("tables = %s", got)
	}
	wantErr(t, "a second view of the same name", s.CreateTable(ctx, v), catalog.ErrAlreadyExists)
	clash := v
	clash.Name = "clicks"
	wantErr(t, "a view named like a table", s.CreateTable(ctx, clash), catalog.ErrAlreadyExists)
	v.ViewText = "SELECT dt FROM web.clicks"
	v.Columns = v.Columns[:1]
	must(t, s.UpdateTable(ctx, v))
	if got, err := s.GetTable(ctx, "web", "daily"); err != nil || got.ViewText != v.ViewText || got.Version != 2 {
		t.Errorf("replaced view: %q, version %d, %v", got.ViewText, got.Version, err)
	}
	empty := catalog.Table{Database: "web", Name: "nothing", Type: catalog.VirtualView}
	if err := s.CreateTable(ctx, empty); err == nil {
		t.Error("a view without a query was created")
	}
	withText := externalTable("web", "texted")
	withText.ViewText = "SELECT 1"
	if err := s.CreateTable(ctx, withText); err == nil {
		t.Error("an external table with a view's query was created")
	}
	must(t, s.DeleteTable(ctx, "web", "daily"))
	_, err = s.GetTable(ctx, "web", "daily")
	wantErr(t, "GetTable after deleting the view", err, catalog.ErrNoSuchTable)
}

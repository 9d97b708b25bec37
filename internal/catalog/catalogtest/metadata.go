package catalogtest

import (
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// testMetadataLocation checks that IcebergMetadataLocation follows the
// commits of an Iceberg table, as LoadIceberg sees them.
func testMetadataLocation(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	tbl := createIcebergTable(t, s, "lake", "events")
	for i := range 2 {
		loc, err := s.IcebergMetadataLocation(ctx, "lake", "events")
		must(t, err)
		loaded, err := open(t).LoadIceberg(ctx, "lake", "events")
		must(t, err)
		if loc == "" || loc != loaded.MetadataLocation() {
			t.Errorf("commit %d: IcebergMetadataLocation = %q, LoadIceberg's %q", i, loc, loaded.MetadataLocation())
		}
		if i == 0 {
			tbl = appendRows(t, tbl, 3)
			if tbl.MetadataLocation() == loc {
				t.Fatal("a commit kept the metadata location")
			}
		}
	}
	_, err := s.IcebergMetadataLocation(ctx, "lake", "nope")
	wantErr(t, "IcebergMetadataLocation(missing)", err, catalog.ErrNoSuchTable)
	must(t, s.CreateTable(ctx, catalog.Table{Database: "lake", Name: "files", Format: "csv", Columns: cols("a", "string")}))
	_, err = s.IcebergMetadataLocation(ctx, "lake", "files")
	wantErr(t, "IcebergMetadataLocation(external table)", err, catalog.ErrNoSuchTable)
}

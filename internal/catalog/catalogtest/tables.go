package catalogtest

import (
	"reflect"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
)

func testDatabases(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	if dbs, err := s.Databases(ctx); err != nil || len(dbs) != 0 {
		t.Fatalf("Databases of an empty catalog = %v, %v", dbs, err)
	}
	_, err := s.GetDatabase(ctx, "sales")
	wantErr(t, "GetDatabase(missing)", err, catalog.ErrNoSuchDatabase)

	before := time.Now().Add(-time.Second)
	want := catalog.Database{Name: "sales", Description: "orders and refunds", Location: "file:///lake/sales",
		Properties: map[string]string{"owner": "team-a"}}
	must(t, s.CreateDatabase(ctx, want))
	createDB(t, s, "raw")
	wantErr(t, "CreateDatabase(twice)", s.CreateDatabase(ctx, catalog.Database{Name: "sales"}), catalog.ErrAlreadyExists)
	if err := s.CreateDatabase(ctx, catalog.Database{Name: " "}); err == nil {
		t.Error("CreateDatabase accepted a blank name")
	}

	got, err := s.GetDatabase(ctx, "sales")
	must(t, err)
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}
	got.CreatedAt = time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetDatabase = %+v, want %+v", got, want)
	}
	dbs, err := s.Databases(ctx)
	must(t, err)
	if n := names(dbs, func(d catalog.Database) string { return d.Name }); n != "[raw sales]" {
		t.Errorf("Databases = %s, want [raw sales]", n)
	}
}

func externalTable(db, name string) catalog.Table {
	return catalog.Table{
		Database: db, Name: name, Format: "json", Compression: "zstd", Description: "click events",
		Location: "file:///data/" + name,
		Columns: []catalog.Column{
			{Name: "id", Type: "string", DuckDB: "VARCHAR", Comment: "event id"},
			{Name: "n", Type: "bigint", DuckDB: "BIGINT"},
		},
		PartitionKeys: []catalog.Column{{Name: "dt", Type: "date", DuckDB: "DATE"}},
		Properties: map[string]string{
			catalog.PropRecordCount: "10", catalog.PropSizeBytes: "2048", catalog.PropObjectCount: "2",
			catalog.PropAverageRecordSize: "204", catalog.PropLastCrawled: "2026-11-23T10:00:00Z", catalog.PropCrawler: "c1",
		},
	}
}

func testTables(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createDB(t, s, "web")
	createDB(t, s, "app")
	in := externalTable("web", "clicks")
	before := time.Now().Add(-time.Second)
	must(t, s.CreateTable(ctx, in))
	must(t, s.CreateTable(ctx, catalog.Table{Database: "web", Name: "alpha", Format: "csv", Classification: "csv",
		Columns: cols("a", "string")}))
	must(t, s.CreateTable(ctx, catalog.Table{Database: "app", Name: "zeta", Format: "parquet", Columns: cols("z", "int")}))

	got, err := s.GetTable(ctx, "web", "clicks")
	must(t, err)
	if got.Type != catalog.External || got.Version != 1 || got.Classification != "json" || got.Deprecated {
		t.Errorf("GetTable: type %q version %d classification %q deprecated %v, want EXTERNAL 1 json false",
			got.Type, got.Version, got.Classification, got.Deprecated)
	}
	if got.CreatedAt.Before(before) || !got.Updated.Equal(got.CreatedAt) {
		t.Errorf("CreatedAt %v Updated %v, want both about now and equal", got.CreatedAt, got.Updated)
	}
	want := in
	want.Type, want.Version, want.Classification, want.CreatedAt, want.Updated = catalog.External, 1, "json", got.CreatedAt, got.Updated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetTable =\n%+v\nwant\n%+v", got, want)
	}
	if old, err := s.Table(ctx, "web", "clicks"); err != nil || !reflect.DeepEqual(old, got) {
		t.Errorf("Table = %+v, %v; want GetTable's", old, err)
	}

	all, err := s.Tables(ctx, "")
	must(t, err)
	if n := names(all, func(t catalog.Table) string { return t.Database + "." + t.Name }); n != "[app.zeta web.alpha web.clicks]" {
		t.Errorf("Tables(\"\") = %s", n)
	}
	web, err := s.Tables(ctx, "web")
	must(t, err)
	if n := names(web, func(t catalog.Table) string { return t.Name }); n != "[alpha clicks]" {
		t.Errorf("Tables(web) = %s", n)
	}
	if none, err := s.Tables(ctx, "nope"); err != nil || len(none) != 0 {
		t.Errorf("Tables(nope) = %v, %v; want none", none, err)
	}

	// The crawler deprecates a table: same schema, same version.
	got.Deprecated = true
	got.Properties[catalog.PropLastCrawled] = "2026-11-23T11:00:00Z"
	time.Sleep(2 * time.Millisecond)
	must(t, s.UpdateTable(ctx, got))
	dep, err := s.GetTable(ctx, "web", "clicks")
	must(t, err)
	if !dep.Deprecated || dep.Version != 1 || dep.Properties[catalog.PropLastCrawled] != "2026-11-23T11:00:00Z" {
		t.Errorf("after deprecating: deprecated %v version %d lastCrawled %q", dep.Deprecated, dep.Version, dep.Properties[catalog.PropLastCrawled])
	}
	if !dep.CreatedAt.Equal(got.CreatedAt) || !dep.Updated.After(got.Updated) {
		t.Errorf("after update: CreatedAt %v (was %v), Updated %v (was %v)", dep.CreatedAt, got.CreatedAt, dep.Updated, got.Updated)
	}
}

func testTableErrors(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	tbl := externalTable("web", "clicks")
	wantErr(t, "CreateTable in a missing database", s.CreateTable(ctx, tbl), catalog.ErrNoSuchDatabase)
	createDB(t, s, "web")
	must(t, s.CreateTable(ctx, tbl))
	wantErr(t, "CreateTable(twice)", s.CreateTable(ctx, tbl), catalog.ErrAlreadyExists)
	missing := externalTable("web", "nope")
	wantErr(t, "UpdateTable(missing)", s.UpdateTable(ctx, missing), catalog.ErrNoSuchTable)
	_, err := s.GetTable(ctx, "web", "nope")
	wantErr(t, "GetTable(missing)", err, catalog.ErrNoSuchTable)
	_, err = s.GetTable(ctx, "nodb", "clicks")
	wantErr(t, "GetTable(missing database)", err, catalog.ErrNoSuchTable)
	_, err = s.Table(ctx, "web", "nope")
	wantErr(t, "Table(missing)", err, catalog.ErrNoSuchTable)
	_, err = s.TableVersions(ctx, "web", "nope")
	wantErr(t, "TableVersions(missing)", err, catalog.ErrNoSuchTable)
	wantErr(t, "DeleteTable(missing)", s.DeleteTable(ctx, "web", "nope"), catalog.ErrNoSuchTable)
	for _, bad := range []catalog.Table{
		{Database: "web", Name: ""},
		{Database: "", Name: "x"},
		{Database: "web", Name: "x", Type: catalog.Iceberg},
		{Database: "web", Name: "x", Columns: []catalog.Column{{Name: "", Type: "string"}}},
	} {
		if err := s.CreateTable(ctx, bad); err == nil {
			t.Errorf("CreateTable(%+v) succeeded", bad)
		}
	}
}

func testVersions(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createDB(t, s, "web")
	tbl := externalTable("web", "clicks")
	must(t, s.CreateTable(ctx, tbl))

	update := func(change func(*catalog.Table)) catalog.Table {
		t.Helper()
		cur, err := s.GetTable(ctx, "web", "clicks")
		must(t, err)
		change(&cur)
		must(t, s.UpdateTable(ctx, cur))
		cur, err = s.GetTable(ctx, "web", "clicks")
		must(t, err)
		return cur
	}
	// Comments and properties: same version.
	if v := update(func(t *catalog.Table) { t.Columns[0].Comment = "the id"; t.Properties["x"] = "y" }).Version; v != 1 {
		t.Errorf("after changing a comment: version %d, want 1", v)
	}
	// A new column: version 2.
	if v := update(func(t *catalog.Table) { t.Columns = append(t.Columns, catalog.Column{Name: "url", Type: "string"}) }).Version; v != 2 {
		t.Errorf("after adding a column: version %d, want 2", v)
	}
	// A widened type: version 3.
	if v := update(func(t *catalog.Table) { t.Columns[1].Type = "double" }).Version; v != 3 {
		t.Errorf("after widening a column: version %d, want 3", v)
	}
	// A new partition key: version 4.
	if v := update(func(t *catalog.Table) {
		t.PartitionKeys = append(t.PartitionKeys, catalog.Column{Name: "hour", Type: "int"})
	}).Version; v != 4 {
		t.Errorf("after adding a partition key: version %d, want 4", v)
	}
	// Writers cannot set the version.
	if v := update(func(t *catalog.Table) { t.Version = 99 }).Version; v != 4 {
		t.Errorf("after writing version 99: version %d, want 4", v)
	}

	vs, err := s.TableVersions(ctx, "web", "clicks")
	must(t, err)
	if len(vs) != 4 {
		t.Fatalf("TableVersions: %d versions, want 4", len(vs))
	}
	for i, v := range vs {
		if v.Version != i+1 {
			t.Errorf("version[%d].Version = %d", i, v.Version)
		}
	}
	if n := names(vs[0].Columns, func(c catalog.Column) string { return c.Name + ":" + c.Type }); n != "[id:string n:bigint]" {
		t.Errorf("version 1 columns = %s", n)
	}
	if vs[0].Columns[0].Comment != "the id" || vs[0].Properties["x"] != "y" {
		t.Errorf("version 1 does not keep its in-place changes: %+v", vs[0])
	}
	if n := names(vs[1].Columns, func(c catalog.Column) string { return c.Name + ":" + c.Type }); n != "[id:string n:bigint url:string]" {
		t.Errorf("version 2 columns = %s", n)
	}
	if n := names(vs[2].Columns, func(c catalog.Column) string { return c.Name + ":" + c.Type }); n != "[id:string n:double url:string]" {
		t.Errorf("version 3 columns = %s", n)
	}
	if len(vs[2].PartitionKeys) != 1 || len(vs[3].PartitionKeys) != 2 {
		t.Errorf("partition keys of versions 3, 4: %v, %v", vs[2].PartitionKeys, vs[3].PartitionKeys)
	}
	cur, err := s.GetTable(ctx, "web", "clicks")
	must(t, err)
	if !reflect.DeepEqual(vs[3], cur) {
		t.Errorf("last version =\n%+v\nwant the current table\n%+v", vs[3], cur)
	}
}

func testPutTable(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	// PutTable creates the database (the crawler never creates one).
	tbl := catalog.Table{Database: "raw", Name: "events", Format: "json", Location: "file:///raw",
		Columns: []catalog.Column{{Name: "id", Type: "string", DuckDB: "VARCHAR"}}}
	must(t, s.PutTable(ctx, tbl))
	if _, err := s.GetDatabase(ctx, "raw"); err != nil {
		t.Errorf("PutTable did not create database raw: %v", err)
	}
	tbl.Columns = append(tbl.Columns, catalog.Column{Name: "n", Type: "bigint", DuckDB: "BIGINT"})
	stamp := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tbl.Updated = stamp
	must(t, s.PutTable(ctx, tbl)) // replaces
	got, err := s.Table(ctx, "raw", "events")
	must(t, err)
	if got.Type != catalog.External || len(got.Columns) != 2 || got.Version != 2 || !got.Updated.Equal(stamp) {
		t.Errorf("after PutTable twice: %+v, want EXTERNAL, 2 columns, version 2, updated %v", got, stamp)
	}
	must(t, s.PutTable(ctx, tbl)) // same schema
	if got, _ := s.Table(ctx, "raw", "events"); got.Version != 2 {
		t.Errorf("PutTable of the same schema made version %d", got.Version)
	}
}

func testDeleteTable(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createDB(t, s, "web")
	tbl := externalTable("web", "clicks")
	must(t, s.CreateTable(ctx, tbl))
	tbl.Columns = append(tbl.Columns, catalog.Column{Name: "x", Type: "int"})
	must(t, s.UpdateTable(ctx, tbl))
	must(t, s.BatchCreatePartitions(ctx, "web", "clicks", []catalog.Partition{{Values: []string{"2026-11-01"}}}))
	must(t, s.DeleteTable(ctx, "web", "clicks"))
	_, err := s.GetTable(ctx, "web", "clicks")
	wantErr(t, "GetTable after DeleteTable", err, catalog.ErrNoSuchTable)
	_, err = s.TableVersions(ctx, "web", "clicks")
	wantErr(t, "TableVersions after DeleteTable", err, catalog.ErrNoSuchTable)
	// A new table of the same name starts afresh.
	must(t, s.CreateTable(ctx, externalTable("web", "clicks")))
	got, err := s.GetTable(ctx, "web", "clicks")
	must(t, err)
	vs, err := s.TableVersions(ctx, "web", "clicks")
	must(t, err)
	ps, err := s.GetPartitions(ctx, "web", "clicks", "")
	must(t, err)
	if got.Version != 1 || len(vs) != 1 || len(ps) != 0 {
		t.Errorf("recreated table: version %d, %d versions, %d partitions; want 1, 1, 0", got.Version, len(vs), len(ps))
	}
}

func testDeleteDatabase(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	wantErr(t, "DeleteDatabase(missing)", s.DeleteDatabase(ctx, "web"), catalog.ErrNoSuchDatabase)
	createDB(t, s, "web")
	createDB(t, s, "keep")
	must(t, s.CreateTable(ctx, externalTable("web", "clicks")))
	must(t, s.CreateTable(ctx, externalTable("keep", "clicks")))
	must(t, s.BatchCreatePartitions(ctx, "web", "clicks", []catalog.Partition{{Values: []string{"2026-11-01"}}}))
	createIcebergTable(t, s, "web", "lake")
	must(t, s.DeleteDatabase(ctx, "web"))
	_, err := s.GetDatabase(ctx, "web")
	wantErr(t, "GetDatabase after DeleteDatabase", err, catalog.ErrNoSuchDatabase)
	all, err := s.Tables(ctx, "")
	must(t, err)
	if n := names(all, func(t catalog.Table) string { return t.Database + "." + t.Name }); n != "[keep.clicks]" {
		t.Errorf("Tables after DeleteDatabase(web) = %s, want [keep.clicks]", n)
	}
	// Nothing of the old database comes back with a new one of its name.
	createDB(t, s, "web")
	must(t, s.CreateTable(ctx, externalTable("web", "clicks")))
	ps, err := s.GetPartitions(ctx, "web", "clicks", "")
	must(t, err)
	vs, err := s.TableVersions(ctx, "web", "clicks")
	must(t, err)
	if len(ps) != 0 || len(vs) != 1 {
		t.Errorf("table in a recreated database: %d partitions, %d versions; want 0, 1", len(ps), len(vs))
	}
}

func testReopen(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createDB(t, s, "web")
	must(t, s.CreateTable(ctx, externalTable("web", "clicks")))
	must(t, s.BatchCreatePartitions(ctx, "web", "clicks", []catalog.Partition{{Values: []string{"2026-11-01"}, Location: "file:///p"}}))
	must(t, s.Close())
	s2 := open(t) // opening again migrates again: idempotent
	got, err := s2.GetTable(ctx, "web", "clicks")
	must(t, err)
	ps, err := s2.GetPartitions(ctx, "web", "clicks", "")
	must(t, err)
	vs, err := s2.TableVersions(ctx, "web", "clicks")
	must(t, err)
	if got.Version != 1 || len(ps) != 1 || ps[0].Location != "file:///p" || len(vs) != 1 {
		t.Errorf("after reopening: version %d, partitions %+v, %d versions", got.Version, ps, len(vs))
	}
}

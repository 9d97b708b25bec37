package catalogtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
)

// createIcebergTable creates an Iceberg table as the ETL does, through
// Iceberg(), with its namespace if needed: id bigint, ts timestamptz,
// tags list<string>, attrs struct<a: double>, partitioned by day(ts).
func createIcebergTable(t *testing.T, s *catalog.Store, database, name string) *table.Table {
	t.Helper()
	ctx := t.Context()
	ns := table.Identifier{database}
	if ok, err := s.Iceberg().CheckNamespaceExists(ctx, ns); err != nil {
		t.Fatal(err)
	} else if !ok {
		must(t, s.Iceberg().CreateNamespace(ctx, ns, nil))
	}
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true, Doc: "row id"},
		iceberg.NestedField{ID: 2, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 3, Name: "tags", Type: &iceberg.ListType{ElementID: 5, Element: iceberg.PrimitiveTypes.String}},
		iceberg.NestedField{ID: 4, Name: "attrs", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
			{ID: 6, Name: "a", Type: iceberg.PrimitiveTypes.Float64}}}},
	)
	spec, err := iceberg.NewPartitionSpecOpts(iceberg.AddPartitionFieldBySourceID(2, "ts_day", iceberg.DayTransform{}, sc, nil))
	must(t, err)
	tbl, err := s.Iceberg().CreateTable(ctx, table.Identifier{database, name}, sc, icecat.WithPartitionSpec(&spec))
	must(t, err)
	return tbl
}

func testIceberg(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	createIcebergTable(t, s, "lake", "events")

	// The namespace is a database, the table is in the listings.
	if _, err := s.GetDatabase(ctx, "lake"); err != nil {
		t.Errorf("GetDatabase(lake) of an Iceberg namespace: %v", err)
	}
	dbs, err := s.Databases(ctx)
	must(t, err)
	if n := names(dbs, func(d catalog.Database) string { return d.Name }); n != "[lake]" {
		t.Errorf("Databases = %s, want [lake]", n)
	}
	must(t, s.CreateTable(ctx, catalog.Table{Database: "lake", Name: "files", Format: "csv", Columns: cols("a", "string")}))
	for _, db := range []string{"", "lake"} {
		ts, err := s.Tables(ctx, db)
		must(t, err)
		if n := names(ts, func(t catalog.Table) string { return t.Database + "." + t.Name + ":" + t.Type }); n != "[lake.events:ICEBERG lake.files:EXTERNAL]" {
			t.Errorf("Tables(%q) = %s", db, n)
		}
	}

	got, err := s.GetTable(ctx, "lake", "events")
	must(t, err)
	colSpec := names(got.Columns, func(c catalog.Column) string { return c.Name + ":" + c.Type })
	if got.Type != catalog.Iceberg || got.Format != "parquet" || got.Version != 1 || got.Location == "" ||
		colSpec != "[id:bigint ts:timestamp tags:array<string> attrs:struct<a:double>]" || got.Columns[0].Comment != "row id" {
		t.Errorf("GetTable(Iceberg) = %+v (columns %s)", got, colSpec)
	}
	if len(got.PartitionKeys) != 1 || got.PartitionKeys[0].Name != "ts_day" || got.PartitionKeys[0].Type != "date" {
		t.Errorf("Iceberg partition keys = %+v, want ts_day date", got.PartitionKeys)
	}

	// Errors: names are shared, partitions are in the Iceberg metadata.
	wantErr(t, "CreateTable over an Iceberg table",
		s.CreateTable(ctx, catalog.Table{Database: "lake", Name: "events", Columns: cols("a", "string")}), catalog.ErrAlreadyExists)
	err = s.BatchCreatePartitions(ctx, "lake", "events", []catalog.Partition{{Values: []string{"2026-11-23"}}})
	wantErr(t, "BatchCreatePartitions of an Iceberg table", err, catalog.ErrNoSuchTable)
	if err == nil || !strings.Contains(err.Error(), "Iceberg table") {
		t.Errorf("BatchCreatePartitions of an Iceberg table: %v, want it to say so", err)
	}
	if err := s.UpdateTable(ctx, got); err == nil || !strings.Contains(err.Error(), "Iceberg") {
		t.Errorf("UpdateTable of an Iceberg table = %v, want an error saying Iceberg tables change through Iceberg()", err)
	}

	// Partitions come from the current snapshot's manifests: none before
	// any data.
	if ps, err := s.GetPartitions(ctx, "lake", "events", ""); err != nil || len(ps) != 0 {
		t.Errorf("GetPartitions of an empty Iceberg table = %+v, %v; want none", ps, err)
	}

	// Data appended: statistics; schema changed: a version.
	tbl, err := s.LoadIceberg(ctx, "lake", "events")
	must(t, err)
	tbl = appendRows(t, tbl, 3)
	after := appendRowsOn(t, tbl, 2, 2) // 2025-11-25
	ps, err := s.GetPartitions(ctx, "lake", "events", "")
	must(t, err)
	if n := names(ps, func(p catalog.Partition) string {
		return fmt.Sprintf("%v:%d/%d", p.Values, p.Stats.RecordCount, p.Stats.ObjectCount)
	}); n != "[[2025-11-23]:3/1 [2025-11-25]:2/1]" || ps[0].Stats.SizeBytes <= 0 {
		t.Errorf("Iceberg partitions = %s (%+v), want 2025-11-23 with 3 records and 2025-11-25 with 2, one file each", n, ps)
	}
	ps, err = s.GetPartitions(ctx, "lake", "events", "ts_day > '2025-11-24'")
	must(t, err)
	if len(ps) != 1 || ps[0].Values[0] != "2025-11-25" {
		t.Errorf("Iceberg partitions filtered by ts_day > '2025-11-24' = %+v", ps)
	}
	_, err = s.GetPartitions(ctx, "lake", "events", "nope = 1")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Iceberg partitions filtered on a column that is not a partition key: %v", err)
	}
	tbl = after
	tx := tbl.NewTransaction()
	must(t, tx.UpdateSchema(true, false).AddColumn([]string{"n"}, iceberg.PrimitiveTypes.Int32, "", false, nil).Commit())
	_, err = tx.Commit(ctx)
	must(t, err)

	s2 := open(t) // another process sees it all
	got, err = s2.GetTable(ctx, "lake", "events")
	must(t, err)
	if got.Version != 2 || len(got.Columns) != 5 || got.Properties[catalog.PropRecordCount] != "5" ||
		got.Properties[catalog.PropObjectCount] == "" || got.Properties[catalog.PropSizeBytes] == "" || got.Properties[catalog.PropAverageRecordSize] == "" {
		t.Errorf("after append and schema change: version %d, %d columns, properties %v", got.Version, len(got.Columns), got.Properties)
	}
	vs, err := s2.TableVersions(ctx, "lake", "events")
	must(t, err)
	if len(vs) != 2 || vs[0].Version != 1 || len(vs[0].Columns) != 4 || vs[1].Version != 2 || len(vs[1].Columns) != 5 {
		t.Errorf("Iceberg TableVersions = %d versions %+v", len(vs), vs)
	}

	must(t, s2.DeleteTable(ctx, "lake", "events"))
	_, err = s.GetTable(ctx, "lake", "events")
	wantErr(t, "GetTable after DeleteTable(Iceberg)", err, catalog.ErrNoSuchTable)
	_, err = s.LoadIceberg(ctx, "lake", "events")
	wantErr(t, "LoadIceberg after DeleteTable(Iceberg)", err, catalog.ErrNoSuchTable)
}

// appendRows appends n rows to tbl (the columns of createIcebergTable),
// on 2025-11-23.
func appendRows(t *testing.T, tbl *table.Table, n int) *table.Table {
	return appendRowsOn(t, tbl, n, 0)
}

// appendRowsOn appends n rows to tbl, days after 2025-11-23.
func appendRowsOn(t *testing.T, tbl *table.Table, n, days int) *table.Table {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
	must(t, err)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1763856000000000 + int64(days)*86_400_000_000 + int64(i)))
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).Append("x")
		sb := b.Field(3).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Float64Builder).Append(1.5)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	at := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer at.Release()
	tx := tbl.NewTransaction()
	must(t, tx.AppendTable(t.Context(), at, int64(n), nil))
	out, err := tx.Commit(t.Context())
	must(t, err)
	return out
}

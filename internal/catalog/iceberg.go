package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// icebergTable describes an Iceberg table as a catalog table: columns of
// the current schema, partition keys of the current spec, Version the
// current schema's id + 1, statistics from the current snapshot.
func icebergTable(database, name string, tbl *table.Table) Table {
	md := tbl.Metadata()
	sc := md.CurrentSchema()
	t := Table{
		Database: database, Name: name, Type: Iceberg, Format: "parquet", Classification: "parquet",
		Location: tbl.Location(), Columns: icebergColumns(sc), PartitionKeys: icebergPartitionKeys(md, sc),
		Properties: maps.Clone(map[string]string(md.Properties())),
		Version:    sc.ID + 1,
		Updated:    time.UnixMilli(md.LastUpdatedMillis()).UTC(),
	}
	t.CreatedAt = t.Updated
	for e := range md.PreviousFiles() {
		t.CreatedAt = time.UnixMilli(e.TimestampMs).UTC()
		break
	}
	if snap := md.CurrentSnapshot(); snap != nil && snap.Summary != nil {
		if t.Properties == nil {
			t.Properties = map[string]string{}
		}
		sum := snap.Summary.Properties
		for from, to := range map[string]string{"total-records": PropRecordCount, "total-files-size": PropSizeBytes, "total-data-files": PropObjectCount} {
			if v, ok := sum[from]; ok {
				t.Properties[to] = v
			}
		}
		recs, err1 := strconv.ParseInt(sum["total-records"], 10, 64)
		size, err2 := strconv.ParseInt(sum["total-files-size"], 10, 64)
		if err1 == nil && err2 == nil && recs > 0 {
			t.Properties[PropAverageRecordSize] = strconv.FormatInt(size/recs, 10)
		}
	}
	return t
}

// icebergVersions is one table per schema of the metadata, oldest first.
func icebergVersions(database, name string, tbl *table.Table) []Table {
	cur := icebergTable(database, name, tbl)
	var out []Table
	for _, sc := range tbl.Metadata().Schemas() {
		v := cur
		v.Columns = icebergColumns(sc)
		v.Version = sc.ID + 1
		out = append(out, v)
	}
	return out
}

func icebergColumns(sc *iceberg.Schema) []Column {
	fields := sc.Fields()
	out := make([]Column, 0, len(fields))
	for _, f := range fields {
		out = append(out, Column{Name: f.Name, Type: hiveType(f.Type), Comment: f.Doc})
	}
	return out
}

func icebergPartitionKeys(md table.Metadata, sc *iceberg.Schema) []Column {
	spec := md.PartitionSpec()
	var out []Column
	for _, f := range spec.Fields() {
		src, ok := sc.FindFieldByID(f.SourceID())
		if !ok {
			continue
		}
		out = append(out, Column{Name: f.Name, Type: hiveType(f.Transform.ResultType(src.Type)),
			Comment: fmt.Sprintf("%s(%s)", f.Transform, src.Name)})
	}
	return out
}

// hiveType spells an Iceberg type in Glue/Hive DDL syntax.
func hiveType(t iceberg.Type) string {
	switch t := t.(type) {
	case iceberg.BooleanType:
		return "boolean"
	case iceberg.Int32Type:
		return "int"
	case iceberg.Int64Type:
		return "bigint"
	case iceberg.Float32Type:
		return "float"
	case iceberg.Float64Type:
		return "double"
	case iceberg.DecimalType:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision(), t.Scale())
	case iceberg.DateType:
		return "date"
	case iceberg.TimestampType, iceberg.TimestampTzType, iceberg.TimestampNsType, iceberg.TimestampTzNsType:
		return "timestamp"
	case iceberg.StringType, iceberg.UUIDType, iceberg.TimeType:
		return "string"
	case iceberg.BinaryType, iceberg.FixedType:
		return "binary"
	case *iceberg.StructType:
		parts := make([]string, 0, len(t.FieldList))
		for _, f := range t.FieldList {
			parts = append(parts, f.Name+":"+hiveType(f.Type))
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case *iceberg.ListType:
		return "array<" + hiveType(t.Element) + ">"
	case *iceberg.MapType:
		return "map<" + hiveType(t.KeyType) + "," + hiveType(t.ValueType) + ">"
	}
	return t.String()
}

// IcebergFile is a data file of an Iceberg table's current snapshot.
type IcebergFile struct {
	Path    string
	Format  string // PARQUET, AVRO or ORC
	Values  []any  // partition values by field of the current spec; nil for null
	Human   []string
	Records int64
	Bytes   int64
}

// IcebergFiles lists the data files of tbl's current snapshot (from its
// manifests) with their partition values, both raw and as the partition
// keys print them (a day as 2026-12-03).
func IcebergFiles(ctx context.Context, tbl *table.Table) ([]IcebergFile, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files: %w", err)
	}
	md := tbl.Metadata()
	sc := md.CurrentSchema()
	spec := md.PartitionSpec()
	out := make([]IcebergFile, 0, len(tasks))
	for _, task := range tasks {
		df := task.File
		pv := df.Partition()
		f := IcebergFile{Path: df.FilePath(), Format: string(df.FileFormat()), Records: df.Count(), Bytes: df.FileSizeBytes(),
			Values: make([]any, 0, spec.NumFields()), Human: make([]string, 0, spec.NumFields())}
		for _, pf := range spec.Fields() {
			src, ok := sc.FindFieldByID(pf.SourceID())
			if !ok {
				continue
			}
			v := pv[pf.FieldID]
			f.Values = append(f.Values, v)
			f.Human = append(f.Human, pf.Transform.ToHumanStrType(src.Type, v))
		}
		out = append(out, f)
	}
	return out, nil
}

// IcebergPartition is one partition of an Iceberg table's current
// snapshot and the data files it holds there.
type IcebergPartition struct {
	Values  []any    // by field of the current partition spec; nil for null
	Human   []string // the values as the partition keys print them
	Files   int64
	Bytes   int64
	Records int64
}

// IcebergPartitions groups the data files of tbl's current snapshot by
// their partition, in order of first appearance.
func IcebergPartitions(ctx context.Context, tbl *table.Table) ([]IcebergPartition, error) {
	files, err := IcebergFiles(ctx, tbl)
	if err != nil {
		return nil, err
	}
	var out []IcebergPartition
	byValues := map[string]int{} // joined human values -> index in out
	for _, f := range files {
		key := strings.Join(f.Human, "\x00")
		i, ok := byValues[key]
		if !ok {
			i = len(out)
			byValues[key] = i
			out = append(out, IcebergPartition{Values: f.Values, Human: f.Human})
		}
		out[i].Files++
		out[i].Bytes += f.Bytes
		out[i].Records += f.Records
	}
	return out, nil
}

// icebergPartitions lists the partitions of an Iceberg table's current
// snapshot (IcebergPartitions) as catalog partitions: values as its
// partition keys print them, data files, bytes and records. An Iceberg
// table keeps no partition locations, and its manifests no modification
// times. filter is GetPartitions' filter on the partition keys.
func (s *Store) icebergPartitions(ctx context.Context, database, name, filter string) ([]Partition, error) {
	tbl, err := s.LoadIceberg(ctx, database, name)
	if errors.Is(err, ErrNoSuchTable) {
		// Neither external nor Iceberg, said as for an external table.
		return nil, fmt.Errorf("catalog: partitions of %s.%s: table %s.%s: %w", database, name, database, name, ErrNoSuchTable)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, name, err)
	}
	t := icebergTable(database, name, tbl)
	pred, err := parseFilter(filter, t.PartitionKeys)
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, name, err)
	}
	ps, err := IcebergPartitions(ctx, tbl)
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, name, err)
	}
	out := []Partition{}
	for _, p := range ps {
		if pred.match(p.Human) {
			out = append(out, Partition{Database: database, Table: name, Values: p.Human,
				Stats: Stats{ObjectCount: p.Files, SizeBytes: p.Bytes, RecordCount: p.Records}})
		}
	}
	sortPartitions(t, out)
	return out, nil
}

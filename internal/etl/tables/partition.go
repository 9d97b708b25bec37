package tables

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// PartitionField is one parsed entry of a Spec's partition list.
type PartitionField struct {
	Source    string // dotted column path
	Transform string // day, hour, identity, bucket
	N         int    // buckets, for bucket
}

// String is the config form: day(ts), bucket(16, device).
func (f PartitionField) String() string {
	if f.Transform == "bucket" {
		return fmt.Sprintf("bucket(%d, %s)", f.N, f.Source)
	}
	return fmt.Sprintf("%s(%s)", f.Transform, f.Source)
}

// Name is the partition field's name in the Iceberg spec: the source with
// dots as underscores, then _day, _hour or _bucket (identity: none),
// spelt as a valid Avro name (schema.FileName: day(@timestamp) is
// _x40timestamp_day), which manifests need: writers refuse others.
func (f PartitionField) Name() string {
	n := schema.FileName(strings.ReplaceAll(f.Source, ".", "_"))
	if f.Transform == "identity" {
		return n
	}
	return n + "_" + f.Transform
}

// partitionName is name, or when a column of sc other than the source
// (source, its field id) has that name, the first of name_1, name_2, ...
// that none has: Iceberg refuses a partition field named as another
// column (a record with a ts_day field beside the default day(ts)), and
// the table would be created unpartitioned.
func partitionName(sc *iceberg.Schema, name string, source int) string {
	taken := func(n string) bool {
		f, ok := sc.FindFieldByName(n)
		return ok && f.ID != source
	}
	if !taken(name) {
		return name
	}
	for i := 1; ; i++ {
		if alt := fmt.Sprintf("%s_%d", name, i); !taken(alt) {
			return alt
		}
	}
}

// MaxBuckets bounds bucket(N, col).
const MaxBuckets = 1 << 20

var (
	partFunc   = regexp.MustCompile(`^\s*(day|hour|identity)\s*\(\s*([^\s,()]+)\s*\)\s*$`)
	partBucket = regexp.MustCompile(`^\s*bucket\s*\(\s*([0-9]+)\s*,\s*([^\s,()]+)\s*\)\s*$`)
)

// ParsePartition parses day(col), hour(col), identity(col) or
// bucket(N, col).
func ParsePartition(s string) (PartitionField, error) {
	if m := partFunc.FindStringSubmatch(s); m != nil {
		return PartitionField{Source: m[2], Transform: m[1]}, checkPath(m[2])
	}
	if m := partBucket.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > MaxBuckets {
			return PartitionField{}, fmt.Errorf("%q: bucket count must be 1..%d", s, MaxBuckets)
		}
		return PartitionField{Source: m[2], Transform: "bucket", N: n}, checkPath(m[2])
	}
	if strings.Count(s, "(") != strings.Count(s, ")") {
		// [day(ts), bucket(16, device)] in YAML's flow style splits at
		// every comma.
		return PartitionField{}, fmt.Errorf("%q: want day(col), hour(col), identity(col) or bucket(N, col) (a YAML list in brackets splits at every comma: quote the entry, \"bucket(16, device)\", or write one entry per line)", s)
	}
	return PartitionField{}, fmt.Errorf("%q: want day(col), hour(col), identity(col) or bucket(N, col)", s)
}

// PartitionFields returns the table's partition fields in order.
func (t *Table) PartitionFields() []PartitionField {
	return append([]PartitionField(nil), t.partition...)
}

// IcebergSpec builds the table's partition spec over sc (the table's
// current schema). A source column missing from sc, or of a type its
// transform cannot take (day of a string), is an error naming it: such
// tables can only be created once their columns are known.
func (t *Table) IcebergSpec(sc *iceberg.Schema) (iceberg.PartitionSpec, error) {
	var opts []iceberg.PartitionOption
	for _, f := range t.partition {
		col, ok := sc.FindFieldByName(f.Source)
		if !ok {
			return iceberg.PartitionSpec{}, fmt.Errorf("table %s: partition %s: no column %s", t.spec.Name, f, f.Source)
		}
		var tr iceberg.Transform
		switch f.Transform {
		case "day":
			tr = iceberg.DayTransform{}
		case "hour":
			tr = iceberg.HourTransform{}
		case "identity":
			tr = iceberg.IdentityTransform{}
		case "bucket":
			tr = iceberg.BucketTransform{NumBuckets: f.N}
		}
		if !tr.CanTransform(col.Type) {
			return iceberg.PartitionSpec{}, fmt.Errorf("table %s: partition %s: column %s is %s, which %s cannot partition", t.spec.Name, f, f.Source, col.Type, f.Transform)
		}
		opts = append(opts, iceberg.AddPartitionFieldBySourceID(col.ID, partitionName(sc, f.Name(), col.ID), tr, sc, nil))
	}
	spec, err := iceberg.NewPartitionSpecOpts(opts...)
	if err != nil {
		return iceberg.PartitionSpec{}, fmt.Errorf("table %s: partition spec: %w", t.spec.Name, err)
	}
	return spec, nil
}

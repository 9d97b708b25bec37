package tables

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
)

func TestEventTime(t *testing.T) {
	kafka := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	sec := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC) // 1700000000
	cases := []struct {
		format, fallback, rec string
		want                  time.Time
		reason                string
	}{
		{"auto", "", `{"ts":"2023-11-14T22:13:20Z"}`, sec, ""},
		{"auto", "", `{"ts":"2023-11-15T00:13:20.5+02:00"}`, sec.Add(500 * time.Millisecond), ""},
		{"auto", "", `{"ts":"2023-11-14 22:13:20Z"}`, sec, ""},
		{"auto", "", `{"ts":1700000000}`, sec, ""},
		{"auto", "", `{"ts":1700000000.25}`, sec.Add(250 * time.Millisecond), ""},
		{"auto", "", `{"ts":1700000000123}`, sec.Add(123 * time.Millisecond), ""},
		{"auto", "", `{"ts":1700000000123456}`, sec.Add(123456 * time.Microsecond), ""},
		{"auto", "", `{"ts":1700000000123456789}`, sec.Add(123456789), ""},
		{"auto", "", `{"ts":"1700000000"}`, sec, ""},
		{"rfc3339", "", `{"ts":"2023-11-14T22:13:20Z"}`, sec, ""},
		{"rfc3339", "", `{"ts":1700000000}`, kafka, ""},
		{"rfc3339", "dlq", `{"ts":1700000000}`, time.Time{}, "time field ts: 1700000000 is not an RFC 3339 timestamp (time_fallback: dlq)"},
		{"epoch_s", "", `{"ts":1700000000}`, sec, ""},
		{"epoch_s", "", `{"ts":1.7e9}`, time.Unix(1.7e9, 0).UTC(), ""},
		{"epoch_ms", "", `{"ts":1700000000123}`, sec.Add(123 * time.Millisecond), ""},
		{"epoch_ms", "", `{"ts":1700000}`, time.UnixMilli(1700000).UTC(), ""}, // no magnitude guessing
		{"epoch_us", "", `{"ts":1700000000123456}`, sec.Add(123456 * time.Microsecond), ""},
		{"epoch_us", "", `{"ts":"1700000000000001"}`, sec.Add(time.Microsecond), ""},
		{"epoch_ms", "", `{"ts":"2023-11-14T22:13:20Z"}`, kafka, ""},
		{"epoch_s", "dlq", `{"ts":"2023-11-14T22:13:20Z"}`, time.Time{}, `time field ts: "2023-11-14T22:13:20Z" is not a number of seconds since the epoch (time_fallback: dlq)`},
		{"auto", "", `{}`, kafka, ""},
		{"auto", "kafka", `{"ts":null}`, kafka, ""},
		{"auto", "", `{"ts":"soon"}`, kafka, ""},
		{"auto", "", `{"ts":true}`, kafka, ""},
		{"auto", "", `{"ts":1e300}`, kafka, ""},
		{"epoch_s", "", `{"ts":99999999999999}`, kafka, ""}, // year > 9999
		{"auto", "dlq", `{}`, time.Time{}, "time field ts is missing (time_fallback: dlq)"},
		{"auto", "dlq", `{"ts":{"a":1}}`, time.Time{}, `time field ts: {"a":1} is not an RFC 3339 timestamp or epoch number (time_fallback: dlq)`},
	}
	for _, c := range cases {
		tbl := mustCompile(t, Spec{Topic: "x", TimeFormat: c.format, TimeFallback: c.fallback})
		got, reason := tbl.EventTime(parseObj(t, c.rec), kafka)
		if !got.Equal(c.want) || reason != c.reason {
			t.Errorf("%s/%s %s: got %v %q, want %v %q", c.format, c.fallback, c.rec, got, reason, c.want, c.reason)
		}
	}
	// The Kafka fallback with no Kafka timestamp is a dead letter.
	tbl := mustCompile(t, Spec{Topic: "x"})
	if got, reason := tbl.EventTime(parseObj(t, `{}`), time.Time{}); !got.IsZero() || reason != "time field ts is missing and the record has no Kafka timestamp" {
		t.Errorf("got %v %q", got, reason)
	}
	// A nested time field.
	tbl = mustCompile(t, Spec{Topic: "x", TimeField: "meta.at", Partition: []string{"day(meta.at)"}})
	if got, reason := tbl.EventTime(parseObj(t, `{"meta":{"at":1700000000}}`), kafka); !got.Equal(sec) || reason != "" {
		t.Errorf("got %v %q", got, reason)
	}
}

func TestLateAndPrepare(t *testing.T) {
	now := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
	tbl := mustCompile(t, Spec{Topic: "x", MaxLateness: 24 * time.Hour, TimeFormat: FormatEpochMS})
	if tbl.Late(now.Add(-24*time.Hour), now) || !tbl.Late(now.Add(-24*time.Hour-time.Nanosecond), now) || tbl.Late(now.Add(time.Hour), now) {
		t.Error("Late: wrong at the boundary")
	}
	if unlimited := mustCompile(t, Spec{Topic: "x"}); unlimited.Late(time.Unix(0, 0), now) {
		t.Error("max_lateness 0 must mean unlimited")
	}
	kafka := now.Add(-time.Minute)
	// The epoch time is written back as RFC 3339.
	row, ts, reason := tbl.Prepare(parseObj(t, `{"ts":1717243200000,"v":1}`), kafka, now)
	if reason != "" || js(row) != `{"ts":"2024-06-01T12:00:00Z","v":1}` || !ts.Equal(now.Add(-12*time.Hour)) {
		t.Errorf("Prepare = %s %v %q", js(row), ts, reason)
	}
	// A missing time takes the Kafka timestamp, also in the row.
	row, _, reason = tbl.Prepare(parseObj(t, `{"v":1}`), kafka, now)
	if reason != "" || js(row) != `{"v":1,"ts":"2024-06-01T23:59:00Z"}` {
		t.Errorf("Prepare = %s %q", js(row), reason)
	}
	// Too late.
	row, _, reason = tbl.Prepare(parseObj(t, `{"ts":1700000000000}`), kafka, now)
	if row != nil || reason != "late: event time 2023-11-14T22:13:20Z is more than max_lateness 24h0m0s before 2024-06-02T00:00:00Z" {
		t.Errorf("Prepare = %s %q", js(row), reason)
	}
	// A transform failure.
	tbl = mustCompile(t, Spec{Topic: "x", Transforms: []Transform{{Cast: &Cast{Field: "v", Type: "long"}}}})
	if row, _, reason = tbl.Prepare(parseObj(t, `{"v":"x"}`), kafka, now); row != nil || reason != `transform: transforms[0] (cast v): "x" is not a number` {
		t.Errorf("Prepare = %s %q", js(row), reason)
	}
}

func TestPartition(t *testing.T) {
	good := map[string]PartitionField{
		"day(ts)":               {Source: "ts", Transform: "day"},
		" hour( ts ) ":          {Source: "ts", Transform: "hour"},
		"identity(region)":      {Source: "region", Transform: "identity"},
		"identity(loc.country)": {Source: "loc.country", Transform: "identity"},
		"bucket(16, device)":    {Source: "device", Transform: "bucket", N: 16},
		"bucket(1,device)":      {Source: "device", Transform: "bucket", N: 1},
	}
	for s, want := range good {
		got, err := ParsePartition(s)
		if err != nil || got != want {
			t.Errorf("ParsePartition(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"week(ts)", "day()", "day(ts", "bucket(device)", "bucket(0, d)", "bucket(2000000, d)", "bucket(-1, d)", "identity(a..b)", "day(a, b)", ""} {
		if _, err := ParsePartition(s); err == nil {
			t.Errorf("ParsePartition(%q) succeeded", s)
		}
	}
}

func TestIcebergSpec(t *testing.T) {
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 2, Name: "region", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "device", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 4, Name: "loc", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
			{ID: 5, Name: "country", Type: iceberg.PrimitiveTypes.String}}}},
	)
	tbl := mustCompile(t, Spec{Topic: "x", Partition: []string{"hour(ts)", "identity(region)", "bucket(16, device)", "identity(loc.country)"}})
	spec, err := tbl.IcebergSpec(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, transform string
		source          int
	}{{"ts_hour", "hour", 1}, {"region", "identity", 2}, {"device_bucket", "bucket[16]", 3}, {"loc_country", "identity", 5}}
	if spec.NumFields() != len(want) {
		t.Fatalf("spec %s: want %d fields", spec, len(want))
	}
	for i, w := range want {
		f := spec.Field(i)
		if f.Name != w.name || f.Transform.String() != w.transform || f.SourceID() != w.source {
			t.Errorf("field %d = %s %s %d, want %+v", i, f.Name, f.Transform, f.SourceID(), w)
		}
	}
	// The default is day of the time field, as the foundation partitions.
	spec, err = mustCompile(t, Spec{Topic: "x"}).IcebergSpec(sc)
	if err != nil || spec.NumFields() != 1 || spec.Field(0).Name != "ts_day" || spec.Field(0).Transform.String() != "day" {
		t.Errorf("default spec %s, %v", spec, err)
	}
	for _, c := range []struct{ part, err string }{
		{"day(region)", "table x: partition day(region): column region is string, which day cannot partition"},
		{"identity(nope)", "table x: partition identity(nope): no column nope"},
	} {
		_, err := mustCompile(t, Spec{Topic: "x", Partition: []string{c.part}}).IcebergSpec(sc)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err = %v, want %s", c.part, err, c.err)
		}
	}
}

// TestPartitionNamesAreAvroNames checks that partition fields over columns
// whose names are not valid Avro names (Logstash's @timestamp, user-agent)
// are named as writers can write them in manifests.
func TestPartitionNamesAreAvroNames(t *testing.T) {
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "@timestamp", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 2, Name: "user-agent", Type: iceberg.PrimitiveTypes.String})
	spec, err := mustCompile(t, Spec{Topic: "x", TimeField: "@timestamp", Partition: []string{"day(@timestamp)", "identity(user-agent)"}}).IcebergSpec(sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Field(0).Name + "," + spec.Field(1).Name; got != "_x40timestamp_day,user_x2Dagent" {
		t.Errorf("partition fields %s, want _x40timestamp_day,user_x2Dagent", got)
	}
}

// TestPartitionNameBesideColumn checks that a partition field named as
// another column would be (a ts_day field beside day(ts)) takes the next
// free name instead of leaving the table unpartitioned.
func TestPartitionNameBesideColumn(t *testing.T) {
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 2, Name: "ts_day", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "ts_day_1", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 4, Name: "region", Type: iceberg.PrimitiveTypes.String})
	spec, err := mustCompile(t, Spec{Topic: "x", Partition: []string{"day(ts)", "identity(region)"}}).IcebergSpec(sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Field(0).Name + "," + spec.Field(1).Name; got != "ts_day_2,region" {
		t.Errorf("partition fields %s, want ts_day_2,region", got)
	}
}

package etl_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"
	"go.yaml.in/yaml/v3"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/etl/tables"
)

func compile(t *testing.T, src string) []*tables.Table {
	t.Helper()
	var specs []tables.Spec
	if err := yaml.Unmarshal([]byte(src), &specs); err != nil {
		t.Fatal(err)
	}
	for i := range specs {
		specs[i] = specs[i].WithDefaults("ts")
	}
	if err := tables.ValidateAll(specs); err != nil {
		t.Fatal(err)
	}
	var out []*tables.Table
	for _, s := range specs {
		c, err := tables.Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestTablesRouteByFieldValue sends one topic's records to two tables by
// a field's value, with epoch-millisecond event times, a maximum
// lateness, and a record that matches neither table.
func TestTablesRouteByFieldValue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ts := func(i int64) int64 { return now.Add(-time.Duration(i) * time.Minute).UnixMilli() }
	e.put(t, "mixed", 0, 0, 30, func(i int64) []byte {
		switch {
		case i == 29:
			return fmt.Appendf(nil, `{"kind":"other","at":%d}`, ts(i))
		case i == 28:
			return fmt.Appendf(nil, `{"kind":"click","at":%d,"user":"u"}`, now.Add(-72*time.Hour).UnixMilli())
		case i%2 == 0:
			return fmt.Appendf(nil, `{"kind":"click","at":%d,"user":"u%d"}`, ts(i), i)
		}
		return fmt.Appendf(nil, `{"kind":"view","at":%d,"page":"/p%d","ms":%d}`, ts(i), i, i*10)
	})
	specs := compile(t, `
- name: clicks
  topic: mixed
  match: {kind: click}
  time_field: at
  time_format: epoch_ms
  max_lateness: 24h
- name: views
  topic: mixed
  match: {kind: view}
  time_field: at
  partition: ["hour(at)"]
  transforms:
    - rename: {from: ms, to: duration_ms}
`)
	w := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: specs}, e.staging, e.store.Iceberg())
	res, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 28 || res.DeadLetters != 2 {
		t.Fatalf("run %+v, want 28 rows and 2 dead letters (one late, one unmatched)", res)
	}
	if n := count(t, e.store, "clicks"); n != 14 {
		t.Fatalf("clicks has %d rows, want 14", n)
	}
	if n := count(t, e.store, "views"); n != 14 {
		t.Fatalf("views has %d rows, want 14", n)
	}
	if n := count(t, e.store, "clicks_dlq"); n != 2 {
		t.Fatalf("clicks_dlq has %d rows, want 2", n)
	}
	views, err := e.store.LoadIceberg(ctx, "lake", "views")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := views.Schema().FindFieldByName("duration_ms"); !ok || f.Type.String() != "long" {
		t.Fatalf("views schema %s: want duration_ms long", views.Schema())
	}
	if f, ok := views.Schema().FindFieldByName("at"); !ok || f.Type.String() != "timestamptz" {
		t.Fatalf("views schema %s: want at as a timestamp", views.Schema())
	}
	spec := views.Spec()
	if spec.NumFields() != 1 || spec.Field(0).Name != "at_hour" {
		t.Fatalf("views partition spec %s, want at_hour", spec.String())
	}
	// A second run, and a fresh ETL, add nothing.
	for _, x := range []*etl.ETL{w, etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: specs}, e.staging, e.store.Iceberg())} {
		if res, err := x.RunOnce(ctx); err != nil || res.Rows != 0 || res.DeadLetters != 0 {
			t.Fatalf("rerun: %+v, %v", res, err)
		}
	}
	// Replayed without the lateness limit, the late click comes into
	// clicks; the record no table takes stays a dead letter until a table
	// for it exists, then goes into that table (not into clicks); a third
	// replay brings nothing twice.
	unlimited := `
- name: clicks
  topic: mixed
  match: {kind: click}
  time_field: at
  time_format: epoch_ms
- name: views
  topic: mixed
  match: {kind: view}
  time_field: at
`
	withOthers := unlimited + `
- name: others
  topic: mixed
  match: {kind: other}
  time_field: at
  time_format: epoch_ms
`
	for i, c := range []struct {
		config                    string
		replayed, skipped, others int
		failing                   string
	}{
		{unlimited, 1, 0, 0, "matches no table configured for topic mixed"},
		{withOthers, 1, 1, 1, ""},
		{withOthers, 0, 2, 1, ""},
	} {
		rr, err := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, c.config)}, e.staging, e.store.Iceberg()).Replay(ctx, "clicks")
		if err != nil {
			t.Fatal(err)
		}
		failing := 0
		for _, n := range rr.StillFailing {
			failing += n
		}
		if rr.Replayed != c.replayed || rr.Skipped != c.skipped || (c.failing == "") != (failing == 0) || (c.failing != "" && rr.StillFailing[c.failing] != 1) {
			t.Errorf("replay %d: %+v, want %d replayed, %d skipped, failing %q", i, rr, c.replayed, c.skipped, c.failing)
		}
		if n := count(t, e.store, "clicks"); n != 15 {
			t.Errorf("replay %d: clicks has %d rows, want 15", i, n)
		}
		if c.others > 0 {
			if n := count(t, e.store, "others"); n != int64(c.others) {
				t.Errorf("replay %d: others has %d rows, want %d", i, n, c.others)
			}
		}
	}
}

// TestTableNamesAgree pins the tables package's copy of the topic-to-table
// naming rule to the catalog's.
func TestTableNamesAgree(t *testing.T) {
	for _, topic := range []string{"sensors", "Click-Stream", "a.b_c-D9", "ÜmlautTopic", "x..y"} {
		s := tables.Spec{Topic: topic}
		if got, want := s.TableName(), catalog.TableName(topic); got != want {
			t.Errorf("topic %q: tables names it %q, the catalog %q", topic, got, want)
		}
	}
}

// TestPartitionOnLogstashTimestamp loads records whose event time is
// Logstash's @timestamp into a table partitioned by day(@timestamp): the
// partition field is named _x40timestamp_day (before, every append failed:
// iceberg-go refuses a partition field named @timestamp_day).
func TestPartitionOnLogstashTimestamp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "logs", 0, 0, 4, func(i int64) []byte {
		return fmt.Appendf(nil, `{"@timestamp":"2026-11-%02dT10:00:00Z","msg":"m%d"}`, 20+i%2, i)
	})
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, `
- topic: logs
  time_field: "@timestamp"
  partition: ["day(@timestamp)"]
`)}, e.staging, e.store.Iceberg())
	res, err := x.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || count(t, e.store, "logs") != 4 {
		t.Fatalf("%+v, want 4 rows in lake.logs", res)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "logs")
	if err != nil {
		t.Fatal(err)
	}
	if spec := tbl.Spec(); spec.NumFields() != 1 || spec.Field(0).Name != "_x40timestamp_day" {
		t.Errorf("spec %s, want day(@timestamp) as _x40timestamp_day", spec)
	}
}

// TestEventTimeWithoutOffset loads event times written without an offset
// ("2026-11-20 10:00:00", as Athena and Python write them): they are read
// as UTC and kept, and partition the rows by their day. Before, they did
// not parse, so the Kafka timestamp replaced them in the ts column.
func TestEventTimeWithoutOffset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "ev", 0, 0, 4, func(i int64) []byte {
		return fmt.Appendf(nil, `{"id":%d,"ts":"2026-11-%02d 10:00:00.5"}`, i, 10+i)
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "ev")
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan(table.WithSelectedFields("id", "ts")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 4 {
		t.Fatalf("%d rows, want 4", at.NumRows())
	}
	got := map[int64]time.Time{}
	ids, tss := at.Column(0).Data().Chunks(), at.Column(1).Data().Chunks()
	for c := range ids {
		for r := range ids[c].Len() {
			got[ids[c].(*array.Int64).Value(r)] = time.UnixMicro(int64(tss[c].(*array.Timestamp).Value(r))).UTC()
		}
	}
	for i := range int64(4) {
		if want := time.Date(2026, 11, 10+int(i), 10, 0, 0, 500_000_000, time.UTC); !got[i].Equal(want) {
			t.Errorf("id %d: ts %v, want %v", i, got[i], want)
		}
	}
	if parts := tbl.CurrentSnapshot().Summary.Properties["changed-partition-count"]; parts != "4" {
		t.Errorf("changed-partition-count %q, want 4 day partitions", parts)
	}
}

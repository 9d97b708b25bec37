package etl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/etl"
)

// A table stops growing at etl.max_columns: records whose new fields
// would pass it are dead letters that say why, whether the table is new
// or not, and records with fields it has, or with new fields that fit,
// still load.
func TestColumnLimitDeadLetters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	run := func() etl.Result {
		t.Helper()
		res, err := etl.New(etl.Config{Database: "lake", TimeField: "ts", MaxColumns: 6}, e.staging, e.store.Iceberg()).RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// A new table: id, ts, a, b fit (4 fields); c, a struct of two (3
	// fields), would make 7.
	first := []string{
		`{"id":1,"ts":"2026-11-20T10:00:00Z","a":1,"b":"x"}`,
		`{"id":2,"ts":"2026-11-20T10:00:00Z","c":{"x":1,"y":2}}`,
	}
	e.put(t, "wide", 0, 0, 2, func(i int64) []byte { return []byte(first[i]) })
	if res := run(); res.Rows != 1 || res.DeadLetters != 1 {
		t.Fatalf("first load: %+v, want 1 row and 1 dead letter", res)
	}
	// A later commit: d and e fit (6 fields), f does not; a record with
	// only known fields loads.
	later := []string{
		`{"id":3,"ts":"2026-11-20T10:00:00Z","d":true}`,
		`{"id":4,"ts":"2026-11-20T10:00:00Z","e":1.5,"f":"too many"}`,
		`{"id":5,"ts":"2026-11-20T10:00:00Z","e":2.5}`,
		`{"id":6,"ts":"2026-11-20T10:00:00Z","a":7}`,
	}
	e.put(t, "wide", 0, 2, 6, func(i int64) []byte { return []byte(later[i-2]) })
	if res := run(); res.Rows != 3 || res.DeadLetters != 1 {
		t.Fatalf("second load: %+v, want 3 rows and 1 dead letter", res)
	}
	if got, want := tableColumns(t, e, "wide"), "id,ts,a,b,d,e"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	reasons := deadLetterReasons(t, e, "wide")
	for _, want := range []string{
		"field $.c: table lake.wide would pass etl.max_columns (6 fields, nested ones included)",
		"field $.f: table lake.wide would pass etl.max_columns (6 fields, nested ones included)",
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("no dead letter says %q; they say:\n%s", want, reasons)
		}
	}
}

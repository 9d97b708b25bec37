package etl_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestLakeStatus checks the catalog's view of the lake that `streamlake
// status` shows: totals, topics, dead letters and the newest event time,
// before and after compaction (a commit that carries no bookmark), and a
// table without a time partition.
func TestLakeStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if st, err := etl.LakeStatus(ctx, e.store.Iceberg(), "lake"); err != nil || len(st) != 0 {
		t.Fatalf("an empty lake: %+v, %v", st, err)
	}
	for p := range int32(3) {
		e.put(t, "sensors", p, 0, 40, func(i int64) []byte {
			if i%20 == 3 {
				return []byte("not json")
			}
			return sensor(int64(p)*100 + i) // event times p*100+i hours after base
		})
	}
	// A topic whose every record is a dead letter: only junk_dlq exists.
	e.put(t, "junk", 0, 0, 5, func(i int64) []byte { return []byte("not json") })
	etlr := e.etl()
	if _, err := etlr.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// A second commit adds files to partition 0's days, for compaction.
	e.put(t, "sensors", 0, 40, 60, func(i int64) []byte { return sensor(i) })
	if _, err := etlr.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// A table of someone else's, not partitioned by time.
	sc := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "x", Type: iceberg.PrimitiveTypes.Int64})
	if _, err := e.store.Iceberg().CreateTable(ctx, table.Identifier{"lake", "other"}, sc); err != nil {
		t.Fatal(err)
	}
	newest := base.Add(239 * time.Hour) // partition 2's offset 39
	check := func(when string, files func(int64) bool) {
		t.Helper()
		st, err := etl.LakeStatus(ctx, e.store.Iceberg(), "lake")
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 3 || st[0].Table != "lake.junk" || st[1].Table != "lake.other" || st[2].Table != "lake.sensors" {
			t.Fatalf("%s: tables %+v, want lake.junk, lake.other and lake.sensors (dead letters counted in their tables)", when, st)
		}
		if j := st[0]; j.Rows != 0 || j.DeadLetters != 5 || !slices.Equal(j.Topics, []string{"junk"}) {
			t.Errorf("%s: lake.junk %+v, want no rows, 5 dead letters, topic junk", when, j)
		}
		if o := st[1]; o.Rows != 0 || len(o.Topics) != 0 || !o.NewestEvent.IsZero() || !o.LastCommit.IsZero() {
			t.Errorf("%s: lake.other %+v, want nothing committed", when, o)
		}
		s := st[2]
		if s.Rows != 3*38+20 || s.DeadLetters != 6 || !slices.Equal(s.Topics, []string{"sensors"}) ||
			!s.NewestEvent.Equal(newest) || !files(s.DataFiles) || s.Bytes <= 0 || time.Since(s.LastCommit) > time.Minute {
			t.Errorf("%s: lake.sensors %+v; want %d rows, 6 dead letters, topic sensors, newest event %v",
				when, s, 3*38+20, newest)
		}
	}
	var before int64
	check("after loading", func(n int64) bool { before = n; return n > 1 })
	res, err := etlr.Maintain(ctx, "sensors", etl.MaintainConfig{})
	if err != nil || res.Rewritten == 0 {
		t.Fatalf("compaction: %+v, %v", res, err)
	}
	check("after compaction", func(n int64) bool { return n < before })
}

package query

import (
	"testing"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/catalog"
)

// rowFilter keeps only top-level AND terms on partition source columns of
// single-table SELECTs, and gives up on anything it cannot be sure of.
func TestRowFilter(t *testing.T) {
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64},
		iceberg.NestedField{ID: 2, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 3, Name: "day", Type: iceberg.PrimitiveTypes.Date},
		iceberg.NestedField{ID: 4, Name: "local", Type: iceberg.PrimitiveTypes.Timestamp},
		iceberg.NestedField{ID: 5, Name: "other", Type: iceberg.PrimitiveTypes.TimestampTz},
	)
	spec := iceberg.NewPartitionSpec(
		iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}},
		iceberg.PartitionField{SourceIDs: []int{3}, FieldID: 1001, Name: "day", Transform: iceberg.IdentityTransform{}},
		iceberg.PartitionField{SourceIDs: []int{4}, FieldID: 1002, Name: "local_hour", Transform: iceberg.HourTransform{}},
	)
	ts, day, local := iceberg.Reference("ts"), iceberg.Reference("day"), iceberg.Reference("local")
	const nov10 = iceberg.Timestamp(1794268800000000) // 2026-11-10T00:00:00Z
	for _, tc := range []struct {
		sql  string
		want iceberg.BooleanExpression
	}{
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-11 00:00:00+00'`,
			iceberg.NewAnd(iceberg.GreaterThanEqual(ts, nov10), iceberg.LessThan(ts, nov10+86400e6))},
		{`select count(*) from LAKE.T where TS >= '2026-11-10' and id = 3 order by 1 limit 5;`,
			iceberg.GreaterThanEqual(ts, nov10)},
		{`SELECT * FROM lake.t x WHERE TIMESTAMPTZ '2026-11-10T02:00:00+02:00' <= x.ts`,
			iceberg.GreaterThanEqual(ts, nov10)},
		{`SELECT * FROM lake.t AS x WHERE x.ts = '2026-11-10 00:00:00Z'::timestamptz GROUP BY ALL`,
			iceberg.EqualTo(ts, nov10)},
		{`SELECT * FROM lake.t WHERE ts > TIMESTAMP '2026-11-10 00:00:00.5'`,
			iceberg.GreaterThan(ts, nov10+500000)},
		{`SELECT * FROM lake.t WHERE ts <= '2026-11-09 19:00-05'`,
			iceberg.LessThanEqual(ts, nov10)},
		{`SELECT * FROM lake.t WHERE day <= DATE '2026-11-10' AND local < TIMESTAMP '2026-11-10'`,
			iceberg.NewAnd(iceberg.LessThanEqual(day, iceberg.Date(20767)), iceberg.LessThan(local, nov10))},
		{`SELECT * FROM lake.t WHERE (ts >= '2026-11-10') AND ts BETWEEN '2026-11-10' AND '2026-11-12' AND ts < '2026-11-10'`,
			iceberg.LessThan(ts, nov10)},

		// Nothing to prune by, or not sure: nil.
		{`SELECT * FROM lake.t WHERE other >= TIMESTAMPTZ '2026-11-10'`, nil},    // not a partition source
		{`SELECT * FROM lake.t WHERE local >= TIMESTAMPTZ '2026-11-10+01'`, nil}, // a local timestamp
		{`SELECT * FROM lake.t WHERE ts >= DATE '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10 America/New_York'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ 'infinity'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10' OR id = 1`, nil},
		{`SELECT * FROM lake.t WHERE id = 1 AND ts >= TIMESTAMPTZ '2026-11-10' OR id = 2`, nil},
		{`SELECT * FROM lake.t WHERE NOT ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10' + INTERVAL 1 DAY`, nil},
		{`SELECT * FROM lake.t WHERE ts <> TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10' IS NOT NULL`, nil},
		{`SELECT * FROM lake.t WHERE lake.t.ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE other.ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t x WHERE t.ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t, lake.u WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t JOIN lake.u USING (id) WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10' UNION ALL SELECT * FROM lake.t`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10' UNION ALL FROM lake.t`, nil},
		{`SELECT (SELECT count(*) FROM lake.t) FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`WITH a AS (SELECT * FROM lake.t) SELECT * FROM a WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.u WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10'; SELECT * FROM lake.t`, nil},
		{`DESCRIBE SELECT * FROM lake.t WHERE ts >= TIMESTAMPTZ '2026-11-10'`, nil},
		{`SELECT * FROM lake.t`, nil},
	} {
		got, want := "<nil>", "<nil>"
		if f := rowFilter(tc.sql, "lake", "t", sch, &spec); f != nil {
			got = f.String()
		}
		if tc.want != nil {
			want = tc.want.String()
		}
		if got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", tc.sql, got, want)
		}
	}
}

// viewRowFilter prunes a table read through one view by the view's WHERE
// clause, and by the query's when the view passes the partition source
// through unchanged and only filters and projects.
func TestViewRowFilter(t *testing.T) {
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64},
		iceberg.NestedField{ID: 2, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz},
		iceberg.NestedField{ID: 5, Name: "other", Type: iceberg.PrimitiveTypes.TimestampTz},
	)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}})
	ts := iceberg.Reference("ts")
	const nov10 = iceberg.Timestamp(1794268800000000) // 2026-11-10T00:00:00Z
	after, before := iceberg.GreaterThanEqual(ts, nov10), iceberg.LessThan(ts, nov10+86400e6)
	const query = `SELECT count(*) FROM lake.v WHERE ts >= TIMESTAMPTZ '2026-11-10' GROUP BY id`
	for _, tc := range []struct {
		view, query string
		want        iceberg.BooleanExpression
	}{
		{`SELECT * FROM lake.t`, query, after},
		{`SELECT * FROM lake.t WHERE ts < '2026-11-11' AND id > 3`, query, iceberg.NewAnd(before, after)},
		{`SELECT id, x.ts FROM lake.t x`, `SELECT * FROM lake.v v WHERE v.ts >= '2026-11-10'`, after},
		{`SELECT id, ts AS event_time FROM lake.t`, `SELECT * FROM lake.v WHERE event_time >= '2026-11-10'`, after},
		{`SELECT id, "ts" event_time FROM lake.t ORDER BY id`, `SELECT * FROM lake.v WHERE event_time >= '2026-11-10'`, after},
		{`SELECT t.*, id + 1 AS next FROM lake.t`, query, after},
		{`SELECT * FROM lake.t WHERE ts < '2026-11-11'`, `SELECT * FROM lake.v WHERE id = 1 OR ts > '2026-11-10'`, before},

		// The view's own WHERE still prunes under a view that aggregates;
		// the query's does not.
		{`SELECT id, max(ts) AS ts FROM lake.t WHERE ts < '2026-11-11' GROUP BY id`, query, before},
		{`SELECT DISTINCT ts, id FROM lake.t`, query, nil},
		{`SELECT ts, lag(id) OVER (ORDER BY ts) AS prev FROM lake.t`, query, nil},
		{`SELECT * FROM lake.t ORDER BY ts LIMIT 10`, query, nil},
		{`SELECT * FROM lake.t USING SAMPLE 10%`, query, nil},
		{`SELECT ts FROM lake.t QUALIFY id > 1`, query, nil},

		// The name is not the partition source, or not only.
		{`SELECT other AS ts FROM lake.t`, query, nil},
		{`SELECT *, other AS ts FROM lake.t`, query, nil},
		{`SELECT ts, other ts FROM lake.t`, query, nil},
		{`SELECT ts AS x, other AS ts FROM lake.t`, query, nil},
		{`SELECT ts::date AS ts FROM lake.t`, query, nil},
		{`SELECT ts + INTERVAL 1 DAY ts FROM lake.t`, query, nil},
		{`SELECT meta.ts FROM lake.t`, query, nil},
		{`SELECT * REPLACE (other AS ts) FROM lake.t`, query, nil},
		{`SELECT id FROM lake.t`, query, nil},
		{`SELECT *, other AS id FROM lake.t`, query, after},
		{`SELECT *, ts AS other FROM lake.t`, `SELECT * FROM lake.v WHERE other >= '2026-11-10'`, nil},
		{`SELECT ts AS other, * FROM lake.t`, `SELECT * FROM lake.v WHERE other >= '2026-11-10'`, nil},
		{`SELECT ts AS event_time, * FROM lake.t`, `SELECT * FROM lake.v WHERE event_time >= '2026-11-10'`, after},

		// Not one view over one table.
		{`SELECT * FROM lake.u`, query, nil},
		{`SELECT * FROM lake.t JOIN lake.u USING (id)`, query, nil},
		{`SELECT * FROM lake.t UNION ALL SELECT * FROM lake.t`, query, nil},
		{`WITH a AS (SELECT * FROM lake.t) SELECT * FROM a`, query, nil},
		{`SELECT * FROM lake.t`, `SELECT * FROM lake.v JOIN lake.t USING (id) WHERE ts >= '2026-11-10'`, nil},
		{`SELECT * FROM lake.t`, `SELECT * FROM lake.w WHERE ts >= '2026-11-10'`, nil},
	} {
		views := []viewRef{{table: catalog.Table{Database: "lake", Name: "v"}, body: tc.view}}
		got, want := "<nil>", "<nil>"
		if f := viewRowFilter(tc.query, views, "lake", "t", sch, &spec); f != nil {
			got = f.String()
		}
		if tc.want != nil {
			want = tc.want.String()
		}
		if got != want {
			t.Errorf("view %s\nquery %s:\n  got  %s\n  want %s", tc.view, tc.query, got, want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT 1":                          true,
		"  with a AS (SELECT 1) FROM a; ":   true,
		"(SELECT 1) UNION (SELECT 2)":       true,
		"FROM lake.t; DESCRIBE lake.t":      true,
		"SELECT 1; COMMIT":                  false,
		"BEGIN; SELECT 1":                   false,
		"CREATE TABLE t AS SELECT 1":        false,
		"SELECT 1; SET VARIABLE x = 1":      false,
		"PREPARE p AS SELECT 1; EXECUTE p":  false,
		`"select" FROM t`:                   false,
		"SELECT 1; /* c */ USE lake":        false,
		"SELECT 'a;b'; -- ; COMMIT\nSELECT": true,
	} {
		if got := readOnly(sql); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", sql, got, want)
		}
	}
}

package query

import (
	"testing"

	"github.com/apache/iceberg-go"
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

package query

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRewriteTimeTravel(t *testing.T) {
	for _, tc := range []struct {
		sql, want, travels string
	}{
		{`SELECT * FROM lake.t FOR VERSION AS OF 42`,
			`SELECT * FROM lake."t@v42" AS "t"`, `[lake.t@v42]`},
		{`select * from Lake.T for system_version as of '42' x where x.a = 1`,
			`select * from Lake."t@v42" x where x.a = 1`, `[Lake.t@v42]`},
		{`SELECT * FROM lake.t FOR TIMESTAMP AS OF TIMESTAMP '2026-11-20 10:00:00 UTC' AS a JOIN lake.t b ON a.id = b.id`,
			`SELECT * FROM lake."t@t1795168800000000" AS a JOIN lake.t b ON a.id = b.id`, `[lake.t@t1795168800000000]`},
		{`SELECT * FROM lake.t FOR SYSTEM_TIME AS OF '2026-11-20T11:00:00+01:00' WHERE id > 1`,
			`SELECT * FROM lake."t@t1795168800000000" AS "t" WHERE id > 1`, `[lake.t@t1795168800000000]`},
		// The same table at two versions, and at one version twice.
		{`SELECT * FROM lake.t FOR VERSION AS OF 1 EXCEPT SELECT * FROM lake.t FOR VERSION AS OF 2 UNION SELECT * FROM lake.t FOR VERSION AS OF 1`,
			`SELECT * FROM lake."t@v1" AS "t" EXCEPT SELECT * FROM lake."t@v2" AS "t" UNION SELECT * FROM lake."t@v1" AS "t"`, `[lake.t@v1 lake.t@v2]`},
		// Strings and comments are not SQL.
		{`SELECT 'lake.t FOR VERSION AS OF 1' FROM lake.t -- lake.t FOR VERSION AS OF 2
			/* lake.t FOR VERSION AS OF 3 */`,
			`SELECT 'lake.t FOR VERSION AS OF 1' FROM lake.t -- lake.t FOR VERSION AS OF 2
			/* lake.t FOR VERSION AS OF 3 */`, `[]`},
		{`SELECT 1 FROM lake.t FOR TIMESTAMP AS OF TIMESTAMP WITH TIME ZONE '2026-11-20 10:00:00+00'`,
			`SELECT 1 FROM lake."t@t1795168800000000" AS "t"`, `[lake.t@t1795168800000000]`},
		{`DESCRIBE lake.t FOR VERSION AS OF 3`, `DESCRIBE lake."t@v3"`, `[lake.t@v3]`},
		{`SELECT * FROM lake.a, lake.t FOR VERSION AS OF 3`, `SELECT * FROM lake.a, lake."t@v3" AS "t"`, `[lake.t@v3]`},
		{`SELECT * FROM "lake"."My T" FOR VERSION AS OF 7;`,
			`SELECT * FROM "lake"."my t@v7" AS "My T";`, `[lake.my t@v7]`},
	} {
		got, trs, err := rewriteTimeTravel(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.sql, got, tc.want)
		}
		var views []string
		for _, tr := range trs {
			views = append(views, tr.db+"."+tr.view)
		}
		if fmt.Sprint(views) != tc.travels && !(len(views) == 0 && tc.travels == "[]") {
			t.Errorf("%s: travels %v, want %s", tc.sql, views, tc.travels)
		}
	}

	for _, tc := range []struct{ sql, err string }{
		{`SELECT * FROM lake.t FOR VERSION AS OF x`, "query: lake.t FOR VERSION AS OF: x is not a snapshot id (an integer): not supported"},
		{`SELECT * FROM lake.t FOR VERSION 1`, "query: lake.t FOR VERSION: expected AS OF: not supported"},
		{`SELECT * FROM lake.t FOR TIMESTAMP AS OF 5`, "query: lake.t FOR TIMESTAMP AS OF: expected a timestamp literal such as '2026-11-20 10:00:00 UTC': not supported"},
		{`SELECT * FROM lake.t FOR TIMESTAMP AS OF 'yesterday'`, `query: lake.t FOR TIMESTAMP AS OF: timestamp "yesterday" is not of the form '2026-11-20 10:00:00[.fff][+01:00| UTC]': not supported`},
	} {
		_, _, err := rewriteTimeTravel(tc.sql)
		if err == nil || err.Error() != tc.err || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want %s", tc.sql, err, tc.err)
		}
	}
}

func TestParseAsOf(t *testing.T) {
	want := time.Date(2026, 11, 20, 10, 0, 0, 500_000_000, time.UTC)
	for _, s := range []string{
		"2026-11-20 10:00:00.5", "2026-11-20T10:00:00.500Z", "2026-11-20 10:00:00.5 UTC",
		"2026-11-20 11:00:00.5+01:00", "2026-11-20 11:00:00.5+01", " 2026-11-20T05:00:00.5-05:00 ",
	} {
		got, err := parseAsOf(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := parseAsOf("2026-11-20"); err != nil || !got.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date: %v, %v", got, err)
	}
	if _, err := parseAsOf("2026-11-20 10:00:00 Nowhere/Land"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown zone: %v", err)
	}
}

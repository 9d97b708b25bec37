package query

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseWrite(t *testing.T) {
	dbs := map[string]bool{"lake": true, "raw": true}
	for _, tc := range []struct{ sql, want string }{
		{`CREATE TABLE lake.t AS SELECT 1 AS a`, `1 lake.t false [] [] SELECT 1 AS a`},
		{"create table if not exists Lake.\"T\"\n WITH (partitioning = ARRAY['day(ts)', 'bucket(8, id)', 'truncate(id, 4)', 'site', 'month(\"ts\")'], format = 'parquet', table_type = 'ICEBERG')\n AS SELECT * FROM lake.s -- all of it\n;",
			`1 Lake.T true [] [{day ts 0} {bucket id 8} {truncate id 4} {identity site 0} {month ts 0}] SELECT * FROM lake.s`},
		{`INSERT INTO lake.t VALUES (1, 'a');`, `2 lake.t false [] [] VALUES (1, 'a')`},
		{`insert into lake.t (a, "B c") select 1, 2 /* c */`, `2 lake.t false [a B c] [] select 1, 2`},
		{`INSERT INTO lake.t (SELECT 1)`, `2 lake.t false [] [] (SELECT 1)`},
		// Not writes of catalog tables: DuckDB's own.
		{`CREATE TABLE t AS SELECT 1`, `<nil>`},
		{`CREATE TEMP TABLE lake.t AS SELECT 1`, `<nil>`},
		{`INSERT INTO main.t VALUES (1)`, `<nil>`},
		{`CREATE TABLE other.t AS SELECT 1`, `<nil>`},
		{`SELECT 'CREATE TABLE lake.t AS SELECT 1'`, `<nil>`},
		{`CREATE VIEW lake.v AS SELECT 1`, `<nil>`},
	} {
		w, err := parseWrite(tc.sql, dbs)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		got := "<nil>"
		if w != nil {
			got = fmt.Sprintf("%d %s.%s %v %v %v %s", w.kind, w.db, w.name, w.ifNotExists, w.columns, w.partition, w.query)
		}
		if got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.sql, got, tc.want)
		}
	}
	for _, tc := range []struct {
		sql, msg string
		is       error
	}{
		{`CREATE TABLE lake.t WITH (location = '/x') AS SELECT 1`, "query: CREATE TABLE lake.t: WITH: location: a table's location is not allowed: tables are created in the lake's warehouse", ErrNotAllowed},
		{`CREATE TABLE lake.t WITH (partitioning = ARRAY['week(ts)']) AS SELECT 1`, `query: CREATE TABLE lake.t: WITH: partitioning: "week(ts)": unknown transform week: not supported`, ErrUnsupported},
		{`CREATE TABLE lake.t WITH (partitioning = ARRAY['bucket(id)']) AS SELECT 1`, `query: CREATE TABLE lake.t: WITH: partitioning: "bucket(id)": bucket takes a number and a column: not supported`, ErrUnsupported},
		{`CREATE TABLE lake.t WITH (owner = 'me') AS SELECT 1`, "query: CREATE TABLE lake.t: WITH: property owner: not supported (known: partitioning, format, table_type)", ErrUnsupported},
		{`CREATE TABLE lake.t`, "query: CREATE TABLE lake.t: expected AS SELECT ...: not supported", ErrUnsupported},
		{`CREATE TABLE lake.t AS`, "query: CREATE TABLE lake.t: the statement has no query (SELECT or VALUES): not supported", ErrUnsupported},
		{`INSERT INTO lake.t DEFAULT VALUES`, "query: INSERT INTO lake.t: DEFAULT is not supported: not supported", ErrUnsupported},
		{`INSERT OVERWRITE INTO lake.t SELECT 1`, "query: INSERT OVERWRITE INTO lake.t: only CREATE TABLE [IF NOT EXISTS] db.t ... AS SELECT and INSERT INTO db.t write catalog tables: not supported", ErrUnsupported},
		{`CREATE TABLE lake.t AS SELECT 1; DROP TABLE x`, "query: CREATE TABLE lake.t must be the only statement of its query: not supported", ErrUnsupported},
	} {
		_, err := parseWrite(tc.sql, dbs)
		if err == nil || err.Error() != tc.msg || !errors.Is(err, tc.is) {
			t.Errorf("%s:\nerror %v\nwant  %s", tc.sql, err, tc.msg)
		}
	}
}

package query_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// run executes sql and fails the test unless it succeeds.
func mustRun(t *testing.T, s *query.Service, sql string) query.Execution {
	t.Helper()
	x := execute(t, s, query.StartInput{SQL: sql})
	if x.State != query.Succeeded {
		t.Fatalf("%s: %s %+v", sql, x.State, x.Error)
	}
	return x
}

// rows is the saved result of x.
func rows(t *testing.T, s *query.Service, x query.Execution) string {
	t.Helper()
	page, err := s.Results(t.Context(), x.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return pageRows(page)
}

func TestCreateTableAsSelect(t *testing.T) {
	store, dir := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})
	_, eventBytes := dataFiles(t, filepath.Join(dir, "lake", "lake.db", "events"))

	x := mustRun(t, s, `CREATE TABLE lake.copy
		WITH (partitioning = ARRAY['day(ts)', 'bucket(8, id)'], format = 'PARQUET')
		AS SELECT id, upper(name) AS name, ts, id * 2 AS twice, [id, id + 1] AS pair, {'n': name} AS s
		FROM lake.events WHERE id <= 4`)
	if x.Statistics.RowsWritten != 4 || rows(t, s, x) != "[4]" {
		t.Errorf("CTAS: rows written %d, result %s; want 4", x.Statistics.RowsWritten, rows(t, s, x))
	}
	if x.Statistics.BytesScanned != eventBytes || eventBytes == 0 {
		t.Errorf("CTAS scanned %d bytes, want lake.events' %d", x.Statistics.BytesScanned, eventBytes)
	}

	// The table is in the catalog, an Iceberg table partitioned as asked,
	// its files in the lake under Hive-style partition directories.
	tables, err := store.Tables(t.Context(), "lake")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, tb := range tables {
		found = found || (tb.Name == "copy" && tb.Type == catalog.Iceberg)
	}
	if !found {
		t.Errorf("lake.copy is not an Iceberg table of the catalog: %+v", tables)
	}
	tbl, err := store.LoadIceberg(t.Context(), "lake", "copy")
	if err != nil {
		t.Fatal(err)
	}
	var spec []string
	ps := tbl.Spec()
	for _, f := range ps.Fields() {
		spec = append(spec, f.Name+"="+f.Transform.String())
	}
	if got, want := strings.Join(spec, ","), "ts_day=day,id_bucket=bucket[8]"; got != want {
		t.Errorf("partition spec %s, want %s", got, want)
	}
	if got, want := strings.Join(strings.Fields(tbl.Schema().String()), " "), "table { 1: id: optional long 2: name: optional string 3: ts: optional timestamptz 4: twice: optional long 5: pair: optional list<long> 7: s: optional struct<8: n: optional string> }"; got != want {
		t.Errorf("schema %s\nwant %s", got, want)
	}
	copyDir := filepath.Join(dir, "lake", "lake.db", "copy")
	n, _ := dataFiles(t, copyDir)
	if n < 3 { // ids 1..4 fall in 3 days
		t.Errorf("lake.copy has %d data files, want one per partition, at least 3", n)
	}
	if f := firstDataFile(t, copyDir); !strings.Contains(f, "ts_day=") || !strings.Contains(f, "id_bucket=") {
		t.Errorf("data file %s is not under ts_day=/id_bucket= directories", f)
	}

	// It reads like any lake table.
	x = mustRun(t, s, `SELECT id, name, ts, twice, pair, s.n FROM lake.copy ORDER BY id`)
	if got, want := rows(t, s, x), `[1 A 2026-11-21T10:00:00Z 2 [1,2] a] [2 B,"Q" 2026-11-22T11:30:00Z 4 [2,3] b,"q"] [3 NULL 2026-11-22T12:00:00Z 6 [3,4] NULL] [4  2026-11-23T00:00:00Z 8 [4,5] ]`; got != want {
		t.Errorf("lake.copy:\ngot  %s\nwant %s", got, want)
	}
	// A partition filter prunes its files.
	x = mustRun(t, s, `SELECT count(*) FROM lake.copy WHERE ts >= TIMESTAMPTZ '2026-11-22 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-23 00:00:00+00'`)
	if rows(t, s, x) != "[2]" || x.Statistics.FilesScanned >= n {
		t.Errorf("pruned count %s over %d of %d files", rows(t, s, x), x.Statistics.FilesScanned, n)
	}

	// CTAS into an existing table fails and changes nothing; IF NOT EXISTS
	// does nothing.
	for _, sql := range []string{`CREATE TABLE lake.copy AS SELECT 1 AS x`, `CREATE TABLE lake.events AS SELECT 1 AS x`} {
		x = execute(t, s, query.StartInput{SQL: sql})
		if x.State != query.Failed || x.Error.Category != query.CategoryUser || !strings.Contains(x.Error.Message, "already exists (iceberg): already exists; use INSERT INTO to add rows") {
			t.Errorf("%s: %s %+v", sql, x.State, x.Error)
		}
	}
	x = mustRun(t, s, `CREATE TABLE IF NOT EXISTS lake.copy AS SELECT 1 AS x`)
	if rows(t, s, x) != "[0]" {
		t.Errorf("IF NOT EXISTS wrote %s", rows(t, s, x))
	}
	x = mustRun(t, s, `SELECT count(*) FROM lake.copy`)
	if rows(t, s, x) != "[4]" {
		t.Errorf("after refused CTAS: count %s, want 4", rows(t, s, x))
	}
}

func TestInsert(t *testing.T) {
	store, dir := eventsLake(t)
	if err := store.PutTable(t.Context(), stagingTable("orders", filepath.Join(dir, "staging", "orders"))); err != nil {
		t.Fatal(err)
	}
	s := newService(t, store, nil, query.ServiceConfig{})
	before, err := store.LoadIceberg(t.Context(), "lake", "events")
	if err != nil {
		t.Fatal(err)
	}

	x := mustRun(t, s, `INSERT INTO lake.events SELECT id + 10, name, ts + INTERVAL 1 DAY FROM lake.events WHERE id <= 2`)
	if x.Statistics.RowsWritten != 2 || rows(t, s, x) != "[2]" {
		t.Errorf("INSERT SELECT: wrote %d, result %s", x.Statistics.RowsWritten, rows(t, s, x))
	}
	// A column list: the others are NULL; literals convert to the table's types.
	x = mustRun(t, s, `INSERT INTO lake.events (ts, id) VALUES ('2026-11-30 08:00:00+00', 20), ('2026-11-30 10:00:00+01', 21)`)
	if x.Statistics.RowsWritten != 2 {
		t.Errorf("INSERT VALUES wrote %d", x.Statistics.RowsWritten)
	}
	x = mustRun(t, s, `SELECT id, name, ts FROM lake.events WHERE id > 5 ORDER BY id`)
	if got, want := rows(t, s, x), `[11 a 2026-11-22T10:00:00Z] [12 b,"q" 2026-11-23T11:30:00Z] [20 NULL 2026-11-30T08:00:00Z] [21 NULL 2026-11-30T09:00:00Z]`; got != want {
		t.Errorf("after INSERT:\ngot  %s\nwant %s", got, want)
	}
	// The snapshot before the inserts is still there.
	x = mustRun(t, s, `SELECT count(*) FROM lake.events FOR VERSION AS OF `+itoa(before.CurrentSnapshot().SnapshotID))
	if rows(t, s, x) != "[5]" {
		t.Errorf("time travel to before the inserts: %s, want 5", rows(t, s, x))
	}

	for _, tc := range []struct{ sql, msg string }{
		{`INSERT INTO lake.events (id, ts) VALUES ('x', now())`,
			"query: INSERT INTO lake.events: column id is long in the table, and the query's column 1 (col0) is VARCHAR, which does not convert to it; CAST it: not supported"},
		{`INSERT INTO lake.events SELECT 1, 'a'`,
			"query: INSERT INTO lake.events: the query has 2 columns, the table 3 (id, name, ts): not supported"},
		{`INSERT INTO lake.events (name) VALUES ('a')`,
			"query: INSERT INTO lake.events: column id is required (NOT NULL) and not in the column list: not supported"},
		{`INSERT INTO lake.events (nope, id, ts) VALUES (1, 2, now())`,
			"query: INSERT INTO lake.events: the table has no column nope (it has id, name, ts): not supported"},
		{`INSERT INTO raw.orders SELECT * FROM raw.orders`,
			"query: INSERT INTO raw.orders: raw.orders is an external (crawled) table, which queries cannot write"},
		{`INSERT INTO lake.nope SELECT 1`, "query: table lake.nope not found"},
		{`INSERT OR REPLACE INTO lake.events SELECT * FROM lake.events`,
			"query: INSERT OR REPLACE INTO lake.events: only CREATE TABLE [IF NOT EXISTS] db.t ... AS SELECT and INSERT INTO db.t write catalog tables: not supported"},
		{`INSERT INTO lake.events SELECT * FROM lake.events; SELECT 1`,
			"query: INSERT INTO lake.events must be the only statement of its query: not supported"},
		// A value that does not fit fails in DuckDB's cast, a user error.
		{`INSERT INTO lake.events (id, ts) VALUES (1, 'not a time')`, "query: Conversion Error"},
	} {
		x := execute(t, s, query.StartInput{SQL: tc.sql})
		if x.State != query.Failed || x.Error.Category != query.CategoryUser || !strings.HasPrefix(x.Error.Message, tc.msg) {
			t.Errorf("%s: %s %+v\nwant FAILED USER %q", tc.sql, x.State, x.Error, tc.msg)
		}
	}
	// Names are case-insensitive.
	if x := mustRun(t, s, `INSERT INTO LAKE.Events (ID, TS) VALUES (30, now())`); x.Statistics.RowsWritten != 1 {
		t.Errorf("INSERT INTO LAKE.Events wrote %d", x.Statistics.RowsWritten)
	}
	x = mustRun(t, s, `SELECT count(*) FROM lake.events`)
	if rows(t, s, x) != "[10]" {
		t.Errorf("after refused inserts: count %s, want 10", rows(t, s, x))
	}
}

// Writes cannot escape the lake: no location, no path in a name, no
// DuckDB table outside its in-memory database.
func TestWriteSafety(t *testing.T) {
	store, dir := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})
	files, _ := dataFiles(t, dir)
	outside := filepath.Join(t.TempDir(), "outside")
	for _, tc := range []struct{ sql, msg string }{
		{`CREATE TABLE lake.x WITH (location = '` + outside + `') AS SELECT 1 AS a`,
			"query: CREATE TABLE lake.x: WITH: location: a table's location is not allowed: tables are created in the lake's warehouse"},
		{`CREATE TABLE lake.x WITH (external_location = 'file://` + outside + `') AS SELECT 1 AS a`, "not allowed"},
		{`CREATE TABLE lake."../../outside" AS SELECT 1 AS a`,
			`query: CREATE TABLE lake.../../outside: table name "../../outside": not allowed: a new table's name has letters, digits and underscores only`},
		{`CREATE TABLE lake.x WITH (partitioning = ARRAY['day(nope)']) AS SELECT 1 AS a`,
			"query: CREATE TABLE lake.x: partitioning day(nope): the query has no column nope: not supported"},
		{`CREATE TABLE lake.x WITH (partitioning = ARRAY['day(a)']) AS SELECT 1 AS a`,
			"query: CREATE TABLE lake.x: partitioning day(a): column a is int, which day cannot partition: not supported"},
		{`CREATE TABLE lake.x WITH (format = 'ORC') AS SELECT 1 AS a`, "format: only 'PARQUET' is supported"},
		{`CREATE TABLE lake.x (a INTEGER)`, "a table with a column list is not supported"},
		{`CREATE OR REPLACE TABLE lake.events AS SELECT 1 AS a`, "query: CREATE OR REPLACE TABLE lake.events: only CREATE TABLE"},
		{`CREATE TABLE lake.x AS SELECT INTERVAL 1 DAY AS a`, "query: CREATE TABLE lake.x: column a: DuckDB type INTERVAL has no Iceberg type: CAST it: not supported"},
		{`CREATE TABLE lake.x AS SELECT * FROM read_csv('/etc/passwd')`, "Permission Error"},
		{`COPY (SELECT 1) TO '` + outside + `'`, "COPY statements are not allowed"},
	} {
		x := execute(t, s, query.StartInput{SQL: tc.sql})
		if x.State != query.Failed || x.Error.Category != query.CategoryUser || !strings.Contains(x.Error.Message, tc.msg) {
			t.Errorf("%s: %s %+v\nwant FAILED USER %q", tc.sql, x.State, x.Error, tc.msg)
		}
	}
	if _, err := os.Stat(outside); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists: %v", outside, err)
	}
	if _, err := store.LoadIceberg(t.Context(), "lake", "x"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("a refused CTAS created lake.x: %v", err)
	}
	// A CTAS whose query fails while its rows are written leaves no table.
	x := execute(t, s, query.StartInput{SQL: `CREATE TABLE lake.bad AS SELECT CAST(name AS INTEGER) AS n FROM lake.events`})
	if x.State != query.Failed || x.Error.Category != query.CategoryUser || !strings.HasPrefix(x.Error.Message, "query: Conversion Error") {
		t.Errorf("CTAS failing mid-way: %s %+v", x.State, x.Error)
	}
	if _, err := store.LoadIceberg(t.Context(), "lake", "bad"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("a failed CTAS left lake.bad: %v", err)
	}
	// DuckDB's own tables live in its in-memory database, for one query.
	x = mustRun(t, s, `CREATE TABLE scratch AS SELECT 42 AS a; INSERT INTO scratch VALUES (43); SELECT sum(a) FROM scratch`)
	if rows(t, s, x) != "[85]" {
		t.Errorf("in-memory table: %s", rows(t, s, x))
	}
	if x := execute(t, s, query.StartInput{SQL: `SELECT * FROM scratch`}); x.State != query.Failed {
		t.Errorf("the in-memory table outlived its query: %s", x.State)
	}
	tables, err := store.Tables(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 {
		t.Errorf("catalog tables %+v, want lake.events only", tables)
	}
	if n, _ := dataFiles(t, dir); n != files {
		t.Errorf("%d data files under %s, want lake.events' %d", n, dir, files)
	}
}

// The SELECT of a write is held to the workgroup's bytes-scanned limit
// before anything is created or written.
func TestWriteBytesScannedLimit(t *testing.T) {
	store, dir := eventsLake(t)
	_, bytes := dataFiles(t, filepath.Join(dir, "lake"))
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "small", BytesScannedLimit: bytes - 1}}})
	for _, sql := range []string{
		`CREATE TABLE lake.copy AS SELECT * FROM lake.events`,
		`INSERT INTO lake.events SELECT * FROM lake.events`,
	} {
		x := execute(t, s, query.StartInput{SQL: sql, Workgroup: "small"})
		if x.State != query.Failed || x.Error.Category != query.CategoryUser || !strings.Contains(x.Error.Message, "bytes-scanned limit exceeded") ||
			x.Statistics.RowsWritten != 0 {
			t.Errorf("%s: %s %+v %+v", sql, x.State, x.Error, x.Statistics)
		}
	}
	if _, err := store.LoadIceberg(t.Context(), "lake", "copy"); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Errorf("a refused CTAS created lake.copy: %v", err)
	}
	x := mustRun(t, s, `SELECT count(*) FROM lake.events`)
	if rows(t, s, x) != "[5]" {
		t.Errorf("a refused INSERT wrote: count %s", rows(t, s, x))
	}
	// Within the limit (a query that reads no table) it writes.
	x = execute(t, s, query.StartInput{SQL: `CREATE TABLE lake.small AS SELECT 1 AS a`, Workgroup: "small"})
	if x.State != query.Succeeded || x.Statistics.RowsWritten != 1 {
		t.Errorf("CTAS within the limit: %s %+v", x.State, x.Error)
	}
}

// Engine.Query runs writes too; its result is rows_written.
func TestEngineWrite(t *testing.T) {
	store, _ := eventsLake(t)
	e := newEngine(t, store)
	if got := queryRows(t, e, `CREATE TABLE lake.ids AS SELECT id FROM lake.events WHERE id > 2`); got != "[[3]]" {
		t.Errorf("CTAS result %s, want [[3]]", got)
	}
	if got := queryRows(t, e, `INSERT INTO lake.ids VALUES (7), (8)`); got != "[[2]]" {
		t.Errorf("INSERT result %s, want [[2]]", got)
	}
	if got := queryRows(t, e, `SELECT list(id ORDER BY id) FROM lake.ids`); got != "[[[3 4 5 7 8]]]" {
		t.Errorf("lake.ids = %s", got)
	}
}

// CTAS maps DuckDB's types to Iceberg's, and the values read back.
func TestCreateTableTypes(t *testing.T) {
	store, _ := openCatalog(t)
	e := query.New(store, query.Options{Threads: 1, Databases: []string{"lake"}, Logger: testLogger(t)})
	ctas := `CREATE TABLE lake.types AS SELECT
		true AS b, 1::TINYINT AS i8, 2::SMALLINT AS i16, 3 AS i32, 4::BIGINT AS i64, 5::HUGEINT AS i128, 6::UBIGINT AS u64,
		1.5::FLOAT AS f32, 2.25::DOUBLE AS f64, 12.345::DECIMAL(9,3) AS dec, 'x''y' AS s, '\x01\x02'::BLOB AS bl,
		DATE '2026-11-20' AS dt, TIME '10:11:12.5' AS tm, TIMESTAMP '2026-11-20 10:00:00.123456' AS ts,
		TIMESTAMPTZ '2026-11-20 10:00:00+02' AS tstz, '6a3f1a8e-4d3c-4c2e-9d0f-2b7d1f6f3a10'::UUID AS u,
		[1, NULL, 3] AS l, {'a': 1, 'b': [{'c': 'd'}]} AS st, MAP {'k': 1.5} AS m, NULL::VARCHAR AS n
		UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`
	if got := queryRows(t, e, ctas); got != "[[2]]" {
		t.Fatalf("CTAS: %s", got)
	}
	tbl, err := store.LoadIceberg(t.Context(), "lake", "types")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, f := range tbl.Schema().Fields() {
		types = append(types, f.Name+":"+f.Type.String())
	}
	want := "b:boolean i8:int i16:int i32:int i64:long i128:long u64:long f32:float f64:double dec:decimal(9, 3) s:string bl:binary " +
		"dt:date tm:time ts:timestamp tstz:timestamptz u:string l:list<int> st:struct<21: a: optional int, 22: b: optional list<struct<24: c: optional string>>> m:map<string, decimal(2, 1)> n:string"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("schema:\ngot  %s\nwant %s", got, want)
	}
	res, err := e.Query(t.Context(), `SELECT * FROM lake.types ORDER BY b NULLS LAST`)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := query.Write(&out, res, "csv"); err != nil {
		t.Fatal(err)
	}
	wantCSV := `b,i8,i16,i32,i64,i128,u64,f32,f64,dec,s,bl,dt,tm,ts,tstz,u,l,st,m,n
true,1,2,3,4,5,6,1.5,2.25,12.345,x'y,AQI=,2026-11-20,10:11:12.5,2026-11-20T10:00:00.123456Z,2026-11-20T08:00:00Z,6a3f1a8e-4d3c-4c2e-9d0f-2b7d1f6f3a10,"[1,null,3]","{""a"":1,""b"":[{""c"":""d""}]}","{""k"":1.5}",
,,,,,,,,,,,,,,,,,,,,
`
	if got := out.String(); got != wantCSV {
		t.Errorf("values:\ngot\n%swant\n%s", got, wantCSV)
	}
}

// An INSERT that loses a commit race (an ETL commit lands between its
// planning and its commit) is re-applied on the winner's snapshot: both
// commits' rows are there, once.
func TestInsertLosesARace(t *testing.T) {
	store, _ := eventsLake(t)
	e := newEngine(t, store)
	raced := false
	query.SetBeforeCommit(e, func() {
		if raced {
			return
		}
		raced = true
		tbl, err := store.LoadIceberg(t.Context(), "lake", "events")
		if err != nil {
			t.Error(err)
			return
		}
		appendJSON(t.Context(), t, tbl, `[{"id": 100, "name": "etl", "ts": "2026-11-24T00:00:00Z"}]`)
	})
	if got := queryRows(t, e, `INSERT INTO lake.events (id, ts) VALUES (200, '2026-11-24 01:00:00+00')`); got != "[[1]]" {
		t.Fatalf("INSERT: %s", got)
	}
	if !raced {
		t.Fatal("the INSERT did not commit")
	}
	if got := queryRows(t, e, `SELECT list(id ORDER BY id) FROM lake.events`); got != "[[[1 2 3 4 5 100 200]]]" {
		t.Errorf("after the race: %s", got)
	}
	tbl, err := store.LoadIceberg(t.Context(), "lake", "events")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Properties()["commit.retry.num-retries"]; ok {
		t.Errorf("the INSERT committed its retry setting: %v", tbl.Properties())
	}
}

package etl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/stage"
)

// fastCorpus are record values that take every branch of the columnar fast
// path and of its hand-over to the general path, for a table created with
// columns id (string), ts (timestamptz), n (long), x (double), ok (boolean).
var fastCorpus = []string{
	`{"id":"a1","ts":"2026-11-20T10:00:00Z","n":1,"x":1.5,"ok":true}`,
	`{"ok":false,"x":2,"n":-0,"ts":"2026-11-20T10:00:01.123456789+02:00","id":"a2"}`,
	"{ \"id\" : \"a3\" , \"ts\":\"2026-11-20T10:00:02Z\",\t\"n\": 3 }",
	`{"id":null,"ts":"2026-11-20T10:00:03Z","n":null,"x":null,"ok":null}`,
	`{"ts":"2026-11-20T10:00:04Z"}`,
	`{"id":"a\"6","ts":"2026-11-20T10:00:05Z"}`,
	`{"id":"zoë ☃ 𝄞","ts":"2026-11-20T10:00:06Z"}`,
	`{"id":"\u00e9\n","ts":"2026-11-20T10:00:07Z"}`,
	`{"id":"a9","ts":"2026-11-20T10:00:08Z","extra":"new column"}`,
	`{"id":"a10","ts":"2026-11-20T10:00:09Z","obj":{"k":1,"s":"nested"}}`,
	`{"id":"a11","id":"a11-last-wins","ts":"2026-11-20T10:00:10Z"}`,
	`{"id":"a12","ts":"2026-11-20T10:00:11Z","n":1.5}`,
	`{"n":"7","id":"a13","ts":"2026-11-20T10:00:12Z"}`,
	`{"x":7,"id":"a14","ts":"2026-11-20T10:00:13Z"}`,
	`{"x":1e3,"n":12,"id":"a15","ts":"2026-11-20T10:00:14Z"}`,
	`{"x":-1.25E-2,"id":"a16","ts":"2026-11-20T10:00:15Z"}`,
	`{"n":123456789012345678901234567890,"id":"a17","ts":"2026-11-20T10:00:16Z"}`,
	`{"x":1e400,"id":"a18","ts":"2026-11-20T10:00:17Z"}`,
	`{"ok":"true","id":"a19","ts":"2026-11-20T10:00:18Z"}`,
	`{"id":"a20","ts":1795168800000}`,
	`{"id":"a21","ts":"1795168801"}`,
	`{"id":"a22","ts":1795168802.5}`,
	`{"id":"a23","ts":"yesterday"}`,
	`{"id":"a24"}`,
	`{"id":"a25","ts":null}`,
	`{"id":"a26","ts":true}`,
	`{"id":"a27","ts":"2020-01-01T00:00:00Z"}`,
	`[1]`,
	`"just a string"`,
	`null`,
	`not json`,
	`{}`,
	"{\"id\":\"tab\there\",\"ts\":\"2026-11-20T10:00:19Z\"}",
	"{\"id\":\"bad utf8 \xff\",\"ts\":\"2026-11-20T10:00:20Z\"}",
	`{"n":01,"id":"a30","ts":"2026-11-20T10:00:21Z"}`,
	`{"i\u0064":"escaped key","ts":"2026-11-20T10:00:22Z"}`,
	`{"id":"a32","ts":"2026-11-20T10:00:23Z","arr":[1,2]}`,
	`{"id":"a33","ts":"2026-11-20T10:00:24Z","n":9223372036854775807,"x":-0.0}`,
	`{"id":"a34","ts":"2026-11-20 10:00:25.5Z","ok":false}`,
	`{"id":"a35","ts":"2026-02-30T10:00:00Z"}`,
	`{"id":"a36","ts":"2026-11-20T10:00:26Z","obj":null,"extra":null}`,
}

// putRecords stages values as one object of partition p from offset from,
// every third record with a key and every fifth with headers, binary ones
// (which the fast path leaves to the general path) if binary is set.
func putRecords(t *testing.T, e *env, p int32, from int64, values []string, binary bool) {
	t.Helper()
	name, lines := encodeRecords(p, from, values, binary)
	if err := e.staging.WriteAll(context.Background(), name, stage.Compress(nil, lines), nil); err != nil {
		t.Fatal(err)
	}
}

// encodeRecords returns the object name and envelope lines putRecords
// stages.
func encodeRecords(p int32, from int64, values []string, binary bool) (string, []byte) {
	var buf []byte
	for i, v := range values {
		r := stage.Record{Topic: "t", Partition: p, Offset: from + int64(i),
			Timestamp: base.Add(time.Duration(i) * time.Second), Value: []byte(v)}
		if i%3 == 0 {
			r.Key = []byte(fmt.Sprintf("key-%d\"q", i))
		}
		if i%5 == 0 {
			r.Headers = []stage.Header{{Key: "h", Value: []byte("v\"")}}
			if binary {
				r.Headers = append(r.Headers, stage.Header{Key: "bin", Value: []byte{0xff, 0}})
			}
		}
		buf = stage.AppendEnvelope(buf, &r)
	}
	return stage.ObjectName("t", p, from, base), buf
}

// seedValues are 20 plain records that create the table fastCorpus
// expects: id, ts, n, x, ok.
func seedValues() []string {
	var seed []string
	for i := range 20 {
		seed = append(seed, fmt.Sprintf(`{"id":"s%d","ts":"2026-11-%02dT08:00:00Z","n":%d,"x":%d.25,"ok":%v}`, i, 10+i%5, i, i, i%2 == 0))
	}
	return seed
}

var loadTime = regexp.MustCompile(`before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// tableRows returns a table's rows as sorted JSON lines, and its columns.
func tableRows(t *testing.T, e *env, name string) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	tbl, err := e.store.LoadIceberg(ctx, "lake", name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan %s: %v", name, err)
	}
	defer at.Release()
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	var rows []string
	for tr.Next() {
		st := array.RecordToStructArray(tr.RecordBatch())
		b, err := st.MarshalJSON()
		st.Release()
		if err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(b, &objs); err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			delete(o, "failed_at")                // dead letters: the time of the load
			if e, ok := o["error"].(string); ok { // late: ... before <the time of the load>
				o["error"] = loadTime.ReplaceAllString(e, "before NOW")
			}
			line, _ := json.Marshal(o)
			rows = append(rows, string(line))
		}
	}
	slices.Sort(rows)
	return rows, tbl.Schema().String()
}

// TestFastPathMatchesGeneral loads the same staging objects with and
// without the columnar fast path: the lake tables, dead-letter tables and
// bookmarks must be identical, and the fast path must have taken the plain
// records (before and after the schema evolves) and left the rest.
func TestFastPathMatchesGeneral(t *testing.T) {
	ctx := context.Background()
	spec := "- topic: t\n  name: t\n  max_lateness: 2400h\n"
	seed := seedValues()
	var after []string // plain rows once the corpus added columns
	for i := range 30 {
		after = append(after, fmt.Sprintf(`{"id":"p%d","ts":"2026-11-21T0%d:00:00Z","n":%d,"extra":"e%d"}`, i, i%10, i, i))
	}
	var envs [2]*env
	var fast [2]int64
	for k, cfg := range []etl.Config{{}, etl.WithoutFastPath(etl.Config{})} {
		cfg.Database, cfg.TimeField, cfg.Tables = "lake", "ts", compile(t, spec)
		e := newEnv(t)
		x := etl.New(cfg, e.staging, e.store.Iceberg())
		putRecords(t, e, 0, 0, seed, true)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		putRecords(t, e, 0, 20, fastCorpus, true)
		putRecords(t, e, 1, 0, fastCorpus[:10], false)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		before := etl.FastRows(x)
		putRecords(t, e, 0, 20+int64(len(fastCorpus)), after, false)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got := etl.FastRows(x) - before; k == 0 && got != int64(len(after)) {
			t.Errorf("after the schema evolved the fast path took %d of %d plain rows", got, len(after))
		}
		envs[k], fast[k] = e, etl.FastRows(x)
	}
	if fast[1] != 0 {
		t.Fatalf("the general-path ETL took %d rows on the fast path", fast[1])
	}
	// Of the corpus, about half is plain enough for the fast path (in
	// both partitions), and the rest must have been left to the general path.
	if fast[0] < 15+int64(len(after)) || fast[0] > int64(len(fastCorpus)+10+len(after)-20) {
		t.Errorf("the fast path took %d rows", fast[0])
	}
	for _, name := range []string{"t", "t_dlq"} {
		fr, fs := tableRows(t, envs[0], name)
		gr, gs := tableRows(t, envs[1], name)
		if fs != gs {
			t.Errorf("%s schema differs:\nfast    %s\ngeneral %s", name, fs, gs)
		}
		if strings.Join(fr, "\n") != strings.Join(gr, "\n") {
			t.Errorf("%s rows differ:\nfast:\n%s\ngeneral:\n%s", name, strings.Join(fr, "\n"), strings.Join(gr, "\n"))
		}
		if len(fr) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	for _, name := range []string{"t", "t_dlq"} {
		var bm [2]string
		for k, e := range envs {
			tbl, err := e.store.LoadIceberg(ctx, "lake", name)
			if err != nil {
				t.Fatal(err)
			}
			bm[k] = tbl.CurrentSnapshot().Summary.Properties[etl.SummaryOffsets]
		}
		if bm[0] != bm[1] || bm[0] == "" {
			t.Errorf("%s bookmarks: fast %s, general %s", name, bm[0], bm[1])
		}
	}
}

// TestWidenBigintToDouble: a fraction arriving in a bigint column widens
// the column to double (same field id) and rewrites the table's files in
// the same commit, so every row, old and new, reads as double, no record
// is a dead letter, and the fast and general paths agree.
func TestWidenBigintToDouble(t *testing.T) {
	ctx := context.Background()
	var ints, mixed, later []string
	for i := range 20 {
		ints = append(ints, fmt.Sprintf(`{"id":"i%d","ts":"2026-11-%02dT08:00:00Z","n":%d}`, i, 10+i%3, i))
		later = append(later, fmt.Sprintf(`{"id":"l%d","ts":"2026-11-20T08:00:00Z","n":%d}`, i, i))
		if i%4 == 0 {
			mixed = append(mixed, fmt.Sprintf(`{"id":"m%d","ts":"2026-11-20T08:00:00Z","n":%d.5}`, i, i))
		} else {
			mixed = append(mixed, fmt.Sprintf(`{"id":"m%d","ts":"2026-11-20T08:00:00Z","n":%d}`, i, i))
		}
	}
	var got [2][]string
	for k, cfg := range []etl.Config{{}, etl.WithoutFastPath(etl.Config{})} {
		cfg.Database, cfg.TimeField = "lake", "ts"
		e := newEnv(t)
		x := etl.New(cfg, e.staging, e.store.Iceberg())
		putRecords(t, e, 0, 0, ints, false)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		putRecords(t, e, 0, 20, mixed, false)
		res, err := x.RunOnce(ctx)
		if err != nil || res.Rows != 20 || res.DeadLetters != 0 {
			t.Fatalf("the batch with fractions: %+v, %v", res, err)
		}
		putRecords(t, e, 0, 40, later, false)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		tbl, err := e.store.LoadIceberg(ctx, "lake", "t")
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := tbl.Schema().FindFieldByName("n"); !ok || f.Type.String() != "double" {
			t.Fatalf("column n: %v, want double", f)
		}
		rows, _ := tableRows(t, e, "t")
		if len(rows) != 60 {
			t.Fatalf("%d rows, want 60", len(rows))
		}
		var sum float64
		for _, r := range rows {
			var o struct{ N float64 }
			json.Unmarshal([]byte(r), &o)
			sum += o.N
		}
		if want := 3*190 + 5*0.5; sum != want {
			t.Errorf("sum(n) = %v, want %v", sum, want)
		}
		// Every data file of the current snapshot holds n as double.
		files, err := parquetColumnTypes(ctx, tbl, "n")
		if err != nil {
			t.Fatal(err)
		}
		for f, typ := range files {
			if typ != "DOUBLE" {
				t.Errorf("%s stores n as %s", f, typ)
			}
		}
		if len(files) == 0 {
			t.Fatal("no data files")
		}
		got[k] = rows
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Errorf("fast and general paths differ:\n%s\n---\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// parquetColumnTypes returns the Parquet physical type of column col in
// each data file of tbl's current snapshot.
func parquetColumnTypes(ctx context.Context, tbl *table.Table, col string) (map[string]string, error) {
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, task := range tasks {
		path := strings.TrimPrefix(task.File.FilePath(), "file://")
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			return nil, err
		}
		i := pf.MetaData().Schema.ColumnIndexByName(col)
		if i < 0 {
			pf.Close()
			return nil, fmt.Errorf("%s has no column %s", path, col)
		}
		out[path] = pf.MetaData().Schema.Column(i).PhysicalType().String()
		pf.Close()
	}
	return out, nil
}

// TestOneSchemaUpdatePerCommit: one batch that adds a field, widens a
// column and coerces a value to a text column commits all three schema
// changes together (a second schema update in the transaction would fail
// the commit).
func TestOneSchemaUpdatePerCommit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cfg := etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, "- topic: t\n  name: t\n  on_type_mismatch: coerce-to-string\n")}
	x := etl.New(cfg, e.staging, e.store.Iceberg())
	putRecords(t, e, 0, 0, []string{`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1,"ok":true}`}, false)
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	putRecords(t, e, 0, 1, []string{
		`{"id":"b","ts":"2026-11-20T10:00:01Z","n":2.5,"ok":false}`,
		`{"id":"c","ts":"2026-11-20T10:00:02Z","n":3,"ok":"maybe","site":"north"}`,
	}, false)
	res, err := x.RunOnce(ctx)
	if err != nil || res.Rows != 2 || res.DeadLetters != 0 {
		t.Fatalf("the evolving batch: %+v, %v", res, err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "t")
	if err != nil {
		t.Fatal(err)
	}
	for col, typ := range map[string]string{"n": "double", "site": "string", "ok_string": "string", "ok": "boolean"} {
		if f, ok := tbl.Schema().FindFieldByName(col); !ok || f.Type.String() != typ {
			t.Errorf("column %s: %v, want %s", col, f, typ)
		}
	}
	rows, _ := tableRows(t, e, "t")
	want := []string{
		`{"id":"a","n":1,"ok":true,"ok_string":null,"site":null,"ts":"2026-11-20T10:00:00Z"}`,
		`{"id":"b","n":2.5,"ok":false,"ok_string":null,"site":null,"ts":"2026-11-20T10:00:01Z"}`,
		`{"id":"c","n":3,"ok":null,"ok_string":"maybe","site":"north","ts":"2026-11-20T10:00:02Z"}`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// TestCoerceNameTaken: under coerce-to-string, a value whose text column
// <field>_string is taken (a column of another type, or a value of its own
// in the record) cannot move there without losing a value, so the record
// is a dead letter with the reason, and the rows that fit keep theirs.
func TestCoerceNameTaken(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cfg := etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, "- topic: t\n  name: t\n  on_type_mismatch: coerce-to-string\n")}
	x := etl.New(cfg, e.staging, e.store.Iceberg())
	putRecords(t, e, 0, 0, []string{`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1,"n_string":5,"m":2,"m_string":"w"}`}, false)
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	putRecords(t, e, 0, 1, []string{
		`{"id":"b","ts":"2026-11-20T10:00:01Z","n":"x"}`,
		`{"id":"c","ts":"2026-11-20T10:00:02Z","m":"y","m_string":"z"}`,
		`{"id":"d","ts":"2026-11-20T10:00:03Z","m":"v"}`,
	}, false)
	res, err := x.RunOnce(ctx)
	if err != nil || res.Rows != 1 || res.DeadLetters != 2 {
		t.Fatalf("the batch: %+v, %v; want 1 row and 2 dead letters", res, err)
	}
	rows, _ := tableRows(t, e, "t")
	want := []string{
		`{"id":"a","m":2,"m_string":"w","n":1,"n_string":5,"ts":"2026-11-20T10:00:00Z"}`,
		`{"id":"d","m":null,"m_string":"v","n":null,"n_string":null,"ts":"2026-11-20T10:00:03Z"}`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	dlq, _ := tableRows(t, e, "t_dlq")
	all := strings.Join(dlq, "\n")
	if len(dlq) != 2 || !strings.Contains(all, `field $.n: \"x\" does not fit column type long, and its text column n_string is of type long`) ||
		!strings.Contains(all, `field $.m: \"y\" does not fit column type long, and its text column m_string holds the record's own value`) {
		t.Errorf("dead letters:\n%s\nwant b's and c's, with the reasons", all)
	}
}

// TestRebuildAfterDrop: a main table dropped (DROP TABLE) while its
// dead-letter table stays is rebuilt from the staged records when run
// starts next: every record that loaded before loads again, once, and the
// dead letters stay as they were. Before, the run took the dead-letter table's
// bookmark for the main table's (right only when the main table never
// existed) and left out every record before the last dead letter.
func TestRebuildAfterDrop(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, e.store.Iceberg())
	putRecords(t, e, 0, 0, []string{
		`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1}`,
		`{"id":"b","ts":"2026-11-20T10:00:01Z","n":"bad"}`,
		`{"id":"c","ts":"2026-11-20T10:00:02Z","n":3}`,
	}, false)
	if res, err := x.RunOnce(ctx); err != nil || res.Rows != 2 || res.DeadLetters != 1 {
		t.Fatalf("first load: %+v, %v", res, err)
	}
	putRecords(t, e, 0, 3, []string{`{"id":"d","ts":"2026-11-20T10:00:03Z","n":4}`}, false)
	if res, err := x.RunOnce(ctx); err != nil || res.Rows != 1 {
		t.Fatalf("second load: %+v, %v", res, err)
	}
	if err := e.store.Iceberg().DropTable(ctx, table.Identifier{"lake", "t"}); err != nil {
		t.Fatal(err)
	}
	x = etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, e.store.Iceberg()) // run starts again
	res, err := x.RunOnce(ctx)
	if err != nil || res.Rows != 3 || res.DeadLetters != 0 {
		t.Fatalf("the run after the drop: %+v, %v; want 3 rows again and no new dead letter", res, err)
	}
	rows, _ := tableRows(t, e, "t")
	if got := strings.Join(rows, "\n"); !strings.Contains(got, `"id":"a"`) || !strings.Contains(got, `"id":"c"`) || !strings.Contains(got, `"id":"d"`) || len(rows) != 3 {
		t.Errorf("rebuilt rows:\n%s", got)
	}
	if dlq, _ := tableRows(t, e, "t_dlq"); len(dlq) != 1 {
		t.Errorf("dead letters: %d, want 1", len(dlq))
	}
	if res, err := x.RunOnce(ctx); err != nil || res.Rows != 0 {
		t.Errorf("a run after the rebuild: %+v, %v; want nothing to load", res, err)
	}
}

// TestDropWhileRunning: a main table dropped while the same ETL keeps
// running starts again with the records staged after: the objects it
// loaded before are not read again.
func TestDropWhileRunning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, e.store.Iceberg())
	putRecords(t, e, 0, 0, []string{`{"id":"a","ts":"2026-11-20T10:00:00Z","n":1}`, `{"id":"b","ts":"2026-11-20T10:00:01Z","n":"bad"}`}, false)
	if res, err := x.RunOnce(ctx); err != nil || res.Rows != 1 || res.DeadLetters != 1 {
		t.Fatalf("first load: %+v, %v", res, err)
	}
	if err := e.store.Iceberg().DropTable(ctx, table.Identifier{"lake", "t"}); err != nil {
		t.Fatal(err)
	}
	putRecords(t, e, 0, 2, []string{`{"id":"c","ts":"2026-11-20T10:00:02Z","n":3}`}, false)
	if res, err := x.RunOnce(ctx); err != nil || res.Rows != 1 || res.DeadLetters != 0 {
		t.Fatalf("the run after the drop: %+v, %v; want the new record only", res, err)
	}
	if rows, _ := tableRows(t, e, "t"); len(rows) != 1 || !strings.Contains(rows[0], `"id":"c"`) {
		t.Errorf("rows: %v, want c's only", rows)
	}
}

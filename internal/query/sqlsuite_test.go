package query_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/stage"
)

var updateSQL = flag.Bool("update-sql", false, "rewrite the expected results of testdata/sql/*.sql (review the diff!)")

// sqlCase is one statement of a testdata/sql file:
//
//	-- name: what it checks
//	-- params: [JSON array]            (optional: ? placeholders)
//	SELECT ...;
//	-- expect:                          (CSV, as streamlake query --format csv prints it)
//	...
//	-- error: substring                 (instead of expect)
//
// The SQL can name snapshots with placeholders (see snapshotRef).
type sqlCase struct {
	name, sql, params, expect, errSub string
}

func parseSQLFile(t *testing.T, path string) []sqlCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []sqlCase
	var cur *sqlCase
	mode := "sql"
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "-- name: "):
			cases = append(cases, sqlCase{name: strings.TrimPrefix(line, "-- name: ")})
			cur, mode = &cases[len(cases)-1], "sql"
		case cur == nil:
		case strings.HasPrefix(line, "-- params: "):
			cur.params = strings.TrimPrefix(line, "-- params: ")
		case line == "-- expect:":
			mode = "expect"
		case strings.HasPrefix(line, "-- error: "):
			cur.errSub = strings.TrimPrefix(line, "-- error: ")
		case mode == "sql":
			cur.sql += line + "\n"
		case mode == "expect" && line != "":
			cur.expect += line + "\n"
		}
	}
	return cases
}

// suiteLake loads three phases of a drifting topic through the ETL (a
// number column, committed alone; then a new struct and string column, then
// values that do not fit) and crawls the staging area into raw.
func suiteLake(t *testing.T) (*query.Service, *catalog.Store) {
	t.Helper()
	ctx := context.Background()
	store, dir := openCatalog(t)
	stagingDir := filepath.Join(dir, "staging")
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	phase := func(p int32, from, to int64, value func(i int64) string) {
		var recs []stage.Record
		for i := from; i < to; i++ {
			recs = append(recs, stage.Record{Topic: "sensors", Partition: p, Offset: i,
				Timestamp: base.Add(time.Duration(i) * time.Minute), Key: fmt.Appendf(nil, "k%d", i%3), Value: []byte(value(i))})
		}
		writeStaging(t, stagingDir, recs...)
	}
	phase(0, 0, 10, func(i int64) string {
		return fmt.Sprintf(`{"id":%d,"ts":"2026-11-%02dT10:00:00Z","device":"d%d","temperature":%d.5}`, i, 20+i%3, i%4, 10+i)
	})
	u, _ := sblob.DirURL(stagingDir)
	bucket, err := sblob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts"}, bucket, store.Iceberg())
	// The first phase is a snapshot of its own, with the first schema,
	// for time travel.
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	phase(0, 10, 20, func(i int64) string {
		return fmt.Sprintf(`{"id":%d,"ts":"2026-11-%02dT11:00:00Z","device":"d%d","temperature":%d,"site":"s%d","loc":{"lat":%d.25,"lon":-%d.5}}`, i, 20+i%3, i%4, 10+i, i%2, i, i)
	})
	phase(1, 0, 5, func(i int64) string {
		if i == 4 {
			return "not json"
		}
		return fmt.Sprintf(`{"id":%d,"ts":"2026-11-22T12:00:00Z","device":"x","temperature":"n/a"}`, 100+i)
	})
	// Field names data files spell otherwise ("user-id" is written
	// user_x2Did), a name equal but for case to a column's, and an empty
	// name: the last two are dead letters.
	var names []stage.Record
	for i, v := range []string{
		`{"id":1,"ts":"2026-11-20T10:00:00Z","user-id":"u1","@type":"click","Name":"upper","9lives":9,"ctx":{"page-url":"/a","a.b":{"c-d":true}},"items":[{"sku-id":"s1","qty":2}]}`,
		`{"id":2,"ts":"2026-11-20T10:01:00Z","user-id":"u2","@type":"view","9lives":8,"ctx":{"page-url":"/b","a.b":{"c-d":false}},"items":[{"sku-id":"s2","qty":1},{"sku-id":"s3","qty":5}]}`,
		`{"id":3,"ts":"2026-11-20T10:02:00Z","":"no name","ctx":{"page-url":"/c"}}`,
		`{"id":4,"ts":"2026-11-20T10:03:00Z","name":"lower"}`,
	} {
		names = append(names, stage.Record{Topic: "names", Offset: int64(i), Timestamp: base, Value: []byte(v)})
	}
	writeStaging(t, stagingDir, names...)
	if _, err := x.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := crawl.Staging(ctx, bucket, stagingDir, store, crawl.Options{}); err != nil {
		t.Fatal(err)
	}
	// A table another writer made with two columns equal but for case,
	// which Iceberg allows and SQL engines cannot tell apart.
	cased, err := store.Iceberg().CreateTable(ctx, table.Identifier{"lake", "cased"}, iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64},
		iceberg.NestedField{ID: 2, Name: "Name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "name", Type: iceberg.PrimitiveTypes.String}))
	if err != nil {
		t.Fatal(err)
	}
	appendJSON(ctx, t, cased, `[{"id":1,"Name":"upper","name":"lower"},{"id":2,"Name":null,"name":"only lower"}]`)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := query.NewService(query.New(store, query.Options{Threads: 1, Databases: []string{"lake", "raw"}, Logger: log}), store,
		query.ServiceConfig{ResultsDir: filepath.Join(dir, "results"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, store
}

// snapshotRef is a placeholder of a snapshot in a suite's SQL, which
// snapshot ids and commit times cannot be written in: {{snapshot db.t N}}
// is the id of the table's N-th snapshot (0 the first; negative counts
// from the current one, -1), {{snapshot_time db.t N}} its commit time
// ('2026-11-23 10:00:00.123', UTC).
var snapshotRef = regexp.MustCompile(`\{\{(snapshot|snapshot_time) (\w+)\.(\w+) (-?\d+)\}\}`)

// expandSnapshots replaces the snapshot placeholders of sql.
func expandSnapshots(t *testing.T, store *catalog.Store, sql string) string {
	t.Helper()
	return snapshotRef.ReplaceAllStringFunc(sql, func(m string) string {
		g := snapshotRef.FindStringSubmatch(m)
		tbl, err := store.LoadIceberg(t.Context(), g[2], g[3])
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		var log []table.SnapshotLogEntry
		for e := range tbl.Metadata().SnapshotLogs() {
			log = append(log, e)
		}
		n, _ := strconv.Atoi(g[4])
		if n < 0 {
			n += len(log)
		}
		if n < 0 || n >= len(log) {
			t.Fatalf("%s: the table has %d snapshots", m, len(log))
		}
		if g[1] == "snapshot" {
			return strconv.FormatInt(log[n].SnapshotID, 10)
		}
		return time.UnixMilli(log[n].TimestampMs).UTC().Format("2006-01-02 15:04:05.000")
	})
}

// TestSQLSuite runs every statement of testdata/sql/*.sql through the
// query service over a lake with an evolved schema, its dead letters, and
// the raw staging tables, and compares the CSV result (or error) with the
// file. go test -run TestSQLSuite -update-sql rewrites the expectations.
func TestSQLSuite(t *testing.T) {
	s, store := suiteLake(t)
	files, _ := filepath.Glob("testdata/sql/*.sql")
	if len(files) == 0 {
		t.Fatal("no testdata/sql/*.sql")
	}
	for _, f := range files {
		cases := parseSQLFile(t, f)
		var out bytes.Buffer
		for _, c := range cases {
			in := query.StartInput{SQL: expandSnapshots(t, store, strings.TrimSpace(c.sql))}
			if c.params != "" {
				if err := json.Unmarshal([]byte(c.params), &in.Params); err != nil {
					t.Fatalf("%s: %s: params: %v", f, c.name, err)
				}
			}
			x := execute(t, s, in)
			var got, msg string
			if x.Error != nil {
				msg = x.Error.Category + ": " + x.Error.Message
			}
			if x.State == query.Succeeded {
				page, err := s.Results(t.Context(), x.ID, 0, 1000)
				if err != nil {
					t.Fatal(err)
				}
				got = pageCSV(page)
			}
			if *updateSQL {
				fmt.Fprintf(&out, "-- name: %s\n", c.name)
				if c.params != "" {
					fmt.Fprintf(&out, "-- params: %s\n", c.params)
				}
				out.WriteString(strings.TrimSpace(c.sql) + "\n")
				if c.errSub != "" {
					fmt.Fprintf(&out, "-- error: %s\n\n", c.errSub)
				} else {
					fmt.Fprintf(&out, "-- expect:\n%s\n", got)
				}
			}
			switch {
			case c.errSub != "":
				if x.State != query.Failed || !strings.Contains(msg, c.errSub) {
					t.Errorf("%s: %s: state %s, error %q; want FAILED with %q", f, c.name, x.State, msg, c.errSub)
				}
			case x.State != query.Succeeded:
				t.Errorf("%s: %s: %s: %s", f, c.name, x.State, msg)
			case got != c.expect && !*updateSQL:
				t.Errorf("%s: %s:\n%s\ngot:\n%swant:\n%s", f, c.name, c.sql, got, c.expect)
			}
		}
		if *updateSQL {
			if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// pageCSV renders a results page as CSV: a header of column names, NULL
// as an empty field.
func pageCSV(p *query.ResultPage) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	var row []string
	for _, c := range p.Columns {
		row = append(row, c.Name)
	}
	w.Write(row)
	for _, r := range p.Rows {
		row = row[:0]
		for _, v := range r {
			if v == nil {
				row = append(row, "")
			} else {
				row = append(row, *v)
			}
		}
		w.Write(row)
	}
	w.Flush()
	return b.String()
}

package query_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/crawl/layout"
	"github.com/streamlake/streamlake/internal/query"
)

const layouts = "../crawl/testdata/layouts"

// caseOptions are the crawl options of a layout case (its expected.json).
type caseOptions struct {
	Options struct {
		Name       string   `json:"name"`
		TableLevel int      `json:"table_level"`
		Exclude    []string `json:"exclude"`
		MaxTables  int      `json:"max_tables"`
	} `json:"options"`
	Error string `json:"error"`
}

// TestCrawledLayouts crawls every layout case into a catalog and queries
// every table it made: each must answer SELECT count(*) with the number of
// records the crawler counted (exactly, where the count is exact), except
// the formats and compressions DuckDB cannot read, which must fail naming
// them.
func TestCrawledLayouts(t *testing.T) {
	cases, err := os.ReadDir(layouts)
	if err != nil {
		t.Fatal(err)
	}
	queried := 0
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(layouts, c.Name(), "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var exp caseOptions
			if err := json.Unmarshal(b, &exp); err != nil {
				t.Fatal(err)
			}
			if exp.Error != "" {
				return // max_tables: nothing to query (crawl tests cover it)
			}
			store, dir := openCatalog(t)
			files, _ := filepath.Abs(filepath.Join(layouts, c.Name(), "files"))
			rep, err := crawl.Run(t.Context(), layout.Dir(files), store, crawl.RunOptions{
				Name: "c", Location: files, Database: "c", Dir: filepath.Join(dir, "crawler"),
				Layout: layout.Options{Name: exp.Options.Name, TableLevel: exp.Options.TableLevel,
					Exclude: exp.Options.Exclude, MaxTables: exp.Options.MaxTables},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.TablesCreated) == 0 {
				t.Fatalf("no tables: %+v", rep)
			}
			e := newEngine(t, store)
			for _, name := range rep.TablesCreated {
				tbl, err := store.GetTable(t.Context(), "c", strings.TrimPrefix(name, "c."))
				if err != nil {
					t.Fatal(err)
				}
				res, err := e.Query(t.Context(), "SELECT count(*) FROM "+name)
				switch {
				case tbl.Format == "avro" || tbl.Format != "parquet" && (tbl.Compression == "bzip2" || tbl.Compression == "snappy"):
					want := tbl.Format
					if want != "avro" {
						want = tbl.Compression
					}
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("%s (%s/%s): err = %v, want one naming %s", name, tbl.Format, tbl.Compression, err, want)
					}
					continue
				case err != nil:
					t.Errorf("%s: %v", name, err)
					continue
				}
				queried++
				got := res.Rows[0][0].(int64)
				if tbl.Properties["recordCountExact"] == "true" || tbl.Format != "parquet" {
					if want := tbl.Properties["recordCount"]; want != "" && want != strconv.FormatInt(got, 10) && !strings.Contains(c.Name(), "exclude") {
						t.Errorf("%s: count = %d, crawler counted %s", name, got, want)
					}
				}
				if got == 0 {
					t.Errorf("%s: no rows", name)
				}
			}
		})
	}
}

// TestCrawledQueries checks what a crawled table reads: a CSV whose header
// is all strings by its real column names, Glue's year=2017/year=2018
// table with a partition filter that DuckDB prunes to one partition, and
// partition values typed by the keys.
func TestCrawledQueries(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	for _, c := range []string{"csv_all_string_header", "glue_year_partitions", "unnamed_partitions"} {
		files, _ := filepath.Abs(filepath.Join(layouts, c, "files"))
		_, err := crawl.Run(ctx, layout.Dir(files), store, crawl.RunOptions{
			Name: c, Location: "file://" + files, Database: "d", Dir: filepath.Join(dir, c),
			Layout: layout.Options{Name: c},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, store)
	res, err := e.Query(ctx, `SELECT first_name, last_name, city FROM d.csv_all_string_header ORDER BY first_name`)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows; len(got) != 3 || got[0][0] != "Alice" || got[2][2] != "Rome" {
		t.Errorf("csv rows = %v", got)
	}

	res, err = e.Query(ctx, `SELECT id, item, year FROM d.glue_year_partitions WHERE year = 2018`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][2] != int32(2018) || res.Rows[0][1] != "pen" {
		t.Errorf("year = 2018: rows = %v types %v", res.Rows, res.Types)
	}
	res, err = e.Query(ctx, `SELECT count(*) FROM d.glue_year_partitions`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(4) {
		t.Errorf("all years: %v", res.Rows)
	}
	// Pruning: the plan reads only the 2018 partition's files.
	if n := scans(t, e, `EXPLAIN SELECT * FROM d.glue_year_partitions WHERE year = 2018`); n != 1 {
		t.Errorf("year = 2018 plans %d JSON scans, want 1", n)
	}
	if n := scans(t, e, `EXPLAIN SELECT * FROM d.glue_year_partitions`); n != 2 {
		t.Errorf("no filter plans %d JSON scans, want 2", n)
	}

	res, err = e.Query(ctx, `SELECT DISTINCT partition_0, partition_1 FROM d.unnamed_partitions ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 || !slices.Equal(res.Types, []string{"INTEGER", "VARCHAR"}) {
		t.Errorf("unnamed partitions: %v %v", res.Types, res.Rows)
	}
}

// scans counts the file scans (READ_JSON, READ_CSV, ...) in a plan.
func scans(t *testing.T, e *query.Engine, sql string) int {
	t.Helper()
	res, err := e.Query(t.Context(), sql)
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for _, r := range res.Rows {
		for _, v := range r {
			if s, ok := v.(string); ok {
				plan.WriteString(s)
			}
		}
	}
	n := strings.Count(plan.String(), "Function: READ_JSON")
	if n == 0 {
		t.Logf("plan:\n%s", plan.String())
	}
	return n
}

package layout

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

var update = flag.Bool("update", false, "rewrite testdata/layouts/*/expected.json from the results (review the diff!)")

// expected is a case's expected.json: the options of the crawl and what
// it must produce. Columns and keys are "name type" in order.
type expected struct {
	Options struct {
		Name       string   `json:"name,omitempty"`
		TableLevel int      `json:"table_level,omitempty"`
		Exclude    []string `json:"exclude,omitempty"`
		MaxTables  int      `json:"max_tables,omitempty"`
	} `json:"options"`
	Error        string          `json:"error,omitempty"`
	Tables       []expectedTable `json:"tables"`
	Unclassified []string        `json:"unclassified,omitempty"`
	Excluded     []string        `json:"excluded,omitempty"`
	Conflicts    []string        `json:"conflicts,omitempty"`
}

type expectedTable struct {
	Name          string              `json:"name"`
	Dir           string              `json:"dir"`
	Format        string              `json:"format"`
	Compression   string              `json:"compression"`
	JSONArray     bool                `json:"json_array,omitempty"`
	CSV           *classify.CSVProps  `json:"csv,omitempty"`
	Columns       []string            `json:"columns"`
	PartitionKeys []string            `json:"partition_keys,omitempty"`
	Partitions    []expectedPartition `json:"partitions"`
}

type expectedPartition struct {
	Values []string `json:"values,omitempty"`
	Files  []string `json:"files"`
}

func actual(tables []TableSpec, rep Report, err error) expected {
	var got expected
	if err != nil {
		got.Error = err.Error()
	}
	for _, t := range tables {
		et := expectedTable{Name: t.Name, Dir: t.Dir, Format: string(t.Format), Compression: string(t.Compression),
			JSONArray: t.JSONArray, CSV: t.CSV}
		for _, c := range t.Columns {
			et.Columns = append(et.Columns, c.Name+" "+c.Type.Hive())
		}
		for _, k := range t.PartitionKeys {
			et.PartitionKeys = append(et.PartitionKeys, k.Name+" "+k.Type.Hive())
		}
		for _, p := range t.Partitions {
			et.Partitions = append(et.Partitions, expectedPartition{Values: p.Values, Files: p.Files})
		}
		got.Tables = append(got.Tables, et)
	}
	for _, u := range rep.Unclassified {
		got.Unclassified = append(got.Unclassified, u.Key)
	}
	got.Excluded = rep.Excluded
	for _, c := range rep.Conflicts {
		got.Conflicts = append(got.Conflicts, c.Table+" "+c.Key+" "+c.Conflict.String())
	}
	return got
}

// TestLayouts crawls each testdata/layouts/<case>/files tree and compares
// the tables with <case>/expected.json.
func TestLayouts(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/layouts/*/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 15 {
		t.Fatalf("found %d cases, want at least 15", len(dirs))
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var want expected
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("%s: %v", exp, err)
			}
			opts := Options{Name: want.Options.Name, TableLevel: want.Options.TableLevel,
				Exclude: want.Options.Exclude, MaxTables: want.Options.MaxTables, Location: "s3://bucket/" + filepath.Base(dir)}
			res, err := Crawl(context.Background(), Dir(filepath.Join(dir, "files")), State{}, CrawlOptions{Layout: opts})
			if err != nil && !errors.Is(err, ErrTooManyTables) {
				t.Fatal(err)
			}
			got := actual(res.Tables, res.Report, err)
			got.Options = want.Options
			if *update {
				out, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(exp, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want.Error != "" {
				if got.Error == "" || !strings.Contains(got.Error, want.Error) {
					t.Fatalf("error = %q, want one containing %q", got.Error, want.Error)
				}
				if len(res.Tables) != 0 {
					t.Fatalf("a failed crawl returned %d tables", len(res.Tables))
				}
				got.Error = want.Error
			}
			g, _ := json.MarshalIndent(got, "", "  ")
			w, _ := json.MarshalIndent(want, "", "  ")
			if string(g) != string(w) {
				t.Errorf("got\n%s\nwant (expected.json)\n%s", g, w)
			}
		})
	}
}

// The format a table's files must share reads as words in the run
// report's reasons.
func TestCompatKeyReadable(t *testing.T) {
	for _, c := range []struct {
		r    classify.Result
		want string
	}{
		{classify.Result{Format: "csv", CSV: &classify.CSVProps{Delimiter: ";", Header: true}}, `csv (delimiter ";", a header row)`},
		{classify.Result{Format: "csv", CSV: &classify.CSVProps{Delimiter: "\t"}}, `csv (delimiter "\t", no header row)`},
		{classify.Result{Format: "parquet"}, "parquet"},
	} {
		if got := compatKey(&c.r); got != c.want {
			t.Errorf("compatKey = %s, want %s", got, c.want)
		}
	}
}

// A Parquet file the query engine cannot decompress stays in its table
// (other engines may read it) and the report names it with why; files it
// reads are not named.
func TestUnreadableCodecsReported(t *testing.T) {
	cols := []classify.Field{{Name: "a", Type: classify.Of(classify.BigInt)}}
	file := func(key string, c classify.Compression) File {
		return File{Object: Object{Key: key, Size: 10},
			Result: classify.Result{Format: classify.Parquet, Compression: c, Columns: cols, Records: 1, RecordsExact: true}}
	}
	tables, rep, err := Group([]File{
		file("t/a.parquet", "lz4"), file("t/b.parquet", "lz4_raw"), file("t/c.parquet", "zstd"), file("t/d.parquet", "lzo"),
	}, Options{Location: "file:///x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || len(tables[0].Partitions) != 1 || len(tables[0].Partitions[0].Files) != 4 {
		t.Fatalf("tables %+v, want one of four files", tables)
	}
	if len(rep.Unreadable) != 2 || rep.Unreadable[0].Key != "t/a.parquet" || rep.Unreadable[1].Key != "t/d.parquet" ||
		!strings.Contains(rep.Unreadable[0].Reason, "LZ4 in Hadoop's framing") || !strings.Contains(rep.Unreadable[1].Reason, "LZO") {
		t.Errorf("unreadable %+v", rep.Unreadable)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// copyLayout copies files (a file or a folder) to dst.
func copyLayout(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

const layoutsDir = "../../internal/crawl/testdata/layouts"

// inDirFail runs the binary expecting it to fail and returns its stderr.
func inDirFail(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", dir)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("streamlake %v succeeded:\n%s", args, out)
	}
	return stderr.String()
}

func crawlJSON(t *testing.T, dir string, args ...string) crawl.RunReport {
	t.Helper()
	out := inDir(t, dir, append([]string{"crawl", "--format", "json", "--log-level", "warn"}, args...)...)
	var rep crawl.RunReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	t.Logf("crawl %v:\n%s", args, strings.Join(rep.Diff, "\n"))
	return rep
}

func writeText(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrawlCLI crawls layouts through the CLI, queries what it made, and
// follows a crawler over a changing tree: dry run, unchanged recrawl, new
// folder, schema change, removed folder, the runs list and the catalog
// commands.
func TestCrawlCLI(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	sales := filepath.Join(files, "sales")
	copyLayout(t, filepath.Join(layoutsDir, "glue_year_partitions", "files"), sales)
	people := filepath.Join(files, "people")
	copyLayout(t, filepath.Join(layoutsDir, "csv_all_string_header", "files"), people)
	pq := filepath.Join(files, "pq")
	copyLayout(t, "/work/shared/testdata/parquet-testing/alltypes_dictionary.parquet", filepath.Join(pq, "alltypes_dictionary.parquet"))
	avro := filepath.Join(files, "avro")
	copyLayout(t, filepath.Join(layoutsDir, "real_files", "files", "avro"), avro)
	data := filepath.Join(dir, "data")
	salesArgs := []string{"--path", "file://" + sales, "--database", "ext", "--name", "sales"}

	// Dry run: the diff, nothing written.
	rep := crawlJSON(t, data, append(salesArgs, "--dry-run")...)
	if !rep.DryRun || !slices.Contains(rep.TablesCreated, "ext.sales") || !slices.ContainsFunc(rep.Diff, func(l string) bool {
		return strings.HasPrefix(l, "+ partition ext.sales [2018]")
	}) {
		t.Fatalf("dry run: %+v", rep)
	}
	if out := inDir(t, data, "catalog", "databases", "--format", "json"); strings.Contains(out, `"ext"`) {
		t.Fatalf("dry run wrote database ext: %s", out)
	}
	text := inDir(t, data, append([]string{"crawl", "--log-level", "warn"}, append(salesArgs, "--dry-run")...)...)
	if !strings.Contains(text, "dry run: nothing written") || !strings.Contains(text, "+ table ext.sales: json, 4 columns, partitioned by year int") {
		t.Errorf("dry run text:\n%s", text)
	}

	rep = crawlJSON(t, data, salesArgs...)
	if !slices.Equal(rep.TablesCreated, []string{"ext.sales"}) || rep.PartitionsAdded != 2 || rep.FilesRead != 3 {
		t.Fatalf("first crawl: %+v", rep)
	}
	if got := inDir(t, data, "query", "SELECT id, item, year FROM ext.sales WHERE year = 2018", "--format", "csv"); got != "id,item,year\n4,pen,2018" {
		t.Errorf("year = 2018:\n%s", got)
	}
	if got := inDir(t, data, "query", "SELECT count(*) AS n FROM ext.sales", "--format", "csv"); got != "n\n4" {
		t.Errorf("all years:\n%s", got)
	}

	// CSV with an all-string header, by its real column names.
	crawlJSON(t, data, "--path", people, "--database", "ext")
	if got := inDir(t, data, "query", "SELECT first_name, city FROM ext.people ORDER BY first_name", "--format", "csv"); got != "first_name,city\nAlice,Paris\nBob,London\nCarol,Rome" {
		t.Errorf("people:\n%s", got)
	}
	// Parquet written by another tool (Impala): string_col is BYTE_ARRAY
	// without a string annotation, so it reads as BLOB (printed base64:
	// "0" is MA==), timestamp_col is INT96.
	crawlJSON(t, data, "--path", pq, "--database", "ext")
	got := inDir(t, data, "query", "SELECT id, bool_col, string_col, timestamp_col FROM ext.pq ORDER BY id", "--format", "csv")
	if want := "id,bool_col,string_col,timestamp_col\n0,true,MA==,2009-01-01T00:00:00Z\n1,false,MQ==,2009-01-01T00:01:00Z"; got != want {
		t.Errorf("parquet:\n%s\nwant\n%s", got, want)
	}
	// Avro written by another tool (hamba/avro; null, snappy and deflate
	// codecs): converted to Parquet in the query cache, it reads as goavro
	// reads it.
	rep = crawlJSON(t, data, "--path", avro, "--database", "ext")
	if rep.FilesByFormat["avro"] != 3 {
		t.Errorf("avro files: %v", rep.FilesByFormat)
	}
	got = inDir(t, data, "query", `SELECT count(*) AS n, count(DISTINCT "enum") AS enums, min("enum") AS e, min(nullable) AS nl,
		min("record"."int") AS i, min("record"."string") AS s, min("record"."bool") AS b, min("map"['key3']) AS k3,
		min(strings[2]) AS s2, min(longs[5]) AS l5, min(hex("fixed")) AS fx FROM ext.avro`, "--format", "csv")
	if want := hambaFullWant(t, avro); got != want {
		t.Errorf("avro:\n%s\nwant\n%s", got, want)
	}

	// Unchanged: no file read.
	rep = crawlJSON(t, data, salesArgs...)
	if rep.FilesRead != 0 || rep.FilesSkipped != 3 || len(rep.Diff) != 0 {
		t.Errorf("unchanged recrawl: read %d skipped %d diff %q", rep.FilesRead, rep.FilesSkipped, rep.Diff)
	}
	// A new folder: a partition added.
	writeText(t, filepath.Join(sales, "year=2019", "a.json"), `{"id": 5, "item": "cup", "price": 4.5, "ts": "2019-02-01T10:00:00Z"}`+"\n")
	rep = crawlJSON(t, data, salesArgs...)
	if rep.FilesRead != 1 || rep.PartitionsAdded != 1 {
		t.Errorf("new folder: %+v", rep)
	}
	var parts []catalog.Partition
	if err := json.Unmarshal([]byte(inDir(t, data, "catalog", "partitions", "ext.sales", "--filter", "year >= 2018", "--format", "json")), &parts); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].Values[0] != "2018" || parts[1].Values[0] != "2019" || parts[1].Stats.ObjectCount != 1 {
		t.Errorf("partitions year >= 2018: %+v", parts)
	}
	if got := inDir(t, data, "catalog", "partitions", "ext.sales", "--filter", "year IN (2017)", "--format", "csv"); !strings.HasPrefix(got, "year,location,objects,bytes,records,last_modified\n2017,file://") || strings.Count(got, "\n") != 1 {
		t.Errorf("partitions year IN (2017):\n%s", got)
	}
	// A schema change: a new version, the old one kept.
	writeText(t, filepath.Join(sales, "year=2019", "b.json"), `{"id": 6, "item": "mug", "price": 5, "ts": "2019-03-01T10:00:00Z", "qty": 2}`+"\n")
	rep = crawlJSON(t, data, salesArgs...)
	if !slices.Equal(rep.TablesUpdated, []string{"ext.sales"}) {
		t.Errorf("schema change: %+v", rep)
	}
	var versions []catalog.Table
	if err := json.Unmarshal([]byte(inDir(t, data, "catalog", "versions", "ext.sales", "--format", "json")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || len(versions[0].Columns) != 4 || len(versions[1].Columns) != 5 {
		t.Errorf("versions: %+v", versions)
	}
	if got := inDir(t, data, "query", "SELECT sum(qty) AS q, count(*) AS n FROM ext.sales", "--format", "csv"); got != "q,n\n2,6" {
		t.Errorf("after schema change:\n%s", got)
	}
	if got := inDir(t, data, "catalog", "describe", "ext.sales", "--format", "csv"); !strings.Contains(got, "column,qty,int,") || !strings.Contains(got, "partition key,year,int,") {
		t.Errorf("describe:\n%s", got)
	}
	// A folder removed: its partition goes.
	if err := os.RemoveAll(filepath.Join(sales, "year=2017")); err != nil {
		t.Fatal(err)
	}
	rep = crawlJSON(t, data, salesArgs...)
	if rep.PartitionsRemoved != 1 {
		t.Errorf("removed folder: %+v", rep)
	}
	// A table whose files are all gone is deprecated, or deleted.
	if err := os.Remove(filepath.Join(people, "people.csv")); err != nil {
		t.Fatal(err)
	}
	rep = crawlJSON(t, data, "--path", people, "--database", "ext")
	if !slices.Equal(rep.TablesDeprecated, []string{"ext.people"}) {
		t.Errorf("deprecate: %+v", rep)
	}
	if err := os.Remove(filepath.Join(pq, "alltypes_dictionary.parquet")); err != nil {
		t.Fatal(err)
	}
	rep = crawlJSON(t, data, "--path", pq, "--database", "ext", "--on-delete", "delete")
	if !slices.Equal(rep.TablesDeleted, []string{"ext.pq"}) {
		t.Errorf("delete: %+v", rep)
	}
	var tables []catalog.Table
	if err := json.Unmarshal([]byte(inDir(t, data, "catalog", "tables", "ext", "--format", "json")), &tables); err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, tb := range tables {
		state[tb.Name] = tb.Deprecated
	}
	if dep, ok := state["people"]; !ok || !dep {
		t.Errorf("people not deprecated: %v", state)
	}
	if _, ok := state["pq"]; ok {
		t.Errorf("pq not deleted: %v", state)
	}

	// Every run is listed, dry runs marked.
	var runs []crawl.RunReport
	if err := json.Unmarshal([]byte(inDir(t, data, "crawl", "runs", "--name", "sales", "--format", "json")), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 7 || !runs[0].DryRun || runs[2].DryRun || runs[3].FilesRead != 0 {
		t.Errorf("sales runs: %d", len(runs))
	}
	if got := inDir(t, data, "crawl", "runs", "--format", "csv"); strings.Count(got, "\n") != 7+2+2+1 {
		t.Errorf("all runs:\n%s", got)
	}
}

// TestCrawlCLIErrors: bad paths and options fail with one clear line, and
// a crawl over --max-tables writes nothing.
func TestCrawlCLIErrors(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	copyLayout(t, filepath.Join(layoutsDir, "unrelated_folders", "files"), files)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"crawl", "--path", "gs://bucket/x", "--database", "ext"}, `"gs://bucket/x": not a local directory (file:// or a path) or an s3://bucket/prefix URL`},
		{[]string{"crawl", "--path", files}, "--database is required with --path"},
		{[]string{"crawl", "--path", files, "--database", "ext", "--on-delete", "drop"}, `on_delete: "drop" is not one of deprecate, delete, log`},
		{[]string{"crawl", "--name", "nope"}, `no crawler "nope" in the config's crawlers: section`},
		{[]string{"crawl", "--path", files, "--database", "ext", "--max-tables", "1"}, "too many tables: 2 found, at most 1 allowed"},
		{[]string{"catalog", "partitions", "ext"}, `"ext" is not DB.TABLE`},
	} {
		msg := inDirFail(t, dir, tc.args...)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, msg, tc.want)
		}
	}
	if out := inDir(t, dir, "catalog", "databases", "--format", "csv"); strings.Contains(out, "ext") {
		t.Errorf("failed crawl wrote: %s", out)
	}
}

// TestCrawlersConfig runs a crawler saved in the config by name.
func TestCrawlersConfig(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	copyLayout(t, filepath.Join(layoutsDir, "glue_year_partitions", "files"), files)
	cfg := filepath.Join(dir, "c.yml")
	writeText(t, cfg, "crawlers:\n  - name: saved\n    path: file://"+files+"\n    database: ext\n    exclude: [\"year=2017/**\"]\n")
	rep := crawlJSON(t, dir, "--config", cfg, "--name", "saved")
	if !slices.Equal(rep.TablesCreated, []string{"ext.files"}) || rep.PartitionsAdded != 1 || len(rep.Excluded) != 2 {
		t.Errorf("saved crawler: %+v", rep)
	}
	writeText(t, cfg, "crawlers:\n  - name: saved\n    path: gs://b/x\n    database: ext\n")
	if msg := inDirFail(t, dir, "--config", cfg, "crawl", "--name", "saved"); !strings.Contains(msg, "crawlers[0].path") {
		t.Errorf("bad config: %s", msg)
	}
}

// A member similar to its folder's earlier members is not reported as
// merged: the folder is one table only if every member is similar.
func TestRunReportSimilarityWording(t *testing.T) {
	var b bytes.Buffer
	r := crawl.RunReport{Similarity: []layout.SimilarityScore{
		{Dir: "root", Member: "b/", Score: 1, Similar: true},
		{Dir: "root", Member: "c/", Score: 0, Similar: false},
	}}
	if err := writeRunReport(&b, r, "table"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"similarity: root/b 1.00 to the folder's members before it: similar\n",
		"similarity: root/c 0.00 to the folder's members before it: not similar\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "merged") {
		t.Errorf("report says merged:\n%s", out)
	}
}

package layout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, key string
		want         bool
	}{
		{"*.json", "a.json", true},
		{"*.json", "d/a.json", false},
		{"**/*.json", "a.json", true},
		{"**/*.json", "d/e/a.json", true},
		{"**.json", "d/e/a.json", true},
		{"d/**", "d/e/a.json", true},
		{"d", "d/e/a.json", true}, // a folder excludes what is below it
		{"d", "dd/a.json", false},
		{"?.csv", "a.csv", true},
		{"?.csv", "ab.csv", false},
		{"?", "/", false},
		{"[a-c]*.csv", "b1.csv", true},
		{"[a-c]*.csv", "d1.csv", false},
		{"[!a-c]*.csv", "d1.csv", true},
		{"[!a-c]*.csv", "a1.csv", false},
		{"{logs,tmp}/*.json", "tmp/x.json", true},
		{"{logs,tmp}/*.json", "data/x.json", false},
		{"year={2017,201[89]}/**", "year=2019/a.json", true},
		{"year={2017,201[89]}/**", "year=2020/a.json", false},
		{"a.b", "axb", false}, // . is literal
		{`\*.json`, "*.json", true},
		{`\*.json`, "a.json", false},
		{"{a,{b,c}}x", "cx", true},
	}
	for _, c := range cases {
		g, err := CompileGlob(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := g.Match(c.key); got != c.want {
			t.Errorf("Match(%q, %q) = %t, want %t", c.pattern, c.key, got, c.want)
		}
	}
	for _, bad := range []string{"[a-", "{a,b", `x\`, "[]"} {
		if _, err := CompileGlob(bad); err == nil {
			t.Errorf("CompileGlob(%q) accepted", bad)
		}
	}
}

// countingDir counts opened files.
type countingDir struct {
	Dir
	opens atomic.Int64
}

func (c *countingDir) Open(ctx context.Context, key string) (ReaderAtCloser, error) {
	c.opens.Add(1)
	return c.Dir.Open(ctx, key)
}

func writeJSON(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A recrawl with nothing changed opens no file; a changed or new file is
// the only one read; a recrawl from the serialized state does the same.
func TestIncrementalRecrawl(t *testing.T) {
	dir := t.TempDir()
	for i := range 5 {
		writeJSON(t, filepath.Join(dir, fmt.Sprintf("year=%d/a.json", 2015+i)), `{"id":1,"name":"x"}`+"\n")
	}
	writeJSON(t, filepath.Join(dir, "_SUCCESS"), "")
	writeJSON(t, filepath.Join(dir, "year=2015/.a.json.crc"), "crc")
	src := &countingDir{Dir: Dir(dir)}
	opts := CrawlOptions{Layout: Options{Name: "t"}, Workers: 2}
	first, err := Crawl(context.Background(), src, State{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Read != 5 || src.opens.Load() != 5 || len(first.Tables) != 1 || len(first.Tables[0].Partitions) != 5 {
		t.Fatalf("first crawl: read %d, opened %d, %d tables", first.Read, src.opens.Load(), len(first.Tables))
	}

	// The state survives JSON.
	raw, err := json.Marshal(first.State)
	if err != nil {
		t.Fatal(err)
	}
	var state State
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	src.opens.Store(0)
	second, err := Crawl(context.Background(), src, state, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Read != 0 || src.opens.Load() != 0 {
		t.Fatalf("unchanged recrawl read %d files, opened %d", second.Read, src.opens.Load())
	}
	a, _ := json.Marshal(first.Tables)
	b, _ := json.Marshal(second.Tables)
	if string(a) != string(b) {
		t.Fatalf("recrawl from cache differs:\n%s\n%s", a, b)
	}

	// Change one file (new column, new size), add a partition.
	writeJSON(t, filepath.Join(dir, "year=2017/a.json"), `{"id":1,"name":"x","extra":2.5}`+"\n")
	writeJSON(t, filepath.Join(dir, "year=2020/a.json"), `{"id":1,"name":"y"}`+"\n")
	src.opens.Store(0)
	third, err := Crawl(context.Background(), src, second.State, opts)
	if err != nil {
		t.Fatal(err)
	}
	if third.Read != 2 || src.opens.Load() != 2 {
		t.Fatalf("recrawl after 2 changes read %d, opened %d", third.Read, src.opens.Load())
	}
	tb := third.Tables[0]
	if len(tb.Partitions) != 6 || len(tb.Columns) != 3 || tb.Columns[2].Name != "extra" {
		t.Fatalf("after changes: %d partitions, columns %+v", len(tb.Partitions), tb.Columns)
	}

	// Other classification options invalidate the cache.
	opts.Classify.SampleRecords = 7
	src.opens.Store(0)
	fourth, err := Crawl(context.Background(), src, third.State, opts)
	if err != nil || fourth.Read != 6 {
		t.Fatalf("new options: read %d, %v", fourth.Read, err)
	}
}

func TestFingerprintSame(t *testing.T) {
	now := time.Unix(100, 5)
	base := Fingerprint{Size: 10, ModTime: now.UnixNano()}
	cases := []struct {
		a, b Fingerprint
		want bool
	}{
		{base, base, true},
		{base, Fingerprint{Size: 11, ModTime: now.UnixNano()}, false},
		{base, Fingerprint{Size: 10, ModTime: now.UnixNano() + 1}, false},
		{Fingerprint{Size: 10, ETag: "x", ModTime: 1}, Fingerprint{Size: 10, ETag: "x", ModTime: 2}, true}, // ETag wins
		{Fingerprint{Size: 10, ETag: "x"}, Fingerprint{Size: 10, ETag: "y"}, false},
	}
	for _, c := range cases {
		if got := c.a.Same(c.b); got != c.want {
			t.Errorf("%+v.Same(%+v) = %t", c.a, c.b, got)
		}
	}
	s := NewState([]File{{Object: Object{Key: "a", Size: 1, ModTime: now}, Result: classify.Result{Format: classify.JSON}}}, classify.Options{})
	read, cached := s.Plan([]Object{{Key: "a", Size: 1, ModTime: now}, {Key: "b", Size: 1, ModTime: now}}, classify.Options{})
	if len(read) != 1 || read[0].Key != "b" || len(cached) != 1 || cached[0].Result.Format != classify.JSON {
		t.Fatalf("Plan: read %v cached %v", read, cached)
	}
}

// Exceeding MaxTables fails the whole crawl and returns no tables and the
// previous state.
func TestMaxTablesWritesNothing(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "a/x.json"), `{"a":1}`)
	writeJSON(t, filepath.Join(dir, "b/y.json"), `{"b":1}`)
	prev := State{Files: map[string]Entry{"old": {}}}
	res, err := Crawl(context.Background(), Dir(dir), prev, CrawlOptions{Layout: Options{MaxTables: 1}})
	if !errors.Is(err, ErrTooManyTables) || res.Tables != nil || len(res.State.Files) != 1 {
		t.Fatalf("got %d tables, state %d files, err %v", len(res.Tables), len(res.State.Files), err)
	}
}

// BenchmarkCrawl100kJSON crawls 100,000 small JSON files on local disk:
// list, classify every file, group into one partitioned table; then a
// recrawl that reads no file.
func BenchmarkCrawl100kJSON(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("day=%03d/part-%05d.json", i%100, i))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		body := fmt.Sprintf(`{"id":%d,"name":"n%d","score":%d.5,"ts":"2024-01-02T03:04:05Z","tags":["a"]}`+"\n", i, i, i)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opts := CrawlOptions{Layout: Options{Name: "bench"}}
	b.ResetTimer()
	var state State
	for b.Loop() {
		start := time.Now()
		res, err := Crawl(context.Background(), Dir(dir), State{}, opts)
		if err != nil {
			b.Fatal(err)
		}
		full := time.Since(start)
		if len(res.Tables) != 1 || res.Tables[0].Stats.Files != n || res.Read != n {
			b.Fatalf("got %d tables, read %d", len(res.Tables), res.Read)
		}
		state = res.State
		start = time.Now()
		again, err := Crawl(context.Background(), Dir(dir), state, opts)
		if err != nil || again.Read != 0 {
			b.Fatalf("recrawl read %d, %v", again.Read, err)
		}
		re := time.Since(start)
		b.ReportMetric(float64(n)/full.Seconds(), "files/s")
		b.ReportMetric(full.Seconds(), "full_s")
		b.ReportMetric(re.Seconds(), "recrawl_s")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{TableLevel: -1}, {MaxTables: -2}, {Threshold: 1.5}, {Exclude: []string{"[a-"}}} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
		if _, err := Crawl(context.Background(), Dir(t.TempDir()), State{}, CrawlOptions{Layout: o}); err == nil {
			t.Errorf("Crawl accepted %+v", o)
		}
	}
	if err := (Options{Threshold: 0.5, Exclude: []string{"**/*.tmp"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// FuzzCompileGlob: compiling and matching never panic, and a pattern
// without special characters matches itself.
func FuzzCompileGlob(f *testing.F) {
	for _, s := range []string{"**/*.json", "{a,{b,c}}[!x-z]?", `\*`, "[", "{", "a}", "[]]"} {
		f.Add(s, "a/b.json")
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			return
		}
		g.Match(key)
		if !strings.ContainsAny(pattern, `*?[]{}\,`) && pattern != "" && !g.Match(pattern) {
			t.Fatalf("%q does not match itself", pattern)
		}
	})
}

func TestSimilarityDecisions(t *testing.T) {
	res, err := Crawl(context.Background(), Dir("../testdata/layouts/schema_drift/files"), State{}, CrawlOptions{Layout: Options{Name: "d"}})
	if err != nil || len(res.Tables) != 1 {
		t.Fatalf("%d tables, %v", len(res.Tables), err)
	}
	ds := res.Tables[0].Decisions
	// year=2018 adds a column (score 1); year=2019 has code as string
	// against int: 3 of its 4 columns compatible.
	if len(ds) != 2 || ds[0].Member != "year=2018/" || ds[0].Score != 1 || ds[1].Member != "year=2019/" || ds[1].Score != 0.75 || !ds[1].Similar {
		t.Fatalf("decisions %+v", ds)
	}
	res, err = Crawl(context.Background(), Dir("../testdata/layouts/similarity_below/files"), State{}, CrawlOptions{})
	if err != nil || len(res.Report.Similarity) != 1 || res.Report.Similarity[0].Score != 0.6 || res.Report.Similarity[0].Similar {
		t.Fatalf("report %+v, %v", res.Report.Similarity, err)
	}
}

package crawl_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// copyTree copies a testdata layout's files into a new temporary folder.
func copyTree(t *testing.T, layoutCase string) string {
	t.Helper()
	src := filepath.Join("testdata", "layouts", layoutCase, "files")
	dst := t.TempDir()
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
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

type crawler struct {
	t     *testing.T
	store *catalog.Store
	root  string
	opts  crawl.RunOptions
}

func newCrawler(t *testing.T, layoutCase string, opts crawl.RunOptions) *crawler {
	t.Helper()
	dir := t.TempDir()
	store, err := catalog.Open(t.Context(), filepath.Join(dir, "catalog.db"), "file://"+filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	root := copyTree(t, layoutCase)
	if opts.Name == "" {
		opts.Name = "c"
	}
	opts.Location, opts.Database, opts.Dir = "file://"+root, "db", filepath.Join(dir, "crawlers", opts.Name)
	return &crawler{t: t, store: store, root: root, opts: opts}
}

func (c *crawler) run(change func(*crawl.RunOptions)) crawl.RunReport {
	c.t.Helper()
	opts := c.opts
	if change != nil {
		change(&opts)
	}
	rep, err := crawl.Run(c.t.Context(), layout.Dir(c.root), c.store, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("diff:\n%s", strings.Join(rep.Diff, "\n"))
	return rep
}

func (c *crawler) partitions(table string) []string {
	c.t.Helper()
	ps, err := c.store.GetPartitions(c.t.Context(), "db", table, "")
	if err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, strings.Join(p.Values, "/"))
	}
	return out
}

func (c *crawler) table(name string) catalog.Table {
	c.t.Helper()
	tbl, err := c.store.GetTable(c.t.Context(), "db", name)
	if err != nil {
		c.t.Fatal(err)
	}
	return tbl
}

func hasLine(lines []string, prefix string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// TestRunLifecycle follows one crawler over a changing tree: first crawl,
// dry run, unchanged recrawl, a new folder, a schema change (new version,
// and on-change=log), a folder removed.
func TestRunLifecycle(t *testing.T) {
	c := newCrawler(t, "glue_year_partitions", crawl.RunOptions{Layout: layout.Options{Name: "sales"}})

	rep := c.run(nil)
	if !slices.Equal(rep.TablesCreated, []string{"db.sales"}) || rep.PartitionsAdded != 2 || rep.FilesRead != 3 {
		t.Fatalf("first crawl: %+v", rep)
	}
	if got := c.partitions("sales"); !slices.Equal(got, []string{"2017", "2018"}) {
		t.Errorf("partitions = %v", got)
	}
	tbl := c.table("sales")
	if tbl.Properties[catalog.PropCrawler] != "c" || tbl.Version != 1 || tbl.Properties[catalog.PropLastCrawled] == "" {
		t.Errorf("table = %+v", tbl)
	}
	if rep.FilesByFormat["json"] != 3 {
		t.Errorf("files by format = %v", rep.FilesByFormat)
	}

	// Unchanged: nothing read, nothing in the diff but statistics.
	rep = c.run(nil)
	if rep.FilesRead != 0 || rep.FilesSkipped != 3 || len(rep.TablesCreated)+len(rep.TablesUpdated) != 0 ||
		rep.PartitionsAdded+rep.PartitionsRemoved+rep.PartitionsUpdated != 0 || len(rep.Diff) != 0 {
		t.Errorf("unchanged recrawl: read %d skipped %d diff %q", rep.FilesRead, rep.FilesSkipped, rep.Diff)
	}

	// A new folder, dry run first: the diff says it, nothing changes.
	writeFile(t, filepath.Join(c.root, "year=2019", "part-0000.json"),
		`{"id": 5, "item": "cup", "price": 4.5, "ts": "2019-02-01T10:00:00Z"}`+"\n")
	rep = c.run(func(o *crawl.RunOptions) { o.DryRun = true })
	if !rep.DryRun || rep.PartitionsAdded != 1 || !hasLine(rep.Diff, "+ partition db.sales [2019]") {
		t.Errorf("dry run: %+v", rep)
	}
	if got := c.partitions("sales"); len(got) != 2 {
		t.Errorf("dry run wrote partitions: %v", got)
	}
	rep = c.run(nil)
	if rep.FilesRead != 1 || rep.PartitionsAdded != 1 || len(rep.TablesUpdated) != 0 {
		t.Errorf("new folder: read %d, added %d, updated %v", rep.FilesRead, rep.PartitionsAdded, rep.TablesUpdated)
	}
	if got := c.partitions("sales"); !slices.Equal(got, []string{"2017", "2018", "2019"}) {
		t.Errorf("partitions = %v", got)
	}

	// A new column under on-change=log: reported, not applied.
	writeFile(t, filepath.Join(c.root, "year=2019", "part-0001.json"),
		`{"id": 6, "item": "mug", "price": 5, "ts": "2019-03-01T10:00:00Z", "qty": 2}`+"\n")
	rep = c.run(func(o *crawl.RunOptions) { o.OnChange = crawl.OnChangeLog })
	if len(rep.TablesLeft) != 1 || !strings.Contains(rep.TablesLeft[0].Reason, "+column qty int") || len(rep.TablesUpdated) != 0 {
		t.Errorf("on-change=log: %+v", rep.TablesLeft)
	}
	if v := c.table("sales").Version; v != 1 {
		t.Errorf("on-change=log made version %d", v)
	}
	// Under update: a new version, the old one kept.
	rep = c.run(nil)
	if !slices.Equal(rep.TablesUpdated, []string{"db.sales"}) || !hasLine(rep.Diff, "~ table db.sales: version 1 -> 2: +column qty int") {
		t.Errorf("update: %v %q", rep.TablesUpdated, rep.Diff)
	}
	versions, err := c.store.TableVersions(t.Context(), "db", "sales")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || len(versions[0].Columns) == len(versions[1].Columns) {
		t.Errorf("versions = %+v", versions)
	}

	// A partition folder removed.
	if err := os.RemoveAll(filepath.Join(c.root, "year=2017")); err != nil {
		t.Fatal(err)
	}
	rep = c.run(nil)
	if rep.PartitionsRemoved != 1 || !hasLine(rep.Diff, "- partition db.sales [2017]") {
		t.Errorf("removed folder: %+v", rep)
	}
	if got := c.partitions("sales"); !slices.Equal(got, []string{"2018", "2019"}) {
		t.Errorf("partitions = %v", got)
	}

	runs, err := crawl.Runs(c.opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 7 || !runs[2].DryRun || runs[1].FilesRead != 0 {
		t.Errorf("runs: %d", len(runs))
	}
}

// TestRunDeletePolicies removes a table's folder under each policy.
func TestRunDeletePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy     string
		deprecated bool
		gone       bool
	}{
		{crawl.OnDeleteDeprecate, true, false},
		{crawl.OnDeleteDelete, false, true},
		{crawl.OnDeleteLog, false, false},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			c := newCrawler(t, "unrelated_folders", crawl.RunOptions{OnDelete: tc.policy})
			// A third unrelated folder, so that the two left stay apart
			// (one folder left alone would make the include path a table).
			writeFile(t, filepath.Join(c.root, "products", "p.json"), `{"sku": "a1", "stock": 3}`+"\n")
			rep := c.run(nil)
			if !slices.Equal(rep.TablesCreated, []string{"db.customers", "db.orders", "db.products"}) {
				t.Fatalf("created %v", rep.TablesCreated)
			}
			if err := os.RemoveAll(filepath.Join(c.root, "orders")); err != nil {
				t.Fatal(err)
			}
			rep = c.run(nil)
			_, err := c.store.GetTable(t.Context(), "db", "orders")
			if gone := errors.Is(err, catalog.ErrNoSuchTable); gone != tc.gone {
				t.Fatalf("orders gone = %v (%v), want %v", gone, err, tc.gone)
			}
			if !tc.gone && c.table("orders").Deprecated != tc.deprecated {
				t.Errorf("deprecated = %v, want %v", !tc.deprecated, tc.deprecated)
			}
			switch tc.policy {
			case crawl.OnDeleteDeprecate:
				if !slices.Equal(rep.TablesDeprecated, []string{"db.orders"}) {
					t.Errorf("report: %+v", rep)
				}
				// Deprecating twice is no change; files back undeprecate.
				if rep = c.run(nil); len(rep.TablesDeprecated) != 0 {
					t.Errorf("deprecated again: %v", rep.TablesDeprecated)
				}
				writeFile(t, filepath.Join(c.root, "orders", "o1.json"), `{"order_id": 1, "amount": 9.5, "placed": "2024-01-02"}`+"\n")
				c.run(nil)
				if c.table("orders").Deprecated {
					t.Error("still deprecated with its files back")
				}
			case crawl.OnDeleteDelete:
				if !slices.Equal(rep.TablesDeleted, []string{"db.orders"}) {
					t.Errorf("report: %+v", rep)
				}
			case crawl.OnDeleteLog:
				if len(rep.TablesLeft) != 1 || rep.TablesLeft[0].Table != "db.orders" {
					t.Errorf("report: %+v", rep)
				}
			}
			if c.table("customers").Deprecated {
				t.Error("customers deprecated")
			}
		})
	}
}

// TestRunNewFolders: recrawl new-folders reads only files in new folders;
// changes in known folders go unnoticed.
func TestRunNewFolders(t *testing.T) {
	c := newCrawler(t, "glue_year_partitions", crawl.RunOptions{Recrawl: crawl.RecrawlNewFolders, Layout: layout.Options{Name: "sales"}})
	c.run(nil)
	later := time.Now().Add(time.Hour)
	changed := filepath.Join(c.root, "year=2018", "part-0000.json")
	writeFile(t, changed, `{"id": 4, "item": "pen", "price": 1.75, "ts": "2018-01-01T10:00:00Z", "extra": "x"}`+"\n")
	if err := os.Chtimes(changed, later, later); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(c.root, "year=2020", "a.json"), `{"id": 9, "item": "box", "price": 2, "ts": "2020-01-01T00:00:00Z"}`+"\n")
	rep := c.run(nil)
	if rep.FilesRead != 1 || rep.PartitionsAdded != 1 || len(rep.TablesUpdated) != 0 {
		t.Errorf("new-folders: read %d added %d updated %v", rep.FilesRead, rep.PartitionsAdded, rep.TablesUpdated)
	}
	// Everything notices the change.
	rep = c.run(func(o *crawl.RunOptions) { o.Recrawl = crawl.RecrawlEverything })
	if rep.FilesRead != 1 || !slices.Equal(rep.TablesUpdated, []string{"db.sales"}) {
		t.Errorf("everything: read %d updated %v", rep.FilesRead, rep.TablesUpdated)
	}
}

// TestRunTooManyTables: exceeding max tables fails and writes nothing.
func TestRunTooManyTables(t *testing.T) {
	c := newCrawler(t, "unrelated_folders", crawl.RunOptions{Layout: layout.Options{MaxTables: 1}})
	_, err := crawl.Run(t.Context(), layout.Dir(c.root), c.store, c.opts)
	if !errors.Is(err, layout.ErrTooManyTables) {
		t.Fatalf("err = %v", err)
	}
	tables, err := c.store.Tables(t.Context(), "db")
	if err != nil || len(tables) != 0 {
		t.Errorf("tables = %v, %v", tables, err)
	}
	runs, err := crawl.Runs(c.opts.Dir)
	if err != nil || len(runs) != 1 || !strings.Contains(runs[0].Error, "too many tables") {
		t.Errorf("runs = %+v, %v", runs, err)
	}
}

// TestRunOwnership: a table of the same name written by someone else is
// left alone.
func TestRunOwnership(t *testing.T) {
	c := newCrawler(t, "unrelated_folders", crawl.RunOptions{})
	other := catalog.Table{Database: "db", Name: "orders", Format: "json", Location: "/elsewhere",
		Columns: []catalog.Column{{Name: "x", Type: "string"}}}
	if err := c.store.PutTable(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	rep := c.run(nil)
	if !slices.Equal(rep.TablesCreated, []string{"db.customers"}) || len(rep.TablesLeft) != 1 {
		t.Errorf("report: %+v", rep)
	}
	if got := c.table("orders"); got.Location != "/elsewhere" {
		t.Errorf("orders overwritten: %+v", got)
	}
}

// TestRunOptionsValidate names the bad option; only local paths crawl.
func TestRunOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		opts crawl.RunOptions
		want string
	}{
		{crawl.RunOptions{Name: "", Location: "/x", Database: "d"}, "crawler name"},
		{crawl.RunOptions{Name: "n", Location: "s3:///p", Database: "d"}, "not a URL of a bucket"},
		{crawl.RunOptions{Name: "n", Location: "file:", Database: "d"}, "not a local directory"},
		{crawl.RunOptions{Name: "n", Location: "/x", Database: ""}, "empty database"},
		{crawl.RunOptions{Name: "n", Location: "/x", Database: "d", OnChange: "x"}, "on-change"},
		{crawl.RunOptions{Name: "n", Location: "/x", Database: "d", OnDelete: "x"}, "on-delete"},
		{crawl.RunOptions{Name: "n", Location: "/x", Database: "d", Recrawl: "x"}, "recrawl"},
		{crawl.RunOptions{Name: "n", Location: "/x", Database: "d", Layout: layout.Options{Exclude: []string{"[a"}}}, "["},
	} {
		err := tc.opts.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// TestRunLocked: a second run of the same crawler while one holds its
// directory fails with ErrRunning.
func TestRunLocked(t *testing.T) {
	c := newCrawler(t, "unrelated_folders", crawl.RunOptions{})
	hold := crawl.RunOptions{Name: "c", Location: c.opts.Location, Database: "db", Dir: c.opts.Dir}
	release := make(chan struct{})
	started := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		// A source whose listing blocks keeps the first run inside.
		_, err := crawl.Run(t.Context(), blockingSource{Source: layout.Dir(c.root), started: started, release: release}, c.store, hold)
		first <- err
	}()
	<-started
	_, err := crawl.Run(t.Context(), layout.Dir(c.root), c.store, c.opts)
	close(release)
	if !errors.Is(err, crawl.ErrRunning) {
		t.Errorf("err = %v, want ErrRunning", err)
	}
	if err := <-first; err != nil {
		t.Errorf("first run: %v", err)
	}
	// Released: the next run goes ahead.
	if rep := c.run(nil); rep.FilesRead != 0 || len(rep.TablesUnchanged) != 2 {
		t.Errorf("after the lock: %+v", rep)
	}
}

type blockingSource struct {
	layout.Source
	started, release chan struct{}
}

func (b blockingSource) List(ctx context.Context, fn func(layout.Object) error) error {
	close(b.started)
	<-b.release
	return b.Source.List(ctx, fn)
}

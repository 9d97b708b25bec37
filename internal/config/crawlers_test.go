package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrawlers loads a crawlers: section and checks that each bad crawler
// is rejected naming its key.
func TestCrawlers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yml")
	good := `crawlers:
  - name: sales
    path: file:///data/sales
    database: ext
    exclude: ["**/*.tmp", "tmp/**"]
    table_level: 2
    sample: 100
    recrawl: new-folders
    on_change: log
    on_delete: delete
    max_tables: 10
    interval: 5m
`
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Crawler{Name: "sales", Path: "file:///data/sales", Database: "ext", Exclude: []string{"**/*.tmp", "tmp/**"},
		TableLevel: 2, Sample: 100, Recrawl: "new-folders", OnChange: "log", OnDelete: "delete", MaxTables: 10, Interval: 5 * time.Minute}
	if len(c.Crawlers) != 1 || c.Crawlers[0].Name != want.Name || c.Crawlers[0].Interval != want.Interval ||
		c.Crawlers[0].OnDelete != want.OnDelete || len(c.Crawlers[0].Exclude) != 2 {
		t.Errorf("crawlers = %+v", c.Crawlers)
	}

	base := Crawler{Name: "a", Path: "/data", Database: "ext"}
	for _, tc := range []struct {
		change func(*Crawler)
		want   string
	}{
		{func(c *Crawler) { c.Name = "" }, `crawlers[1].name: "" must match`},
		{func(c *Crawler) { c.Name = "ok" }, `crawlers[1].name: "ok" is used by an earlier crawler`},
		{func(c *Crawler) { c.Path = "" }, `crawlers[1].path: must not be empty`},
		{func(c *Crawler) { c.Path = "gs://bucket/x" }, `crawlers[1].path: "gs://bucket/x": not a local directory (file:// or a path) or an s3://bucket/prefix URL`},
		{func(c *Crawler) { c.Database = "Ext" }, `crawlers[1].database: "Ext" must match`},
		{func(c *Crawler) { c.TableLevel = -1 }, `crawlers[1].table_level: -1 must not be negative`},
		{func(c *Crawler) { c.Recrawl = "some" }, `crawlers[1].recrawl: "some" is not one of everything, new-folders`},
		{func(c *Crawler) { c.OnChange = "x" }, `crawlers[1].on_change: "x" is not one of update, log`},
		{func(c *Crawler) { c.OnDelete = "x" }, `crawlers[1].on_delete: "x" is not one of deprecate, delete, log`},
		{func(c *Crawler) { c.MaxTables = -2 }, `crawlers[1].max_tables: -2 must not be negative`},
		{func(c *Crawler) { c.Interval = time.Millisecond }, `crawlers[1].interval: 1ms must be at least 1s`},
		{func(c *Crawler) { c.Exclude = []string{"ok/*", "[a"} }, `crawlers[1].exclude[1]: `},
	} {
		bad := base
		tc.change(&bad)
		cfg := Default()
		cfg.Crawlers = []Crawler{{Name: "ok", Path: "/x", Database: "ext"}, bad}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", bad, err, tc.want)
		}
	}
}

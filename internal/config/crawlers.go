package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// Crawler is a saved crawler (the crawlers: section): a Glue-style crawl
// of the files under Path into Database, run on Interval inside
// streamlake run and by name with streamlake crawl --name. Zero values are
// the defaults of streamlake crawl (recrawl everything, on_change update,
// on_delete deprecate, sample 1000 records).
type Crawler struct {
	Name       string        `yaml:"name"`
	Path       string        `yaml:"path"` // file:// URL, local directory or s3://bucket/prefix
	Database   string        `yaml:"database"`
	Exclude    []string      `yaml:"exclude"`
	TableLevel int           `yaml:"table_level"`
	Sample     int           `yaml:"sample"`
	Recrawl    string        `yaml:"recrawl"`   // everything, new-folders
	OnChange   string        `yaml:"on_change"` // update, log
	OnDelete   string        `yaml:"on_delete"` // deprecate, delete, log
	MaxTables  int           `yaml:"max_tables"`
	Interval   time.Duration `yaml:"interval"` // 0: not scheduled, only run by name
}

var crawlerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidateCrawlers checks the crawlers: section, naming the bad key
// (crawlers[0].path: ...).
func ValidateCrawlers(cs []Crawler) error {
	seen := map[string]bool{}
	for i, c := range cs {
		bad := func(key, format string, args ...any) error {
			return fmt.Errorf("config: crawlers[%d].%s: "+format, append([]any{i, key}, args...)...)
		}
		switch {
		case !crawlerName.MatchString(c.Name):
			return bad("name", "%q must match %s", c.Name, crawlerName)
		case seen[c.Name]:
			return bad("name", "%q is used by an earlier crawler", c.Name)
		case c.Path == "":
			return bad("path", "must not be empty")
		case !localPath(c.Path) && !s3Path(c.Path):
			return bad("path", "%q: not a local directory (file:// or a path) or an s3://bucket/prefix URL", c.Path)
		case !identifier.MatchString(c.Database):
			return bad("database", "%q must match %s", c.Database, identifier)
		case c.TableLevel < 0:
			return bad("table_level", "%d must not be negative", c.TableLevel)
		case c.Sample < 0:
			return bad("sample", "%d must not be negative (0 is 1000 records)", c.Sample)
		case c.MaxTables < 0:
			return bad("max_tables", "%d must not be negative (0 is no limit)", c.MaxTables)
		case !oneOf(c.Recrawl, "", "everything", "new-folders"):
			return bad("recrawl", "%q is not one of everything, new-folders", c.Recrawl)
		case !oneOf(c.OnChange, "", "update", "log"):
			return bad("on_change", "%q is not one of update, log", c.OnChange)
		case !oneOf(c.OnDelete, "", "deprecate", "delete", "log"):
			return bad("on_delete", "%q is not one of deprecate, delete, log", c.OnDelete)
		case c.Interval != 0 && c.Interval < time.Second:
			return bad("interval", "%s must be at least 1s (0 runs the crawler only by name)", c.Interval)
		}
		for j, g := range c.Exclude {
			if _, err := layout.CompileGlob(g); err != nil {
				return bad(fmt.Sprintf("exclude[%d]", j), "%v", err)
			}
		}
		seen[c.Name] = true
	}
	return nil
}

func s3Path(p string) bool {
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "s3" && u.Host != ""
}

func localPath(p string) bool {
	if !strings.Contains(p, "://") && !strings.HasPrefix(p, "file:") {
		return true
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "file" && u.Path != ""
}

package crawl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl/classify"
	"github.com/streamlake/streamlake/internal/crawl/layout"
	"github.com/streamlake/streamlake/internal/dirlock"
)

// Catalog is what Run needs of the catalog; *catalog.Store implements it.
type Catalog interface {
	GetDatabase(ctx context.Context, name string) (catalog.Database, error)
	CreateDatabase(ctx context.Context, d catalog.Database) error
	Tables(ctx context.Context, database string) ([]catalog.Table, error)
	CreateTable(ctx context.Context, t catalog.Table) error
	UpdateTable(ctx context.Context, t catalog.Table) error
	DeleteTable(ctx context.Context, database, name string) error
	GetPartitions(ctx context.Context, database, table, filter string) ([]catalog.Partition, error)
	BatchCreatePartitions(ctx context.Context, database, table string, parts []catalog.Partition) error
	UpdatePartition(ctx context.Context, database, table string, values []string, p catalog.Partition) error
	DeletePartitions(ctx context.Context, database, table string, values [][]string) error
}

// Recrawl policies: what a crawl after the first reads.
const (
	// RecrawlEverything lists every file and reads the new and changed
	// ones (by fingerprint); schemas, partitions and deletions follow.
	RecrawlEverything = "everything"
	// RecrawlNewFolders reads only files in folders the previous crawl did
	// not see; files in known folders are taken as they were (changes and
	// deletions there are not noticed), as Glue's "crawl new folders only".
	RecrawlNewFolders = "new-folders"
)

// Change policies: what a crawl does with a table whose schema changed.
const (
	OnChangeUpdate = "update" // a new table version
	OnChangeLog    = "log"    // leave the table (and its partitions) as it is; report it
)

// Delete policies: what a crawl does with its tables whose files are gone.
const (
	OnDeleteDeprecate = "deprecate" // mark the table deprecated (still queryable by name)
	OnDeleteDelete    = "delete"    // delete the table, its versions and partitions
	OnDeleteLog       = "log"       // leave it; report it
)

// Table properties the crawler sets besides those of ExternalTable.
const (
	// PropFiles is set on a table (unpartitioned) or in a partition's
	// Parameters when its location holds files that are not its own (other
	// tables' files, excluded or unclassified ones): a JSON array of the
	// file paths relative to the location, which queries then read instead
	// of every file under the location.
	PropFiles = "files"
	// PropCSVColumns is the JSON array of a CSV table's column names in
	// file order (partition keys named like a column included), for
	// reading by position.
	PropCSVColumns = "csvColumns"
)

// RunOptions configure Run.
type RunOptions struct {
	// Name is the crawler's name, kept in the crawler property of every
	// table it writes; only its own tables are updated or deleted.
	Name string
	// Location is the include path as a file:// URL, local path or
	// object storage URL (s3://bucket/prefix, its query the bucket's
	// settings: see internal/blob; tables are registered under the URL
	// without the query).
	Location string
	// Database receives the tables; it is created if missing.
	Database string
	// Layout are the grouping options; Name defaults to the last element
	// of Location, Location to Location.
	Layout layout.Options
	// Sample is how many records of each text file the schema is
	// inferred from; 0 is classify.DefaultSampleRecords.
	Sample   int
	Recrawl  string // RecrawlEverything ("") or RecrawlNewFolders
	OnChange string // OnChangeUpdate ("") or OnChangeLog
	OnDelete string // OnDeleteDeprecate ("") , OnDeleteDelete or OnDeleteLog
	// DryRun computes the diff and writes nothing: no catalog change, no
	// state; the report is still saved (marked dry run).
	DryRun bool
	// Dir is where the crawler keeps its state and run reports; "" keeps
	// nothing (every run is a first crawl).
	Dir string
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

var crawlerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Validate checks the options, naming the bad one.
func (o RunOptions) Validate() error {
	switch {
	case !crawlerName.MatchString(o.Name):
		return fmt.Errorf("crawler name %q: must match %s", o.Name, crawlerName)
	case o.Location == "":
		return errors.New("crawler " + o.Name + ": empty path")
	case strings.TrimSpace(o.Database) == "":
		return errors.New("crawler " + o.Name + ": empty database")
	case o.Sample < 0:
		return fmt.Errorf("crawler %s: sample %d < 0", o.Name, o.Sample)
	case !oneOf(o.Recrawl, "", RecrawlEverything, RecrawlNewFolders):
		return fmt.Errorf("crawler %s: recrawl %q is not one of everything, new-folders", o.Name, o.Recrawl)
	case !oneOf(o.OnChange, "", OnChangeUpdate, OnChangeLog):
		return fmt.Errorf("crawler %s: on-change %q is not one of update, log", o.Name, o.OnChange)
	case !oneOf(o.OnDelete, "", OnDeleteDeprecate, OnDeleteDelete, OnDeleteLog):
		return fmt.Errorf("crawler %s: on-delete %q is not one of deprecate, delete, log", o.Name, o.OnDelete)
	}
	if Remote(o.Location) {
		if _, _, err := RemoteLocation(o.Location); err != nil {
			return fmt.Errorf("crawler %s: %w", o.Name, err)
		}
	} else if _, err := LocalPath(o.Location); err != nil {
		return fmt.Errorf("crawler %s: %w", o.Name, err)
	}
	return o.Layout.Validate()
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// LocalPath returns the local directory of a file:// URL or a path. Other
// schemes are an error saying that only local directories can be crawled.
func LocalPath(loc string) (string, error) {
	if !strings.Contains(loc, "://") && !strings.HasPrefix(loc, "file:") {
		return filepath.Abs(loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", loc, err)
	}
	if u.Scheme != "file" || u.Path == "" {
		return "", fmt.Errorf("path %q: not a local directory (file:// or a path)", loc)
	}
	return filepath.Clean(filepath.FromSlash(u.Path)), nil
}

// Run crawls src (the include path opts.Location) as crawler opts.Name:
// it loads the crawler's state from opts.Dir, classifies the files that
// changed since, groups all files into tables, diffs them against the
// crawler's tables in opts.Database and applies the diff under the
// policies (unless DryRun), then saves the state and the run's report.
//
// Tables are keyed by name. A table of that name that this crawler did
// not write is left alone (reported as skipped). A crawl that fails
// (listing, too many tables, ctx) writes nothing to the catalog and keeps
// the previous state; one that fails while applying may have applied part
// of the diff and keeps the previous state, so the next run redoes it
// (every change is idempotent: it converges on the files). Runs of one
// crawler (one Dir) do not overlap: a run while another holds Dir's lock
// fails at once with ErrRunning and saves no report.
func Run(ctx context.Context, src layout.Source, store Catalog, opts RunOptions) (RunReport, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opts.Validate(); err != nil {
		return RunReport{}, err
	}
	fill(&opts)
	rep := RunReport{Crawler: opts.Name, Location: opts.Location, Database: opts.Database, DryRun: opts.DryRun,
		Started: start.UTC(), Policies: Policies{Recrawl: opts.Recrawl, OnChange: opts.OnChange, OnDelete: opts.OnDelete}}
	finish := func(err error) (RunReport, error) {
		rep.Duration = now().Sub(start)
		rep.DurationText = rep.Duration.Round(time.Millisecond).String()
		if err != nil {
			rep.Error = err.Error()
		}
		if opts.Dir != "" {
			if serr := saveReport(opts.Dir, rep); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		return rep, err
	}

	if opts.Dir != "" {
		lock, err := dirlock.Acquire(opts.Dir, "lock")
		if errors.Is(err, dirlock.ErrHeld) {
			err = ErrRunning
		}
		if err != nil {
			return rep, fmt.Errorf("crawler %s: %w", opts.Name, err)
		}
		defer lock.Release()
	}
	prev, err := loadState(opts.Dir)
	if err != nil {
		return finish(err)
	}
	copts := classify.Options{SampleRecords: opts.Sample}
	if opts.Recrawl == RecrawlNewFolders {
		src = knownFolders{Source: src, prev: prev}
	}
	res, err := layout.Crawl(ctx, src, prev, layout.CrawlOptions{Layout: opts.Layout, Classify: copts, Logger: log})
	rep.fromCrawl(res)
	if err != nil {
		return finish(fmt.Errorf("crawler %s: %w", opts.Name, err))
	}
	d, err := diff(ctx, store, opts, res, now().UTC())
	if err != nil {
		return finish(err)
	}
	rep.fromDiff(d)
	if opts.DryRun {
		return finish(nil)
	}
	if err := apply(ctx, store, opts.Database, d, log); err != nil {
		return finish(fmt.Errorf("crawler %s: %w", opts.Name, err))
	}
	if opts.Dir != "" {
		if err := saveState(opts.Dir, res.State); err != nil {
			return finish(err)
		}
	}
	log.Info("crawler done", "stage", "crawl", "crawler", opts.Name, "database", opts.Database, "created", len(rep.TablesCreated),
		"updated", len(rep.TablesUpdated), "deprecated", len(rep.TablesDeprecated), "deleted", len(rep.TablesDeleted),
		"partitions_added", rep.PartitionsAdded, "partitions_removed", rep.PartitionsRemoved,
		"read", rep.FilesRead, "skipped", rep.FilesSkipped)
	return finish(nil)
}

func fill(o *RunOptions) {
	if o.Recrawl == "" {
		o.Recrawl = RecrawlEverything
	}
	if o.OnChange == "" {
		o.OnChange = OnChangeUpdate
	}
	if o.OnDelete == "" {
		o.OnDelete = OnDeleteDeprecate
	}
	if Remote(o.Location) {
		loc, name, _ := RemoteLocation(o.Location)
		if o.Layout.Location == "" {
			o.Layout.Location = loc
		}
		if o.Layout.Name == "" {
			o.Layout.Name = name
		}
		return
	}
	dir, _ := LocalPath(o.Location)
	if o.Layout.Location == "" {
		o.Layout.Location = "file://" + filepath.ToSlash(dir)
	}
	if o.Layout.Name == "" {
		o.Layout.Name = filepath.Base(dir)
	}
}

// knownFolders is a Source for RecrawlNewFolders: files in folders the
// previous state has are listed as the state has them (so they are not
// read again and their deletion goes unnoticed); others as they are.
type knownFolders struct {
	layout.Source
	prev layout.State
}

func (k knownFolders) List(ctx context.Context, fn func(layout.Object) error) error {
	known := map[string]bool{}
	for key := range k.prev.Files {
		known[folder(key)] = true
	}
	for key, e := range k.prev.Files {
		o := layout.Object{Key: key, Size: e.Size, ModTime: time.Unix(0, e.ModTime), ETag: e.ETag}
		if err := fn(o); err != nil {
			return err
		}
	}
	return k.Source.List(ctx, func(o layout.Object) error {
		if known[folder(o.Key)] {
			return nil
		}
		return fn(o)
	})
}

func folder(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i]
	}
	return ""
}

// ErrRunning is returned by Run when another run of the same crawler (same
// Dir), in this process or another, has not finished. (Without flock, on
// non-Unix systems, runs are not locked: the caller must not overlap them.)
var ErrRunning = errors.New("crawler is already running")

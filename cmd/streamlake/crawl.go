package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/crawl/layout"
	"github.com/streamlake/streamlake/internal/query"
)

// crawlFlags are streamlake crawl's flags for a crawl of a path.
type crawlFlags struct {
	path, database, name, recrawl, onChange, onDelete, format string
	exclude                                                   []string
	tableLevel, sample, maxTables                             int
	dryRun                                                    bool
}

func (a *app) crawlCmd() *cobra.Command {
	var f crawlFlags
	cmd := &cobra.Command{
		Use:   "crawl",
		Short: "Crawl files under a path into catalog tables (as a Glue crawler), or the staging area into database raw",
		Long: `With --path (or --name of a crawler in the config's crawlers: section),
crawls the files under a local directory or an s3://bucket/prefix (the
bucket's endpoint, region and path style from the URL's query, or from
storage.warehouse / storage.staging_url) as a Glue crawler does: classifies
them (JSON, CSV/TSV, Parquet, Avro; plain, gzip, zstd, bzip2, snappy), groups
them into tables by folder and schema similarity, types partition keys, and
writes the tables and partitions to --database. Only files that changed since
the crawler's last run (by size and mtime) are read. Prints the run report:
tables created, updated (a new version), deprecated or deleted, partitions
added and removed, files per format, unclassified files, files in tables
that the query engine cannot read (Parquet's Hadoop-framed LZ4, LZO), type conflicts,
similarity decisions and the catalog diff. --dry-run prints the diff and
writes nothing. The crawler's state and every run's report are kept under
<data-dir>/crawlers/<name>/ ('streamlake crawl runs' lists them).

Without --path or --name, registers the staging area as one external JSON
table per topic in database raw (crawl.database).`,
		Example: `  streamlake crawl --path file:///data/sales --database ext
  streamlake crawl --path /data/logs --database ext --exclude '**/*.tmp' --table-level 2 --dry-run
  streamlake crawl --name sales            # a crawler of the config's crawlers: section
  streamlake crawl runs --name sales`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.path == "" && f.name == "" {
				return a.crawlStaging(cmd)
			}
			return a.crawlPath(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", "", "include path to crawl: a file:// URL, a local directory or s3://bucket/prefix")
	fl.StringVar(&f.database, "database", "", "database receiving the tables (required with --path)")
	fl.StringVar(&f.name, "name", "", "crawler name: keeps its state and reports; a crawler of the config when --path is not given (default: the path's last folder)")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "glob of keys to leave out (*, **, ?, [a-z], {a,b}); repeatable")
	fl.IntVar(&f.tableLevel, "table-level", 0, "folder level of tables (the include path is level 1); 0 groups by similarity")
	fl.IntVar(&f.sample, "sample", 0, "records per text file the schema is inferred from (default 1000)")
	fl.StringVar(&f.recrawl, "recrawl", "", "everything (default) or new-folders")
	fl.StringVar(&f.onChange, "on-change", "", "schema change: update (default, a new table version) or log")
	fl.StringVar(&f.onDelete, "on-delete", "", "tables whose files are gone: deprecate (default), delete or log")
	fl.IntVar(&f.maxTables, "max-tables", 0, "fail, writing nothing, if the crawl would make more tables (0: no limit)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the catalog diff and write nothing")
	fl.StringVar(&f.format, "format", "table", "report format: table or json")
	cmd.AddCommand(a.crawlRunsCmd())
	return cmd
}

// crawlStaging is streamlake crawl without --path: the staging crawler.
func (a *app) crawlStaging(cmd *cobra.Command) error {
	if err := a.load(cmd, nil); err != nil {
		return err
	}
	su, err := stagingURL(a.cfg)
	if err != nil {
		return err
	}
	dir, err := stagingLocation(su)
	if err != nil {
		return err
	}
	b, err := sblob.Open(cmd.Context(), su)
	if err != nil {
		return err
	}
	defer b.Close()
	store, err := a.openCatalog(cmd.Context())
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := crawl.Staging(cmd.Context(), b, dir, store, crawl.Options{
		Database: a.cfg.Crawl.Database, SampleSize: a.cfg.Crawl.SampleSize, Logger: a.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "crawled %d staging objects into %d tables %v; %d unclassified\n",
		rep.Objects, len(rep.Tables), rep.Tables, len(rep.Unclassified))
	return nil
}

// crawlPath is streamlake crawl --path or --name.
func (a *app) crawlPath(cmd *cobra.Command, f crawlFlags) error {
	if f.format != "table" && f.format != "json" {
		return fmt.Errorf("--format: %q is not one of table, json", f.format)
	}
	if err := a.load(cmd, nil); err != nil {
		return err
	}
	var c config.Crawler
	if f.path == "" {
		i := slices.IndexFunc(a.cfg.Crawlers, func(c config.Crawler) bool { return c.Name == f.name })
		if i < 0 {
			return fmt.Errorf("crawl: no crawler %q in the config's crawlers: section (give --path to crawl a path)", f.name)
		}
		c = a.cfg.Crawlers[i]
	} else {
		c = config.Crawler{Name: f.name, Path: f.path, Database: f.database}
		if c.Database == "" {
			return fmt.Errorf("crawl: --database is required with --path")
		}
		if c.Name == "" {
			base := ""
			if crawl.Remote(f.path) {
				_, name, err := crawl.RemoteLocation(f.path)
				if err != nil {
					return fmt.Errorf("crawl: --path: %w", err)
				}
				base = name
			} else {
				dir, err := crawl.LocalPath(f.path)
				if err != nil {
					return fmt.Errorf("crawl: --path: %w", err)
				}
				base = filepath.Base(dir)
			}
			c.Name = layout.TableName(base)
		}
	}
	// Flags override the saved crawler.
	fl := cmd.Flags()
	if fl.Changed("exclude") {
		c.Exclude = f.exclude
	}
	set := func(name string, dst *int, v int) {
		if fl.Changed(name) {
			*dst = v
		}
	}
	set("table-level", &c.TableLevel, f.tableLevel)
	set("sample", &c.Sample, f.sample)
	set("max-tables", &c.MaxTables, f.maxTables)
	for name, p := range map[string]*string{"recrawl": &c.Recrawl, "on-change": &c.OnChange, "on-delete": &c.OnDelete, "database": &c.Database} {
		if v, _ := fl.GetString(name); fl.Changed(name) {
			*p = v
		}
	}
	if err := config.ValidateCrawlers([]config.Crawler{c}); err != nil {
		return fmt.Errorf("crawl: %w", err)
	}
	store, err := a.openCatalog(cmd.Context())
	if err != nil {
		return err
	}
	defer store.Close()
	opts := crawlerOptions(a.cfg, c)
	opts.DryRun, opts.Logger = f.dryRun, a.log
	if dir, err := crawl.LocalPath(c.Path); err == nil {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return fmt.Errorf("crawl %s: %s is not a directory", c.Name, c.Path)
		}
	}
	src, closeSrc, err := crawlSource(cmd.Context(), a.cfg, c)
	if err != nil {
		return err
	}
	defer closeSrc()
	rep, err := crawl.Run(cmd.Context(), src, store, opts)
	if err != nil {
		return err
	}
	return writeRunReport(cmd.OutOrStdout(), rep, f.format)
}

// crawlSource is what crawler c lists and reads: its local directory, or
// the objects under its s3:// prefix (the bucket opened with the URL's
// query, or the settings of the configured URLs: see blob.Buckets).
func crawlSource(ctx context.Context, cfg config.Config, c config.Crawler) (layout.Source, func(), error) {
	if !crawl.Remote(c.Path) {
		dir, err := crawl.LocalPath(c.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("crawl %s: %w", c.Name, err)
		}
		return layout.Dir(dir), func() {}, nil
	}
	buckets := sblob.NewBuckets(cfg.Storage.Warehouse, cfg.Storage.StagingURL)
	b, prefix, err := buckets.Open(ctx, c.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("crawl %s: %w", c.Name, err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return crawl.Bucket{Bucket: b, Prefix: prefix}, func() { buckets.Close() }, nil
}

// crawlerOptions are the crawl.RunOptions of a configured crawler.
func crawlerOptions(cfg config.Config, c config.Crawler) crawl.RunOptions {
	return crawl.RunOptions{
		Name: c.Name, Location: c.Path, Database: c.Database, Sample: c.Sample,
		Recrawl: c.Recrawl, OnChange: c.OnChange, OnDelete: c.OnDelete,
		Layout: layout.Options{TableLevel: c.TableLevel, Exclude: c.Exclude, MaxTables: c.MaxTables},
		Dir:    crawlersDir(cfg, c.Name),
	}
}

func crawlersDir(cfg config.Config, name string) string {
	d := filepath.Join(cfg.DataDir, "crawlers")
	if name != "" {
		d = filepath.Join(d, name)
	}
	return d
}

// writeRunReport prints a crawler's report for people (table) or as JSON.
func writeRunReport(w io.Writer, r crawl.RunReport, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	var b strings.Builder
	mode := ""
	if r.DryRun {
		mode = " (dry run: nothing written)"
	}
	fmt.Fprintf(&b, "crawler %s: %s -> database %s%s in %s\n", r.Crawler, r.Location, r.Database, mode, r.DurationText)
	fmt.Fprintf(&b, "policies: recrawl %s, on-change %s, on-delete %s\n", r.Policies.Recrawl, r.Policies.OnChange, r.Policies.OnDelete)
	fmt.Fprintf(&b, "files: %d listed, %d read, %d skipped (unchanged since the last crawl), %d excluded, %d unclassified\n",
		r.FilesListed, r.FilesRead, r.FilesSkipped, len(r.Excluded), len(r.Unclassified))
	formats := make([]string, 0, len(r.FilesByFormat))
	for _, k := range slices.Sorted(maps.Keys(r.FilesByFormat)) {
		formats = append(formats, fmt.Sprintf("%s %d", k, r.FilesByFormat[k]))
	}
	fmt.Fprintf(&b, "files by format: %s\n", strings.Join(formats, ", "))
	list := func(what string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(&b, "tables %s: %s\n", what, strings.Join(names, ", "))
		}
	}
	list("created", r.TablesCreated)
	list("updated", r.TablesUpdated)
	list("deprecated", r.TablesDeprecated)
	list("deleted", r.TablesDeleted)
	for _, n := range r.TablesLeft {
		fmt.Fprintf(&b, "table left as it was: %s: %s\n", n.Table, n.Reason)
	}
	fmt.Fprintf(&b, "partitions: %d added, %d removed, %d updated\n", r.PartitionsAdded, r.PartitionsRemoved, r.PartitionsUpdated)
	for _, u := range r.Unclassified {
		fmt.Fprintf(&b, "unclassified: %s: %s\n", u.Key, u.Reason)
	}
	for _, u := range r.Unreadable {
		fmt.Fprintf(&b, "unreadable here: %s: %s\n", u.Key, u.Reason)
	}
	for _, c := range r.Conflicts {
		fmt.Fprintf(&b, "conflict: %s %s: %s\n", c.Table, c.Key, c.Conflict.String())
	}
	for _, s := range r.Similarity {
		// The score compares a member with the members of its folder
		// before it; a folder is one table only if every member is
		// similar, so "similar" alone does not mean merged.
		verdict := "similar"
		if !s.Similar {
			verdict = "not similar"
		}
		reason := ""
		if s.Reason != "" {
			reason = " (" + s.Reason + ")"
		}
		fmt.Fprintf(&b, "similarity: %s %.2f to the folder's members before it: %s%s\n", path.Join(s.Dir, s.Member), s.Score, verdict, reason)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	if len(r.Diff) == 0 {
		b.WriteString("catalog diff: none\n")
	} else {
		b.WriteString("catalog diff:\n")
		for _, l := range r.Diff {
			b.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (a *app) crawlRunsCmd() *cobra.Command {
	var name, format string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the saved reports of crawler runs, oldest first",
		Example: `  streamlake crawl runs
  streamlake crawl runs --name sales --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.quiet = true
			if _, err := a.loadFormat(cmd, nil, format); err != nil {
				return err
			}
			names := []string{name}
			if name == "" {
				entries, err := os.ReadDir(crawlersDir(a.cfg, ""))
				if err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("crawl runs: %w", err)
				}
				names = names[:0]
				for _, e := range entries {
					if e.IsDir() {
						names = append(names, e.Name())
					}
				}
			}
			var runs []crawl.RunReport
			for _, n := range names {
				rs, err := crawl.Runs(crawlersDir(a.cfg, n))
				if err != nil {
					return err
				}
				runs = append(runs, rs...)
			}
			slices.SortStableFunc(runs, func(x, y crawl.RunReport) int { return x.Started.Compare(y.Started) })
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if runs == nil {
					runs = []crawl.RunReport{}
				}
				return enc.Encode(runs)
			}
			return query.Write(cmd.OutOrStdout(), runsResult(runs), format)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "only this crawler's runs")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	return cmd
}

func runsResult(runs []crawl.RunReport) *query.Result {
	r := &query.Result{
		Columns: []string{"crawler", "started", "duration", "dry_run", "created", "updated", "deprecated", "deleted",
			"partitions_added", "partitions_removed", "files_read", "files_skipped", "unclassified", "error"},
		Types: []string{"VARCHAR", "TIMESTAMPTZ", "VARCHAR", "BOOLEAN", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
			"BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "VARCHAR"},
		Rows: [][]any{},
	}
	for _, x := range runs {
		var errText any
		if x.Error != "" {
			errText = x.Error
		}
		r.Rows = append(r.Rows, []any{x.Crawler, x.Started.UTC(), x.DurationText, x.DryRun,
			int64(len(x.TablesCreated)), int64(len(x.TablesUpdated)), int64(len(x.TablesDeprecated)), int64(len(x.TablesDeleted)),
			int64(x.PartitionsAdded), int64(x.PartitionsRemoved), int64(x.FilesRead), int64(x.FilesSkipped),
			int64(len(x.Unclassified)), errText})
	}
	return r
}

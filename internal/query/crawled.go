package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Properties the crawler (package crawl) sets on the tables it writes,
// repeated here so that this package does not import the crawler.
const (
	propFiles      = "files"      // JSON array of paths relative to the location
	propCSVColumns = "csvColumns" // JSON array of CSV column names in file order
	propDelimiter  = "delimiter"  // CSV
	propQuote      = "quoteChar"  // CSV
	propSkipHeader = "skip.header.line.count"
	propJSONArray  = "jsonArray"
)

// partitionLister is the optional catalog capability crawled tables need:
// the partitions of an external table. *catalog.Store has it.
type partitionLister interface {
	GetPartitions(ctx context.Context, database, table, filter string) ([]catalog.Partition, error)
}

// crawled says whether t is read by crawledView: a table written by a
// crawler, or of a format only crawlers register.
func crawled(t catalog.Table) bool {
	f := strings.ToLower(t.Format)
	return t.Properties[catalog.PropCrawler] != "" || f == "csv" || f == "avro"
}

// crawledView returns the view body of a crawled external table. A
// partitioned table reads the partitions the catalog lists (not the
// folders under its location): each partition is one branch of a UNION
// ALL BY NAME over its files, with the partition values as constants typed
// by the partition keys, so a filter on partition keys is pushed down by
// DuckDB into every branch, folds to false in the branches of other
// partitions and those are never read. The files of a location are every
// regular file below it whose name does not start with . or _ (as Athena
// reads a location), or the crawler's list (PropFiles) when the location
// also holds other files.
//
// Formats: csv (read by position, as Athena does, every value read as text
// and TRY_CAST to the catalog type, so a value that does not fit is NULL;
// files with fewer columns than the table read NULL for the rest), json
// (lines, concatenated or one array; the catalog's columns and types),
// parquet (by name; a missing column is NULL), avro (converted to
// Parquet in the file cache, then as parquet). Compression none, gzip,
// zstd, bzip2 or snappy (converted to zstd in the file cache), or mixed
// (by file name extension, after the conversions). Locations in object
// storage (s3://) are listed there and their files read through the
// cache.
func (e *Engine) crawledView(ctx context.Context, conn *sql.Conn, t catalog.Table, sc *scan) (string, []string, error) {
	name := t.Database + "." + t.Name
	switch strings.ToLower(t.Format) {
	case "csv", "json", "parquet", "avro":
	default:
		return "", nil, fmt.Errorf("query: table %s: format %q cannot be queried (csv, json, parquet and avro can)", name, t.Format)
	}
	data, err := externalColumns(t.Columns, nil)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	// Files DuckDB cannot read are converted in the cache (cache.go).
	tf := tableFormat{format: strings.ToLower(t.Format), compression: strings.ToLower(t.Compression), columns: data}
	format, readCompression := tf.readAs()
	compression, err := duckCompression(format, readCompression)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	loc := t.Location
	if !remote(loc) {
		if loc, err = localPath(t.Location); err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
	}
	root, err := e.readDir(loc)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	keys, err := externalColumns(t.PartitionKeys, nil)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	parts := []catalog.Partition{{Location: t.Location, Parameters: map[string]string{}}}
	if files := t.Properties[propFiles]; files != "" {
		parts[0].Parameters[propFiles] = files
	}
	if len(keys) > 0 {
		pl, ok := e.cat.(partitionLister)
		if !ok {
			return "", nil, fmt.Errorf("query: table %s: the catalog cannot list partitions", name)
		}
		if parts, err = pl.GetPartitions(ctx, t.Database, t.Name, ""); err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
	}
	var listed *listing
	if remote(loc) && len(parts) > 1 {
		// One listing for every partition below the location.
		objs, err := e.remoteObjects(ctx, loc)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
		listed = &listing{loc: loc, files: objs}
	}
	dirs := []string{root}
	if tf.mayConvert() && !remote(loc) && e.opts.Cache != nil {
		dirs = append(dirs, e.opts.Cache.Dir(loc))
	}
	var branches []string
	for _, p := range parts {
		files, pdir, err := e.partitionFiles(ctx, p, listed)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: partition [%s]: %w", name, strings.Join(p.Values, ", "), err)
		}
		if len(files) == 0 {
			continue
		}
		if pd, err := e.readDir(pdir); err == nil && !strings.HasPrefix(pd, root) {
			dirs = append(dirs, pd)
			if tf.mayConvert() && !remote(pdir) && e.opts.Cache != nil {
				dirs = append(dirs, e.opts.Cache.Dir(pdir))
			}
		}
		for _, f := range files {
			sc.add(f.size)
		}
		readPaths, err := e.readable(ctx, tf, files, sc)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
		var consts []string
		for i, k := range keys {
			v := "NULL"
			if i < len(p.Values) {
				v = schema.QuoteString(p.Values[i])
			}
			consts = append(consts, "CAST("+v+" AS "+k.duck+") AS "+schema.QuoteIdent(k.name))
		}
		b, err := crawledBranch(format, compression, t, data, readPaths)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
		branches = append(branches, "SELECT "+strings.Join(append([]string{b.list}, consts...), ", ")+" FROM "+b.from)
	}
	all := append(append([]column(nil), data...), keys...)
	e.log.Debug("query crawled table", "table", name, "partitions", len(parts), "branches", len(branches))
	if len(branches) == 0 {
		if len(all) == 0 {
			return "", nil, fmt.Errorf("query: table %s: no columns and no files under %s", name, loc)
		}
		return emptyView(all), dirs, nil
	}
	union := "(" + strings.Join(branches, "\nUNION ALL BY NAME\n") + ")"
	if format != "parquet" {
		return "SELECT " + projection(all, allPresent(all)) + " FROM " + union, dirs, nil
	}
	present, err := describe(ctx, conn, union)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: read files: %w", name, err)
	}
	return "SELECT " + projection(all, present) + " FROM " + union, dirs, nil
}

type branch struct{ list, from string }

// crawledBranch is the select list and FROM of one partition's files.
func crawledBranch(format, compression string, t catalog.Table, data []column, files []string) (branch, error) {
	switch format {
	case "csv":
		names := make([]string, 0, len(data))
		if s := t.Properties[propCSVColumns]; s != "" {
			if err := json.Unmarshal([]byte(s), &names); err != nil {
				return branch{}, fmt.Errorf("property %s: %w", propCSVColumns, err)
			}
		} else {
			for _, c := range data {
				names = append(names, c.name)
			}
		}
		// Positional names, unique for DuckDB; the data columns pick theirs.
		pos := map[string]string{}
		fileCols := make([]string, len(names))
		for i, n := range names {
			fileCols[i] = fmt.Sprintf("c%d", i)
			if _, ok := pos[strings.ToLower(n)]; !ok {
				pos[strings.ToLower(n)] = fileCols[i]
			}
		}
		list := make([]string, len(data))
		for i, c := range data {
			src, ok := pos[strings.ToLower(c.name)]
			switch {
			case !ok:
				list[i] = "CAST(NULL AS " + c.duck + ") AS " + schema.QuoteIdent(c.name)
			case strings.EqualFold(c.duck, "VARCHAR"):
				list[i] = src + " AS " + schema.QuoteIdent(c.name)
			default:
				list[i] = "TRY_CAST(" + src + " AS " + c.duck + ") AS " + schema.QuoteIdent(c.name)
			}
		}
		types := make([]string, len(fileCols))
		for i, c := range fileCols {
			types[i] = schema.QuoteString(c) + ": 'VARCHAR'"
		}
		delim := t.Properties[propDelimiter]
		if delim == "" {
			delim = ","
		}
		quote := t.Properties[propQuote]
		if quote == "" {
			quote = `"`
		}
		opts := []string{
			"delim = " + schema.QuoteString(delim), "quote = " + schema.QuoteString(quote), "escape = " + schema.QuoteString(quote),
			"header = " + fmt.Sprint(t.Properties[propSkipHeader] == "1"),
			"columns = {" + strings.Join(types, ", ") + "}",
			"auto_detect = false", "null_padding = true", "compression = " + schema.QuoteString(compression),
		}
		if len(list) == 0 {
			return branch{}, errors.New("no columns")
		}
		return branch{list: strings.Join(list, ", "), from: "read_csv(" + schema.StringList(files) + ", " + strings.Join(opts, ", ") + ")"}, nil
	case "json":
		if len(data) == 0 {
			return branch{}, errors.New("no columns")
		}
		jf := "auto"
		if t.Properties[propJSONArray] == "true" {
			jf = "array"
		}
		opts := []string{"format = " + schema.QuoteString(jf), "ignore_errors = true", "compression = " + schema.QuoteString(compression),
			"columns = " + columnsStruct(data)}
		list := make([]string, len(data))
		for i, c := range data {
			list[i] = schema.QuoteIdent(c.name)
		}
		return branch{list: strings.Join(list, ", "), from: "read_json(" + schema.StringList(files) + ", " + strings.Join(opts, ", ") + ")"}, nil
	}
	return branch{list: "*", from: "read_parquet(" + schema.StringList(files) + ", union_by_name = true)"}, nil
}

// duckCompression is DuckDB's compression option for a crawled table's
// compression (none, gzip, zstd, or mixed: by file name).
func duckCompression(format, c string) (string, error) {
	if format == "parquet" {
		return "", nil // inside the file
	}
	switch c {
	case "", "none":
		if format == "json" {
			return "uncompressed", nil
		}
		return "none", nil
	case "gzip", "zstd":
		return c, nil
	case "mixed":
		if format == "json" {
			return "auto_detect", nil
		}
		return "auto", nil
	}
	return "", fmt.Errorf("compression %s cannot be queried: this DuckDB build reads none, gzip and zstd", c)
}

// file is a data file of a crawled table: a local path or a URL (remote),
// and what says whether it changed.
type file struct {
	path string
	size int64
	mod  time.Time
	etag string // remote only, when the storage lists one
}

// partitionFiles returns the files of a partition (or an unpartitioned
// table) and its directory (or location URL). A remote partition's files
// are taken from listed when it holds the partition's location.
func (e *Engine) partitionFiles(ctx context.Context, p catalog.Partition, listed *listing) ([]file, string, error) {
	if remote(p.Location) {
		var rel []string
		if s := p.Parameters[propFiles]; s != "" {
			if err := json.Unmarshal([]byte(s), &rel); err != nil {
				return nil, "", fmt.Errorf("parameter %s: %w", propFiles, err)
			}
		}
		files, err := listed.filesOf(ctx, e, p.Location, rel)
		return files, p.Location, err
	}
	loc, err := localPath(p.Location)
	if err != nil {
		return nil, "", err
	}
	if s := p.Parameters[propFiles]; s != "" {
		var rel []string
		if err := json.Unmarshal([]byte(s), &rel); err != nil {
			return nil, "", fmt.Errorf("parameter %s: %w", propFiles, err)
		}
		var out []file
		for _, r := range rel {
			path := filepath.Join(loc, filepath.FromSlash(r))
			info, err := os.Stat(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // gone since the crawl
			}
			if err != nil {
				return nil, "", err
			}
			out = append(out, file{path: path, size: info.Size(), mod: info.ModTime()})
		}
		return out, loc, nil
	}
	info, err := os.Stat(loc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, loc, nil
	}
	if err != nil {
		return nil, "", err
	}
	if !info.IsDir() {
		return []file{{path: loc, size: info.Size(), mod: info.ModTime()}}, filepath.Dir(loc), nil
	}
	var out []file
	err = filepath.WalkDir(loc, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != loc && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, file{path: path, size: info.Size(), mod: info.ModTime()})
		return nil
	})
	return out, loc, err
}

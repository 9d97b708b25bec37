package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/query/filecache"
)

// Buckets opens the bucket of an object URL (s3://bucket/key) and says
// the object's key; *blob.Buckets (internal/blob) implements it.
type Buckets interface {
	Open(ctx context.Context, rawURL string) (*blob.Bucket, string, error)
}

// ErrNoCache is wrapped by the error of a query that needs the file cache
// (data files in object storage, or in a format DuckDB cannot read) when
// the engine has none (Options.Cache).
var ErrNoCache = errors.New("no local file cache configured")

// remote reports whether loc is a URL of object storage rather than a
// local path or file:// URL.
func remote(loc string) bool {
	i := strings.Index(loc, "://")
	return i > 1 && !strings.EqualFold(loc[:i], "file")
}

// cache returns the engine's file cache and bucket opener, or an error
// wrapping ErrNoCache naming what needed them.
func (e *Engine) cache(what string) (*filecache.Cache, error) {
	if e.opts.Cache == nil {
		return nil, fmt.Errorf("%s: %w", what, ErrNoCache)
	}
	return e.opts.Cache, nil
}

// readDir is the directory DuckDB must be allowed to read for files under
// loc: the local directory, or for object storage the cache's directory
// of loc.
func (e *Engine) readDir(loc string) (string, error) {
	if remote(loc) {
		c, err := e.cache("location " + loc)
		if err != nil {
			return "", err
		}
		return c.Dir(loc), nil
	}
	l, err := localPath(loc)
	if err != nil {
		return "", err
	}
	return dirOf(l), nil
}

// copyKey is the cache key of the copy of an immutable data file: its
// URL and size.
func copyKey(src string, size int64) filecache.Key {
	return filecache.Key{Source: src, Fingerprint: fmt.Sprintf("copy size=%d", size)}
}

// dataFilePath is where DuckDB reads a data file of src: src itself when
// local, else its place in the cache (see fetchAll).
func dataFilePath(c *filecache.Cache, src string, size int64) (string, error) {
	if !remote(src) {
		return localPath(src)
	}
	if c == nil {
		return "", fmt.Errorf("data file %s: %w", src, ErrNoCache)
	}
	return c.Path(copyKey(src, size)), nil
}

// fetchAll makes the remote files of p present in the cache, pinned
// until the query ends (sc releases them).
func (e *Engine) fetchAll(ctx context.Context, p *plan, sc *scan) error {
	var srcs []int
	for i, src := range p.remote {
		if src != "" {
			srcs = append(srcs, i)
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	c, err := e.cache("data file " + p.remote[srcs[0]])
	if err != nil {
		return err
	}
	handles := make([]*filecache.Handle, len(srcs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchWorkers)
	for j, i := range srcs {
		g.Go(func() error {
			h, err := c.Get(gctx, copyKey(p.remote[i], p.sizes[i]), e.fetch(p.remote[i], p.sizes[i]))
			if err != nil {
				return fmt.Errorf("data file %s: %w", p.remote[i], err)
			}
			handles[j] = h
			return nil
		})
	}
	err = g.Wait()
	for _, h := range handles {
		if h != nil {
			sc.pin(h)
		}
	}
	return err
}

// fetchWorkers bounds the concurrent fetches of one query.
const fetchWorkers = 8

// fetch is the fill of a copy of the object at src; size, when not
// negative, is checked.
func (e *Engine) fetch(src string, size int64) filecache.Fill {
	return func(ctx context.Context, w io.Writer) error {
		if e.opts.Buckets == nil {
			return errors.New("no bucket opener configured (Options.Buckets)")
		}
		b, key, err := e.opts.Buckets.Open(ctx, src)
		if err != nil {
			return err
		}
		r, err := b.NewReader(ctx, key, nil)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		defer r.Close()
		n, err := io.Copy(w, r)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if size >= 0 && n != size {
			return fmt.Errorf("read %d bytes, the catalog says %d", n, size)
		}
		return nil
	}
}

// listRemote lists the files of a crawled table's location (or
// partition) in object storage: every object under loc/ whose path below
// loc has no segment starting with . or _, or only those of rel when it
// is not nil (the crawler's list of the location's own files).
func (e *Engine) listRemote(ctx context.Context, loc string, rel []string) ([]file, error) {
	objs, err := e.remoteObjects(ctx, loc)
	if err != nil {
		return nil, err
	}
	return under(objs, loc, rel), nil
}

// remoteObjects lists every object under loc/ (a URL) as a file.
func (e *Engine) remoteObjects(ctx context.Context, loc string) ([]file, error) {
	if e.opts.Buckets == nil {
		return nil, fmt.Errorf("location %s: no bucket opener configured (Options.Buckets)", loc)
	}
	b, prefix, err := e.opts.Buckets.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	objs, err := sblob.ListAll(ctx, b, &blob.ListOptions{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", loc, err)
	}
	base := strings.TrimSuffix(loc, "/") + "/"
	out := make([]file, 0, len(objs))
	for _, o := range objs {
		r := strings.TrimPrefix(o.Key, prefix)
		if o.IsDir || r == "" || strings.HasSuffix(r, "/") {
			continue
		}
		f := file{path: base + (&url.URL{Path: r}).EscapedPath(), size: o.Size, mod: o.ModTime}
		if len(o.MD5) > 0 {
			f.etag = fmt.Sprintf("%x", o.MD5)
		}
		out = append(out, f)
	}
	return out, nil
}

// under returns the files of objs below loc (a URL) whose path below it
// has no segment starting with . or _, and only those of rel when it is
// not nil.
func under(objs []file, loc string, rel []string) []file {
	var want map[string]bool
	if rel != nil {
		want = make(map[string]bool, len(rel))
		for _, r := range rel {
			want[r] = true
		}
	}
	base := strings.TrimSuffix(loc, "/") + "/"
	var out []file
	for _, f := range objs {
		if !strings.HasPrefix(f.path, base) {
			continue
		}
		r, err := url.PathUnescape(strings.TrimPrefix(f.path, base))
		if err != nil || hiddenKey(r) || (want != nil && !want[r]) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// listing is the objects under a remote table location, listed once for
// all its partitions.
type listing struct {
	loc   string
	files []file
}

// filesOf returns the files of the partition at loc: from l when loc is
// below l's location, else listed.
func (l *listing) filesOf(ctx context.Context, e *Engine, loc string, rel []string) ([]file, error) {
	if l != nil && strings.HasPrefix(strings.TrimSuffix(loc, "/")+"/", strings.TrimSuffix(l.loc, "/")+"/") {
		return under(l.files, loc, rel), nil
	}
	return e.listRemote(ctx, loc, rel)
}

// remoteExternalFiles fetches into the cache the files of an external
// table in object storage (as localExternalFiles finds them on disk: with
// partition keys k1..kn those in location/k1=*/.../kn=*/, else every file
// below; with one of exts) and returns their paths there, pinned until the
// query ends, and the cache directory they are in. The paths keep the
// source's folders, so DuckDB reads Hive partition values from them.
func (e *Engine) remoteExternalFiles(ctx context.Context, location string, keys, exts []string, sc *scan) ([]string, []string, error) {
	c, err := e.cache("location " + location)
	if err != nil {
		return nil, nil, err
	}
	all, err := e.listRemote(ctx, location, nil)
	if err != nil {
		return nil, nil, err
	}
	base := strings.TrimSuffix(location, "/") + "/"
	var files []file
	for _, f := range all {
		rel, err := url.PathUnescape(strings.TrimPrefix(f.path, base))
		if err != nil || !hasSuffix(rel, exts) {
			continue
		}
		dirs := strings.Split(rel, "/")
		dirs = dirs[:len(dirs)-1]
		if len(keys) > 0 && (len(dirs) != len(keys) || !hivePath(dirs, keys)) {
			continue
		}
		files = append(files, f)
		sc.add(f.size)
	}
	e.log.Debug("query external files", "location", location, "files", len(files))
	if len(files) == 0 {
		return nil, nil, nil
	}
	paths, err := e.readable(ctx, tableFormat{}, files, sc)
	if err != nil {
		return nil, nil, err
	}
	return paths, []string{c.Dir(location)}, nil
}

// hivePath says whether folders are k1=.../.../kn=... for keys.
func hivePath(folders, keys []string) bool {
	for i, k := range keys {
		if !strings.HasPrefix(folders[i], k+"=") {
			return false
		}
	}
	return true
}

func hiddenKey(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "_") {
			return true
		}
	}
	return false
}

// fingerprint says which content of f a cache entry holds: size and ETag
// (an object's MD5) or modification time.
func (f file) fingerprint() string {
	if f.etag != "" {
		return fmt.Sprintf("size=%d etag=%s", f.size, f.etag)
	}
	return fmt.Sprintf("size=%d mtime=%d", f.size, f.mod.UnixNano())
}

// readable returns the files of a crawled table as DuckDB reads them:
// remote files fetched into the cache, and files DuckDB cannot read
// (Avro; bzip2 or snappy text) converted there (see convert.go). Each
// entry is pinned until the query ends. The paths keep their order.
func (e *Engine) readable(ctx context.Context, t tableFormat, files []file, sc *scan) ([]string, error) {
	out := make([]string, len(files))
	var need []int
	for i, f := range files {
		out[i] = f.path
		switch {
		case remote(f.path):
			need = append(need, i)
		case t.mayConvert():
			conv, err := t.conversion(f.path)
			if err != nil {
				return nil, fmt.Errorf("file %s: %w", f.path, err)
			}
			if conv != nil {
				need = append(need, i)
			}
		}
	}
	if len(need) == 0 {
		return out, nil
	}
	what := "file " + files[need[0]].path
	if !remote(files[need[0]].path) {
		what += " (format " + t.format + ", compression " + t.compression + ")"
	}
	c, err := e.cache(what)
	if err != nil {
		return nil, err
	}
	handles := make([]*filecache.Handle, len(need))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchWorkers)
	for j, i := range need {
		g.Go(func() error {
			path, h, err := e.readableFile(gctx, c, t, files[i])
			if err != nil {
				return fmt.Errorf("file %s: %w", files[i].path, err)
			}
			handles[j], out[i] = h, path
			return nil
		})
	}
	err = g.Wait()
	for _, h := range handles {
		if h != nil {
			sc.pin(h)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readableFile is the file DuckDB reads for f and the cache entry holding
// it (nil for f itself): f's copy, or its conversion (made from the local
// file or from its copy).
func (e *Engine) readableFile(ctx context.Context, c *filecache.Cache, t tableFormat, f file) (string, *filecache.Handle, error) {
	local := f.path
	var cp *filecache.Handle
	if remote(f.path) {
		var err error
		cp, err = c.Get(ctx, filecache.Key{Source: f.path, Fingerprint: "copy " + f.fingerprint()}, e.fetch(f.path, f.size))
		if err != nil {
			return "", nil, err
		}
		local = cp.Path
	}
	conv, err := t.conversion(local)
	if err != nil || conv == nil {
		if err != nil && cp != nil {
			cp.Release()
			cp = nil
		}
		if cp != nil {
			return cp.Path, cp, nil
		}
		return local, nil, err
	}
	if cp != nil {
		defer cp.Release() // the conversion is what DuckDB reads
	}
	key := filecache.Key{Source: f.path, Fingerprint: conv.fingerprint + " " + f.fingerprint(), Suffix: conv.suffix}
	start := time.Now()
	h, err := c.Get(ctx, key, func(ctx context.Context, w io.Writer) error {
		src, err := os.Open(local)
		if err != nil {
			return err
		}
		defer src.Close()
		return conv.run(ctx, src, w)
	})
	if err != nil {
		return "", nil, err
	}
	e.log.Debug("query file readable", "file", f.path, "as", filepath.Base(h.Path), "elapsed", time.Since(start))
	return h.Path, h, nil
}

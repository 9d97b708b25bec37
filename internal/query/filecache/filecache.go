// Package filecache keeps local copies of files the query engine cannot
// read where they are: data files in object storage (s3://), and files
// converted to a format DuckDB reads (Avro to Parquet, bzip2 or snappy
// text to zstd). It is a directory under the data directory, bounded in
// bytes, evicting the least recently used entries.
//
// Contract:
//   - An entry is named by a Key: the source URL and a fingerprint of
//     the source (size, ETag or modification time, and for a conversion
//     what it converts to). Sources are immutable under their
//     fingerprint, so an entry never goes stale: a changed source has a
//     new fingerprint, hence a new entry, and the old one ages out.
//   - An entry's path mirrors its source URL (<dir>/<scheme>/<host>/<path>/
//     <hash>-<name>), so the entries of a table lie under the directory
//     that Dir returns for the table's location, and DuckDB can be
//     restricted to it.
//   - Get returns a pinned Handle: a pinned entry is never evicted, so a
//     running query's files stay. Past the bound, unpinned entries are
//     evicted, least recently used first; when pinned entries alone
//     exceed the bound the cache stays above it until they are released.
//   - Concurrent Gets of one key fill it once; the others wait for it.
//     An entry is written to a temporary file in its directory and
//     renamed into place, so a path handed out always holds a whole file.
//   - Entries on disk from an earlier process are indexed on first use
//     (least recently used by modification time), so a cache outlives
//     the process. Processes sharing a directory do not coordinate
//     eviction: one may delete an entry another is about to use, which
//     the other then fills again.
//
// A Cache is safe for concurrent use.
package filecache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBytes bounds a cache when Config.MaxBytes is 0: 10 GiB.
const DefaultMaxBytes = 10 << 30

// tmpPrefix starts the names of files being filled; they are not entries.
const tmpPrefix = ".tmp-"

// Config configures a Cache.
type Config struct {
	// Dir is the cache directory; it is created when first needed.
	Dir string
	// MaxBytes bounds the bytes of the entries; 0 is DefaultMaxBytes.
	MaxBytes int64
	// Registerer receives the metrics (streamlake_query_cache_*); nil
	// does not register them.
	Registerer prometheus.Registerer
	// Logger receives fills and evictions at debug level; nil discards.
	Logger *slog.Logger
}

// Key names an entry: the source's URL (or local path) and a fingerprint
// of its content and of the conversion. Suffix ends the entry's file
// name (".parquet", ".zst"; "" keeps the source's name).
type Key struct {
	Source      string
	Fingerprint string
	Suffix      string
}

// Cache is a bounded directory of files. The zero value is not usable;
// see New.
type Cache struct {
	dir string
	max int64
	log *slog.Logger
	m   metrics

	loadOnce sync.Once
	loadErr  error

	mu      sync.Mutex
	entries map[string]*entry // by path
	lru     list.List         // of *entry, most recently used first; ready entries only
	bytes   int64
}

type entry struct {
	path  string
	size  int64
	pins  int
	ready chan struct{} // closed once filled (or failed: err)
	err   error
	elem  *list.Element // in lru once ready
}

// New returns a cache over cfg.Dir. It does no I/O until first used.
func New(cfg Config) *Cache {
	c := &Cache{dir: filepath.Clean(cfg.Dir), max: cfg.MaxBytes, log: cfg.Logger, entries: map[string]*entry{}}
	if c.max <= 0 {
		c.max = DefaultMaxBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.m = newMetrics(c, cfg.Registerer)
	return c
}

// MaxBytes is the cache's bound.
func (c *Cache) MaxBytes() int64 { return c.max }

// Dir returns the directory under which the entries of sources below
// location (a URL or a local path) lie, with a trailing separator.
func (c *Cache) Dir(location string) string {
	return strings.TrimSuffix(filepath.Join(c.dir, mirror(location)), string(filepath.Separator)) + string(filepath.Separator)
}

// Path returns the path of k's entry (whether or not it is present).
func (c *Cache) Path(k Key) string {
	sum := sha256.Sum256([]byte(k.Source + "\x00" + k.Fingerprint + "\x00" + k.Suffix))
	rel := mirror(k.Source)
	dir, name := filepath.Split(rel)
	name = strings.TrimPrefix(name, ".")
	if len(name) > 160 {
		name = name[len(name)-160:]
	}
	return filepath.Join(c.dir, dir, hex.EncodeToString(sum[:8])+"-"+name+k.Suffix)
}

// mirror maps a URL (or a local path) to a relative path: scheme, host,
// then the path's segments, each escaped so that none is empty, "." or
// "..", and none holds a glob character DuckDB would expand.
func mirror(source string) string {
	scheme, host, p := "file", "", source
	if u, err := url.Parse(source); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		scheme, host, p = u.Scheme, u.Host, u.Path
	} else {
		if abs, err := filepath.Abs(source); err == nil {
			p = filepath.ToSlash(abs)
		}
	}
	segs := []string{escape(scheme)}
	if host != "" {
		segs = append(segs, escape(host))
	}
	for _, s := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		segs = append(segs, escape(s))
	}
	return filepath.Join(segs...)
}

func escape(seg string) string {
	switch seg {
	case "":
		return "%"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(seg)
}

// Handle is a pinned entry: its file stays until Release.
type Handle struct {
	// Path is the entry's local file.
	Path string
	c    *Cache
	e    *entry
	once sync.Once
}

// Release unpins the entry; it may be evicted from then on. It is safe to
// call more than once.
func (h *Handle) Release() {
	h.once.Do(func() {
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		h.e.pins--
		h.c.evict()
	})
}

// Fill writes an entry's content to w. It reads the source as of the
// key's fingerprint.
type Fill func(ctx context.Context, w io.Writer) error

// Get returns k's entry, pinned, filling it with fill when it is absent.
// A fill that fails leaves no entry; its error is returned to every Get
// that waited for it.
func (c *Cache) Get(ctx context.Context, k Key, fill Fill) (*Handle, error) {
	c.loadOnce.Do(c.load)
	if c.loadErr != nil {
		return nil, c.loadErr
	}
	path := c.Path(k)
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		e := c.entries[path]
		if e == nil {
			e = &entry{path: path, pins: 1, ready: make(chan struct{})}
			c.entries[path] = e
			c.mu.Unlock()
			c.m.misses.Inc()
			if err := c.fill(ctx, e, fill); err != nil {
				return nil, err
			}
			return &Handle{Path: path, c: c, e: e}, nil
		}
		e.pins++
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.unpin(e)
			return nil, ctx.Err()
		}
		if e.err != nil {
			c.unpin(e)
			// The filler's ctx may have ended while ours goes on: try again.
			if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
				if ctx.Err() == nil && attempt < 3 {
					continue
				}
			}
			return nil, e.err
		}
		if _, err := os.Stat(path); err != nil {
			// Deleted behind our back (another process evicted it).
			c.drop(e)
			if attempt < 3 {
				continue
			}
			return nil, fmt.Errorf("cache %s: %w", path, err)
		}
		c.m.hits.Inc()
		return &Handle{Path: path, c: c, e: e}, nil
	}
}

func (c *Cache) unpin(e *entry) {
	c.mu.Lock()
	e.pins--
	c.mu.Unlock()
}

// drop unpins e and forgets it.
func (c *Cache) drop(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.pins--
	if c.entries[e.path] == e {
		c.forget(e)
	}
}

func (c *Cache) forget(e *entry) {
	delete(c.entries, e.path)
	if e.elem != nil {
		c.lru.Remove(e.elem)
		e.elem = nil
		c.bytes -= e.size
	}
}

// fill runs fill into a temporary file, renames it to e's path and makes
// e ready, or removes e and fails.
func (c *Cache) fill(ctx context.Context, e *entry, fill Fill) error {
	start := time.Now()
	size, err := c.write(ctx, e.path, fill)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		e.err = err
		e.pins--
		delete(c.entries, e.path)
		close(e.ready)
		return err
	}
	e.size = size
	e.elem = c.lru.PushFront(e)
	c.bytes += size
	close(e.ready)
	c.m.filled.Add(float64(size))
	c.log.Debug("cache fill", "path", e.path, "bytes", size, "elapsed", time.Since(start))
	c.evict()
	return nil
}

func (c *Cache) write(ctx context.Context, path string, fill Fill) (int64, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	cw := &countWriter{w: f}
	err = fill(ctx, cw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// evict removes unpinned entries, least recently used first, while the
// cache is over its bound. c.mu is held.
func (c *Cache) evict() {
	for el := c.lru.Back(); el != nil && c.bytes > c.max; {
		e := el.Value.(*entry)
		prev := el.Prev()
		if e.pins == 0 {
			c.forget(e)
			if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("query cache: evict failed", "stage", "query", "path", e.path, "err", err)
			}
			c.m.evictions.Inc()
			c.log.Debug("cache evict", "path", e.path, "bytes", e.size)
		}
		el = prev
	}
}

// load indexes the entries an earlier process left, removes its
// temporary files, and evicts past the bound.
func (c *Cache) load() {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		c.loadErr = fmt.Errorf("cache: %w", err)
		return
	}
	type found struct {
		path  string
		size  int64
		mtime time.Time
	}
	var all []found
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			os.Remove(path)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		all = append(all, found{path, info.Size(), info.ModTime()})
		return nil
	})
	if err != nil {
		c.loadErr = fmt.Errorf("cache: index %s: %w", c.dir, err)
		return
	}
	// Oldest first, each pushed to the front: the newest ends first.
	slices.SortFunc(all, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range all {
		e := &entry{path: f.path, size: f.size, ready: closed}
		e.elem = c.lru.PushFront(e)
		c.entries[f.path] = e
		c.bytes += f.size
	}
	c.evict()
}

var closed = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Stats is a snapshot of the cache's content.
type Stats struct {
	Bytes   int64
	Entries int
}

// Stats returns the bytes and number of the entries present.
func (c *Cache) Stats() Stats {
	c.loadOnce.Do(c.load)
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Bytes: c.bytes, Entries: c.lru.Len()}
}

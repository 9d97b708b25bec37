package filecache_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamlake/streamlake/internal/query/filecache"
)

func content(s string) filecache.Fill {
	return func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func get(t *testing.T, c *filecache.Cache, src, body string) *filecache.Handle {
	t.Helper()
	h, err := c.Get(t.Context(), filecache.Key{Source: src, Fingerprint: "1"}, content(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(h.Path)
	if err != nil || string(got) != body {
		t.Fatalf("%s: read %q, %v; want %q", h.Path, got, err, body)
	}
	return h
}

// TestBoundEvictsLeastRecentlyUsed fills a 10-byte cache with 4-byte
// entries: the least recently used unpinned one goes, pinned ones stay,
// and the metrics count it all.
func TestBoundEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	c := filecache.New(filecache.Config{Dir: dir, MaxBytes: 10, Registerer: reg})
	a := get(t, c, "s3://b/t/a.parquet", "aaaa")
	a.Release()
	b := get(t, c, "s3://b/t/b.parquet", "bbbb")
	b.Release()
	a = get(t, c, "s3://b/t/a.parquet", "aaaa") // a is now the most recent
	a.Release()
	pinned := get(t, c, "s3://b/t/c.parquet", "cccc") // 12 bytes: b goes
	if _, err := os.Stat(b.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("b not evicted: %v", err)
	}
	if _, err := os.Stat(a.Path); err != nil {
		t.Errorf("a evicted: %v", err)
	}
	if s := c.Stats(); s.Bytes != 8 || s.Entries != 2 {
		t.Errorf("stats %+v, want 8 bytes in 2 entries", s)
	}
	// A pinned entry outlives the bound: d and then a go, c stays.
	d := get(t, c, "s3://b/t/d.parquet", "dddddddd")
	if _, err := os.Stat(pinned.Path); err != nil {
		t.Errorf("pinned c evicted: %v", err)
	}
	if _, err := os.Stat(a.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a not evicted: %v", err)
	}
	if s := c.Stats(); s.Bytes != 12 {
		t.Errorf("stats %+v, want 12 bytes (pinned c and d over the bound)", s)
	}
	pinned.Release()
	d.Release()
	if s := c.Stats(); s.Bytes > 10 {
		t.Errorf("stats %+v after release, want within 10 bytes", s)
	}
	for name, want := range map[string]float64{
		"streamlake_query_cache_hits_total":      1,
		"streamlake_query_cache_misses_total":    4,
		"streamlake_query_cache_evictions_total": 3,
		"streamlake_query_cache_limit_bytes":     10,
	} {
		if got := gather(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := gather(t, reg, "streamlake_query_cache_bytes"); got != float64(c.Stats().Bytes) {
		t.Errorf("bytes gauge %v, stats %+v", got, c.Stats())
	}
}

func gather(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestConcurrentGetsFillOnce: 16 concurrent Gets of one key run one fill.
func TestConcurrentGetsFillOnce(t *testing.T) {
	c := filecache.New(filecache.Config{Dir: t.TempDir()})
	var fills atomic.Int32
	release := make(chan struct{})
	fill := func(_ context.Context, w io.Writer) error {
		fills.Add(1)
		<-release
		_, err := io.WriteString(w, "data")
		return err
	}
	var wg sync.WaitGroup
	paths := make([]string, 16)
	for i := range paths {
		wg.Go(func() {
			h, err := c.Get(t.Context(), filecache.Key{Source: "s3://b/x", Fingerprint: "7"}, fill)
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Release()
			paths[i] = h.Path
		})
	}
	close(release)
	wg.Wait()
	if n := fills.Load(); n != 1 {
		t.Errorf("%d fills, want 1", n)
	}
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Errorf("paths differ: %s, %s", p, paths[0])
		}
	}
}

// TestFailedFillLeavesNothing: a failing fill leaves no file (not even a
// temporary one) and no entry; the next Get fills again.
func TestFailedFillLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	c := filecache.New(filecache.Config{Dir: dir})
	k := filecache.Key{Source: "s3://b/t/x.parquet", Fingerprint: "1"}
	_, err := c.Get(t.Context(), k, func(_ context.Context, w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("connection reset")
	})
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v", err)
	}
	if n := countFiles(t, dir); n != 0 {
		t.Errorf("%d files left after a failed fill", n)
	}
	h := get(t, c, "s3://b/t/x.parquet", "whole")
	h.Release()
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestReopenKeepsEntries: a new Cache over the same directory finds the
// entries (a hit, no fill) and evicts past its own, smaller bound.
func TestReopenKeepsEntries(t *testing.T) {
	dir := t.TempDir()
	c := filecache.New(filecache.Config{Dir: dir})
	a := get(t, c, "s3://b/t/a", "aaaa")
	a.Release()
	get(t, c, "s3://b/t/b", "bbbb").Release()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(a.Path, old, old); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "s3", ".tmp-123"), []byte("junk"), 0o644)

	c2 := filecache.New(filecache.Config{Dir: dir, MaxBytes: 6})
	if s := c2.Stats(); s.Entries != 1 || s.Bytes != 4 {
		t.Errorf("reopened stats %+v, want the newest entry only", s)
	}
	h, err := c2.Get(t.Context(), filecache.Key{Source: "s3://b/t/b", Fingerprint: "1"}, func(context.Context, io.Writer) error {
		return errors.New("filled again")
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Release()
	if n := countFiles(t, dir); n != 1 {
		t.Errorf("%d files, want 1 (temporary file removed, a evicted)", n)
	}
}

// TestPathsMirrorSources: entries lie under Dir of their location, and
// no source escapes the cache directory.
func TestPathsMirrorSources(t *testing.T) {
	dir := t.TempDir()
	c := filecache.New(filecache.Config{Dir: dir})
	for _, src := range []string{"s3://b/lake/t/data/ts_day=2026-01-01/f.parquet", "s3://b/../../etc/passwd", "s3://b/a//b/./c[1]*.json", "/data/t/x.avro"} {
		p := c.Path(filecache.Key{Source: src, Fingerprint: "f"})
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) || strings.Contains(p, "..") || strings.ContainsAny(p, "*[") {
			t.Errorf("%s -> %s", src, p)
		}
	}
	if p, d := c.Path(filecache.Key{Source: "s3://b/lake/t/data/f.parquet"}), c.Dir("s3://b/lake/t"); !strings.HasPrefix(p, d) {
		t.Errorf("%s not under %s", p, d)
	}
	if p, d := c.Path(filecache.Key{Source: "s3://b/lake/t2/f.parquet"}), c.Dir("s3://b/lake/t"); strings.HasPrefix(p, d) {
		t.Errorf("%s under %s", p, d)
	}
	if a, b := c.Path(filecache.Key{Source: "s3://b/x", Fingerprint: "1"}), c.Path(filecache.Key{Source: "s3://b/x", Fingerprint: "2"}); a == b {
		t.Errorf("fingerprints share a path: %s", a)
	}
}

package query_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/blob/blobtest"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/query/filecache"
)

// countingS3 is a real S3 server (versitygw) behind a proxy on 127.0.0.1
// that counts the GETs of Parquet objects: what the query cache must
// spare.
type countingS3 struct {
	*blobtest.S3
	endpoint string // the proxy
	gets     atomic.Int64
}

func startCountingS3(t *testing.T, buckets ...string) *countingS3 {
	t.Helper()
	s := &countingS3{S3: blobtest.StartS3(t)}
	for _, b := range buckets {
		s.MakeBucket(b)
	}
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".parquet") {
			s.gets.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.endpoint = srv.URL
	return s
}

func (s *countingS3) bucketURL(bucket, prefix string) string {
	return "s3://" + bucket + "/" + prefix + "?endpoint=" + s.endpoint + "&use_path_style=true&region=" + blobtest.Region
}

// TestS3LakeThroughCache: an Iceberg table whose warehouse is on a real S3
// server (versitygw) is queried through the file cache: the first query
// fetches each data file once, the second is served from the cache (hit
// metric up, no GET), concurrent queries on a cold cache fetch each file
// once, and a bound smaller than the files evicts once queries release
// them.
func TestS3LakeThroughCache(t *testing.T) {
	ctx := t.Context()
	s3 := startCountingS3(t, "lake")
	warehouse := s3.bucketURL("lake", "wh")
	dir := t.TempDir()
	store, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), warehouse)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tbl := createEvents(t, store, "events")
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"},
		{"id": 2, "name": "b", "ts": "2026-11-22T11:30:00Z"},
		{"id": 3, "name": null, "ts": "2026-11-22T12:00:00Z"}]`)
	tbl = appendJSON(ctx, t, tbl, `[{"id": 4, "name": "d", "ts": "2026-11-23T00:00:00Z"}, {"id": 5, "name": "e", "ts": "2026-11-23T23:59:59Z"}]`)
	if loc := tbl.Location(); !strings.HasPrefix(loc, "s3://lake/wh/") {
		t.Fatalf("table location %s, want under s3://lake/wh/", loc)
	}
	files := s3.AWS("s3", "ls", "--recursive", "s3://lake/wh/")
	if n := strings.Count(files, ".parquet"); n != 3 {
		t.Fatalf("%d data files in the bucket, want 3:\n%s", n, files)
	}
	gets := s3.gets.Load() // the appends' own reads, if any

	buckets := sblob.NewBuckets(warehouse)
	defer buckets.Close()
	newCachedEngine := func(cacheDir string, max int64) (*query.Engine, *filecache.Cache, *prometheus.Registry) {
		reg := prometheus.NewRegistry()
		c := filecache.New(filecache.Config{Dir: cacheDir, MaxBytes: max, Registerer: reg})
		e := query.New(store, query.Options{Threads: 1, Cache: c, Buckets: buckets, Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		t.Cleanup(e.Close)
		return e, c, reg
	}
	check := func(e *query.Engine) {
		t.Helper()
		res, err := e.Query(ctx, `SELECT count(*) AS n, sum(id) AS s, count(name) AS named FROM lake.events`)
		if err != nil {
			t.Fatal(err)
		}
		r := res.Rows[0]
		if r[0] != int64(5) || r[1].(interface{ String() string }).String() != "15" || r[2] != int64(4) {
			t.Fatalf("rows %v, want 5, 15, 4", res.Rows)
		}
	}

	cacheDir := filepath.Join(dir, "cache", "query")
	e, c, reg := newCachedEngine(cacheDir, filecache.DefaultMaxBytes)
	check(e)
	if got := s3.gets.Load() - gets; got != 3 {
		t.Errorf("first query: %d GETs of data files, want 3", got)
	}
	if s := c.Stats(); s.Entries != 3 {
		t.Errorf("cache %+v, want 3 entries", s)
	}
	if n := countFiles(t, filepath.Join(cacheDir, "s3", "lake", "wh"), ".parquet"); n != 3 {
		t.Errorf("%d cached data files under the table's mirror, want 3", n)
	}
	check(e)
	if got := s3.gets.Load() - gets; got != 3 {
		t.Errorf("second query: %d GETs in all, want still 3", got)
	}
	if hits, misses := testutil.ToFloat64(counter(t, reg, "streamlake_query_cache_hits_total")), testutil.ToFloat64(counter(t, reg, "streamlake_query_cache_misses_total")); hits != 3 || misses != 3 {
		t.Errorf("hits %v misses %v, want 3 and 3", hits, misses)
	}
	total := c.Stats().Bytes

	// Concurrent queries on a cold cache fetch each file once.
	gets = s3.gets.Load()
	e2, _, _ := newCachedEngine(filepath.Join(dir, "cold"), filecache.DefaultMaxBytes)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { check(e2) })
	}
	wg.Wait()
	if got := s3.gets.Load() - gets; got != 3 {
		t.Errorf("4 concurrent queries on a cold cache: %d GETs, want 3", got)
	}

	// A bound below the files' total: a query still reads them all (they
	// are pinned while it runs), then the cache evicts down to the bound.
	gets = s3.gets.Load()
	e3, c3, reg3 := newCachedEngine(filepath.Join(dir, "small"), total/2)
	check(e3)
	if s := c3.Stats(); s.Bytes > total/2 || s.Entries >= 3 {
		t.Errorf("after the query: cache %+v, want at most %d bytes", s, total/2)
	}
	if ev := testutil.ToFloat64(counter(t, reg3, "streamlake_query_cache_evictions_total")); ev < 1 {
		t.Errorf("evictions %v, want at least 1", ev)
	}
	if got := testutil.ToFloat64(counter(t, reg3, "streamlake_query_cache_bytes")); got != float64(c3.Stats().Bytes) {
		t.Errorf("bytes gauge %v, cache %+v", got, c3.Stats())
	}
	check(e3) // refetches what was evicted
	if got := s3.gets.Load() - gets; got <= 3 {
		t.Errorf("%d GETs for two queries through a small cache, want more than 3 (evicted files fetched again)", got)
	}
}

// counter finds a registered collector by metric name.
func counter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			v := m.GetCounter().GetValue()
			if m.Gauge != nil {
				v = m.GetGauge().GetValue()
			}
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name})
			g.Set(v)
			return g
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func countFiles(t *testing.T, dir, suffix string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, suffix) {
			n++
		}
		return nil
	})
	return n
}

// TestAvroNeedsTheCache: a crawled Avro table is read through the cache's
// conversion; an engine without a cache says so (ErrNoCache) rather than
// failing in DuckDB.
func TestAvroNeedsTheCache(t *testing.T) {
	ctx := t.Context()
	store, dir := openCatalog(t)
	if err := store.CreateDatabase(ctx, catalog.Database{Name: "ext"}); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../crawl/testdata/layouts/real_files/files/avro/full.avro")
	if err != nil {
		t.Fatal(err)
	}
	loc := filepath.Join(dir, "files", "avro")
	os.MkdirAll(loc, 0o755)
	os.WriteFile(filepath.Join(loc, "full.avro"), src, 0o644)
	if err := store.PutTable(ctx, catalog.Table{Database: "ext", Name: "avro", Type: catalog.External, Format: "avro",
		Location: loc, Properties: map[string]string{catalog.PropCrawler: "test"},
		Columns: []catalog.Column{{Name: "enum", Type: "string"}, {Name: "map", Type: "map<string,int>"}, {Name: "missing", Type: "bigint"}}}); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT "enum", "map"['key2'] AS k2, missing FROM ext.avro`
	if _, err := newEngine(t, store).Query(ctx, q); !errors.Is(err, query.ErrNoCache) {
		t.Fatalf("without a cache: err = %v, want ErrNoCache", err)
	}
	c := filecache.New(filecache.Config{Dir: filepath.Join(dir, "cache")})
	e := query.New(store, query.Options{Threads: 1, Cache: c})
	defer e.Close()
	res, err := e.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "C" || res.Rows[0][1] != int32(2) || res.Rows[0][2] != nil {
		t.Errorf("rows %v, want [C 2 <nil>]", res.Rows)
	}
	// The DuckDB of a query may read the referenced table's directory in
	// the cache, not the rest of the cache.
	conv, _ := filepath.Glob(filepath.Join(c.Dir(loc), "*.parquet"))
	if len(conv) != 1 {
		t.Fatalf("conversions in %s: %v", c.Dir(loc), conv)
	}
	other := filepath.Join(dir, "cache", "s3", "other", "x.parquet")
	os.MkdirAll(filepath.Dir(other), 0o755)
	body, _ := os.ReadFile(conv[0])
	os.WriteFile(other, body, 0o644)
	for path, ok := range map[string]bool{conv[0]: true, other: false} {
		_, err := e.Query(ctx, "SELECT count(*) FROM ext.avro, read_parquet('"+path+"')")
		if (err == nil) != ok {
			t.Errorf("read %s along with ext.avro: err = %v", path, err)
		}
	}
}

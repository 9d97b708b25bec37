package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/blob/blobtest"
	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/produce"
)

// cachedFiles maps the files under dir with suffix to their modification
// times.
func cachedFiles(t *testing.T, dir, suffix string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, suffix) {
			if info, err := d.Info(); err == nil {
				out[p] = info.ModTime()
			}
		}
		return nil
	})
	return out
}

// TestS3LakeAndCrawlCLI runs the pipeline with staging and the lake on a
// real S3 server (versitygw): the ETL commits to an s3:// warehouse, the
// staging crawler registers raw.<topic> over the staging bucket,
// `query` reads the lake through the file cache (the second query reads
// the same cached files, none fetched again), and `crawl --path s3://...`
// catalogs CSV (Hive partitions) and Avro objects that `query` then reads
// through the cache (the Avro converted to Parquet).
func TestS3LakeAndCrawlCLI(t *testing.T) {
	s3 := blobtest.StartS3(t)
	for _, b := range []string{"staging", "lake", "files"} {
		s3.MakeBucket(b)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s3.yml")
	warehouse := "s3://lake/wh?endpoint=" + s3.Endpoint + "&use_path_style=true&region=" + blobtest.Region
	writeText(t, cfg, "storage:\n  staging_url: "+s3.BucketURL("staging")+"\n  warehouse: "+warehouse+"\n")

	br, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "kafka"), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	sum, err := produce.Run(context.Background(), produce.Config{Brokers: []string{br.Addr()}, Topic: "orders.v1",
		Dataset: produce.DatasetOrders, Records: 1500, Seed: 3})
	if err != nil || sum.Records != 1500 {
		t.Fatalf("produce: %v %+v", err, sum)
	}
	data := filepath.Join(dir, "data")
	inDir(t, data, "run", "--config", cfg, "--brokers", br.Addr(), "--topics", "orders.v1", "--exit-when-idle",
		"--metrics-listen", "", "--log-level", "warn")
	if objs := s3.AWS("s3", "ls", "--recursive", "s3://lake/wh/"); strings.Count(objs, ".parquet") == 0 {
		t.Fatalf("no data files in the s3 warehouse:\n%s", objs)
	}
	q := func(sql string) string {
		t.Helper()
		return inDir(t, data, "query", "--config", cfg, "--format", "csv", sql)
	}
	if got := q("SELECT count(*) AS n, count(DISTINCT id) AS ids FROM lake.orders_v1"); got != "n,ids\n1500,1500" {
		t.Fatalf("lake on s3:\n%s", got)
	}
	// The staging crawler registered raw.orders_v1 over the staging bucket.
	if got := q("SELECT count(*) AS n, count(DISTINCT p) AS parts FROM raw.orders_v1"); got != "n,parts\n1500,2" {
		t.Errorf("raw staging table on s3:\n%s", got)
	}
	cache := filepath.Join(data, "cache", "query")
	first := cachedFiles(t, filepath.Join(cache, "s3", "lake", "wh"), ".parquet")
	if len(first) == 0 {
		t.Fatalf("no cached data files under %s", cache)
	}
	if got := q("SELECT sum(CASE WHEN total >= 0 THEN 1 ELSE 0 END) AS n FROM lake.orders_v1"); got != "n\n1500" {
		t.Fatalf("second query:\n%s", got)
	}
	second := cachedFiles(t, filepath.Join(cache, "s3", "lake", "wh"), ".parquet")
	if len(second) != len(first) {
		t.Errorf("cached data files %d, then %d", len(first), len(second))
	}
	for p, m := range first {
		if !second[p].Equal(m) {
			t.Errorf("%s fetched again (mtime %s, then %s)", p, m, second[p])
		}
	}

	// Maintenance on the s3 lake (compaction, snapshot expiry, orphan
	// removal) leaves the same rows, read through the cache.
	inDir(t, data, "compact", "--config", cfg, "--log-level", "warn")
	if got := q("SELECT count(*) AS n, count(DISTINCT id) AS ids FROM lake.orders_v1"); got != "n,ids\n1500,1500" {
		t.Fatalf("lake on s3 after compaction:\n%s", got)
	}

	// Crawl objects in S3: Hive-partitioned JSON and Avro (hamba/avro).
	for _, f := range []struct{ src, key string }{
		{filepath.Join(layoutsDir, "glue_year_partitions", "files"), "sales"},
		{filepath.Join(layoutsDir, "real_files", "files", "avro"), "avro"},
	} {
		s3.AWS("s3", "cp", "--recursive", f.src, "s3://files/ext/"+f.key)
	}
	rep := crawlJSON(t, data, "--config", cfg, "--path", "s3://files/ext/sales", "--database", "ext")
	if len(rep.TablesCreated) != 1 || rep.PartitionsAdded != 2 {
		t.Fatalf("s3 crawl: %+v", rep)
	}
	if got := q("SELECT count(*) AS n, sum(CASE WHEN year = 2018 THEN 1 ELSE 0 END) AS y2018 FROM ext.sales"); got != "n,y2018\n4,1" {
		t.Errorf("crawled s3 table:\n%s", got)
	}
	if n := len(cachedFiles(t, filepath.Join(cache, "s3", "files", "ext", "sales"), "")); n != 3 {
		t.Errorf("%d cached files of ext.sales, want 3", n)
	}
	rep = crawlJSON(t, data, "--config", cfg, "--path", "s3://files/ext/avro", "--database", "ext")
	if rep.FilesByFormat["avro"] != 3 {
		t.Fatalf("s3 avro crawl: %+v", rep)
	}
	avroDir := t.TempDir()
	copyLayout(t, filepath.Join(layoutsDir, "real_files", "files", "avro"), avroDir)
	got := q(`SELECT count(*) AS n, count(DISTINCT "enum") AS enums, min("enum") AS e, min(nullable) AS nl,
		min("record"."int") AS i, min("record"."string") AS s, min("record"."bool") AS b, min("map"['key3']) AS k3,
		min(strings[2]) AS s2, min(longs[5]) AS l5, min(hex("fixed")) AS fx FROM ext.avro`)
	if want := hambaFullWant(t, avroDir); got != want {
		t.Errorf("avro on s3:\n%s\nwant\n%s", got, want)
	}
}

package crawl_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/stage"
)

type env struct {
	ctx     context.Context
	dir     string // the bucket's root directory
	bucket  *blob.Bucket
	store   *catalog.Store
	engine  *query.Engine
	logger  *slog.Logger
	objects int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	root := t.TempDir()
	dir := filepath.Join(root, "staging")
	// Default fileblob options: it also writes .attrs sidecar files, which
	// listings hide and queries must ignore.
	bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{CreateDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	store, err := catalog.Open(ctx, filepath.Join(root, "catalog.db"),
		(&url.URL{Scheme: "file", Path: filepath.Join(root, "lake")}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &env{ctx: ctx, dir: dir, bucket: bucket, store: store, logger: log,
		engine: query.New(store, query.Options{Logger: log, Threads: 1})}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// put writes one staging object holding recs, named as ingest names it.
func (e *env) put(t *testing.T, recs ...stage.Record) {
	t.Helper()
	var raw []byte
	for i := range recs {
		raw = stage.AppendEnvelope(raw, &recs[i])
	}
	name := stage.ObjectName(recs[0].Topic, recs[0].Partition, recs[0].Offset, recs[0].Timestamp)
	if err := e.bucket.WriteAll(e.ctx, name, stage.Compress(nil, raw), nil); err != nil {
		t.Fatal(err)
	}
	e.objects++
}

func (e *env) query(t *testing.T, sql string) [][]any {
	t.Helper()
	res, err := e.engine.Query(e.ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

var (
	day1 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

func rec(topic string, p int32, off int64, ts time.Time, value string) stage.Record {
	r := stage.Record{Topic: topic, Partition: p, Offset: off, Timestamp: ts, Key: []byte("k")}
	if value != "" {
		r.Value = []byte(value)
	}
	return r
}

// writeTopics writes two topics: orders.v1 (7 records in 3 objects, JSON
// objects and one non-JSON, one non-object and one empty value) and Clicks
// (3 records, no JSON object), plus keys that are not staging objects.
func writeTopics(t *testing.T, e *env) {
	const orders = "orders.v1"
	e.put(t,
		rec(orders, 0, 0, day1, `{"id": 1, "amount": 1.5, "customer": {"name": "ann"}}`),
		rec(orders, 0, 1, day1, `{"id": 2, "amount": 2}`),
		rec(orders, 0, 2, day1, `not json`),
	)
	e.put(t,
		rec(orders, 0, 3, day2, `{"id": 3, "tags": ["a"]}`),
		rec(orders, 0, 4, day2, `42`),
	)
	e.put(t,
		rec(orders, 1, 0, day2, `{"id": 2, "amount": 3}`),
		rec(orders, 1, 1, day2, ``), // tombstone
	)
	e.put(t,
		rec("Clicks", 0, 0, day2, `plain text`),
		rec("Clicks", 0, 1, day2, `"json string"`),
		rec("Clicks", 0, 2, day2, `[1, 2]`),
	)
	// Not staging objects, and not under the tables' partition directories.
	e.putRaw(t, "README.txt", "orders.v1/_tmp/00000000000000000000.ndjson.zst",
		"orders.v1/dt=2026-11-22/hr=10/p=0/00000000000000000009.ndjson.zst.tmp")
}

func (e *env) putRaw(t *testing.T, keys ...string) {
	t.Helper()
	for _, key := range keys {
		if err := e.bucket.WriteAll(e.ctx, key, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStaging(t *testing.T) {
	e := newEnv(t)
	writeTopics(t, e)

	rep, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"raw.clicks", "raw.orders_v1"}; !slices.Equal(rep.Tables, want) {
		t.Errorf("tables = %v, want %v", rep.Tables, want)
	}
	if rep.Objects != e.objects {
		t.Errorf("objects = %d, want %d", rep.Objects, e.objects)
	}
	wantUnclassified := []string{
		"README.txt",
		"orders.v1/_tmp/00000000000000000000.ndjson.zst",
		"orders.v1/dt=2026-11-22/hr=10/p=0/00000000000000000009.ndjson.zst.tmp",
	}
	if !slices.Equal(rep.Unclassified, wantUnclassified) {
		t.Errorf("unclassified = %v, want %v", rep.Unclassified, wantUnclassified)
	}

	tbl, err := e.store.Table(e.ctx, "raw", "orders_v1")
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Type != catalog.External || tbl.Format != "json" || tbl.Compression != "zstd" ||
		tbl.Location != filepath.Join(e.dir, "orders.v1") {
		t.Errorf("table = %+v", tbl)
	}
	var names []string
	for _, c := range tbl.Columns {
		names = append(names, c.Name)
	}
	wantNames := []string{"topic", "partition", "offset", "timestamp", "key", "key_b64", "headers", "value", "value_text", "value_b64"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("columns = %v, want %v", names, wantNames)
	}
	if got, want := tbl.Columns[7].Type, "struct<amount:double,id:bigint,tags:array<string>,customer:struct<name:string>>"; got != want {
		t.Errorf("value type = %s, want %s", got, want)
	}
	if got, want := tbl.Columns[6].DuckDB, `STRUCT("key" VARCHAR, "value" VARCHAR, "value_b64" VARCHAR)[]`; got != want {
		t.Errorf("headers type = %s, want %s", got, want)
	}
	for k, want := range map[string]string{
		crawl.PropRecordCount: "7", crawl.PropRecordCountExact: "true", crawl.PropObjectCount: "3",
		crawl.PropClassification: "json", crawl.PropSampledRecords: "7",
	} {
		if got := tbl.Properties[k]; got != want {
			t.Errorf("property %s = %q, want %q", k, got, want)
		}
	}
	if _, err := time.Parse(time.RFC3339, tbl.Properties[crawl.PropLastCrawled]); err != nil {
		t.Errorf("lastCrawled: %v", err)
	}
	if tbl.Properties[crawl.PropSizeBytes] == "0" {
		t.Error("sizeBytes = 0")
	}
	clicks, err := e.store.Table(e.ctx, "raw", "clicks")
	if err != nil {
		t.Fatal(err)
	}
	if got := clicks.Columns[7]; got.Type != "string" || got.DuckDB != "VARCHAR" {
		t.Errorf("clicks value = %+v, want string", got)
	}

	// The registered tables are queryable.
	rows := e.query(t, `SELECT count(*), count(DISTINCT value.id), count(value_text), sum(value.amount) FROM raw.orders_v1`)
	if got, want := rows[0][:3], []any{int64(7), int64(3), int64(1)}; !slices.Equal(got, want) {
		t.Errorf("orders counts = %v, want %v", got, want)
	}
	if rows[0][3] != 6.5 {
		t.Errorf("sum(amount) = %v, want 6.5", rows[0][3])
	}
	rows = e.query(t, `SELECT count(*), count(DISTINCT p), min(hr) FROM raw.orders_v1 WHERE dt = DATE '2026-11-22'`)
	if got, want := rows[0], []any{int64(4), int64(2), int32(10)}; !slices.Equal(got, want) {
		t.Errorf("day 2 = %v, want %v", got, want)
	}
	rows = e.query(t, `SELECT value.customer.name, "timestamp" FROM raw.orders_v1 WHERE value.id = 1`)
	if len(rows) != 1 || rows[0][0] != "ann" || !rows[0][1].(time.Time).Equal(day1) {
		t.Errorf("customer = %v", rows)
	}
	rows = e.query(t, `SELECT count(*), count(value), count(value_text) FROM raw.clicks`)
	if got, want := rows[0], []any{int64(3), int64(2), int64(1)}; !slices.Equal(got, want) {
		t.Errorf("clicks = %v, want %v", got, want)
	}
}

func TestStagingSample(t *testing.T) {
	e := newEnv(t)
	writeTopics(t, e)

	// One envelope: the newest object (p=1 of day 2) alone gives the schema,
	// and the record count is an estimate from it.
	if _, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{SampleSize: 1, Database: "sampled", Logger: e.logger}); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.Table(e.ctx, "sampled", "orders_v1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tbl.Columns[7].Type, "struct<amount:bigint,id:bigint>"; got != want {
		t.Errorf("value type = %s, want %s", got, want)
	}
	for k, want := range map[string]string{
		crawl.PropRecordCount: "6", crawl.PropRecordCountExact: "false", crawl.PropSampledRecords: "1",
	} {
		if got := tbl.Properties[k]; got != want {
			t.Errorf("property %s = %q, want %q", k, got, want)
		}
	}
	// Values outside the sampled schema read as NULL; no row is lost.
	rows := e.query(t, `SELECT count(*), count(value.amount), count(DISTINCT value.id) FROM sampled.orders_v1`)
	if got := rows[0][0]; got != int64(7) {
		t.Errorf("count = %v, want 7", got)
	}
	if got := rows[0][2]; got != int64(3) {
		t.Errorf("distinct ids = %v, want 3", got)
	}
	// 1.5 read as the sampled BIGINT is cast (to 2), not NULL.
	if got := rows[0][1]; got != int64(3) {
		t.Errorf("amounts = %v, want 3", got)
	}
}

func TestStagingFieldNames(t *testing.T) {
	e := newEnv(t)
	e.put(t,
		rec("odd", 0, 0, day2, `{"Id": 1, "": "empty", "a b": {"X": 1, "x": 2.5}}`),
		rec("odd", 0, 1, day2, `{"id": 2, "a b": {"x": 3}}`),
	)
	if _, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger}); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.Table(e.ctx, "raw", "odd")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tbl.Columns[7].DuckDB, `STRUCT("Id" BIGINT, "a b" STRUCT("X" DOUBLE))`; got != want {
		t.Errorf("value type = %s, want %s", got, want)
	}
	rows := e.query(t, `SELECT count(*) FROM raw.odd`)
	if rows[0][0] != int64(2) {
		t.Errorf("count = %v, want 2", rows[0][0])
	}
	// DuckDB matches JSON keys case-sensitively: the variants merged into
	// a field read as NULL. This documents the limitation.
	rows = e.query(t, `SELECT value.Id, value."a b".X FROM raw.odd ORDER BY "offset"`)
	if got := fmt.Sprint(rows); got != "[[1 1] [<nil> <nil>]]" {
		t.Errorf("case-folded fields read as %s", got)
	}
}

// Keys shaped like staging objects but with partition values a query could
// not read, or no offset, are not staging objects.
func TestStagingUnclassified(t *testing.T) {
	e := newEnv(t)
	e.put(t, rec("t", 0, 7, day2, `{"a": 1}`))
	bad := []string{
		"t/dt=2026-11-22/hr=10/p=0/not-an-offset.ndjson.zst",
		"t/dt=2026-11-22/hr=24/p=0/00000000000000000000.ndjson.zst",
		"t/dt=2026-13-45/hr=00/p=0/00000000000000000000.ndjson.zst",
		"t/dt=2026-11-22/hr=10/p=-1/00000000000000000000.ndjson.zst",
		"t/dt=2026-11-22/hr=10/00000000000000000000.ndjson.zst",
	}
	e.putRaw(t, bad...)
	rep, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(bad)
	if rep.Objects != 1 || !slices.Equal(rep.Unclassified, bad) || !slices.Equal(rep.Tables, []string{"raw.t"}) {
		t.Errorf("report = %+v, want 1 object, table raw.t, unclassified %v", rep, bad)
	}
}

// A corrupt object is left out of the sample; the crawl goes on.
func TestStagingCorruptObject(t *testing.T) {
	e := newEnv(t)
	e.put(t, rec("t", 0, 0, day1, `{"a": 1}`))
	e.putRaw(t, stage.ObjectName("t", 0, 5, day2)) // not zstd
	rep, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects != 2 {
		t.Errorf("objects = %d, want 2", rep.Objects)
	}
	tbl, err := e.store.Table(e.ctx, "raw", "t")
	if err != nil {
		t.Fatal(err)
	}
	if got := tbl.Columns[7].Type; got != "struct<a:bigint>" {
		t.Errorf("value type = %s", got)
	}
	if got := tbl.Properties[crawl.PropRecordCountExact]; got != "false" {
		t.Errorf("recordCountExact = %s, want false (one object unread)", got)
	}
}

// Topics whose table names collide: the first in sorted order wins.
func TestStagingNameCollision(t *testing.T) {
	e := newEnv(t)
	e.put(t, rec("a_b", 0, 0, day2, `{"x": 1}`))
	e.put(t, rec("a.b", 0, 0, day2, `{"y": 1}`))
	rep, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Tables, []string{"raw.a_b"}) || !slices.Equal(rep.Unclassified, []string{"a_b/"}) {
		t.Errorf("report = %+v", rep)
	}
	tbl, err := e.store.Table(e.ctx, "raw", "a_b")
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Location != filepath.Join(e.dir, "a.b") {
		t.Errorf("location = %s, want topic a.b's", tbl.Location)
	}
}

// The staging crawl registers each topic's dt/hr/p folders as partitions
// with their object counts and sizes, as a Glue crawler would: new folders
// are added, a grown one updated, and one whose objects are all gone
// (staging retention) removed.
func TestStagingPartitions(t *testing.T) {
	e := newEnv(t)
	writeTopics(t, e)
	crawlOnce := func() {
		t.Helper()
		if _, err := crawl.Staging(e.ctx, e.bucket, e.dir, e.store, crawl.Options{Logger: e.logger}); err != nil {
			t.Fatal(err)
		}
	}
	parts := func() string {
		t.Helper()
		ps, err := e.store.GetPartitions(e.ctx, "raw", "orders_v1", "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s:%d:%s", strings.Join(p.Values, "/"), p.Stats.ObjectCount,
				strings.TrimPrefix(p.Location, e.dir)))
		}
		return strings.Join(out, " ")
	}
	crawlOnce()
	want := "2026-11-21/9/0:1:/orders.v1/dt=2026-11-21/hr=09/p=0 2026-11-22/10/0:1:/orders.v1/dt=2026-11-22/hr=10/p=0 2026-11-22/10/1:1:/orders.v1/dt=2026-11-22/hr=10/p=1"
	if got := parts(); got != want {
		t.Fatalf("partitions\n%s\nwant\n%s", got, want)
	}
	// A second object in one folder; the first day's folder gone.
	e.put(t, rec("orders.v1", 1, 2, day2, `{"id": 9}`))
	first := stage.ObjectName("orders.v1", 0, 0, day1)
	if err := e.bucket.Delete(e.ctx, first); err != nil {
		t.Fatal(err)
	}
	crawlOnce()
	want = "2026-11-22/10/0:1:/orders.v1/dt=2026-11-22/hr=10/p=0 2026-11-22/10/1:2:/orders.v1/dt=2026-11-22/hr=10/p=1"
	if got := parts(); got != want {
		t.Fatalf("partitions after changes\n%s\nwant\n%s", got, want)
	}
	if got := fmt.Sprint(e.query(t, `SHOW PARTITIONS raw.orders_v1`)); got != "[[dt=2026-11-22/hr=10/p=0] [dt=2026-11-22/hr=10/p=1]]" {
		t.Errorf("SHOW PARTITIONS = %s", got)
	}
}

// racingRegistrar is the catalog as another crawl changes it first: just
// before this crawl creates or deletes partitions, the other one does the
// same.
type racingRegistrar struct {
	*catalog.Store
	raced int
}

func (r *racingRegistrar) BatchCreatePartitions(ctx context.Context, db, table string, parts []catalog.Partition) error {
	if r.raced == 0 {
		r.raced++
		if err := r.Store.BatchCreatePartitions(ctx, db, table, parts[:1]); err != nil {
			return err
		}
	}
	return r.Store.BatchCreatePartitions(ctx, db, table, parts)
}

func (r *racingRegistrar) DeletePartitions(ctx context.Context, db, table string, values [][]string) error {
	if r.raced == 1 {
		r.raced++
		if err := r.Store.DeletePartitions(ctx, db, table, values[:1]); err != nil {
			return err
		}
	}
	return r.Store.DeletePartitions(ctx, db, table, values)
}

// Two crawls of one staging area (two run processes) that change the same
// partitions both succeed, and the partitions are as one crawl would leave
// them.
func TestStagingPartitionsConcurrentCrawls(t *testing.T) {
	e := newEnv(t)
	writeTopics(t, e)
	r := &racingRegistrar{Store: e.store}
	if _, err := crawl.Staging(e.ctx, e.bucket, e.dir, r, crawl.Options{Logger: e.logger}); err != nil {
		t.Fatalf("create raced: %v", err)
	}
	if err := e.bucket.Delete(e.ctx, stage.ObjectName("orders.v1", 0, 0, day1)); err != nil {
		t.Fatal(err)
	}
	if _, err := crawl.Staging(e.ctx, e.bucket, e.dir, r, crawl.Options{Logger: e.logger}); err != nil {
		t.Fatalf("delete raced: %v", err)
	}
	if r.raced != 2 {
		t.Fatalf("raced %d times, want 2", r.raced)
	}
	ps, err := e.store.GetPartitions(e.ctx, "raw", "orders_v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Errorf("%d partitions, want 2: %+v", len(ps), ps)
	}
}

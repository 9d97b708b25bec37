package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gocloud.dev/blob"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/crawl"
	"github.com/streamlake/streamlake/internal/dirlock"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/monitor"
	"github.com/streamlake/streamlake/internal/prefault"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/registry"
	"github.com/streamlake/streamlake/internal/stage"
)

// stagingURL and warehouseURL default to directories under the data dir.
func stagingURL(c config.Config) (string, error) {
	if c.Storage.StagingURL != "" {
		return c.Storage.StagingURL, nil
	}
	return sblob.DirURL(c.Paths().Staging)
}

// stagingLocation is where the staging objects of the bucket at su are,
// for the raw tables' locations: a local directory, or the bucket's URL
// with its key prefix and without settings (s3://bucket/prefix), read by
// queries through their file cache.
func stagingLocation(su string) (string, error) {
	if dir, ok := sblob.LocalDir(su); ok {
		return dir, nil
	}
	return sblob.Location(su)
}

func warehouseURL(c config.Config) (string, error) {
	if c.Storage.Warehouse != "" {
		return c.Storage.Warehouse, nil
	}
	return sblob.DirURL(c.Paths().Lake)
}

// valueDecoder is the decoder of values in Schema Registry's wire format
// when kafka.schema_registry is set, or kafka.registry_listen (the
// embedded registry's address), else nil.
func (a *app) valueDecoder() (etl.ValueDecoder, error) {
	url := a.cfg.Kafka.SchemaRegistry
	if url == "" && a.cfg.Kafka.RegistryListen != "" {
		url = "http://" + a.cfg.Kafka.RegistryListen
	}
	if url == "" {
		return nil, nil
	}
	d, err := registry.New(url)
	if err != nil {
		return nil, fmt.Errorf("kafka.schema_registry: %w", err)
	}
	return d, nil
}

func (a *app) openCatalog(ctx context.Context) (*catalog.Store, error) {
	wh, err := warehouseURL(a.cfg)
	if err != nil {
		return nil, err
	}
	path := a.cfg.Catalog.URI
	if path == "" {
		path = a.cfg.Paths().CatalogDB
	}
	return catalog.Open(ctx, path, wh)
}

// pipeline is ingest + ETL + crawler over one staging bucket and catalog.
type pipeline struct {
	cfg          config.Config
	lock         *dirlock.Lock // the data directory, one pipeline at a time
	log          *slog.Logger
	reg          *prometheus.Registry
	embedded     *broker.Broker
	stopRegistry func() // the embedded schema registry's, or nil
	staging      *blob.Bucket
	stageDir     string // the staging objects' location (see stagingLocation)
	store        *catalog.Store
	ingester     *ingest.Ingester
	etl          *etl.ETL
	handoff      *stage.Handoff // from ingester to etl; closed at shutdown
	etlMetrics   *etl.Metrics
	crawlMetrics *crawl.Metrics
	monitor      *monitor.Engine
	ready        atomic.Bool // the first ETL run finished
	// input, when set, is closed once every record to wait for has been
	// produced: run(exitWhenIdle) does not call the pipeline idle before.
	input <-chan struct{}
}

// inputDone reports whether the records to wait for have all been produced.
func (p *pipeline) inputDone() bool {
	if p.input == nil {
		return true
	}
	select {
	case <-p.input:
		return true
	default:
		return false
	}
}

// compileTables compiles the tables: section (validated by load).
func compileTables(c config.Config) ([]*tables.Table, error) {
	var out []*tables.Table
	for i, s := range c.TableSpecs() {
		t, err := tables.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("config: tables[%d]: %w", i, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// etlMemory is the room the soft memory limit leaves the ETL's working set
// (a commit's decoded rows, Arrow columns and Parquet pages) beside ingest's.
const etlMemory = 512 << 20

// openPipeline connects every stage; brokers empty means start the embedded
// broker. Close releases everything.
func (a *app) openPipeline(ctx context.Context) (_ *pipeline, err error) {
	p := &pipeline{cfg: a.cfg, log: a.log, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	// Two pipelines with one static group member id (by default derived
	// from the data directory) would fence each other out of the group:
	// refuse the second at once. Members with their own ids may share a
	// directory (its staging and catalog); the embedded broker locks its
	// own log.
	member := instanceID(a.cfg)
	if p.lock, err = dirlock.Acquire(a.cfg.DataDir, memberLock(member)); err != nil {
		if errors.Is(err, dirlock.ErrHeld) {
			return nil, fmt.Errorf("data directory %s is in use by another streamlake run as consumer group member %s (%w): stop it, or give this one its own --data-dir or kafka.instance_id", a.cfg.DataDir, member, err)
		}
		return nil, fmt.Errorf("data directory %s: %w", a.cfg.DataDir, err)
	}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "streamlake_buffer_pool_bytes",
			Help: "Memory of the pool of envelope-line buffers (open ingest batches and the in-process handoff), outside the Go heap; chunks left unused for a minute are given back."},
			func() float64 { return float64(stage.ChunkBytes()) }))
	// A soft memory limit keeps the heap near what ingest and the ETL hold
	// rather than twice it; GOMEMLIMIT, when set, wins. (The buffered lines
	// themselves are outside the heap: see streamlake_buffer_pool_bytes.)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(ingest.SoftMemoryLimit(a.cfg.Ingest.MemoryBudget) + etlMemory)
	}
	brokers := a.cfg.Kafka.Brokers
	if len(brokers) == 0 {
		p.embedded, err = broker.Start(broker.Config{Listen: a.cfg.Kafka.Listen, DataDir: a.cfg.Paths().Kafka,
			Partitions: a.cfg.Kafka.Partitions, Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("embedded broker: %w", err)
		}
		brokers = []string{p.embedded.Addr()}
		a.log.Info("embedded broker started", "addr", p.embedded.Addr())
		if a.cfg.Kafka.RegistryListen != "" {
			_, stop, err := a.serveRegistry(a.cfg.Kafka.RegistryListen)
			if err != nil {
				p.embedded.Close()
				return nil, err
			}
			p.stopRegistry = stop
		}
	}
	su, err := stagingURL(a.cfg)
	if err != nil {
		return nil, err
	}
	if p.staging, err = sblob.Open(ctx, su); err != nil {
		return nil, err
	}
	if p.stageDir, err = stagingLocation(su); err != nil {
		return nil, err
	}
	if p.store, err = a.openCatalog(ctx); err != nil {
		return nil, err
	}
	clientOpts, err := security(a.cfg).Opts()
	if err != nil {
		return nil, err
	}
	if p.embedded != nil {
		clientOpts = nil // the embedded broker speaks plaintext on loopback
	}
	// The ETL takes the lines the ingester just staged from memory instead
	// of decompressing them again.
	p.handoff = stage.NewHandoff(0)
	p.ingester, err = ingest.New(ingest.Config{
		ClientOpts: clientOpts, Handoff: p.handoff,
		Brokers: brokers, Topics: a.cfg.Kafka.Topics, Group: a.cfg.Kafka.Group, Start: a.cfg.Kafka.Start,
		SessionTimeout: a.cfg.Kafka.SessionTimeout, InstanceID: instanceID(a.cfg),
		FlushRecords: a.cfg.Ingest.FlushRecords, FlushBytes: a.cfg.Ingest.FlushBytes,
		FlushInterval: a.cfg.Ingest.FlushInterval, MemoryBudget: a.cfg.Ingest.MemoryBudget, Logger: a.log, Metrics: ingest.NewMetrics(p.reg),
		LagInterval: a.lagInterval,
	}, p.staging)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.ingester.Ping(pingCtx); err != nil {
		return nil, err
	}
	p.prefaultHeap(pingCtx, a.cfg.Ingest.MemoryBudget)
	opts := []monitor.Option{monitor.WithLogger(a.log.With("stage", "monitor")), monitor.WithRegisterer(p.reg),
		monitor.WithTableName(catalog.TableName)}
	if a.cfg.Monitor.CloudWatch.Enabled() {
		cw, err := monitor.NewCloudWatch(ctx, a.cfg.Monitor.CloudWatch)
		if err != nil {
			return nil, err
		}
		opts = append(opts, monitor.WithExporter(cw))
	}
	if p.monitor, err = monitor.New(a.cfg.Monitor, p.reg, a.cfg.Paths().Monitor, opts...); err != nil {
		return nil, err
	}
	p.etlMetrics = etl.NewMetrics(p.reg)
	p.crawlMetrics = crawl.NewMetrics(p.reg)
	values, err := a.valueDecoder()
	if err != nil {
		return nil, err
	}
	p.etl = etl.New(etl.Config{Database: a.cfg.ETL.Database, TimeField: a.cfg.ETL.TimeField, OnTypeMismatch: a.cfg.ETL.OnTypeMismatch,
		Tables: a.tables, MaxColumns: a.cfg.ETL.MaxColumns, Values: values,
		StagingRetention: a.cfg.Storage.StagingRetention, Handoff: p.handoff, Logger: a.log, Metrics: p.etlMetrics}, p.staging, p.store.Iceberg())
	return p, nil
}

// prefaultHeap makes the heap a run grows to resident at once when the run
// starts behind by at least a full ETL commit (see heapPrefault).
func (p *pipeline) prefaultHeap(ctx context.Context, budget int) {
	lag, err := p.ingester.Lag(ctx)
	if err != nil {
		return
	}
	n := heapPrefault(lag, budget)
	if n == 0 {
		return
	}
	start := time.Now()
	if prefault.Heap(n) {
		p.log.Debug("heap prefaulted for the backlog", "stage", "ingest", "lag", lag, "bytes", n, "took", time.Since(start))
	}
}

// heapPrefault is the heap a run starting lag records behind populates
// (0: none). Loading a backlog of at least a full ETL commit grows the heap
// to its working set, about 280 MiB at the default 64 MiB ingest budget:
// populating 4x the budget in one call spares most of what the first
// touches of those pages cost where page faults trap to a hypervisor (see
// internal/prefault). A run that starts nearer caught up populates nothing,
// so that a light load keeps a small resident size: the runtime counts the
// populated pages released and leaves them resident until it has used them.
func heapPrefault(lag int64, budget int) int {
	if lag < etl.DefaultMaxCommitRecords {
		return 0
	}
	return 4 * cmp.Or(budget, 64<<20)
}

// Close releases every part that was opened.
func (p *pipeline) Close() {
	if p.store != nil {
		p.store.Close()
	}
	if p.staging != nil {
		p.staging.Close()
	}
	if p.stopRegistry != nil {
		p.stopRegistry()
	}
	if p.embedded != nil {
		if err := p.embedded.Close(); err != nil {
			p.log.Error("embedded broker close", "stage", "broker", "addr", p.embedded.Addr(), "err", err)
		}
	}
	p.lock.Release()
}

// writeJSON answers with v as JSON, with status (0: 200).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// serveMetrics serves /metrics, /healthz, /readyz and the status API
// (/v1/status, /v1/alarms/NAME/history) on addr until ctx is done.
func (p *pipeline) serveMetrics(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.ready.Load() {
			http.Error(w, "not ready: the first lake load has not finished", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		st, err := p.monitor.Status(p.reg, catalog.TableName)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, 0, st)
	})
	mux.HandleFunc("GET /v1/alarms/{name}/history", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := p.monitor.CheckAlarm(name); err != nil {
			// As the query API's errors read.
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error(), "category": query.CategoryUser})
			return
		}
		writeJSON(w, 0, p.monitor.History(name))
	})
	// Go's profiler, as Prometheus and most Go servers serve it: go tool
	// pprof http://ADDR/debug/pprof/profile?seconds=30
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	if _, err := p.mountQueryAPI(ctx, mux); err != nil {
		return errors.Join(err, ln.Close())
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	p.log.Info("metrics listening", "addr", ln.Addr().String())
	go srv.Serve(ln)
	return nil
}

// run runs ingest, ETL and crawler until ctx is done or, with exitWhenIdle,
// until consumer lag is zero and every staging object is in the lake. Either
// way it ends with ingest flushed and committed, a final ETL run and a crawl.
func (p *pipeline) run(ctx context.Context, exitWhenIdle bool) error {
	ingCtx, stopIngest := context.WithCancel(ctx)
	defer stopIngest()
	ingDone := make(chan error, 1)
	go func() { ingDone <- p.ingester.Run(ingCtx) }()
	monDone := make(chan error, 1)
	go func() { monDone <- p.monitor.Run(ingCtx) }()
	// Maintenance has its own ETL (an ETL serves one goroutine) and runs
	// beside the loads: compaction commits rebase onto appends.
	defer p.startCrawlers(ingCtx)()
	go p.maintainLoop(ingCtx, etl.New(etl.Config{Database: p.cfg.ETL.Database, TimeField: p.cfg.ETL.TimeField,
		Logger: p.log, Metrics: p.etlMetrics}, nil, p.store.Iceberg()))
	// The buffer pool gives back what a minute of load left unused: after
	// a backlog, most of the handoff's chunks.
	go tick(ingCtx, time.Minute, stage.TrimChunks)

	interval := p.cfg.ETL.Interval
	if exitWhenIdle {
		interval = min(interval, 250*time.Millisecond)
	}
	var lastCrawl time.Time // the first iteration crawls
	var loopErr error
	failures := 0 // consecutive failed loads
loop:
	for {
		idle := false
		if exitWhenIdle && p.inputDone() && p.ingester.Idle() {
			lag, err := p.ingester.Lag(ctx)
			idle = err == nil && lag == 0
		}
		// RunOnce lists staging after the idle check, and without an error
		// it has committed everything it listed: nothing is left to wait for.
		res, err := p.etl.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			failures++
			p.log.Error("etl run failed", "stage", "etl", "database", p.cfg.ETL.Database, "err", err,
				"failures", failures, "retry_in", retryWait(interval, failures))
		} else if err == nil {
			failures = 0
		}
		p.ready.Store(true)
		if idle && err == nil && p.ingester.Idle() {
			p.log.Info("idle: consumer lag is zero and every staging object is in the lake")
			break
		}
		if time.Since(lastCrawl) >= p.cfg.Crawl.Interval {
			p.crawl(ctx)
			lastCrawl = time.Now()
		}
		// Ingest waiting for the handoff to make room means a backlog the
		// ETL is the bottleneck of: load again at once rather than pause
		// (while loads make progress: no listing in a tight loop).
		wait := retryWait(interval, failures)
		if err == nil && res.Objects > 0 && p.handoff.Waiting() {
			wait = 0
		}
		select {
		case <-ctx.Done():
			break loop
		case err := <-ingDone:
			loopErr = err
			ingDone <- err
			break loop
		case <-time.After(wait):
		}
	}
	// The ETL takes nothing more until ingest has stopped: its last
	// flush must not wait for the handoff to make room.
	p.handoff.Close()
	stopIngest()
	if err := <-ingDone; err != nil && !errors.Is(err, context.Canceled) {
		loopErr = errors.Join(loopErr, err)
	}
	if err := <-monDone; err != nil && !errors.Is(err, context.Canceled) {
		loopErr = errors.Join(loopErr, err)
	}
	// What ingest flushed at shutdown goes into the lake before we exit.
	final := context.WithoutCancel(ctx)
	if _, err := p.etl.RunOnce(final); err != nil {
		loopErr = errors.Join(loopErr, err)
	}
	p.crawl(final)
	if loopErr != nil {
		return fmt.Errorf("run: %w", loopErr)
	}
	return nil
}

// maxRetryWait bounds how long the loop waits after failed loads.
const maxRetryWait = 30 * time.Second

// retryWait is how long the loop waits before the next load: interval,
// doubled for each consecutive failure before the last (a sink or schema
// registry that is down is not asked several times a second), up to
// maxRetryWait.
func retryWait(interval time.Duration, failures int) time.Duration {
	wait := interval
	for range max(failures-1, 0) {
		if wait >= maxRetryWait/2 {
			return max(maxRetryWait, interval)
		}
		wait *= 2
	}
	return wait
}

// tick calls fn every d until ctx is done.
func tick(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

func (p *pipeline) crawl(ctx context.Context) {
	start := time.Now()
	rep, err := crawl.Staging(ctx, p.staging, p.stageDir, p.store, crawl.Options{
		Database: p.cfg.Crawl.Database, SampleSize: p.cfg.Crawl.SampleSize, Logger: p.log})
	p.crawlMetrics.ObserveStaging(time.Since(start), err)
	if err != nil {
		p.log.Error("crawl failed", "stage", "crawl", "database", p.cfg.Crawl.Database, "err", err)
		return
	}
	p.log.Info("crawled staging", "tables", rep.Tables, "objects", rep.Objects)
}

// memberLock is the name of the lock file in the data directory that keeps
// a static group member id to one process.
func memberLock(id string) string {
	sum := sha256.Sum256([]byte(id))
	return fmt.Sprintf("run-%x.lock", sum[:4])
}

// instanceID is the static group member id: the configured one, or one
// derived from host name and absolute data directory, stable across
// restarts of the same deployment and distinct between deployments.
func instanceID(c config.Config) string {
	if c.Kafka.InstanceID != "" {
		return c.Kafka.InstanceID
	}
	host, _ := os.Hostname()
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		dir = c.DataDir
	}
	sum := sha256.Sum256([]byte(dir))
	return fmt.Sprintf("streamlake-%s-%x", host, sum[:4])
}

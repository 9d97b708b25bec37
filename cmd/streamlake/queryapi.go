package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/query/filecache"
	"github.com/streamlake/streamlake/internal/server"
)

// closeTimeout bounds how long closing a query service waits for its
// executions to be saved in their final state.
const closeTimeout = 30 * time.Second

// engineOptions makes the configured databases known to the engine and
// gives it the file cache under the data directory (query.cache_size),
// with buckets opened with the settings of the configured URLs. reg, when
// not nil, receives the cache's metrics.
func engineOptions(cfg config.Config, log *slog.Logger, reg prometheus.Registerer) query.Options {
	urls := []string{cfg.Storage.Warehouse, cfg.Storage.StagingURL}
	for _, c := range cfg.Crawlers {
		urls = append(urls, c.Path)
	}
	return query.Options{Databases: []string{cfg.ETL.Database, cfg.Crawl.Database}, Logger: log,
		Maintainer: maintainer{cfg: cfg, log: log},
		Cache: filecache.New(filecache.Config{Dir: cfg.Paths().QueryCache, MaxBytes: cfg.Query.CacheSize,
			Registerer: reg, Logger: log}),
		Buckets: sblob.NewBuckets(urls...)}
}

// newQueryService is the query service over store with the configured
// workgroups, saving results under <data-dir>/results. reg may be nil.
func newQueryService(cfg config.Config, store *catalog.Store, log *slog.Logger, reg prometheus.Registerer) (*query.Service, error) {
	log = log.With("stage", "query")
	return query.NewService(query.New(store, engineOptions(cfg, log, reg)), store, query.ServiceConfig{
		Workgroups:        workgroups(cfg),
		ResultsDir:        cfg.Paths().Results,
		Logger:            log,
		Registerer:        reg,
		HeartbeatInterval: cfg.Query.HeartbeatInterval,
	})
}

// closeService stops svc: executions still queued or running end FAILED
// (SYSTEM). It waits up to closeTimeout for them to be saved.
func closeService(svc *query.Service, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := svc.Close(ctx); err != nil {
		log.Error("query service close", "stage", "query", "err", err)
	}
}

// mountQueryAPI creates the query service on p.store and serves the HTTP
// query API (internal/server) under /v1/queries and /v1/named-queries on
// mux. The service stops
// when ctx is done or closer is called, whichever comes first; closer
// waits until it has stopped.
func (p *pipeline) mountQueryAPI(ctx context.Context, mux *http.ServeMux) (closer func(), err error) {
	svc, err := newQueryService(p.cfg, p.store, p.log, p.reg)
	if err != nil {
		return nil, fmt.Errorf("query api: %w", err)
	}
	api := server.New(svc, p.log.With("stage", "query"))
	// Only the query paths: /healthz and the rest of the mux stay the
	// pipeline's.
	for _, p := range []string{"/v1/queries", "/v1/queries/", "/v1/named-queries", "/v1/named-queries/"} {
		mux.Handle(p, api)
	}
	stop := sync.OnceFunc(func() { closeService(svc, p.log) })
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return sync.OnceFunc(func() {
		close(done)
		stop()
	}), nil
}

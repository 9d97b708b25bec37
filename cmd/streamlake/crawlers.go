package main

import (
	"context"
	"time"

	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/crawl"
)

// startCrawlers runs crawlersLoop in the background until ctx is done or
// the returned stop is called; stop cancels a run in progress and waits
// for every crawler to return. In pipeline.run:
//
//	defer p.startCrawlers(ingCtx)()
func (p *pipeline) startCrawlers(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.crawlersLoop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// crawlersLoop runs every crawler of the crawlers: section that has an
// interval, each in its own goroutine: once at start, then every interval
// after the previous run ended (runs of one crawler never overlap). A
// failed run is logged; the next one retries (a run that fails writes
// no state, so it redoes the work). It returns when ctx is done and every
// crawler has stopped; a run in progress is cancelled.
func (p *pipeline) crawlersLoop(ctx context.Context) {
	done := make(chan struct{})
	n := 0
	for _, c := range p.cfg.Crawlers {
		if c.Interval <= 0 {
			continue
		}
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			p.crawlerLoop(ctx, c)
		}()
	}
	for range n {
		<-done
	}
}

func (p *pipeline) crawlerLoop(ctx context.Context, c config.Crawler) {
	for {
		p.runCrawler(ctx, c)
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.Interval):
		}
	}
}

// runCrawler runs one configured crawler once and logs its outcome.
func (p *pipeline) runCrawler(ctx context.Context, c config.Crawler) {
	opts := crawlerOptions(p.cfg, c)
	opts.Logger = p.log.With("stage", "crawler", "crawler", c.Name)
	src, closeSrc, err := crawlSource(ctx, p.cfg, c)
	if err != nil {
		opts.Logger.Error("crawler failed", "err", err)
		return
	}
	defer closeSrc()
	start := time.Now()
	rep, err := crawl.Run(ctx, src, p.store, opts)
	if ctx.Err() == nil && p.crawlMetrics != nil {
		p.crawlMetrics.ObserveRun(c.Name, time.Since(start), rep, err)
	}
	if err != nil {
		if ctx.Err() == nil {
			opts.Logger.Error("crawler failed", "err", err)
		}
		return
	}
	opts.Logger.Info("crawler ran", "created", len(rep.TablesCreated), "updated", len(rep.TablesUpdated),
		"deprecated", len(rep.TablesDeprecated), "deleted", len(rep.TablesDeleted),
		"partitions_added", rep.PartitionsAdded, "partitions_removed", rep.PartitionsRemoved,
		"files_read", rep.FilesRead, "files_skipped", rep.FilesSkipped, "duration", rep.DurationText)
}

package main

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/crawl"
)

// TestCrawlersLoop: startCrawlers runs each scheduled crawler at once and on
// its interval, skips unscheduled ones, and stops when asked.
func TestCrawlersLoop(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	copyLayout(t, filepath.Join(layoutsDir, "glue_year_partitions", "files"), files)
	store, err := catalog.Open(t.Context(), filepath.Join(dir, "catalog.db"), "file://"+filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Crawlers = []config.Crawler{
		{Name: "every", Path: "file://" + files, Database: "ext", Interval: time.Second},
		{Name: "manual", Path: "file://" + files, Database: "other"}, // no interval: not scheduled
	}
	p := &pipeline{cfg: cfg, log: slog.New(slog.NewTextHandler(tWriter{t}, nil)), store: store}
	stop := p.startCrawlers(t.Context())

	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, err := crawl.Runs(filepath.Join(cfg.DataDir, "crawlers", "every"))
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= 2 {
			if len(runs[0].TablesCreated) != 1 || runs[1].FilesRead != 0 {
				t.Errorf("runs: first created %v, second read %d files", runs[0].TablesCreated, runs[1].FilesRead)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs after 20s", len(runs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("crawlers did not stop")
	}
	if _, err := store.GetTable(t.Context(), "ext", "files"); err != nil {
		t.Error(err)
	}
	if runs, _ := crawl.Runs(filepath.Join(cfg.DataDir, "crawlers", "manual")); len(runs) != 0 {
		t.Errorf("unscheduled crawler ran %d times", len(runs))
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

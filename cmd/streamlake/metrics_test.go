package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/produce"
)

// TestMetricsDuringRun scrapes /metrics after a run and checks the stage
// counters against what was produced.
func TestMetricsDuringRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	br, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if _, err := produce.Run(ctx, produce.Config{Brokers: []string{br.Addr()}, Topic: "m", Dataset: produce.DatasetSensors, Records: 1200}); err != nil {
		t.Fatal(err)
	}
	produceBad(t, br.Addr(), "m", 4)

	a := &app{cfg: config.Default(), log: slog.New(slog.DiscardHandler)}
	a.cfg.DataDir = t.TempDir()
	a.cfg.Kafka.Brokers = []string{br.Addr()}
	a.cfg.Kafka.Topics = []string{"m"}
	p, err := a.openPipeline(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	addr := freePort(t)
	if err := p.serveMetrics(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if err := p.run(ctx, true); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := map[string]float64{
		`streamlake_ingest_records_total{topic="m"}`:                  1204,
		`streamlake_etl_rows_committed_total{table="m"}`:              1200,
		`streamlake_etl_dead_letter_rows_total{table="m"}`:            4,
		`streamlake_ingest_consumer_lag{partition="0",topic="m"}`:     0,
		`streamlake_ingest_time_lag_seconds{partition="1",topic="m"}`: 0,
	}
	for series, v := range want {
		m := regexp.MustCompile(regexp.QuoteMeta(series) + ` (\S+)`).FindSubmatch(body)
		if m == nil {
			t.Errorf("no %s in /metrics", series)
			continue
		}
		if got, _ := strconv.ParseFloat(string(m[1]), 64); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	if !regexp.MustCompile(`streamlake_ingest_staging_objects_total\{topic="m"\} [1-9]`).Match(body) {
		t.Error("no staging objects counted")
	}
}

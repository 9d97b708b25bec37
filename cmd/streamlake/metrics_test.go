package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/monitor"
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
		`streamlake_ingest_records_total{topic="m"}`:                           1204,
		`streamlake_etl_rows_committed_total{table="m"}`:                       1200,
		`streamlake_etl_dead_letter_rows_total{table="m"}`:                     4,
		`streamlake_etl_dead_letters_by_stage_total{stage="decode",table="m"}`: 4,
		`streamlake_ingest_consumer_lag{partition="0",topic="m"}`:              0,
		`streamlake_ingest_time_lag_seconds{partition="1",topic="m"}`:          0,
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
	for _, series := range []string{
		`streamlake_ingest_staging_objects_total\{topic="m"\} [1-9]`,
		`streamlake_etl_table_bytes\{table="m"\} [1-9]`,
		`streamlake_etl_handoff_objects_total [1-9]`, // the ETL took the ingester's lines, not decompressing them
		`streamlake_buffer_pool_bytes [1-9]`,         // the lines were buffered outside the heap
		`streamlake_crawl_runs_total\{crawler="staging",result="ok"\} [1-9]`,
	} {
		if !regexp.MustCompile(series).Match(body) {
			t.Errorf("no %s in /metrics", series)
		}
	}

	// Health, readiness and the status API answer from the same server.
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", path, resp.Status)
		}
	}
	resp, err = http.Get("http://" + addr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var st monitor.Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Topics) != 1 || st.Topics[0].Topic != "m" || st.Topics[0].Table != "m" || st.Topics[0].RecordsConsumed != 1204 ||
		st.Topics[0].RowsCommitted != 1200 || st.Topics[0].DeadLetters != 4 || st.Topics[0].NewestCommitted.IsZero() || st.Topics[0].NewestEvent.IsZero() || st.Topics[0].Freshness <= 0 {
		t.Errorf("status topics: %+v", st.Topics)
	}
	if len(st.Alarms) < 5 {
		t.Errorf("status lists %d alarms, want the 5 default ones", len(st.Alarms))
	}
	// An alarm's history; an unknown alarm is a 404 naming the alarms.
	for name, want := range map[string]int{"dead-letter-rate": http.StatusOK, "bogus": http.StatusNotFound} {
		resp, err := http.Get("http://" + addr + "/v1/alarms/" + name + "/history")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusNotFound && !strings.Contains(string(body), "dead-letter-rate")) {
			t.Errorf("history of alarm %s: %s %s, want %d", name, resp.Status, body, want)
		}
	}
}

package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestStatusFromMetrics builds a status from a registry holding the ingest
// and ETL series of one topic, sampled twice ten seconds apart.
func TestStatusFromMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_ingest_records_total"}, []string{"topic"})
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamlake_ingest_consumer_lag"}, []string{"topic", "partition"})
	timeLag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamlake_ingest_time_lag_seconds"}, []string{"topic", "partition"})
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_etl_rows_committed_total"}, []string{"table"})
	dead := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_etl_dead_letter_rows_total"}, []string{"table"})
	event := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamlake_etl_newest_event_time_seconds"}, []string{"table"})
	fresh := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "streamlake_etl_produce_to_queryable_seconds"}, []string{"table"})
	crawled := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamlake_crawl_last_success_timestamp_seconds"}, []string{"crawler"})
	reg.MustRegister(records, lag, timeLag, rows, dead, event, fresh, crawled)

	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	e, err := New(Default(), reg, t.TempDir(), WithClock(func() time.Time { return now }),
		WithTableName(func(topic string) string { return strings.ReplaceAll(topic, "-", "_") }))
	if err != nil {
		t.Fatal(err)
	}
	records.WithLabelValues("click-stream").Add(1000)
	e.step(now)
	// One sample does not measure a rate: null, not 0 (stalled).
	if st, err := e.Status(reg, func(topic string) string { return strings.ReplaceAll(topic, "-", "_") }); err != nil || len(st.Topics) != 1 || st.Topics[0].IngestRate != nil {
		t.Fatalf("after one sample: %+v, %v; want a null ingest rate", st.Topics, err)
	}
	now = now.Add(10 * time.Second)
	records.WithLabelValues("click-stream").Add(500)
	lag.WithLabelValues("click-stream", "0").Set(30)
	lag.WithLabelValues("click-stream", "1").Set(12)
	timeLag.WithLabelValues("click-stream", "0").Set(2.5)
	timeLag.WithLabelValues("click-stream", "1").Set(4)
	rows.WithLabelValues("click_stream").Add(1400)
	dead.WithLabelValues("click_stream").Add(7)
	event.WithLabelValues("click_stream").Set(float64(now.Add(-time.Minute).Unix()))
	fresh.WithLabelValues("click_stream").Observe(1)
	fresh.WithLabelValues("click_stream").Observe(3)
	crawled.WithLabelValues("staging").Set(float64(now.Add(-5 * time.Second).Unix()))
	e.step(now)

	st, err := e.Status(reg, func(topic string) string { return strings.ReplaceAll(topic, "-", "_") })
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Topics) != 1 {
		t.Fatalf("topics %+v, want one", st.Topics)
	}
	got := st.Topics[0]
	if got.Topic != "click-stream" || got.Table != "click_stream" || got.LagRecords != 42 || got.LagSeconds != 4 ||
		got.IngestRate == nil || *got.IngestRate != 50 || got.RecordsConsumed != 1500 || got.RowsCommitted != 1400 || got.DeadLetters != 7 ||
		!got.NewestEvent.Equal(now.Add(-time.Minute)) || got.Freshness != 2 || !got.LastCrawl.Equal(now.Add(-5*time.Second)) {
		t.Fatalf("status %+v", got)
	}
	if st.InAlarm() {
		t.Fatalf("no alarm should be in ALARM: %+v", st.Alarms)
	}
}

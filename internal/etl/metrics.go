package etl

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the ETL stage's Prometheus metrics.
type Metrics struct {
	rows, deadLetters           *prometheus.CounterVec
	maintenance, compactedFiles *prometheus.CounterVec
	schemaChanges, deadByStage  *prometheus.CounterVec
	tableBytes                  *prometheus.GaugeVec
	objects, conflicts, expired prometheus.Counter
	handoffObjects              prometheus.Counter
	decompressedObjects         prometheus.Counter
	commitSeconds               prometheus.Histogram
	newestEvent, newestKafka    *prometheus.GaugeVec
	freshness                   *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_rows_committed_total", Help: "Rows committed to lake tables.",
		}, []string{"table"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_dead_letter_rows_total", Help: "Records committed to dead-letter tables.",
		}, []string{"table"}),
		schemaChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_schema_changes_total", Help: "Columns added to lake tables by schema evolution.",
		}, []string{"table"}),
		deadByStage: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_dead_letters_by_stage_total", Help: "Records committed to dead-letter tables, by the stage that rejected them (decode, route, transform, convert).",
		}, []string{"table", "stage"}),
		tableBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_etl_table_bytes", Help: "Bytes of the data files of a lake table's current snapshot.",
		}, []string{"table"}),
		maintenance: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_maintenance_runs_total", Help: "Completed maintenance runs (compaction, snapshot expiry, orphan removal).",
		}, []string{"table"}),
		compactedFiles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_etl_compacted_files_total", Help: "Small data files replaced by compaction.",
		}, []string{"table"}),
		handoffObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_etl_handoff_objects_total", Help: "Staging objects whose lines were taken from the ingester in this process instead of being decompressed.",
		}),
		decompressedObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_etl_staging_decompressed_objects_total", Help: "Staging objects read from storage and decompressed (in run: the ones the ingester's handoff did not hold).",
		}),
		objects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_etl_staging_objects_total", Help: "Staging objects covered by lake commits.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_etl_staging_objects_expired_total", Help: "Staging objects deleted by retention after a lake commit covered them.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_etl_commit_conflicts_total", Help: "Lake commits retried because another writer committed first.",
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamlake_etl_commit_seconds", Help: "Time to write and commit one Iceberg append.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		newestKafka: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_etl_newest_kafka_timestamp_seconds", Help: "Newest Kafka timestamp committed, as Unix seconds.",
		}, []string{"table"}),
		newestEvent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_etl_newest_event_time_seconds", Help: "Newest event time committed (the table's time field), as Unix seconds.",
		}, []string{"table"}),
		freshness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "streamlake_etl_produce_to_queryable_seconds", Help: "Kafka timestamp to lake commit, per committed row.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}, []string{"table"}),
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.deadLetters, m.maintenance, m.compactedFiles, m.schemaChanges, m.deadByStage, m.tableBytes, m.objects, m.handoffObjects, m.decompressedObjects, m.conflicts, m.expired, m.commitSeconds, m.newestKafka, m.newestEvent, m.freshness)
	}
	return m
}

func (e *ETL) observeFreshness(name string, rows []row, fast *fastBatch) {
	now := time.Now()
	var newest, newestEvent time.Time
	h := e.m.freshness.WithLabelValues(name)
	for _, r := range rows {
		h.Observe(now.Sub(r.rec.Timestamp).Seconds())
		if r.rec.Timestamp.After(newest) {
			newest = r.rec.Timestamp
		}
		if r.event.After(newestEvent) {
			newestEvent = r.event
		}
	}
	if fast != nil {
		for _, ns := range fast.kafkaTS {
			ts := time.Unix(0, ns)
			h.Observe(now.Sub(ts).Seconds())
			if ts.After(newest) {
				newest = ts
			}
		}
		if fast.newest.After(newestEvent) {
			newestEvent = fast.newest
		}
	}
	e.m.newestKafka.WithLabelValues(name).Set(float64(newest.UnixMilli()) / 1e3)
	if !newestEvent.IsZero() {
		g := e.m.newestEvent.WithLabelValues(name)
		if cur := float64(newestEvent.UnixMilli()) / 1e3; cur > gaugeValue(g) {
			g.Set(cur)
		}
	}
}

// gaugeValue reads a gauge's current value.
func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return 0
	}
	return m.GetGauge().GetValue()
}

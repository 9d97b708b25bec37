package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest stage's Prometheus metrics.
type Metrics struct {
	records, bytes, objects, objectBytes *prometheus.CounterVec
	uploadRetries, rebalances            prometheus.Counter
	commitErrors, stalls, budgetFlushes  prometheus.Counter
	buffered                             prometheus.Gauge
	flushSeconds                         prometheus.Histogram
	lag, timeLag                         *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_ingest_records_total", Help: "Kafka records consumed.",
		}, []string{"topic"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_ingest_bytes_total", Help: "Key and value bytes of Kafka records consumed.",
		}, []string{"topic"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_ingest_staging_objects_total", Help: "Staging objects written.",
		}, []string{"topic"}),
		objectBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_ingest_staging_bytes_total", Help: "Compressed bytes of staging objects written.",
		}, []string{"topic"}),
		uploadRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_ingest_upload_retries_total", Help: "Staging uploads retried after an error.",
		}),
		rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_ingest_rebalances_total", Help: "Partition revocations seen by this member.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_ingest_commit_errors_total", Help: "Offset commits that failed after a durable upload.",
		}),
		stalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_ingest_stalls_total", Help: "Lag checks that found lag growing with no staging object written for the stall threshold.",
		}),
		budgetFlushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_ingest_budget_flushes_total", Help: "Batches flushed early because open batches exceeded the memory budget.",
		}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamlake_ingest_buffered_bytes", Help: "Envelope bytes held in open batches.",
		}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "streamlake_ingest_flush_seconds", Help: "Time to write one staging object.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		timeLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_ingest_time_lag_seconds", Help: "While a partition has lag: the age of the newest record fetched from it, an upper bound on how long unconsumed records have waited; 0 when caught up.",
		}, []string{"topic", "partition"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_ingest_consumer_lag", Help: "Records between the group's committed offset and the end of the partition.",
		}, []string{"topic", "partition"}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.bytes, m.objects, m.objectBytes, m.uploadRetries, m.rebalances,
			m.commitErrors, m.stalls, m.budgetFlushes, m.buffered, m.flushSeconds, m.lag, m.timeLag)
	}
	return m
}

package crawl

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the crawlers' Prometheus metrics.
type Metrics struct {
	runs                      *prometheus.CounterVec
	tables, partitions, files *prometheus.CounterVec
	duration                  *prometheus.HistogramVec
	last                      *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_crawl_runs_total", Help: "Crawler runs, by crawler and result (ok, error).",
		}, []string{"crawler", "result"}),
		tables: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_crawl_tables_changed_total", Help: "Catalog tables a crawler created, updated, deprecated or deleted.",
		}, []string{"crawler"}),
		partitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_crawl_partitions_changed_total", Help: "Catalog partitions a crawler added, removed or updated.",
		}, []string{"crawler"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_crawl_files_read_total", Help: "Files whose bodies a crawler read (the others were known by their fingerprints).",
		}, []string{"crawler"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamlake_crawl_last_success_timestamp_seconds", Help: "When a crawler last finished a run without error, as Unix seconds.",
		}, []string{"crawler"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "streamlake_crawl_duration_seconds", Help: "Time a crawler run took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"crawler"}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.tables, m.partitions, m.files, m.duration, m.last)
	}
	return m
}

// ObserveRun records a Glue-style crawler run (Run) and its error.
func (m *Metrics) ObserveRun(crawler string, took time.Duration, rep RunReport, err error) {
	m.observe(crawler, took, err)
	if err != nil {
		return
	}
	m.tables.WithLabelValues(crawler).Add(float64(len(rep.TablesCreated) + len(rep.TablesUpdated) +
		len(rep.TablesDeprecated) + len(rep.TablesDeleted)))
	m.partitions.WithLabelValues(crawler).Add(float64(rep.PartitionsAdded + rep.PartitionsRemoved + rep.PartitionsUpdated))
	m.files.WithLabelValues(crawler).Add(float64(rep.FilesRead))
}

// ObserveStaging records a run of the staging crawler (Staging), as
// crawler "staging": its result and duration (it re-registers every
// topic's table each run, so it changes nothing worth counting).
func (m *Metrics) ObserveStaging(took time.Duration, err error) {
	m.observe("staging", took, err)
}

func (m *Metrics) observe(crawler string, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	} else {
		m.last.WithLabelValues(crawler).Set(float64(time.Now().UnixMilli()) / 1e3)
	}
	m.runs.WithLabelValues(crawler, result).Inc()
	m.duration.WithLabelValues(crawler).Observe(took.Seconds())
}

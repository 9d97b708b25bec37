package filecache

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits, misses, evictions, filled prometheus.Counter
}

func newMetrics(c *Cache, reg prometheus.Registerer) metrics {
	m := metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_query_cache_hits_total",
			Help: "Files the query engine found in its local file cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_query_cache_misses_total",
			Help: "Files the query engine had to fetch or convert into its local file cache.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_query_cache_evictions_total",
			Help: "Files evicted from the query engine's local file cache to keep it within its bound.",
		}),
		filled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamlake_query_cache_filled_bytes_total",
			Help: "Bytes written into the query engine's local file cache (fetched or converted).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.hits, m.misses, m.evictions, m.filled,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "streamlake_query_cache_bytes",
				Help: "Bytes of the files in the query engine's local file cache.",
			}, func() float64 { return float64(c.Stats().Bytes) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "streamlake_query_cache_entries",
				Help: "Files in the query engine's local file cache.",
			}, func() float64 { return float64(c.Stats().Entries) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "streamlake_query_cache_limit_bytes",
				Help: "The bound of the query engine's local file cache (query.cache_size).",
			}, func() float64 { return float64(c.max) }))
	}
	return m
}

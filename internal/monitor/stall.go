package monitor

import (
	"strings"
	"time"
)

// TableName maps the topic to the table the ETL writes it to. The default is
// tableName; pass catalog.TableName with WithTableName to follow the catalog.
type TableName func(topic string) string

// WithTableName sets how topics map to table names for the stall detector.
func WithTableName(fn TableName) Option { return func(e *Engine) { e.stall.table = fn } }

// tableName is catalog.TableName's mapping (lower case letters and digits,
// everything else '_'); TestMetricContract checks they agree.
func tableName(topic string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, topic)
}

// stallTracker derives StalledMetric from the ingest and ETL series.
type stallTracker struct {
	table  TableName
	window time.Duration
	topics map[string][]stallPoint // per topic, oldest first, spanning a little over the window
}

type stallPoint struct {
	t         time.Time
	records   float64 // streamlake_ingest_records_total{topic}
	committed float64 // rows + dead-letter rows committed to the topic's table
}

// derive returns one StalledMetric gauge sample per topic known to ingest,
// once that topic has been watched for a whole window.
func (st *stallTracker) derive(now time.Time, samples []sample) []sample {
	records := map[string]float64{}
	lag := map[string]float64{}
	committed := map[string]float64{}
	for _, s := range samples {
		switch s.name {
		case "streamlake_ingest_records_total":
			records[s.labels["topic"]] += s.value
		case "streamlake_ingest_consumer_lag":
			lag[s.labels["topic"]] += s.value
		case "streamlake_etl_rows_committed_total", "streamlake_etl_dead_letter_rows_total":
			committed[s.labels["table"]] += s.value
		}
	}
	topics := map[string]bool{}
	for t := range records {
		topics[t] = true
	}
	for t := range lag {
		topics[t] = true
	}
	var out []sample
	for topic := range topics {
		if topic == "" {
			continue
		}
		table := st.table(topic)
		cur := stallPoint{t: now, records: records[topic], committed: committed[table]}
		hist := append(st.topics[topic], cur)
		// Keep the newest point at least a window old as the baseline.
		for len(hist) > 1 && !hist[1].t.After(now.Add(-st.window)) {
			hist = hist[1:]
		}
		st.topics[topic] = hist
		base := hist[0]
		if now.Sub(base.t) < st.window {
			continue // not watched for a whole window yet
		}
		stalled := 0.0
		arriving := cur.records > base.records || lag[topic] > 0
		if arriving && cur.committed <= base.committed {
			stalled = 1
		}
		labels := map[string]string{"topic": topic, "table": table}
		out = append(out, sample{name: StalledMetric, labels: labels, key: seriesKey(StalledMetric, labels), value: stalled})
	}
	for topic := range st.topics {
		if !topics[topic] {
			delete(st.topics, topic)
		}
	}
	return out
}

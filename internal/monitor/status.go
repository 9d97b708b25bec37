package monitor

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TopicStatus is one line of `streamlake status`: a topic and the lake
// table it feeds.
type TopicStatus struct {
	Topic string `json:"topic"`
	Table string `json:"table"`
	// LagRecords is the consumer group's lag summed over partitions;
	// LagSeconds the age of the oldest unconsumed record (upper bound).
	LagRecords float64 `json:"lag_records"`
	LagSeconds float64 `json:"lag_seconds"`
	// IngestRate is records consumed per second over the samples of the
	// last minute (monitor.sample_interval apart); nil (null) until two
	// samples measure it, so that a run just started does not read as
	// stalled.
	IngestRate *float64 `json:"ingest_rate"`
	// RecordsConsumed and RowsCommitted count since the process started.
	RecordsConsumed float64 `json:"records_consumed"`
	RowsCommitted   float64 `json:"rows_committed"`
	// NewestEvent is the newest event time (the table's time field)
	// committed; NewestCommitted the newest Kafka timestamp committed.
	NewestEvent     time.Time `json:"newest_event"`
	NewestCommitted time.Time `json:"newest_committed"`
	// Freshness is the mean produce-to-queryable latency of the rows
	// committed since the process started, in seconds.
	Freshness float64 `json:"freshness_seconds"`
	// DeadLetters counts rows sent to the table's dead-letter table since
	// the process started.
	DeadLetters float64 `json:"dead_letters"`
	// LastCrawl is when the staging crawler last registered the topic's
	// raw table (zero before the first crawl).
	LastCrawl time.Time `json:"last_crawl"`
	// Alarms are the alarms in ALARM whose breaching series name this
	// topic or table.
	Alarms []string `json:"alarms"`
}

// Status is what `streamlake status` shows.
type Status struct {
	Generated time.Time     `json:"generated"`
	Topics    []TopicStatus `json:"topics"`
	Alarms    []AlarmStatus `json:"alarms"`
}

// Status builds the status of every topic from the live metrics in g, the
// alarm states and the last minute of history. tableName maps a topic to
// its table (catalog.TableName).
func (e *Engine) Status(g prometheus.Gatherer, tableName func(string) string) (Status, error) {
	mfs, err := g.Gather()
	if err != nil {
		return Status{}, err
	}
	now := e.now()
	st := Status{Generated: now, Alarms: e.States()}
	byTopic := map[string]*TopicStatus{}
	topic := func(name string) *TopicStatus {
		if t, ok := byTopic[name]; ok {
			return t
		}
		t := &TopicStatus{Topic: name, Table: tableName(name), Alarms: []string{}}
		byTopic[name] = t
		return t
	}
	tables := map[string]*dto.MetricFamily{}
	var lastCrawl time.Time
	for _, mf := range mfs {
		switch mf.GetName() {
		case "streamlake_crawl_last_success_timestamp_seconds":
			each(mf, "crawler", func(c string, m *dto.Metric) {
				if s := value(m); c == "staging" && s > 0 {
					lastCrawl = time.UnixMilli(int64(math.Round(s * 1e3))).UTC()
				}
			})
		case "streamlake_ingest_records_total":
			each(mf, "topic", func(v string, m *dto.Metric) { topic(v).RecordsConsumed += value(m) })
		case "streamlake_ingest_consumer_lag":
			each(mf, "topic", func(v string, m *dto.Metric) { topic(v).LagRecords += value(m) })
		case "streamlake_ingest_time_lag_seconds":
			each(mf, "topic", func(v string, m *dto.Metric) { t := topic(v); t.LagSeconds = max(t.LagSeconds, value(m)) })
		case "streamlake_etl_rows_committed_total", "streamlake_etl_newest_kafka_timestamp_seconds", "streamlake_etl_newest_event_time_seconds",
			"streamlake_etl_produce_to_queryable_seconds", "streamlake_etl_dead_letter_rows_total":
			tables[mf.GetName()] = mf
		}
	}
	// Tables are matched to the topics feeding them.
	byTable := map[string]*TopicStatus{}
	for _, t := range byTopic {
		byTable[t.Table] = t
	}
	for name, mf := range tables {
		each(mf, "table", func(tbl string, m *dto.Metric) {
			t, ok := byTable[tbl]
			if !ok {
				t = &TopicStatus{Table: tbl, Alarms: []string{}}
				byTable[tbl] = t
				byTopic["\x00"+tbl] = t
			}
			switch name {
			case "streamlake_etl_rows_committed_total":
				t.RowsCommitted += value(m)
			case "streamlake_etl_dead_letter_rows_total":
				t.DeadLetters += value(m)
			case "streamlake_etl_newest_kafka_timestamp_seconds":
				if s := value(m); s > 0 {
					t.NewestCommitted = time.UnixMilli(int64(math.Round(s * 1e3))).UTC()
				}
			case "streamlake_etl_newest_event_time_seconds":
				if s := value(m); s > 0 {
					t.NewestEvent = time.UnixMilli(int64(math.Round(s * 1e3))).UTC()
				}
			case "streamlake_etl_produce_to_queryable_seconds":
				if h := m.GetHistogram(); h.GetSampleCount() > 0 {
					t.Freshness = h.GetSampleSum() / float64(h.GetSampleCount())
				}
			}
		})
	}
	e.mu.Lock()
	for _, t := range byTopic {
		if pts := e.consumed[t.Topic]; t.Topic != "" && len(pts) >= 2 {
			first, last := pts[0], pts[len(pts)-1]
			if dt := last.T.Sub(first.T).Seconds(); dt > 0 && last.V >= first.V {
				rate := (last.V - first.V) / dt
				t.IngestRate = &rate
			}
		}
	}
	e.mu.Unlock()
	for _, a := range st.Alarms {
		if a.State != StateAlarm {
			continue
		}
		for _, tr := range slices.Backward(e.History(a.Name)) {
			if tr.NewState != StateAlarm {
				continue
			}
			for _, t := range byTopic {
				for _, s := range tr.Series {
					if (t.Topic != "" && strings.Contains(s, `"`+t.Topic+`"`)) || strings.Contains(s, `"`+t.Table+`"`) {
						t.Alarms = append(t.Alarms, a.Name)
						break
					}
				}
			}
			break
		}
	}
	for _, t := range byTopic {
		if t.Topic != "" {
			t.LastCrawl = lastCrawl
		}
		st.Topics = append(st.Topics, *t)
	}
	slices.SortFunc(st.Topics, func(a, b TopicStatus) int { return strings.Compare(a.Table+"\x00"+a.Topic, b.Table+"\x00"+b.Topic) })
	return st, nil
}

// InAlarm reports whether any alarm is in ALARM.
func (s Status) InAlarm() bool {
	for _, a := range s.Alarms {
		if a.State == StateAlarm {
			return true
		}
	}
	return false
}

// each calls f with the value of label for every metric of mf that has it.
func each(mf *dto.MetricFamily, label string, f func(string, *dto.Metric)) {
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				f(lp.GetValue(), m)
			}
		}
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// recordConsumed keeps the last minute of each topic's ingest record
// counter, sample by sample. Called with e.mu held.
func (e *Engine) recordConsumed(now time.Time, samples []sample) {
	if e.consumed == nil {
		e.consumed = map[string][]MinutePoint{}
	}
	totals := map[string]float64{}
	for _, s := range samples {
		if s.name == "streamlake_ingest_records_total" {
			totals[s.labels["topic"]] += s.value
		}
	}
	for topic, v := range totals {
		pts := append(e.consumed[topic], MinutePoint{T: now, V: v})
		for len(pts) > 2 && now.Sub(pts[0].T) > time.Minute {
			pts = pts[1:]
		}
		e.consumed[topic] = pts
	}
}

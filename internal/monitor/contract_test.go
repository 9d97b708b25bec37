package monitor

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/ingest"
)

// descRecorder is a Registerer that records the descriptors of what is
// registered.
type descRecorder struct{ labels map[string][]string }

var descRE = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

func (r *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 100)
	c.Describe(ch)
	close(ch)
	for d := range ch {
		m := descRE.FindStringSubmatch(d.String())
		if m == nil {
			continue
		}
		var labels []string
		for l := range strings.SplitSeq(m[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		slices.Sort(labels)
		r.labels[m[1]] = labels
	}
	return nil
}

func (r *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		r.Register(c)
	}
}

func (r *descRecorder) Unregister(prometheus.Collector) bool { return true }

// TestMetricContract checks that the series the stall detector and the
// default alarms read are exported by internal/ingest and internal/etl under
// these names and labels, so a rename there fails here.
func TestMetricContract(t *testing.T) {
	r := &descRecorder{labels: map[string][]string{}}
	ingest.NewMetrics(r)
	etl.NewMetrics(r)
	want := map[string][]string{
		"streamlake_ingest_records_total":       {"topic"},
		"streamlake_ingest_consumer_lag":        {"partition", "topic"},
		"streamlake_ingest_time_lag_seconds":    {"partition", "topic"},
		"streamlake_etl_rows_committed_total":   {"table"},
		"streamlake_etl_dead_letter_rows_total": {"table"},
	}
	for name, labels := range want {
		got, ok := r.labels[name]
		if !ok {
			t.Errorf("%s is not exported by ingest or etl (found %d metrics)", name, len(r.labels))
			continue
		}
		if !slices.Equal(got, labels) {
			t.Errorf("%s has labels %v, the monitor reads %v", name, got, labels)
		}
	}
	for _, a := range DefaultAlarms(Default().StallWindow, Default().SampleInterval) {
		sel, _ := ParseSelector(a.Metric)
		switch {
		case sel.Name == StalledMetric, strings.HasPrefix(sel.Name, "streamlake_crawl_"), strings.HasPrefix(sel.Name, "streamlake_query_"):
			continue // derived, or not exported yet (notBreaching while absent)
		}
		if _, ok := r.labels[sel.Name]; !ok {
			t.Errorf("default alarm %s reads %s, which nothing exports", a.Name, sel.Name)
		}
	}
}

func TestTableNameMatchesCatalog(t *testing.T) {
	for _, topic := range []string{"orders", "App.Events-v2", "a b/c", "über", "x_1"} {
		if got, want := tableName(topic), catalog.TableName(topic); got != want {
			t.Errorf("tableName(%q) = %q, catalog.TableName = %q", topic, got, want)
		}
	}
}

package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// periodValue runs one alarm over one period of samples and returns the
// datapoint the engine computed.
func periodValue(t *testing.T, reg *prometheus.Registry, spec AlarmSpec, each func(i int)) Datapoint {
	t.Helper()
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.Alarms = []AlarmSpec{spec}
	clock := newClock()
	e, err := New(cfg, reg, t.TempDir(), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	for i := range 7 { // 12:00:00 .. 12:01:00, every 10s
		each(i)
		e.step(clock.t.Add(time.Duration(i) * 10 * time.Second))
	}
	pts := e.alarms[0].points
	if len(pts) != 1 {
		t.Fatalf("%d datapoints, want 1", len(pts))
	}
	return pts[0]
}

func spec(metric string, stat Statistic) AlarmSpec {
	return AlarmSpec{Name: "s", Metric: metric, Statistic: stat, Period: time.Minute, EvaluationPeriods: 1, Comparison: GreaterThan}
}

func TestStatistics(t *testing.T) {
	newGauges := func() (*prometheus.Registry, *prometheus.GaugeVec) {
		reg := prometheus.NewRegistry()
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lag", Help: "x"}, []string{"p"})
		reg.MustRegister(g)
		return reg, g
	}
	// Two partitions sampled 6 times in the period (the 7th sample opens the next).
	set := func(g *prometheus.GaugeVec) func(int) {
		return func(i int) {
			g.WithLabelValues("0").Set(float64(i))      // 0..5
			g.WithLabelValues("1").Set(float64(10 + i)) // 10..15
		}
	}
	for stat, want := range map[Statistic]float64{StatAvg: 7.5, StatMin: 0, StatMax: 15, StatSum: 90, StatP99: 15} {
		reg, g := newGauges()
		if dp := periodValue(t, reg, spec("lag", stat), set(g)); dp.Missing || dp.Value != want {
			t.Errorf("gauge %s = %+v, want %g", stat, dp, want)
		}
	}
	reg, g := newGauges()
	if dp := periodValue(t, reg, spec(`lag{p="1"}`, StatMin), set(g)); dp.Value != 10 {
		t.Errorf(`lag{p="1"} min = %+v, want 10`, dp)
	}

	// Counter rate: 30 per 10s, the increase within the period over 60s.
	reg = prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rows_total", Help: "x"}, []string{"t"})
	reg.MustRegister(c)
	dp := periodValue(t, reg, spec("rows_total", StatRate), func(i int) {
		c.WithLabelValues("a").Add(30)
		c.WithLabelValues("b").Add(30)
	})
	if want := 2 * 5 * 30.0 / 60; dp.Value != want { // 5 increases per series seen inside the period
		t.Errorf("rate = %+v, want %g", dp, want)
	}

	// Histogram p99 from bucket increases, and avg from sum/count.
	reg = prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "commit_seconds", Help: "x", Buckets: prometheus.LinearBuckets(0.1, 0.1, 10)})
	reg.MustRegister(h)
	h.Observe(100) // before the period's first sample: not counted
	obs := func(i int) {
		if i == 0 {
			return
		}
		for j := range 200 {
			h.Observe(float64(j) / 200) // uniform on [0,1)
		}
	}
	dp = periodValue(t, reg, spec("commit_seconds", StatP99), obs)
	if math.Abs(dp.Value-0.99) > 0.011 {
		t.Errorf("histogram p99 = %+v, want about 0.99", dp)
	}
	reg = prometheus.NewRegistry()
	h = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "commit_seconds", Help: "x", Buckets: prometheus.LinearBuckets(0.1, 0.1, 10)})
	reg.MustRegister(h)
	h.Observe(100)
	dp = periodValue(t, reg, spec("commit_seconds", StatAvg), obs)
	if math.Abs(dp.Value-0.4975) > 1e-9 {
		t.Errorf("histogram avg = %+v, want 0.4975", dp)
	}

	// No series: a missing datapoint.
	if dp := periodValue(t, prometheus.NewRegistry(), spec("absent", StatMax), func(int) {}); !dp.Missing {
		t.Errorf("absent metric = %+v, want missing", dp)
	}
}

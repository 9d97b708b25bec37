package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHistoryReloadAfterRestart(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "depth", Help: "x"}, []string{"q"})
	reg.MustRegister(g)
	for i, q := range []string{"a", "b", "c", "d", "e"} {
		g.WithLabelValues(q).Set(float64(i * 10))
	}
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.MaxSeries = 3
	cfg.Alarms = []AlarmSpec{{Name: "deep-e", Metric: `depth{q="e"}`, Statistic: StatMax, Period: time.Minute,
		EvaluationPeriods: 1, Comparison: GreaterThan, Threshold: 5}}
	dir := t.TempDir()
	clock := newClock()
	e, err := New(cfg, reg, dir, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 * 6 {
		clock.t = clock.t.Add(10 * time.Second)
		e.step(clock.t)
	}
	keys := e.Series()
	if len(keys) != 3 {
		t.Fatalf("series %v: want 3 (max_series bounds the history)", keys)
	}
	pts := e.Datapoints(`depth{q="a"}`, time.Time{})
	// Samples from 12:00:10 to 12:03:00: minutes 12:00, 12:01 and 12:02 are closed.
	if len(pts) != 3 || pts[0].V != 0 || !pts[2].T.Equal(newClock().t.Add(2*time.Minute)) {
		t.Fatalf(`depth{q="a"}: %v, want three minutes of 0 (12:00 to 12:02)`, pts)
	}
	if pts := e.Datapoints(`depth{q="c"}`, time.Time{}); len(pts) != 3 || pts[0].V != 20 {
		t.Fatalf(`depth{q="c"}: %v, want three minutes of 20`, pts)
	}
	if st := e.States()[0]; st.State != StateAlarm {
		t.Fatalf("alarm is %s (%s), want ALARM", st.State, st.Reason)
	}
	hist := e.History("deep-e")
	if len(hist) != 1 || hist[0].NewState != StateAlarm {
		t.Fatalf("history %+v, want one transition to ALARM", hist)
	}
	if err := errorsOf(e); err != nil {
		t.Fatal(err)
	}
	// A torn line from a crash mid-write is skipped on reload.
	files, _ := filepath.Glob(filepath.Join(dir, "metrics", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("metric files %v, want one hour file", files)
	}
	f, _ := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"t":123,"k":"dep`)
	f.Close()

	// Restart.
	e2, err := New(cfg, reg, dir, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.store.close()
	if got := e2.Series(); !slices.Equal(got, keys) {
		t.Fatalf("after restart series %v, want %v", got, keys)
	}
	if got := e2.Datapoints(`depth{q="a"}`, time.Time{}); !slices.Equal(got, pts) {
		t.Fatalf("after restart datapoints %v, want %v", got, pts)
	}
	if got := e2.History("deep-e"); len(got) != 1 || !got[0].Timestamp.Equal(hist[0].Timestamp) {
		t.Fatalf("after restart history %+v, want %+v", got, hist)
	}
	if err := e2.CheckAlarm("deep-e"); err != nil {
		t.Fatalf("CheckAlarm of a configured alarm: %v", err)
	}
	if err := e2.CheckAlarm("deep-f"); !errors.Is(err, ErrNoSuchAlarm) || !strings.Contains(err.Error(), "deep-e") {
		t.Fatalf("CheckAlarm of an unknown alarm: %v, want ErrNoSuchAlarm naming deep-e", err)
	}
	st := e2.States()[0]
	if st.State != StateAlarm || len(st.Datapoints) == 0 {
		t.Fatalf("after restart alarm %s with %d datapoints, want ALARM with its datapoints", st.State, len(st.Datapoints))
	}
	// The restarted engine carries on: no new transition, so no repeated notification.
	for range 2 * 6 {
		clock.t = clock.t.Add(10 * time.Second)
		if trs := e2.step(clock.t); len(trs) != 0 {
			t.Fatalf("restart caused transitions %+v", trs)
		}
	}
	// A changed alarm definition starts afresh in INSUFFICIENT_DATA.
	cfg.Alarms[0].Threshold = 50
	e3, err := New(cfg, reg, dir, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e3.store.close()
	if st := e3.States()[0]; st.State != StateInsufficient {
		t.Fatalf("changed alarm restored as %s, want INSUFFICIENT_DATA", st.State)
	}
}

func errorsOf(e *Engine) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.store.close()
}

// TestHistoryBounded runs 26 simulated hours: each series keeps at most 24
// hours of minutes, in memory and on disk.
func TestHistoryBounded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "events_total", Help: "x"})
	reg.MustRegister(c)
	cfg := Default()
	dir := t.TempDir()
	clock := newClock()
	e, err := New(cfg, reg, dir, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	for range 26 * 60 * 2 {
		clock.t = clock.t.Add(30 * time.Second)
		c.Add(60) // 2 events per second
		e.step(clock.t)
	}
	pts := e.Datapoints("events_total", time.Time{})
	if len(pts) < 24*60-1 || len(pts) > 24*60+1 {
		t.Fatalf("%d minutes kept, want 24h = 1440", len(pts))
	}
	if pts[len(pts)-1].V != 2 || pts[0].T.Before(clock.t.Add(-24*time.Hour-time.Minute)) {
		t.Fatalf("points from %s to %s, last %v: want 2/s within the last 24h", pts[0].T, pts[len(pts)-1].T, pts[len(pts)-1])
	}
	files, _ := filepath.Glob(filepath.Join(dir, "metrics", "*.jsonl"))
	var size int64
	for _, f := range files {
		fi, _ := os.Stat(f)
		size += fi.Size()
	}
	if len(files) > 26 {
		t.Fatalf("%d hour files after 26h, want old ones pruned (at most 26)", len(files))
	}
	t.Logf("26h of one series: %d hour files, %d bytes on disk, %d minutes in memory", len(files), size, len(pts))
	// Reloading keeps only the retention too.
	e2, err := New(cfg, reg, dir, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.store.close()
	if n := len(e2.Datapoints("events_total", time.Time{})); n > 24*60+1 {
		t.Fatalf("reloaded %d minutes, want at most 1441", n)
	}
}

// TestEngineFeedsExporter checks each closed minute reaches the exporters
// with its series and the alarm states.
func TestEngineFeedsExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth", Help: "x"})
	reg.MustRegister(g)
	g.Set(3)
	cfg := Default()
	clock := newClock()
	e, err := New(cfg, reg, t.TempDir(), WithClock(clock.Now), WithExporter(&CloudWatch{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	for i := range 7 {
		e.step(clock.t.Add(time.Duration(i) * 10 * time.Second))
	}
	select {
	case b := <-e.exportQ:
		if !b.Time.Equal(clock.t) || len(b.Points) != 1 || b.Points[0].Name != "depth" || b.Points[0].V != 3 {
			t.Fatalf("batch %+v, want depth=3 for 12:00", b)
		}
		if len(b.Alarms) != len(DefaultAlarms(cfg.StallWindow, cfg.SampleInterval)) {
			t.Fatalf("batch has %d alarm states, want every default alarm", len(b.Alarms))
		}
	default:
		t.Fatal("no batch queued for the closed minute")
	}
}

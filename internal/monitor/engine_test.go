package monitor

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pipeline registers the ingest and ETL series the stall alarm reads, with
// the names and labels internal/ingest and internal/etl export.
type pipeline struct {
	reg       *prometheus.Registry
	records   *prometheus.CounterVec
	lag       *prometheus.GaugeVec
	rows      *prometheus.CounterVec
	dead      *prometheus.CounterVec
	produced  float64
	consumed  float64
	committed float64
}

func newPipeline() *pipeline {
	p := &pipeline{reg: prometheus.NewRegistry()}
	p.records = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_ingest_records_total", Help: "x"}, []string{"topic"})
	p.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamlake_ingest_consumer_lag", Help: "x"}, []string{"topic", "partition"})
	p.rows = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_etl_rows_committed_total", Help: "x"}, []string{"table"})
	p.dead = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamlake_etl_dead_letter_rows_total", Help: "x"}, []string{"table"})
	p.reg.MustRegister(p.records, p.lag, p.rows, p.dead)
	return p
}

// tick moves 10 seconds of a producer writing 100 records/s to topic
// "app.events"; ingest keeps up; the ETL commits what ingest consumed when
// etlRunning.
func (p *pipeline) tick(etlRunning bool) {
	p.produced += 1000
	p.records.WithLabelValues("app.events").Add(p.produced - p.consumed)
	p.consumed = p.produced
	p.lag.WithLabelValues("app.events", "0").Set(0)
	if etlRunning {
		p.rows.WithLabelValues("app_events").Add(p.consumed - p.committed)
		p.committed = p.consumed
	}
}

type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	got   []Transition
	fails atomic.Int32 // answer 500 to this many requests first
	calls atomic.Int32
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		if h.fails.Add(-1) >= 0 {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var tr Transition
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &tr) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, tr)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) transitions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, tr := range h.got {
		out = append(out, tr.Alarm+":"+string(tr.OldState)+">"+string(tr.NewState))
	}
	return out
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// drive steps the engine at now and runs the actions of its transitions
// synchronously, as Run's worker would.
func drive(e *Engine, now time.Time) []Transition {
	trs := e.step(now)
	for _, tr := range trs {
		if e.shouldAct(tr) {
			e.act(context.Background(), tr)
		}
	}
	return trs
}

// TestSilentStallAlarm is the acceptance scenario: the producer keeps
// writing, the ETL stops, the silent-stall alarm goes to ALARM within the
// stall window plus two sampling intervals, and back to OK when the ETL
// resumes; the
// webhook receives exactly one notification for each transition.
func TestSilentStallAlarm(t *testing.T) {
	p := newPipeline()
	hook := newHookServer(t)
	cfg := Default()
	cfg.Webhooks = []string{hook.URL}
	clock := newClock()
	e, err := New(cfg, p.reg, t.TempDir(), WithClock(clock.Now), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	state := func() State {
		for _, s := range e.States() {
			if s.Name == AlarmSilentStall {
				return s.State
			}
		}
		t.Fatal("no silent-stall alarm")
		return ""
	}
	run := func(d time.Duration, etl bool, until State) time.Duration {
		start := clock.t
		for clock.t.Sub(start) < d {
			clock.t = clock.t.Add(10 * time.Second)
			p.tick(etl)
			drive(e, clock.t)
			if until != "" && state() == until {
				return clock.t.Sub(start)
			}
		}
		return clock.t.Sub(start)
	}
	run(5*time.Minute, true, "")
	if s := state(); s != StateOK {
		t.Fatalf("healthy pipeline: silent-stall is %s, want OK", s)
	}
	if got := hook.transitions(); len(got) != 0 {
		t.Fatalf("healthy pipeline sent notifications: %v", got)
	}

	took := run(10*time.Minute, false, StateAlarm)
	limit := cfg.StallWindow + 2*cfg.SampleInterval
	if s := state(); s != StateAlarm || took > limit {
		t.Fatalf("ETL stopped: silent-stall is %s after %s, want ALARM within %s", s, took, limit)
	}
	t.Logf("ETL stopped -> ALARM after %s (limit %s)", took, limit)
	run(5*time.Minute, false, "") // stays in ALARM: no more notifications
	took = run(10*time.Minute, true, StateOK)
	if s := state(); s != StateOK || took > 2*cfg.SampleInterval {
		t.Fatalf("ETL resumed: silent-stall is %s after %s, want OK within two sampling intervals", s, took)
	}
	t.Logf("ETL resumed -> OK after %s", took)
	run(5*time.Minute, true, "")

	want := []string{AlarmSilentStall + ":OK>ALARM", AlarmSilentStall + ":ALARM>OK"}
	if got := hook.transitions(); !slices.Equal(got, want) {
		t.Fatalf("webhook got %v, want exactly %v", got, want)
	}
	n := hook.got[0]
	if n.Reason == "" || len(n.Values) != EvaluationRange(1) || n.Values[len(n.Values)-1] == nil || *n.Values[len(n.Values)-1] != 1 || n.Timestamp.IsZero() {
		t.Fatalf("notification body lacks reason, values or timestamp: %+v", n)
	}
	if want := `streamlake_monitor_stalled{table="app_events",topic="app.events"}`; !slices.Equal(n.Series, []string{want}) {
		t.Fatalf("ALARM notification names series %v, want [%s]", n.Series, want)
	}
	// Every other default alarm stayed OK (crawler and query metrics do not exist).
	for _, s := range e.States() {
		if s.Name != AlarmSilentStall && s.State != StateOK {
			t.Errorf("alarm %s is %s (%s), want OK", s.Name, s.State, s.Reason)
		}
	}
}

func TestStallNeedsArrivingRecordsOrLag(t *testing.T) {
	st := stallTracker{table: tableName, window: time.Minute, topics: map[string][]stallPoint{}}
	t0 := newClock().Now()
	mk := func(records, lag, rows float64) []sample {
		return []sample{
			{name: "streamlake_ingest_records_total", labels: map[string]string{"topic": "a.b"}, value: records},
			{name: "streamlake_ingest_consumer_lag", labels: map[string]string{"topic": "a.b", "partition": "0"}, value: lag},
			{name: "streamlake_etl_rows_committed_total", labels: map[string]string{"table": "a_b"}, value: rows},
		}
	}
	cases := []struct {
		name               string
		records, lag, rows float64
		want               float64
	}{
		{"idle topic", 100, 0, 100, 0},
		{"ingest stopped, lag grows", 100, 50, 100, 1},
		{"etl stopped, ingest consumes", 200, 0, 100, 1},
		{"all flowing", 200, 0, 200, 0},
	}
	for _, c := range cases {
		st.topics = map[string][]stallPoint{}
		if got := st.derive(t0, mk(100, 0, 100)); len(got) != 0 {
			t.Fatalf("%s: derived %v before a whole window", c.name, got)
		}
		got := st.derive(t0.Add(time.Minute), mk(c.records, c.lag, c.rows))
		if len(got) != 1 || got[0].value != c.want || got[0].labels["table"] != "a_b" {
			t.Errorf("%s: derived %+v, want stalled=%g for table a_b", c.name, got, c.want)
		}
	}
}

func TestWebhookRetries(t *testing.T) {
	hook := newHookServer(t)
	e := &Engine{http: hook.Client(), attempts: 4, backoff: time.Millisecond, log: slog.New(slog.DiscardHandler)}
	tr := Transition{Alarm: "a", OldState: StateOK, NewState: StateAlarm, Timestamp: time.Unix(0, 0)}

	hook.fails.Store(2)
	if err := e.post(t.Context(), hook.URL, tr); err != nil {
		t.Fatalf("2 failures then success: %v", err)
	}
	if c := hook.calls.Load(); c != 3 {
		t.Fatalf("2 failures then success took %d calls, want 3", c)
	}
	if got := hook.transitions(); !slices.Equal(got, []string{"a:OK>ALARM"}) {
		t.Fatalf("delivered %v", got)
	}

	hook.calls.Store(0)
	hook.fails.Store(100)
	err := e.post(t.Context(), hook.URL, tr)
	if err == nil || !strings.Contains(err.Error(), "attempt 4 of 4") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("always failing: err = %v, want attempt 4 of 4 ... 500", err)
	}
	if c := hook.calls.Load(); c != 4 {
		t.Fatalf("always failing made %d calls, want 4 (bounded)", c)
	}

	// A 4xx is the receiver refusing the body: no retry.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook.calls.Add(1)
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer bad.Close()
	hook.calls.Store(0)
	if err := e.post(t.Context(), bad.URL, tr); err == nil || hook.calls.Load() != 1 {
		t.Fatalf("400: err %v after %d calls, want an error after 1", err, hook.calls.Load())
	}
}

// TestRunDeliversOnTransition runs the real loop on the real clock with a
// 1s alarm: the webhook worker delivers the ALARM notification, and Run
// returns nil on cancel after saving the states.
func TestRunDeliversOnTransition(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "queue_depth", Help: "x"})
	reg.MustRegister(g)
	g.Set(7)
	hook := newHookServer(t)
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.SampleInterval = 100 * time.Millisecond
	cfg.StallWindow = time.Second
	cfg.Alarms = []AlarmSpec{{Name: "deep", Metric: "queue_depth", Statistic: StatMax, Period: time.Second,
		EvaluationPeriods: 1, Comparison: GreaterThan, Threshold: 5, Actions: Actions{Webhooks: []string{hook.URL}, Log: true}}}
	dir := t.TempDir()
	// The engine samples the registry it exports its own metrics to.
	e, err := New(cfg, reg, dir, WithLogger(testLogger(t)), WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(hook.transitions()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := hook.transitions(); !slices.Equal(got, []string{"deep:INSUFFICIENT_DATA>ALARM"}) {
		t.Fatalf("webhook got %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "states.json")); err != nil {
		t.Fatalf("states not saved: %v", err)
	}
	got := map[string]float64{}
	for _, s := range gatherSamples(t, reg) {
		if strings.HasPrefix(s.name, "streamlake_monitor_") {
			got[s.key] = s.value
		}
	}
	want := map[string]float64{
		`streamlake_monitor_alarm_state{alarm="deep",state="ALARM"}`:             1,
		`streamlake_monitor_alarm_state{alarm="deep",state="INSUFFICIENT_DATA"}`: 0,
		`streamlake_monitor_alarm_state{alarm="deep",state="OK"}`:                0,
		`streamlake_monitor_webhook_deliveries_total{result="ok"}`:               1,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("own metrics %v, want %v", got, want)
	}
}

func gatherSamples(t *testing.T, g prometheus.Gatherer) []sample {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return flatten(mfs)
}

package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Transition is one alarm state change: what the history records and what a
// webhook receives as its JSON body. Values are the evaluated datapoints,
// oldest first, null where a period had no data.
type Transition struct {
	Alarm    string     `json:"alarm"`
	OldState State      `json:"old_state"`
	NewState State      `json:"new_state"`
	Reason   string     `json:"reason"`
	Values   []*float64 `json:"values"`
	// Series names the series that breached in the newest period, when known
	// (e.g. streamlake_monitor_stalled{table="orders",topic="orders"}).
	Series    []string  `json:"series,omitempty"`
	Timestamp time.Time `json:"timestamp"`

	quiet bool // a new alarm settling into OK: recorded, no action
}

// AlarmStatus is an alarm's current state, for status pages.
type AlarmStatus struct {
	Name       string      `json:"name"`
	State      State       `json:"state"`
	Reason     string      `json:"reason"`
	Since      time.Time   `json:"since"`
	Spec       AlarmSpec   `json:"spec"`
	Datapoints []Datapoint `json:"datapoints"`
}

// Exporter receives each minute's datapoints and the alarm states; the
// CloudWatch exporter is one. Export is called from one goroutine at a time.
type Exporter interface {
	Export(ctx context.Context, b Batch) error
}

// Batch is what an Exporter is given: datapoints of whole minutes and the
// alarm states at the end of them.
type Batch struct {
	Time   time.Time // start of the minute the points are for
	Points []SeriesPoint
	Alarms []AlarmStatus
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock replaces time.Now (tests drive the engine with a simulated clock).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithHTTPClient sets the client used for webhooks (default: 10s timeout).
func WithHTTPClient(c *http.Client) Option { return func(e *Engine) { e.http = c } }

// WithWebhookRetry sets the webhook attempts and first backoff (default 5
// attempts from 500ms, doubling).
func WithWebhookRetry(attempts int, backoff time.Duration) Option {
	return func(e *Engine) { e.attempts, e.backoff = max(attempts, 1), backoff }
}

// WithExporter adds an exporter fed once per minute (CloudWatch export).
func WithExporter(x Exporter) Option { return func(e *Engine) { e.exporters = append(e.exporters, x) } }

// Engine samples a prometheus.Gatherer, keeps metric history, evaluates
// alarms at period boundaries with CloudWatch semantics and runs their
// actions on transitions only. Its read methods (States, History, Series,
// Datapoints) are safe to call concurrently with Run.
type Engine struct {
	cfg       Config
	gather    prometheus.Gatherer
	now       func() time.Time
	log       *slog.Logger
	http      *http.Client
	attempts  int
	backoff   time.Duration
	exporters []Exporter

	mu     sync.Mutex // guards alarms, store reads, consumed
	alarms []*alarm
	store  *store
	stall  stallTracker
	// consumed holds, per topic, the ingest record counter of the samples
	// of the last minute, for the ingest rate of Status.
	consumed map[string][]MinutePoint

	warnedDropped bool
	reg           prometheus.Registerer
	deliveries    *prometheus.CounterVec

	queue   chan Transition // to the webhook worker, in order
	exportQ chan Batch
}

// alarm is one alarm's runtime state.
type alarm struct {
	spec    AlarmSpec
	sel     Selector
	state   State
	reason  string
	since   time.Time
	settled bool // has left INSUFFICIENT_DATA once: later entries into OK are news
	points  []Datapoint
	cur     *acc
	last    map[string]prev
}

// New returns an Engine for cfg's alarms (AllAlarms) keeping its history in
// dir, which it creates. It reloads the history and alarm states a previous
// Engine left there. cfg must be valid.
func New(cfg Config, g prometheus.Gatherer, dir string, opts ...Option) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, gather: g, now: time.Now,
		log:      slog.New(slog.DiscardHandler),
		http:     &http.Client{Timeout: 10 * time.Second},
		attempts: 5, backoff: 500 * time.Millisecond,
		stall:   stallTracker{table: tableName, window: cfg.StallWindow, topics: map[string][]stallPoint{}},
		queue:   make(chan Transition, 1024),
		exportQ: make(chan Batch, 16),
	}
	for _, o := range opts {
		o(e)
	}
	for _, spec := range cfg.AllAlarms() {
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		sel, _ := ParseSelector(spec.Metric)
		e.alarms = append(e.alarms, &alarm{spec: spec, sel: sel, state: StateInsufficient, since: e.now(), last: map[string]prev{}})
	}
	st, err := openStore(dir, cfg, e.now())
	if err != nil {
		return nil, err
	}
	e.store = st
	for _, a := range e.alarms {
		if saved, ok := st.saved[a.spec.Name]; ok && saved.Spec == fingerprint(a.spec) {
			a.state, a.reason, a.since, a.settled, a.points = saved.State, saved.Reason, saved.Since, saved.Settled, saved.Points
		}
	}
	if err := e.registerMetrics(); err != nil {
		st.close()
		return nil, fmt.Errorf("monitor: register metrics: %w", err)
	}
	return e, nil
}

// Run samples every SampleInterval until ctx is done, then saves the alarm
// states and returns nil. Webhook deliveries and exports run beside the
// sampling so a slow receiver never delays evaluation; on return, queued
// webhooks are abandoned after a last attempt within 5 seconds.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { e.deliverLoop(workCtx) })
	wg.Go(func() { e.exportLoop(workCtx) })
	t := time.NewTicker(e.cfg.SampleInterval)
	defer t.Stop()
	e.step(e.now())
	for {
		select {
		case <-ctx.Done():
			close(e.queue)
			close(e.exportQ)
			timer := time.AfterFunc(5*time.Second, stopWork)
			wg.Wait()
			timer.Stop()
			stopWork()
			e.mu.Lock()
			defer e.mu.Unlock()
			return errors.Join(e.saveStates(true), e.store.close())
		case <-t.C:
			e.step(e.now())
		}
	}
}

func (e *Engine) deliverLoop(ctx context.Context) {
	for tr := range e.queue {
		e.act(ctx, tr)
	}
}

// flusher is an Exporter that buffers and can send what it holds now.
type flusher interface {
	Flush(ctx context.Context) error
}

func (e *Engine) exportLoop(ctx context.Context) {
	for b := range e.exportQ {
		for _, x := range e.exporters {
			if err := x.Export(ctx, b); err != nil {
				e.log.Warn("monitor export failed", "exporter", fmt.Sprintf("%T", x), "points", len(b.Points), "err", err)
			}
		}
	}
	// Shutting down: send what buffering exporters still hold.
	for _, x := range e.exporters {
		if f, ok := x.(flusher); ok {
			if err := f.Flush(ctx); err != nil {
				e.log.Warn("monitor export flush failed", "exporter", fmt.Sprintf("%T", x), "err", err)
			}
		}
	}
}

// step takes one sample at now: it closes finished periods, evaluates their
// alarms, queues the actions of transitions and returns the transitions.
func (e *Engine) step(now time.Time) []Transition {
	// Gather before taking e.mu: the gatherer may hold this engine's
	// collector, which reads the states under e.mu.
	mfs, err := e.gather.Gather()
	if err != nil && len(mfs) == 0 {
		e.log.Warn("monitor gather failed", "err", err)
	}
	// A registry that also holds this engine's own series: the derived ones
	// are computed below, never read back.
	samples := slices.DeleteFunc(flatten(mfs), func(s sample) bool { return s.name == StalledMetric })
	samples = append(samples, e.stall.derive(now, samples)...)

	e.mu.Lock()
	e.recordConsumed(now, samples)
	var trs []Transition
	for _, a := range e.alarms {
		if tr, ok := e.advance(a, now); ok {
			trs = append(trs, tr)
		}
		for _, s := range samples {
			if a.sel.Matches(s.name, s.labels) {
				a.cur.add(s, a.last)
			}
		}
	}
	done, err := e.store.record(now, samples)
	if err != nil {
		e.log.Warn("monitor history write failed", "dir", e.store.dir, "err", err) // in memory regardless; evaluation goes on
	}
	if e.store.dropped && !e.warnedDropped {
		e.warnedDropped = true
		e.log.Warn("monitor history is full, further series are not recorded", "max_series", e.cfg.MaxSeries)
	}
	var batch *Batch
	if len(done) > 0 && len(e.exporters) > 0 {
		batch = &Batch{Time: done[0].T, Points: done, Alarms: e.statesLocked()}
	}
	if len(trs) > 0 || len(done) > 0 {
		for _, tr := range trs {
			if err := e.store.appendTransition(tr); err != nil {
				e.log.Warn("monitor history write failed", "dir", e.store.dir, "alarm", tr.Alarm, "err", err)
			}
		}
		if err := e.saveStates(len(trs) > 0); err != nil {
			e.log.Warn("monitor state write failed", "dir", e.store.dir, "err", err)
		}
	}
	e.mu.Unlock()

	for _, tr := range trs {
		if !e.shouldAct(tr) {
			continue
		}
		select {
		case e.queue <- tr:
		default:
			e.log.Error("monitor action queue full, dropping notification", "alarm", tr.Alarm, "new_state", tr.NewState)
		}
	}
	if batch != nil {
		select {
		case e.exportQ <- *batch:
		default:
			e.log.Warn("monitor export queue full, dropping a minute", "points", len(batch.Points))
		}
	}
	return trs
}

// advance closes a's periods that ended by now and evaluates the alarm.
func (e *Engine) advance(a *alarm, now time.Time) (Transition, bool) {
	p := a.spec.Period
	start := now.Truncate(p)
	if a.cur == nil {
		// First sample (or first since a restart): periods the process did
		// not see are missing datapoints.
		if n := len(a.points); n > 0 {
			from := a.points[n-1].Start.Add(p)
			if oldest := start.Add(-time.Duration(EvaluationRange(a.spec.EvaluationPeriods)) * p); from.Before(oldest) {
				from = oldest
			}
			for t := from; t.Before(start); t = t.Add(p) {
				a.points = append(a.points, Datapoint{Start: t, Missing: true})
			}
		}
		a.cur = a.newAcc(start)
		return Transition{}, false
	}
	if !start.After(a.cur.start) {
		return Transition{}, false
	}
	a.points = append(a.points, a.cur.datapoint(a.spec.Statistic, p))
	for t := a.cur.start.Add(p); t.Before(start); t = t.Add(p) {
		a.points = append(a.points, Datapoint{Start: t, Missing: true})
	}
	// Keep only the evaluation range, and only periods that are in it.
	r := EvaluationRange(a.spec.EvaluationPeriods)
	oldest := start.Add(-time.Duration(r) * p)
	a.points = slices.DeleteFunc(a.points, func(d Datapoint) bool { return d.Start.Before(oldest) })
	if len(a.points) > r {
		a.points = a.points[len(a.points)-r:]
	}
	a.cur = a.newAcc(start)

	st, reason := Evaluate(&a.spec, a.points, a.state)
	a.reason = reason
	if st == a.state {
		return Transition{}, false
	}
	tr := Transition{Alarm: a.spec.Name, OldState: a.state, NewState: st, Reason: reason, Values: values(a.points, r), Timestamp: now}
	if last := a.points[len(a.points)-1]; st == StateAlarm {
		tr.Series = last.Series
	}
	// The first settling of a new alarm into OK is recorded but runs no action.
	tr.quiet = st == StateOK && !a.settled
	a.settled = a.settled || st != StateInsufficient
	a.state, a.since = st, now
	return tr, true
}

func (a *alarm) newAcc(start time.Time) *acc {
	c := &acc{start: start}
	if a.spec.Statistic != StatRate {
		cmp, th := a.spec.Comparison, a.spec.Threshold
		c.breach = func(v float64) bool { return cmp.Breaches(v, th) }
	}
	return c
}

func values(pts []Datapoint, r int) []*float64 {
	out := make([]*float64, r-len(pts), r)
	for _, p := range pts {
		if p.Missing {
			out = append(out, nil)
		} else {
			out = append(out, &p.Value)
		}
	}
	return out
}

func (e *Engine) shouldAct(tr Transition) bool {
	a := e.alarm(tr.Alarm)
	return a != nil && !tr.quiet && a.spec.Actions.runsOn(tr.NewState)
}

func (e *Engine) alarm(name string) *alarm {
	for _, a := range e.alarms {
		if a.spec.Name == name {
			return a
		}
	}
	return nil
}

// States returns every alarm's current state, in configuration order.
func (e *Engine) States() []AlarmStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statesLocked()
}

func (e *Engine) statesLocked() []AlarmStatus {
	out := make([]AlarmStatus, 0, len(e.alarms))
	for _, a := range e.alarms {
		out = append(out, AlarmStatus{Name: a.spec.Name, State: a.state, Reason: a.reason, Since: a.since, Spec: a.spec, Datapoints: slices.Clone(a.points)})
	}
	return out
}

// ErrNoSuchAlarm is wrapped by CheckAlarm's error.
var ErrNoSuchAlarm = errors.New("no such alarm")

// CheckAlarm returns an error naming the configured alarms when name is
// neither one of them nor an alarm with recorded transitions (one removed
// from the configuration since).
func (e *Engine) CheckAlarm(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, len(e.alarms))
	for i, a := range e.alarms {
		if a.spec.Name == name {
			return nil
		}
		names[i] = a.spec.Name
	}
	if len(e.store.transitions[name]) > 0 {
		return nil
	}
	return fmt.Errorf("alarm %q: %w; the alarms are %s", name, ErrNoSuchAlarm, strings.Join(names, ", "))
}

// History returns the recorded transitions of the named alarm, oldest
// first, at most MaxTransitions of them.
func (e *Engine) History(name string) []Transition {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.store.transitions[name])
}

// Series returns the keys of the series with recorded history, sorted.
func (e *Engine) Series() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.store.keys()
}

// Datapoints returns the 1-minute datapoints of a series since a time.
func (e *Engine) Datapoints(key string, since time.Time) []MinutePoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.store.points(key, since)
}

func (e *Engine) saveStates(sync bool) error {
	m := make(map[string]savedAlarm, len(e.alarms))
	for _, a := range e.alarms {
		m[a.spec.Name] = savedAlarm{State: a.state, Reason: a.reason, Since: a.since, Settled: a.settled, Points: a.points, Spec: fingerprint(a.spec)}
	}
	if err := e.store.saveStates(m, sync); err != nil {
		return fmt.Errorf("monitor: save alarm states: %w", err)
	}
	return nil
}

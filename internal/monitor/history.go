package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Files in the history directory:
//
//	metrics/YYYYMMDDTHH.jsonl  1-minute datapoints, one {"t","k","v"} per line, one file per UTC hour,
//	                           files older than the retention deleted
//	alarms.jsonl               alarm transitions (Transition as JSON), compacted at open
//	states.json                alarm states and datapoints, rewritten (atomically) on change
//
// The metric history is bounded by MaxSeries x retention minutes datapoints,
// in memory (16 bytes each) and on disk (about 80 bytes each).

// MinutePoint is one series' value for one minute: for gauges the mean of
// the minute's samples, for counters the increase per second, for
// histograms and summaries the observations per second.
type MinutePoint struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// SeriesPoint is a MinutePoint of a named series.
type SeriesPoint struct {
	Key    string
	Name   string
	Labels map[string]string
	MinutePoint
}

type savedAlarm struct {
	State   State       `json:"state"`
	Reason  string      `json:"reason"`
	Since   time.Time   `json:"since"`
	Settled bool        `json:"settled"`
	Points  []Datapoint `json:"points"`
	Spec    string      `json:"spec"` // fingerprint: a changed alarm starts afresh
}

// fingerprint identifies what an alarm's state depends on.
func fingerprint(s AlarmSpec) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d|%s|%g|%s", s.Metric, s.Statistic, s.Period, s.EvaluationPeriods, s.M(), s.Comparison, s.Threshold, s.Treatment())
}

type point struct {
	t int64 // unix seconds of the minute's start
	v float64
}

type seriesHist struct {
	name   string
	labels map[string]string
	pts    []point
}

type minuteAcc struct {
	kind  kind
	sum   float64
	n     int
	inc   float64
	label *sample
}

type store struct {
	dir            string
	retention      time.Duration
	maxSeries      int
	maxTransitions int

	series  map[string]*seriesHist
	minute  time.Time
	cur     map[string]*minuteAcc
	last    map[string]float64
	dropped bool

	file     *os.File
	fileHour time.Time

	transitions map[string][]Transition
	alarmLog    *os.File
	alarmLines  int

	saved map[string]savedAlarm
}

func openStore(dir string, cfg Config, now time.Time) (*store, error) {
	st := &store{
		dir: dir, retention: cfg.HistoryRetention, maxSeries: cfg.MaxSeries, maxTransitions: cfg.MaxTransitions,
		series: map[string]*seriesHist{}, cur: map[string]*minuteAcc{}, last: map[string]float64{},
		transitions: map[string][]Transition{}, saved: map[string]savedAlarm{},
	}
	if err := os.MkdirAll(filepath.Join(dir, "metrics"), 0o755); err != nil {
		return nil, fmt.Errorf("monitor: history dir: %w", err)
	}
	if err := st.loadMetrics(now); err != nil {
		return nil, err
	}
	if err := st.loadTransitions(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "states.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("monitor: read alarm states: %w", err)
	default:
		if err := json.Unmarshal(b, &st.saved); err != nil {
			return nil, fmt.Errorf("monitor: read alarm states %s: %w", filepath.Join(dir, "states.json"), err)
		}
	}
	return st, nil
}

const hourFile = "20060102T15"

func (st *store) loadMetrics(now time.Time) error {
	names, err := filepath.Glob(filepath.Join(st.dir, "metrics", "*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	cutoff := now.Add(-st.retention).Unix()
	for _, name := range names {
		hour, err := time.Parse(hourFile, strings.TrimSuffix(filepath.Base(name), ".jsonl"))
		if err != nil {
			continue
		}
		if hour.Add(time.Hour).Unix() <= cutoff {
			if err := os.Remove(name); err != nil {
				return fmt.Errorf("monitor: prune history: %w", err)
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("monitor: read history: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				T int64   `json:"t"`
				K string  `json:"k"`
				V float64 `json:"v"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil || l.T < cutoff {
				continue // a torn last line after a crash, or too old
			}
			if h := st.hist(l.K, nil); h != nil {
				h.pts = append(h.pts, point{t: l.T, v: l.V})
			}
		}
		f.Close()
	}
	return nil
}

// hist returns the history of key, creating it unless MaxSeries is reached.
func (st *store) hist(key string, s *sample) *seriesHist {
	if h, ok := st.series[key]; ok {
		return h
	}
	if len(st.series) >= st.maxSeries {
		st.dropped = true
		return nil
	}
	h := &seriesHist{}
	if s != nil {
		h.name, h.labels = s.name, s.labels
	} else {
		h.name, h.labels = parseKey(key)
	}
	st.series[key] = h
	return h
}

// parseKey inverts seriesKey.
func parseKey(key string) (string, map[string]string) {
	name, _, ok := strings.Cut(key, "{")
	if !ok {
		return key, nil
	}
	sel, err := ParseSelector(key)
	if err != nil {
		return name, nil
	}
	labels := map[string]string{}
	for _, m := range sel.Matchers {
		labels[m.Label] = m.Value
	}
	return name, labels
}

// record folds samples taken at now into the current minute and returns the
// datapoints of the minute that ended, if one did, and the error of writing
// them to disk (they are kept in memory regardless).
func (st *store) record(now time.Time, samples []sample) ([]SeriesPoint, error) {
	m := now.Truncate(time.Minute)
	var done []SeriesPoint
	var err error
	if st.minute.IsZero() {
		st.minute = m
	}
	if m.After(st.minute) {
		done, err = st.closeMinute(m)
	}
	for i := range samples {
		s := &samples[i]
		a := st.cur[s.key]
		if a == nil {
			// Reserve the series' place now, so that the first MaxSeries
			// series seen (in the registry's sorted order) are the ones kept.
			if st.hist(s.key, s) == nil {
				continue
			}
			a = &minuteAcc{kind: s.kind, label: s}
			st.cur[s.key] = a
		}
		a.label = s
		a.n++
		a.sum += s.value
		if last, ok := st.last[s.key]; ok && s.kind != kindGauge {
			a.inc += increase(s.value, last)
		}
		st.last[s.key] = s.value
	}
	return done, err
}

func (st *store) closeMinute(next time.Time) ([]SeriesPoint, error) {
	t := st.minute
	st.minute = next
	cutoff := next.Add(-st.retention).Unix()
	var lines []byte
	done := make([]SeriesPoint, 0, len(st.cur))
	for key, a := range st.cur {
		v := a.sum / float64(a.n)
		if a.kind != kindGauge {
			v = a.inc / 60
		}
		h := st.hist(key, a.label)
		if h == nil {
			continue
		}
		h.pts = append(h.pts, point{t: t.Unix(), v: v})
		if i := sort.Search(len(h.pts), func(i int) bool { return h.pts[i].t >= cutoff }); i > 0 {
			h.pts = slices.Delete(h.pts, 0, i)
		}
		done = append(done, SeriesPoint{Key: key, Name: h.name, Labels: h.labels, MinutePoint: MinutePoint{T: t, V: v}})
		l, _ := json.Marshal(struct {
			T int64   `json:"t"`
			K string  `json:"k"`
			V float64 `json:"v"`
		}{t.Unix(), key, v})
		lines = append(append(lines, l...), '\n')
	}
	clear(st.cur)
	// Forget series that stopped reporting and have no history left.
	for key, h := range st.series {
		if len(h.pts) == 0 || h.pts[len(h.pts)-1].t < cutoff {
			delete(st.series, key)
			delete(st.last, key)
		}
	}
	if len(lines) > 0 {
		if err := st.write(t, lines); err != nil {
			return done, fmt.Errorf("monitor: write metric history: %w", err)
		}
	}
	return done, nil
}

// write appends lines to the file of t's hour, rotating and pruning hourly.
func (st *store) write(t time.Time, lines []byte) error {
	hour := t.UTC().Truncate(time.Hour)
	if st.file == nil || !hour.Equal(st.fileHour) {
		if st.file != nil {
			st.file.Close()
		}
		f, err := os.OpenFile(filepath.Join(st.dir, "metrics", hour.Format(hourFile)+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			st.file = nil
			return err
		}
		st.file, st.fileHour = f, hour
		st.prune(t)
	}
	_, err := st.file.Write(lines)
	return err
}

func (st *store) prune(now time.Time) {
	names, _ := filepath.Glob(filepath.Join(st.dir, "metrics", "*.jsonl"))
	for _, name := range names {
		hour, err := time.Parse(hourFile, strings.TrimSuffix(filepath.Base(name), ".jsonl"))
		if err == nil && hour.Add(time.Hour).Before(now.Add(-st.retention)) {
			os.Remove(name)
		}
	}
}

func (st *store) keys() []string {
	out := make([]string, 0, len(st.series))
	for k := range st.series {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (st *store) points(key string, since time.Time) []MinutePoint {
	h := st.series[key]
	if h == nil {
		return nil
	}
	var out []MinutePoint
	for _, p := range h.pts {
		if p.t >= since.Unix() {
			out = append(out, MinutePoint{T: time.Unix(p.t, 0).UTC(), V: p.v})
		}
	}
	return out
}

func (st *store) loadTransitions() error {
	name := filepath.Join(st.dir, "alarms.jsonl")
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("monitor: read alarm history: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		var tr Transition
		if json.Unmarshal(sc.Bytes(), &tr) != nil || tr.Alarm == "" {
			continue
		}
		lines++
		st.keepTransition(tr)
	}
	f.Close()
	st.alarmLines = lines
	return st.compactTransitions()
}

func (st *store) keepTransition(tr Transition) {
	h := append(st.transitions[tr.Alarm], tr)
	if len(h) > st.maxTransitions {
		h = slices.Delete(h, 0, len(h)-st.maxTransitions)
	}
	st.transitions[tr.Alarm] = h
}

func (st *store) appendTransition(tr Transition) error {
	st.keepTransition(tr)
	if st.alarmLog == nil {
		f, err := os.OpenFile(filepath.Join(st.dir, "alarms.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		st.alarmLog = f
	}
	b, _ := json.Marshal(tr)
	if _, err := st.alarmLog.Write(append(b, '\n')); err != nil {
		return err
	}
	st.alarmLines++
	if st.alarmLines > 2*st.kept()+100 {
		return st.compactTransitions()
	}
	return nil
}

func (st *store) kept() int {
	n := 0
	for _, h := range st.transitions {
		n += len(h)
	}
	return n
}

// compactTransitions rewrites alarms.jsonl with the kept transitions when it
// holds more than that.
func (st *store) compactTransitions() error {
	if st.alarmLines <= st.kept() {
		return nil
	}
	var all []Transition
	for _, h := range st.transitions {
		all = append(all, h...)
	}
	slices.SortStableFunc(all, func(a, b Transition) int { return a.Timestamp.Compare(b.Timestamp) })
	var buf []byte
	for _, tr := range all {
		b, _ := json.Marshal(tr)
		buf = append(append(buf, b...), '\n')
	}
	if st.alarmLog != nil {
		st.alarmLog.Close()
		st.alarmLog = nil
	}
	if err := writeAtomic(filepath.Join(st.dir, "alarms.jsonl"), buf, true); err != nil {
		return fmt.Errorf("monitor: compact alarm history: %w", err)
	}
	st.alarmLines = len(all)
	return nil
}

// saveStates replaces states.json; durable (fsynced) when sync is set, as
// after a transition, and otherwise only atomic, as for the minutely save.
func (st *store) saveStates(m map[string]savedAlarm, sync bool) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(st.dir, "states.json"), b, sync)
}

func (st *store) close() error {
	var errs []error
	if st.file != nil {
		errs = append(errs, st.file.Close())
		st.file = nil
	}
	if st.alarmLog != nil {
		errs = append(errs, st.alarmLog.Close())
		st.alarmLog = nil
	}
	return errors.Join(errs...)
}

func writeAtomic(name string, b []byte, sync bool) error {
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

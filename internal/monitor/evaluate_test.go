package monitor

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type truthRow struct {
	line   int
	m, n   int
	points string
	want   map[TreatMissing]string // a state, or "retain"
}

func readTruthTable(t *testing.T) []truthRow {
	t.Helper()
	f, err := os.Open("testdata/truth_table.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []truthRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 7 || len(f[2]) != 5 {
			t.Fatalf("truth_table.txt:%d: want M N points missing ignore breaching notBreaching, got %q", line, text)
		}
		m, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("truth_table.txt:%d: bad M or N", line)
		}
		rows = append(rows, truthRow{line: line, m: m, n: n, points: f[2], want: map[TreatMissing]string{
			MissingMissing: f[3], MissingIgnore: f[4], MissingBreaching: f[5], MissingNotBreaching: f[6],
		}})
	}
	if len(rows) != 11 {
		t.Fatalf("truth table has %d rows, the CloudWatch docs have 11", len(rows))
	}
	return rows
}

func expected(want string, start State) State {
	if want == "retain" {
		return start
	}
	return State(want)
}

// TestTruthTable runs every row of CloudWatch's documented tables, for every
// treat-missing-data value and every start state, three ways: the decision
// function, Evaluate on values, and an Engine sampling a real registry on a
// simulated clock.
func TestTruthTable(t *testing.T) {
	t.Parallel()
	for _, row := range readTruthTable(t) {
		for _, tmd := range treatments {
			for _, start := range allStates {
				want := expected(row.want[tmd], start)
				name := row.points + "/" + strconv.Itoa(row.m) + "of" + strconv.Itoa(row.n) + "/" + string(tmd) + "/from-" + string(start)
				t.Run(name, func(t *testing.T) {
					cls := []class(row.points)
					if got := decide(cls, row.n, row.m, tmd, start); got != want {
						t.Errorf("line %d: decide = %s, want %s", row.line, got, want)
					}
					spec := truthSpec(row, tmd)
					var pts []Datapoint
					for _, c := range row.points {
						pts = append(pts, valueOf(c))
					}
					if got, reason := Evaluate(&spec, pts, start); got != want {
						t.Errorf("line %d: Evaluate = %s (%s), want %s", row.line, got, reason, want)
					}
					if got := engineTruth(t, row, tmd, start); got != want {
						t.Errorf("line %d: Engine = %s, want %s", row.line, got, want)
					}
				})
			}
		}
	}
}

func truthSpec(row truthRow, tmd TreatMissing) AlarmSpec {
	return AlarmSpec{
		Name: "truth", Metric: `truth_value{row="x"}`, Statistic: StatMax, Period: time.Minute,
		EvaluationPeriods: row.n, DatapointsToAlarm: row.m, Comparison: GreaterThan, Threshold: 5,
		TreatMissingData: tmd,
	}
}

func valueOf(c rune) Datapoint {
	switch c {
	case 'X':
		return Datapoint{Value: 10}
	case '0':
		return Datapoint{Value: 1}
	}
	return Datapoint{Missing: true}
}

// engineTruth feeds the row's datapoints to an Engine one period at a time
// (a gauge set to 10 or 1, or absent) and returns the state after the last.
func engineTruth(t *testing.T, row truthRow, tmd TreatMissing, start State) State {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "truth_value", Help: "x"}, []string{"row"})
	reg.MustRegister(g)
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.Alarms = []AlarmSpec{truthSpec(row, tmd)}
	clock := newClock()
	e, err := New(cfg, reg, t.TempDir(), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	t0 := clock.Now()
	for i, c := range row.points {
		g.Reset()
		if dp := valueOf(c); !dp.Missing {
			g.WithLabelValues("x").Set(dp.Value)
		}
		e.step(t0.Add(time.Duration(i)*time.Minute + 30*time.Second))
	}
	e.alarms[0].state = start
	e.step(t0.Add(5 * time.Minute))
	return e.alarms[0].state
}

type fakeClock struct{ t time.Time }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { return c.t }

func TestEvaluateMofNOnSimulatedClock(t *testing.T) {
	// A 2-of-3 rate alarm on a counter: errors per second > 1.
	reg := prometheus.NewRegistry()
	errs := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_errors_total", Help: "x"})
	reg.MustRegister(errs)
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.Alarms = []AlarmSpec{{Name: "errors", Metric: "app_errors_total", Statistic: StatRate, Period: time.Minute,
		EvaluationPeriods: 3, DatapointsToAlarm: 2, Comparison: GreaterThan, Threshold: 1, TreatMissingData: MissingMissing}}
	clock := newClock()
	e, err := New(cfg, reg, t.TempDir(), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e.store.close()
	// Errors per second in each minute; the alarm needs 2 of the last 3 above 1.
	perSecond := []float64{0, 2, 0, 0, 3, 0, 3, 0, 0, 0}
	t0 := clock.Now()
	minute := func(i int) {
		// The sample at the minute's start closes the previous period.
		clock.t = t0.Add(time.Duration(i) * time.Minute)
		e.step(clock.Now())
	}
	var got []State
	for i, r := range perSecond {
		minute(i)
		got = append(got, e.alarms[0].state)
		errs.Add(r * 60)
		for s := 1; s < 6; s++ {
			e.step(t0.Add(time.Duration(i)*time.Minute + time.Duration(s)*10*time.Second))
		}
	}
	// State at the start of minute i reflects periods up to i-1.
	want := []State{StateInsufficient, StateOK, StateOK, StateOK, StateOK, StateOK, StateOK, StateAlarm, StateOK, StateOK}
	if !slices.Equal(got, want) {
		t.Fatalf("states\n got %v\nwant %v", got, want)
	}
	// The counter disappears: real datapoints leave the 5-period evaluation
	// range one by one, and only when none is left does the alarm (treating
	// missing data as missing) go to INSUFFICIENT_DATA.
	reg.Unregister(errs)
	got = got[:0]
	for i := 10; i <= 15; i++ {
		minute(i)
		got = append(got, e.alarms[0].state)
	}
	want = []State{StateOK, StateOK, StateOK, StateOK, StateOK, StateInsufficient}
	if !slices.Equal(got, want) {
		t.Fatalf("after the metric stopped\n got %v\nwant %v", got, want)
	}
	h := e.History("errors")
	var seq []string
	for _, tr := range h {
		seq = append(seq, string(tr.OldState)+">"+string(tr.NewState)+"@"+tr.Timestamp.Format("15:04"))
	}
	wantSeq := []string{"INSUFFICIENT_DATA>OK@12:01", "OK>ALARM@12:07", "ALARM>OK@12:08", "OK>INSUFFICIENT_DATA@12:15"}
	if !slices.Equal(seq, wantSeq) {
		t.Fatalf("history\n got %v\nwant %v", seq, wantSeq)
	}
}

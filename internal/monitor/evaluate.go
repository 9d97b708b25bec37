package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Datapoint is one period's statistic. Missing means no selected series
// reported in the period.
type Datapoint struct {
	Start   time.Time `json:"t"`
	Value   float64   `json:"v"`
	Missing bool      `json:"m,omitempty"`
	// Series names the series that had a breaching sample in the period
	// (at most 10; avg, min, max, sum and p99 of gauges and counters only).
	Series []string `json:"s,omitempty"`
}

// EvaluationRange is how many of the most recent periods an alarm with N
// evaluation periods retrieves: N+2. CloudWatch retrieves "a higher number of
// data points than specified by Evaluation Periods"; its documented examples
// use 5 for N=3, and this package uses N+2 for every N.
func EvaluationRange(n int) int { return n + 2 }

type class byte

const (
	notBreaching class = '0'
	breaching    class = 'X'
	missing      class = '-'
)

// decide returns the state CloudWatch would set for these datapoint classes
// (oldest first, the whole evaluation range) under an M-out-of-N alarm:
//
//   - N or more real datapoints in the range: the most recent N real ones are
//     evaluated and missing data is not considered, whatever the treatment.
//   - No real datapoint: missing -> INSUFFICIENT_DATA, ignore -> the current
//     state, breaching -> ALARM, notBreaching -> OK.
//   - Fewer than N real datapoints: all of them are evaluated, and N minus
//     their number missing datapoints are filled in (the most recent missing
//     periods; "as few times as possible"). breaching and notBreaching fill
//     them as such. Under missing and ignore the filled periods are no
//     evidence: M real breaching points -> ALARM, any real non-breaching point
//     -> OK; otherwise ignore keeps the current state, and missing goes to
//     ALARM when the oldest evaluated datapoint is real (the metric stopped
//     after breaching) or to INSUFFICIENT_DATA when it is a filled one (not
//     enough data yet).
//
// Every row of the CloudWatch documentation's tables is checked by
// TestTruthTable against testdata/truth_table.txt.
func decide(pts []class, n, m int, tmd TreatMissing, current State) State {
	var real, gaps []int
	for i, c := range pts {
		if c == missing {
			gaps = append(gaps, i)
		} else {
			real = append(real, i)
		}
	}
	count := func(idx []int) (b int) {
		for _, i := range idx {
			if pts[i] == breaching {
				b++
			}
		}
		return b
	}
	verdict := func(b int) State {
		if b >= m {
			return StateAlarm
		}
		return StateOK
	}
	if len(real) >= n {
		return verdict(count(real[len(real)-n:]))
	}
	if len(real) == 0 {
		switch tmd {
		case MissingIgnore:
			return current
		case MissingBreaching:
			return StateAlarm
		case MissingNotBreaching:
			return StateOK
		}
		return StateInsufficient
	}
	b, fill := count(real), n-len(real)
	switch tmd {
	case MissingBreaching:
		return verdict(b + fill)
	case MissingNotBreaching:
		return verdict(b)
	}
	if b >= m {
		return StateAlarm
	}
	if b < len(real) {
		return StateOK
	}
	if tmd == MissingIgnore {
		return current
	}
	filled := gaps[len(gaps)-fill:]
	if filled[0] < real[0] {
		return StateInsufficient
	}
	return StateAlarm
}

// Evaluate returns an alarm's new state from its datapoints (oldest first;
// fewer than the evaluation range means the older periods are missing) and
// its current state, with a reason in words.
func Evaluate(spec *AlarmSpec, pts []Datapoint, current State) (State, string) {
	n, m := spec.EvaluationPeriods, spec.M()
	r := EvaluationRange(n)
	if len(pts) > r {
		pts = pts[len(pts)-r:]
	}
	classes := make([]class, r)
	off := r - len(pts)
	for i := range off {
		classes[i] = missing
	}
	var shown []string
	real, b := 0, 0
	for i, p := range pts {
		c := notBreaching
		switch {
		case p.Missing:
			c = missing
		case spec.Comparison.Breaches(p.Value, spec.Threshold):
			c = breaching
			b++
		}
		if c != missing {
			real++
			shown = append(shown, strconv.FormatFloat(p.Value, 'g', 6, 64))
		} else {
			shown = append(shown, "-")
		}
		classes[off+i] = c
	}
	st := decide(classes, n, m, spec.Treatment(), current)
	var reason string
	switch {
	case real == 0:
		reason = fmt.Sprintf("no datapoints in the last %d periods of %s (treat missing data: %s)", r, spec.Period, spec.Treatment())
	case real < n:
		reason = fmt.Sprintf("%d of %d needed datapoints [%s], %d breaching %s %g (treat missing data: %s)",
			real, n, strings.Join(shown, " "), b, spec.Comparison, spec.Threshold, spec.Treatment())
	default:
		reason = fmt.Sprintf("%d of the last %d datapoints needed to alarm are breaching %s %g, datapoints [%s]",
			m, n, spec.Comparison, spec.Threshold, strings.Join(shown, " "))
		if st == StateOK {
			reason = fmt.Sprintf("fewer than %d of the last %d datapoints breach %s %g, datapoints [%s]",
				m, n, spec.Comparison, spec.Threshold, strings.Join(shown, " "))
		}
	}
	return st, reason
}

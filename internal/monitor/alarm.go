package monitor

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is an alarm state, spelled as CloudWatch spells it.
type State string

const (
	StateOK           State = "OK"
	StateAlarm        State = "ALARM"
	StateInsufficient State = "INSUFFICIENT_DATA"
)

// Statistic turns the samples of one period into one datapoint.
type Statistic string

const (
	StatAvg  Statistic = "avg"  // mean of the sampled values (histograms: sum/count of the period's observations)
	StatMin  Statistic = "min"  // smallest sampled value
	StatMax  Statistic = "max"  // largest sampled value
	StatSum  Statistic = "sum"  // sum of the sampled values (histograms: sum of the period's observations)
	StatP99  Statistic = "p99"  // 99th percentile of sampled values, or of the period's histogram observations
	StatRate Statistic = "rate" // counter increase per second over the period, summed over matching series
)

var statistics = []Statistic{StatAvg, StatMin, StatMax, StatSum, StatP99, StatRate}

// Comparison compares a datapoint (left) with the threshold (right); a true
// comparison makes the datapoint breaching.
type Comparison string

const (
	GreaterThan        Comparison = "GreaterThanThreshold"
	GreaterThanOrEqual Comparison = "GreaterThanOrEqualToThreshold"
	LessThan           Comparison = "LessThanThreshold"
	LessThanOrEqual    Comparison = "LessThanOrEqualToThreshold"
)

var comparisons = []Comparison{GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual}

// Breaches reports whether v breaches threshold under c.
func (c Comparison) Breaches(v, threshold float64) bool {
	switch c {
	case GreaterThan:
		return v > threshold
	case GreaterThanOrEqual:
		return v >= threshold
	case LessThan:
		return v < threshold
	case LessThanOrEqual:
		return v <= threshold
	}
	return false
}

// TreatMissing says how periods without data count, as CloudWatch's
// TreatMissingData does.
type TreatMissing string

const (
	MissingMissing      TreatMissing = "missing"
	MissingIgnore       TreatMissing = "ignore"
	MissingBreaching    TreatMissing = "breaching"
	MissingNotBreaching TreatMissing = "notBreaching"
)

var treatments = []TreatMissing{MissingMissing, MissingIgnore, MissingBreaching, MissingNotBreaching}

// AlarmSpec is one alarm as configured.
type AlarmSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Metric is a Prometheus metric name with optional label matchers
	// (= and !=), e.g. streamlake_ingest_time_lag_seconds{topic="orders"}.
	// Every series that matches contributes to the datapoint.
	Metric            string        `yaml:"metric"`
	Statistic         Statistic     `yaml:"statistic"`
	Period            time.Duration `yaml:"period"`
	EvaluationPeriods int           `yaml:"evaluation_periods"`
	// DatapointsToAlarm is M of an M-out-of-N alarm; 0 means N.
	DatapointsToAlarm int          `yaml:"datapoints_to_alarm,omitempty"`
	Comparison        Comparison   `yaml:"comparison"`
	Threshold         float64      `yaml:"threshold"`
	TreatMissingData  TreatMissing `yaml:"treat_missing_data,omitempty"`
	Actions           Actions      `yaml:"actions,omitempty"`
}

// Actions run when an alarm changes state, never while it stays.
type Actions struct {
	// Webhooks receive a POST with a JSON Notification, retried with backoff.
	Webhooks []string `yaml:"webhooks,omitempty"`
	// Log writes one slog line per transition (warn for ALARM, info otherwise).
	Log bool `yaml:"log,omitempty"`
	// On lists the states whose entry runs the actions; empty means ALARM and OK.
	// The first settling of a new alarm from INSUFFICIENT_DATA into OK is
	// recorded in history but runs no action: it is not news.
	On []State `yaml:"on,omitempty"`
}

// M returns the datapoints needed to alarm (DatapointsToAlarm, or N when 0).
func (s *AlarmSpec) M() int {
	if s.DatapointsToAlarm == 0 {
		return s.EvaluationPeriods
	}
	return s.DatapointsToAlarm
}

// Treatment returns TreatMissingData, defaulting to missing as CloudWatch does.
func (s *AlarmSpec) Treatment() TreatMissing {
	if s.TreatMissingData == "" {
		return MissingMissing
	}
	return s.TreatMissingData
}

func (a *Actions) runsOn(st State) bool {
	if len(a.On) == 0 {
		return st == StateAlarm || st == StateOK
	}
	return slices.Contains(a.On, st)
}

var alarmName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,255}$`)

// Validate reports the first invalid field, naming it and what is allowed.
func (s *AlarmSpec) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("alarm %q: %s: "+format, append([]any{s.Name, field}, args...)...)
	}
	if !alarmName.MatchString(s.Name) {
		return bad("name", "must be 1-255 of A-Z a-z 0-9 _ . : -")
	}
	if _, err := ParseSelector(s.Metric); err != nil {
		return bad("metric", "%v", err)
	}
	if !slices.Contains(statistics, s.Statistic) {
		return bad("statistic", "%q is not one of avg, min, max, sum, p99, rate", s.Statistic)
	}
	if s.Period < time.Second || s.Period%time.Second != 0 {
		return bad("period", "%s must be a whole number of seconds, at least 1s", s.Period)
	}
	if s.EvaluationPeriods < 1 || s.EvaluationPeriods > 1000 {
		return bad("evaluation_periods", "%d is out of range 1..1000", s.EvaluationPeriods)
	}
	if time.Duration(s.EvaluationPeriods)*s.Period > 24*time.Hour {
		return bad("evaluation_periods", "%d periods of %s exceed one day", s.EvaluationPeriods, s.Period)
	}
	if s.DatapointsToAlarm < 0 || s.DatapointsToAlarm > s.EvaluationPeriods {
		return bad("datapoints_to_alarm", "%d is out of range 1..evaluation_periods (%d), or 0 for all", s.DatapointsToAlarm, s.EvaluationPeriods)
	}
	if !slices.Contains(comparisons, s.Comparison) {
		return bad("comparison", "%q is not one of GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold", s.Comparison)
	}
	if s.TreatMissingData != "" && !slices.Contains(treatments, s.TreatMissingData) {
		return bad("treat_missing_data", "%q is not one of missing, ignore, breaching, notBreaching", s.TreatMissingData)
	}
	for _, u := range s.Actions.Webhooks {
		if !validURL(u) {
			return bad("actions.webhooks", "%q is not an http:// or https:// URL", u)
		}
	}
	for _, st := range s.Actions.On {
		if st != StateOK && st != StateAlarm && st != StateInsufficient {
			return bad("actions.on", "%q is not one of OK, ALARM, INSUFFICIENT_DATA", st)
		}
	}
	return nil
}

// Selector is a parsed metric selector: a name and label matchers.
type Selector struct {
	Name     string
	Matchers []Matcher
}

// Matcher matches one label: Label = Value, or Label != Value when Not.
type Matcher struct {
	Label, Value string
	Not          bool
}

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// ParseSelector parses name{label="value",label!="value"}.
func ParseSelector(s string) (Selector, error) {
	s = strings.TrimSpace(s)
	name, rest, hasLabels := strings.Cut(s, "{")
	name = strings.TrimSpace(name)
	if !metricName.MatchString(name) {
		return Selector{}, fmt.Errorf("%q is not a metric name (letters, digits, _ and :, e.g. streamlake_ingest_time_lag_seconds)", name)
	}
	sel := Selector{Name: name}
	if !hasLabels {
		return sel, nil
	}
	rest, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
	if !ok {
		return Selector{}, fmt.Errorf("%q: label matchers must end with }", s)
	}
	for rest = strings.TrimSpace(rest); rest != ""; {
		i := strings.IndexAny(rest, "=!")
		if i <= 0 {
			return Selector{}, fmt.Errorf("%q: want label=\"value\" or label!=\"value\"", s)
		}
		m := Matcher{Label: strings.TrimSpace(rest[:i])}
		rest = rest[i:]
		if strings.HasPrefix(rest, "!=") {
			m.Not, rest = true, rest[2:]
		} else if strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "==") {
			rest = rest[1:]
		} else {
			return Selector{}, fmt.Errorf("%q: only = and != matchers are supported", s)
		}
		q, err := strconv.QuotedPrefix(strings.TrimSpace(rest))
		if err != nil || !metricName.MatchString(m.Label) {
			return Selector{}, fmt.Errorf("%q: want label=\"value\" with a quoted value", s)
		}
		m.Value, _ = strconv.Unquote(q)
		sel.Matchers = append(sel.Matchers, m)
		rest = strings.TrimSpace(strings.TrimSpace(rest)[len(q):])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ","))
	}
	return sel, nil
}

// Matches reports whether a series with this name and labels is selected.
func (s Selector) Matches(name string, labels map[string]string) bool {
	if name != s.Name {
		return false
	}
	for _, m := range s.Matchers {
		if (labels[m.Label] == m.Value) == m.Not {
			return false
		}
	}
	return true
}

func validURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "https://")
	}
	return ok && rest != ""
}

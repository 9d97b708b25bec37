package monitor

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// kind is how a series' value accumulates.
type kind byte

const (
	kindGauge   kind = iota // gauges and untyped: the value itself
	kindCounter             // cumulative: increases matter
	kindHist                // histogram or summary: count, sum (and buckets)
)

// sample is one series at one sampling instant.
type sample struct {
	name    string
	labels  map[string]string
	key     string
	kind    kind
	value   float64 // gauge/counter value; histogram observation count
	sum     float64 // histogram sum of observations
	buckets []bucket
}

type bucket struct {
	le    float64
	count float64 // cumulative
}

// seriesKey renders name{a="x",b="y"} with labels sorted, as Prometheus does.
func seriesKey(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// flatten turns gathered families into samples.
func flatten(mfs []*dto.MetricFamily) []sample {
	var out []sample
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			s := sample{name: mf.GetName(), labels: labels}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				s.kind, s.value = kindCounter, m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.value = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				s.value = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				s.kind, s.value, s.sum = kindHist, float64(h.GetSampleCount()), h.GetSampleSum()
				for _, b := range h.GetBucket() {
					s.buckets = append(s.buckets, bucket{le: b.GetUpperBound(), count: float64(b.GetCumulativeCount())})
				}
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				s.kind, s.value, s.sum = kindHist, float64(sm.GetSampleCount()), sm.GetSampleSum()
			default:
				continue
			}
			s.key = seriesKey(s.name, labels)
			out = append(out, s)
		}
	}
	return out
}

// prev is the last cumulative values seen of one series.
type prev struct {
	value, sum float64
	buckets    []bucket
}

// increase returns now-before for a cumulative value, treating a decrease as
// a reset to zero.
func increase(now, before float64) float64 {
	if now < before {
		return now
	}
	return now - before
}

// acc accumulates one alarm's samples over one period.
type acc struct {
	start    time.Time
	breach   func(float64) bool // nil for rate and histogram statistics
	seen     bool
	hist     bool
	values   []float64 // gauge and counter values as sampled
	inc      float64   // counter increase, summed over series
	hcount   float64   // histogram observations in the period
	hsum     float64
	hbuckets map[float64]float64 // per upper bound, observations in the period
	breached []string            // keys of series with a breaching sample (gauge-like statistics), at most 10
}

// add folds one selected sample into the period; last holds the series'
// previous cumulative values across periods.
func (a *acc) add(s sample, last map[string]prev) {
	a.seen = true
	p, had := last[s.key]
	last[s.key] = prev{value: s.value, sum: s.sum, buckets: s.buckets}
	if s.kind == kindHist {
		a.hist = true
		if !had {
			return
		}
		if s.value < p.value { // reset
			p = prev{}
		}
		a.hcount += s.value - p.value
		a.hsum += s.sum - p.sum
		if a.hbuckets == nil {
			a.hbuckets = map[float64]float64{}
		}
		for i, b := range s.buckets {
			before := 0.0
			if i < len(p.buckets) && p.buckets[i].le == b.le {
				before = p.buckets[i].count
			}
			a.hbuckets[b.le] += b.count - before
		}
		return
	}
	a.values = append(a.values, s.value)
	if a.breach != nil && a.breach(s.value) && len(a.breached) < 10 && !slices.Contains(a.breached, s.key) {
		a.breached = append(a.breached, s.key)
	}
	if had {
		a.inc += increase(s.value, p.value)
	}
}

// datapoint computes the period's statistic.
func (a *acc) datapoint(stat Statistic, period time.Duration) Datapoint {
	dp := Datapoint{Start: a.start, Missing: true}
	if !a.seen {
		return dp
	}
	v, ok := 0.0, true
	switch {
	case stat == StatRate && a.hist:
		v = a.hcount / period.Seconds()
	case stat == StatRate:
		v = a.inc / period.Seconds()
	case a.hist:
		v, ok = a.histStat(stat)
	default:
		v, ok = valuesStat(a.values, stat)
	}
	if !ok {
		return dp
	}
	dp.Value, dp.Missing = v, false
	dp.Series = a.breached
	return dp
}

func (a *acc) histStat(stat Statistic) (float64, bool) {
	if a.hcount <= 0 {
		return 0, false // no observations: no datapoint
	}
	switch stat {
	case StatAvg:
		return a.hsum / a.hcount, true
	case StatSum:
		return a.hsum, true
	case StatMin:
		return bucketQuantile(0, a.hbuckets, a.hcount)
	case StatMax:
		return bucketQuantile(1, a.hbuckets, a.hcount)
	}
	return bucketQuantile(0.99, a.hbuckets, a.hcount)
}

func valuesStat(vs []float64, stat Statistic) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	switch stat {
	case StatMin:
		return slices.Min(vs), true
	case StatMax:
		return slices.Max(vs), true
	case StatSum, StatAvg:
		s := 0.0
		for _, v := range vs {
			s += v
		}
		if stat == StatAvg {
			s /= float64(len(vs))
		}
		return s, true
	}
	sorted := slices.Sorted(slices.Values(vs))
	rank := int(math.Ceil(0.99*float64(len(sorted)))) - 1 // nearest rank
	return sorted[max(rank, 0)], true
}

// bucketQuantile interpolates linearly within the bucket holding quantile q
// of total observations, as Prometheus' histogram_quantile does. counts are
// cumulative per upper bound; observations above the highest finite bound
// report that bound.
func bucketQuantile(q float64, counts map[float64]float64, total float64) (float64, bool) {
	les := make([]float64, 0, len(counts))
	for le := range counts {
		les = append(les, le)
	}
	if total <= 0 || len(les) == 0 {
		return 0, false
	}
	slices.Sort(les)
	rank := max(q*total, math.SmallestNonzeroFloat64)
	lower, below := 0.0, 0.0
	for _, le := range les {
		if math.IsInf(le, 1) {
			break
		}
		c := counts[le]
		if c >= rank {
			if c == below {
				return le, true
			}
			return lower + (le-lower)*(rank-below)/(c-below), true
		}
		lower, below = le, c
	}
	return lower, true
}

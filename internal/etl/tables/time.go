package tables

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/schema"
)

// EventTime returns a record's event time: the time field (read after the
// transforms, so pass Apply's result) parsed by the table's time_format.
// When the field is missing, null or unparseable, time_fallback decides: with
// kafka the result is kafkaTS; with dlq, or with no Kafka timestamp
// (kafkaTS.IsZero()), it is the zero time and a reason for the dead-letter
// table. reason is empty exactly when the time is usable.
func (t *Table) EventTime(v schema.Object, kafkaTS time.Time) (time.Time, string) {
	raw := getPath(v, t.timePath)
	if raw != nil {
		if ts, ok := parseTime(raw, t.spec.TimeFormat); ok {
			return ts, ""
		}
	}
	var why string
	if raw == nil {
		why = "time field " + t.spec.TimeField + " is missing"
	} else {
		why = "time field " + t.spec.TimeField + ": " + t.show(t.timePath, raw) + " is not " + formatDesc[t.spec.TimeFormat]
	}
	switch {
	case t.spec.TimeFallback == FallbackDLQ:
		return time.Time{}, why + " (time_fallback: dlq)"
	case kafkaTS.IsZero():
		return time.Time{}, why + " and the record has no Kafka timestamp"
	}
	return kafkaTS, ""
}

var formatDesc = map[string]string{
	FormatAuto:    "an RFC 3339 timestamp or epoch number",
	FormatRFC3339: "an RFC 3339 timestamp",
	FormatEpochS:  "a number of seconds since the epoch",
	FormatEpochMS: "a number of milliseconds since the epoch",
	FormatEpochUS: "a number of microseconds since the epoch",
}

// parseTime reads a JSON value as a time in format. Epoch numbers may be
// JSON numbers or numeric strings.
func parseTime(v any, format string) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		return parseTimeString(x, format)
	case json.Number:
		return parseTimeNumber(string(x), format)
	}
	return time.Time{}, false
}

func parseTimeString(x, format string) (time.Time, bool) {
	if format == FormatAuto || format == FormatRFC3339 {
		if ts, ok := schema.ParseTimestamp(x); ok {
			return ts, true
		}
		if format == FormatRFC3339 {
			return time.Time{}, false
		}
	}
	return epoch(strings.TrimSpace(x), format)
}

func parseTimeNumber(n, format string) (time.Time, bool) {
	if format == FormatRFC3339 {
		return time.Time{}, false
	}
	return epoch(n, format)
}

// TimeFromString and TimeFromNumber read the time field's value, a JSON
// string's content or a JSON number's text, by the table's time_format, as
// EventTime does, without boxing the value: the ETL's columnar fast path
// calls them once per record.
func (t *Table) TimeFromString(s string) (time.Time, bool) {
	return parseTimeString(s, t.spec.TimeFormat)
}

// TimeFromNumber: see TimeFromString.
func (t *Table) TimeFromNumber(n string) (time.Time, bool) {
	return parseTimeNumber(n, t.spec.TimeFormat)
}

// Plain reports whether records reach the table as they are: no
// transforms, no match fields, and a top-level time field. The ETL decodes
// such tables' records straight into columns.
func (t *Table) Plain() bool {
	return len(t.steps) == 0 && len(t.match) == 0 && len(t.timePath) == 1
}

// unitNanos is the length of one unit of each epoch format.
var unitNanos = map[string]float64{FormatEpochS: 1e9, FormatEpochMS: 1e6, FormatEpochUS: 1e3, "epoch_ns": 1}

// epoch reads a number of seconds, milliseconds or microseconds since
// 1970; format auto picks the unit by magnitude (below 1e11 seconds, 1e14
// milliseconds, 1e17 microseconds, else nanoseconds: 1e11 s is the year
// 5138, 1e11 ms is 1973). Times outside years 1..9999 are rejected.
func epoch(s, format string) (time.Time, bool) {
	var ts time.Time
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if format == FormatAuto {
			format = autoUnit(math.Abs(float64(n)))
		}
		switch format {
		case FormatEpochS:
			if n > 1<<40 || n < -(1<<40) {
				return time.Time{}, false
			}
			ts = time.Unix(n, 0)
		case FormatEpochMS:
			ts = time.UnixMilli(n)
		case FormatEpochUS:
			ts = time.UnixMicro(n)
		default:
			ts = time.Unix(0, n)
		}
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, false
		}
		if format == FormatAuto {
			format = autoUnit(math.Abs(f))
		}
		ns := f * unitNanos[format]
		if ns >= math.MaxInt64 || ns <= math.MinInt64 {
			return time.Time{}, false
		}
		ts = time.Unix(0, exactNanos(s, int64(unitNanos[format]), ns))
	}
	if y := ts.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return ts.UTC(), true
}

func autoUnit(a float64) string {
	switch {
	case a < 1e11:
		return FormatEpochS
	case a < 1e14:
		return FormatEpochMS
	case a < 1e17:
		return FormatEpochUS
	}
	return "epoch_ns"
}

// exactNanos is s units as nanoseconds, exact for plain decimals (where
// 1700000000.25 * 1e9 in float64 is not); approx is the float result, used
// for exponent notation and within range of int64 (checked by the caller).
func exactNanos(s string, unit int64, approx float64) int64 {
	if len(s) > 40 || strings.ContainsAny(s, "eE") {
		return int64(approx)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return int64(approx)
	}
	r.Mul(r, new(big.Rat).SetInt64(unit))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	if !q.IsInt64() {
		return int64(approx)
	}
	return q.Int64()
}

package tables

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/schema"
)

// Table is a compiled Spec. It is read-only after Compile and safe for
// concurrent use.
type Table struct {
	spec      Spec
	match     []matcher
	timePath  []string
	steps     []step
	partition []PartitionField
	pii       [][]string // paths whose values errors must not quote
	hasPII    bool
	maps      [][]string
}

type matcher struct {
	path []string
	want string
}

// step is one compiled transform.
type step struct {
	name  string // e.g. "transforms[2] (cast temp)"
	kind  string
	path  []string
	apply func(t *Table, o schema.Object) (schema.Object, error)
}

// Compile validates spec (with WithDefaults(DefaultTimeField) applied to
// empty settings; apply the configuration's time field first) and compiles
// it.
func Compile(spec Spec) (*Table, error) {
	spec = spec.WithDefaults("")
	if err := spec.Validate(""); err != nil {
		return nil, fmt.Errorf("table %s: %w", spec.Name, err)
	}
	t := &Table{spec: spec, timePath: splitPath(spec.TimeField)}
	for k, v := range spec.Match {
		t.match = append(t.match, matcher{splitPath(k), v})
	}
	for i, tr := range spec.Transforms {
		s, err := compileStep(tr)
		if err != nil { // Validate parsed it already; cannot happen
			return nil, fmt.Errorf("table %s: transforms[%d]: %w", spec.Name, i, err)
		}
		s.name = fmt.Sprintf("transforms[%d] (%s %s)", i, s.kind, strings.Join(s.path, "."))
		t.steps = append(t.steps, s)
	}
	for _, p := range spec.Partition {
		f, _ := ParsePartition(p)
		t.partition = append(t.partition, f)
	}
	for _, m := range spec.Maps {
		t.maps = append(t.maps, splitPath(m))
	}
	t.pii = piiPaths(spec.Transforms)
	t.hasPII = len(t.pii) > 0
	return t, nil
}

// Spec returns the spec the table was compiled from, defaults filled in.
func (t *Table) Spec() Spec { return t.spec }

// Name is the Iceberg table name.
func (t *Table) Name() string { return t.spec.Name }

// Topic is the Kafka topic the table reads.
func (t *Table) Topic() string { return t.spec.Topic }

// IsMap reports whether the object field at path (its member names, list
// steps left out) is one the spec's maps names.
func (t *Table) IsMap(path []string) bool {
	return slices.ContainsFunc(t.maps, func(m []string) bool { return slices.Equal(m, path) })
}

// CoerceToString reports whether a value that does not fit its column is
// stored as its text instead of going to the dead-letter table.
func (t *Table) CoerceToString() bool { return t.spec.OnTypeMismatch == MismatchString }

// CoerceString is the text a value is stored as in a string column under
// on_type_mismatch: coerce-to-string: a string itself, anything else its
// JSON text (12.50, true, {"a":1}).
func CoerceString(v any) string { return text(v) }

// Matches reports whether a record of the table's topic belongs to it: every
// match field's text equals the wanted value. No match fields: every record.
func (t *Table) Matches(v schema.Object) bool {
	for _, m := range t.match {
		x := getPath(v, m.path)
		if x == nil || text(x) != m.want {
			return false
		}
	}
	return true
}

// Select returns the first table, in configuration order, that reads topic
// and matches v, or nil.
func Select(ts []*Table, topic string, v schema.Object) *Table {
	for _, t := range ts {
		if t.spec.Topic == topic && t.Matches(v) {
			return t
		}
	}
	return nil
}

// Apply runs the transforms in order on a deep copy of v and returns the
// copy; v is never modified. The error names the failing transform and why
// (e.g. `transforms[1] (cast temp): "abc" is not a number`) and is meant as
// the record's dead-letter reason; it never quotes a value of a field the
// table hashes, masks or drops.
//
// A table without transforms returns v itself: nothing to copy for.
func (t *Table) Apply(v schema.Object) (schema.Object, error) {
	return t.apply(v, false)
}

// apply is Apply; scrubbed skips the steps Scrub runs.
func (t *Table) apply(v schema.Object, scrubbed bool) (schema.Object, error) {
	if len(t.steps) == 0 {
		return v, nil
	}
	o, _ := clone(v).(schema.Object)
	for _, s := range t.steps {
		if scrubbed && scrubs(s.kind) {
			continue
		}
		var err error
		if o, err = s.apply(t, o); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return o, nil
}

// show renders v at path for an error: quoted, unless the path is a PII
// field (or inside or around one), when only its type is named.
func (t *Table) show(path []string, v any) string {
	for _, p := range t.pii {
		if related(path, p) {
			return "the " + typeName(v) + " value (not shown: the field is hashed, masked or dropped)"
		}
	}
	return preview(v)
}

// related reports whether one path is a prefix of the other.
func related(a, b []string) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// piiPaths are the fields that hash, mask and drop act on, and the names
// they had before earlier renames and flattens.
func piiPaths(trs []Transform) [][]string {
	var out [][]string
	for i := len(trs) - 1; i >= 0; i-- {
		tr := trs[i]
		switch {
		case tr.Drop != "":
			out = append(out, splitPath(tr.Drop))
		case tr.Hash != nil:
			out = append(out, splitPath(tr.Hash.Field))
		case tr.Mask != nil:
			out = append(out, splitPath(tr.Mask.Field))
		case tr.Rename != nil:
			from := splitPath(tr.Rename.From)
			to := append(append([]string(nil), from[:len(from)-1]...), tr.Rename.To)
			for _, p := range out {
				if related(p, to) {
					out = append(out, from)
					break
				}
			}
		case tr.Flatten != nil:
			f := splitPath(tr.Flatten.Field)
			prefix := f[len(f)-1] + sep(tr.Flatten)
			for _, p := range out {
				if len(p) == len(f) && related(p[:len(p)-1], f[:len(f)-1]) && strings.HasPrefix(p[len(p)-1], prefix) {
					out = append(out, f)
					break
				}
			}
		}
	}
	return out
}

func sep(f *Flatten) string {
	if f.Separator == "" {
		return "_"
	}
	return f.Separator
}

func hashText(salt string, v any) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte(text(v)))
	return hex.EncodeToString(h.Sum(nil))
}

const maskPrefix = "****"

func maskText(v any, keep int) string {
	r := []rune(text(v))
	if keep <= 0 || len(r) <= keep {
		return maskPrefix
	}
	return maskPrefix + string(r[len(r)-keep:])
}

// Late reports whether a record with this event time is older than the
// table's max_lateness allows at now (never, when max_lateness is 0).
func (t *Table) Late(eventTime, now time.Time) bool {
	return t.spec.MaxLateness > 0 && now.Sub(eventTime) > t.spec.MaxLateness
}

// Prepare is the whole per-record path: Apply, EventTime, the event time
// written back to the time field as an RFC 3339 string in UTC (so epoch
// numbers and the Kafka fallback give a timestamp column), and the lateness
// check. A non-empty reason means the record goes to the dead-letter table
// with that reason; row is nil then.
func (t *Table) Prepare(v schema.Object, kafkaTS, now time.Time) (row schema.Object, eventTime time.Time, reason string) {
	return t.prepare(v, kafkaTS, now, false)
}

// Scrubs reports whether the table's dead letters are stored scrubbed
// (see Scrub): it hashes, masks or drops fields.
func (t *Table) Scrubs() bool { return t.hasPII }

// PrepareScrubbed is Prepare for a value that Scrub stored: the transforms
// Scrub ran (rename, flatten, drop, hash, mask) are not run again, so that
// a replayed dead letter is hashed once, as a record that loaded is; the
// others (cast, derive) run, in order.
func (t *Table) PrepareScrubbed(v schema.Object, kafkaTS, now time.Time) (row schema.Object, eventTime time.Time, reason string) {
	return t.prepare(v, kafkaTS, now, t.hasPII)
}

func (t *Table) prepare(v schema.Object, kafkaTS, now time.Time, scrubbed bool) (row schema.Object, eventTime time.Time, reason string) {
	row, err := t.apply(v, scrubbed)
	if err != nil {
		return nil, time.Time{}, "transform: " + err.Error()
	}
	ts, reason := t.EventTime(row, kafkaTS)
	if reason != "" {
		return nil, time.Time{}, reason
	}
	if t.Late(ts, now) {
		return nil, ts, fmt.Sprintf("late: event time %s is more than max_lateness %s before %s",
			ts.UTC().Format(time.RFC3339), t.spec.MaxLateness, now.UTC().Format(time.RFC3339))
	}
	row = setPath(row, t.timePath, ts.UTC().Format(time.RFC3339Nano))
	return row, ts, ""
}

// isObject reports whether v is a schema.Object.
func isObject(v any) bool { _, ok := v.(schema.Object); return ok }

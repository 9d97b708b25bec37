package tables

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

var (
	identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	topicName  = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
)

// ValidateAll validates the `tables:` list: each entry, then that no two
// entries make the same table (or one makes another's dead-letter table)
// and that no entry is unreachable behind an earlier one for its topic.
// Errors name the key, e.g. `tables[2].transforms[1].cast.type: ...`; the
// caller adds its own prefix ("config: "). Pass the specs as decoded, or
// after WithDefaults(etl.time_field) when that is not DefaultTimeField.
func ValidateAll(specs []Spec) error {
	for i := range specs {
		if err := specs[i].Validate(fmt.Sprintf("tables[%d]", i)); err != nil {
			return err
		}
	}
	names := map[string]int{}
	for i := range specs {
		n := specs[i].TableName()
		if j, ok := names[n]; ok {
			return fmt.Errorf("tables[%d].name: table %q%s is already made by tables[%d]", i, n, derived(&specs[i]), j)
		}
		names[n] = i
	}
	for i := range specs {
		n := specs[i].TableName()
		if j, ok := names[strings.TrimSuffix(n, "_dlq")]; ok && strings.HasSuffix(n, "_dlq") {
			return fmt.Errorf("tables[%d].name: table %q%s is the dead-letter table of tables[%d]", i, n, derived(&specs[i]), j)
		}
	}
	for i := range specs {
		for j := range i {
			if specs[j].Topic == specs[i].Topic && len(specs[j].Match) == 0 {
				return fmt.Errorf("tables[%d].match: every record of topic %q already goes to tables[%d] (it has no match), so this table would get none; put the tables with a match first", i, specs[i].Topic, j)
			}
		}
	}
	return nil
}

func derived(s *Spec) string {
	if s.Name == "" {
		return fmt.Sprintf(" (derived from topic %q)", s.Topic)
	}
	return ""
}

// checkPath checks a dotted field path: non-empty parts.
func checkPath(p string) error {
	if p == "" {
		return errors.New("must name a field")
	}
	if slices.Contains(splitPath(p), "") {
		return fmt.Errorf("%q is not a field path (empty part between dots)", p)
	}
	return nil
}

// Validate reports the first invalid setting of s, naming its key under
// prefix (e.g. "tables[0]"). Empty settings take their defaults; an empty
// time_field is DefaultTimeField, so validate s.WithDefaults(etl.time_field)
// when the configuration names another. Beyond each value, it follows the
// transforms in order and rejects a transform, partition or time_field that
// names a field an earlier transform dropped, renamed or flattened away, and
// a time field that is hashed or masked.
func (s *Spec) Validate(prefix string) error {
	bad := func(key, format string, args ...any) error {
		if prefix != "" {
			key = prefix + "." + key
		}
		return fmt.Errorf("%s: "+format, append([]any{key}, args...)...)
	}
	d := s.WithDefaults("")
	switch {
	case s.Topic == "":
		return bad("topic", "must not be empty")
	case !topicName.MatchString(s.Topic):
		return bad("topic", "%q is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)", s.Topic)
	case s.Name != "" && !identifier.MatchString(s.Name):
		return bad("name", "%q must match %s", s.Name, identifier)
	case !slices.Contains([]string{FormatAuto, FormatRFC3339, FormatEpochS, FormatEpochMS, FormatEpochUS}, d.TimeFormat):
		return bad("time_format", "%q is not one of auto, rfc3339, epoch_s, epoch_ms, epoch_us", s.TimeFormat)
	case !slices.Contains([]string{FallbackKafka, FallbackDLQ}, d.TimeFallback):
		return bad("time_fallback", "%q is not one of kafka, dlq", s.TimeFallback)
	case !slices.Contains([]string{MismatchDLQ, MismatchString}, d.OnTypeMismatch):
		return bad("on_type_mismatch", "%q is not one of dlq, coerce-to-string", s.OnTypeMismatch)
	case s.MaxLateness < 0:
		return bad("max_lateness", "%s must not be negative (0 means unlimited)", s.MaxLateness)
	}
	if err := checkPath(d.TimeField); err != nil {
		return bad("time_field", "%v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Match)) {
		if err := checkPath(k); err != nil {
			return bad("match", "%v", err)
		}
	}
	for i, m := range s.Maps {
		if err := checkPath(m); err != nil {
			return bad(fmt.Sprintf("maps[%d]", i), "%v", err)
		}
		if m == d.TimeField {
			return bad(fmt.Sprintf("maps[%d]", i), "%q is the time field, which is a timestamp", m)
		}
	}
	removed := map[string]string{} // path -> what removed it
	hashed := map[string]string{}
	for i, tr := range s.Transforms {
		if err := validateTransform(&tr, fmt.Sprintf("transforms[%d]", i), bad, removed, hashed); err != nil {
			return err
		}
	}
	if why := gone(removed, d.TimeField); why != "" {
		return bad("time_field", "%q %s; name the field as it is after the transforms", d.TimeField, why)
	}
	if why := gone(hashed, d.TimeField); why != "" {
		return bad("time_field", "%q %s; an event time cannot be hashed or masked", d.TimeField, why)
	}
	return validatePartition(s.Partition, bad, removed)
}

// gone returns why path or a parent of it was removed, or "".
func gone(removed map[string]string, path string) string {
	parts := splitPath(path)
	for i := range parts {
		if why, ok := removed[strings.Join(parts[:i+1], ".")]; ok {
			return why
		}
	}
	return ""
}

// restore forgets removals of path and below: a transform created it anew.
func restore(removed map[string]string, path string) {
	for k := range removed {
		if k == path || strings.HasPrefix(k, path+".") {
			delete(removed, k)
		}
	}
}

type badFunc func(key, format string, args ...any) error

func validateTransform(tr *Transform, key string, bad badFunc, removed, hashed map[string]string) error {
	if p := tr.problem; p != nil {
		if p.key != "" {
			key += "." + p.key
		}
		return bad(key, "%s", p.msg)
	}
	switch ks := tr.kinds(); len(ks) {
	case 0:
		return bad(key, "empty; want one of %s", strings.Join(transformKinds, ", "))
	case 1:
		key += "." + ks[0]
	default:
		return bad(key, "sets %s; want exactly one", strings.Join(ks, " and "))
	}
	use := func(k, path string) error {
		if err := checkPath(path); err != nil {
			return bad(k, "%v", err)
		}
		if why := gone(removed, path); why != "" {
			return bad(k, "%q %s", path, why)
		}
		return nil
	}
	plain := func(k, name string) error {
		switch {
		case name == "":
			return bad(k, "must not be empty")
		case strings.Contains(name, "."):
			return bad(k, "%q must be a plain name, not a path", name)
		}
		return nil
	}
	by := strings.TrimSuffix(key, "."+tr.kinds()[0])
	switch {
	case tr.Rename != nil:
		r := tr.Rename
		if err := use(key+".from", r.From); err != nil {
			return err
		}
		if err := plain(key+".to", r.To); err != nil {
			return err
		}
		from := splitPath(r.From)
		to := strings.Join(append(from[:len(from)-1:len(from)-1], r.To), ".")
		if to != r.From {
			restore(removed, to)
			restore(hashed, to)
			removed[r.From] = fmt.Sprintf("is renamed to %q by %s", to, by)
			if why, ok := hashed[r.From]; ok {
				hashed[to] = why
			}
		}
	case tr.Drop != "":
		if err := use(key, tr.Drop); err != nil {
			return err
		}
		removed[tr.Drop] = "is dropped by " + by
	case tr.Cast != nil:
		if err := use(key+".field", tr.Cast.Field); err != nil {
			return err
		}
		if !slices.Contains(castTypes, tr.Cast.Type) {
			return bad(key+".type", "%q is not one of %s", tr.Cast.Type, strings.Join(castTypes, ", "))
		}
	case tr.Flatten != nil:
		f := tr.Flatten
		if err := use(key+".field", f.Field); err != nil {
			return err
		}
		if strings.Contains(f.Separator, ".") {
			return bad(key+".separator", "%q must not contain '.' (it would read as a nested path)", f.Separator)
		}
		removed[f.Field] = fmt.Sprintf("is flattened into %s%s* by %s", f.Field, sep(f), by)
	case tr.Hash != nil:
		if err := use(key+".field", tr.Hash.Field); err != nil {
			return err
		}
		hashed[tr.Hash.Field] = "is hashed by " + by
	case tr.Mask != nil:
		if err := use(key+".field", tr.Mask.Field); err != nil {
			return err
		}
		if tr.Mask.KeepLast < 0 || tr.Mask.KeepLast > 64 {
			return bad(key+".keep_last", "%d is out of range 0..64", tr.Mask.KeepLast)
		}
		hashed[tr.Mask.Field] = "is masked by " + by
	case tr.Derive != nil:
		d := tr.Derive
		if err := plain(key+".name", d.Name); err != nil {
			return err
		}
		e, err := parseExpr(d.Expr)
		if err != nil {
			return bad(key+".expr", "%q %v", d.Expr, err)
		}
		for _, r := range e.refs {
			p := strings.Join(r, ".")
			if why := gone(removed, p); why != "" {
				return bad(key+".expr", "reads %q, which %s", p, why)
			}
		}
		restore(removed, d.Name)
		restore(hashed, d.Name)
	}
	return nil
}

func validatePartition(list []string, bad badFunc, removed map[string]string) error {
	seen := map[string]int{}
	timeOf := map[string]int{}
	for i, p := range list {
		key := fmt.Sprintf("partition[%d]", i)
		f, err := ParsePartition(p)
		if err != nil {
			return bad(key, "%v", err)
		}
		if why := gone(removed, f.Source); why != "" {
			return bad(key, "%q: %q %s", p, f.Source, why)
		}
		if j, ok := seen[f.Name()]; ok {
			return bad(key, "%q: partition field %s is already made by partition[%d] %q", p, f.Name(), j, list[j])
		}
		seen[f.Name()] = i
		if f.Transform == "day" || f.Transform == "hour" {
			if j, ok := timeOf[f.Source]; ok {
				return bad(key, "%q: %s already has a time partition, partition[%d] %q; use one per column", p, f.Source, j, list[j])
			}
			timeOf[f.Source] = i
		}
	}
	return nil
}

package classify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/streamlake/streamlake/internal/schema"
)

// sniffJSON reads up to n records from body, which starts with '{' or '['.
// A body starting with '[' is one array whose elements are the records
// (JSONArray); otherwise it is a sequence of values, one per line or
// concatenated. Records must be objects. In a truncated sample, a record
// cut at the end is ignored; any other syntax error, or a record that is
// not an object, rejects the file as JSON; the reason is returned ("" when
// the file is JSON).
func sniffJSON(body []byte, truncated bool, n int) (Result, string) {
	records, isArray, ok := readJSONRecords(body, truncated, n)
	switch {
	case !ok:
		return Result{}, "invalid JSON"
	case len(records) == 0:
		return Result{}, "JSON without records"
	}
	var (
		t  *Type
		cs []Conflict
	)
	for i, raw := range records {
		v, err := schema.Parse(raw)
		if err != nil {
			return Result{}, "invalid JSON"
		}
		obj, isObj := v.(schema.Object)
		if !isObj {
			return Result{}, "JSON record " + strconv.Itoa(i+1) + " is not an object"
		}
		var c []Conflict
		t, c = Merge("", t, inferJSON(obj))
		cs = appendConflicts(cs, c)
	}
	res := Result{Format: JSON, JSONArray: isArray, Columns: t.Fields, Records: int64(len(records)), Conflicts: cs}
	res.RecordsExact = !truncated && len(records) < n
	return res, ""
}

// appendConflicts keeps the first conflict per path.
func appendConflicts(all, more []Conflict) []Conflict {
	for _, c := range more {
		dup := false
		for _, o := range all {
			if o.Path == c.Path {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, c)
		}
	}
	return all
}

// readJSONRecords returns the raw bytes of up to n records.
func readJSONRecords(body []byte, truncated bool, n int) (records [][]byte, isArray, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	isArray = body[0] == '['
	if isArray {
		if _, err := dec.Token(); err != nil {
			return nil, true, false
		}
	}
	for len(records) < n {
		if isArray && !dec.More() {
			// The closing bracket; anything after it but blanks is an error.
			if _, err := dec.Token(); err != nil {
				return records, true, truncated && cut(err)
			}
			var extra json.RawMessage
			if err := dec.Decode(&extra); err != io.EOF {
				return nil, true, false
			}
			return records, true, true
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF && !isArray {
			return records, false, true
		}
		if err != nil {
			// A record cut by the sample limit ends the sample.
			return records, isArray, truncated && cut(err) && len(records) > 0
		}
		records = append(records, raw)
	}
	return records, isArray, true
}

// cut reports an error caused by input ending mid-value.
func cut(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return true
	}
	var se *json.SyntaxError
	return errors.As(err, &se) && se.Error() == "unexpected end of JSON input"
}

// inferJSON returns the type of a value from schema.Parse: integers are int
// when they fit 32 bits, else bigint (double beyond 64 bits); strings are
// date (YYYY-MM-DD), timestamp (RFC 3339, see schema.ParseTimestamp) or
// string; objects are structs in source order (duplicate keys: the last
// wins); arrays merge their elements' types.
func inferJSON(v any) *Type {
	switch x := v.(type) {
	case nil:
		return Of(Null)
	case bool:
		return Of(Boolean)
	case json.Number:
		if k := integerKind(string(x)); k != "" {
			return Of(k)
		}
		return Of(Double)
	case string:
		if ParseDate(x) {
			return Of(Date)
		}
		if _, ok := schema.ParseTimestamp(x); ok {
			return Of(Timestamp)
		}
		return Of(String)
	case []any:
		var elem *Type
		for _, e := range x {
			elem, _ = Merge("", elem, inferJSON(e))
		}
		if elem == nil {
			elem = Of(Null)
		}
		return ArrayOf(elem)
	case schema.Object:
		fields := make([]Field, 0, len(x))
		index := make(map[string]int, len(x))
		for _, m := range x {
			t := inferJSON(m.Value)
			if i, ok := index[m.Key]; ok {
				fields[i].Type = t
				continue
			}
			index[m.Key] = len(fields)
			fields = append(fields, Field{Name: m.Key, Type: t})
		}
		return StructOf(fields...)
	}
	return Of(String)
}

package etl

import (
	"testing"

	"github.com/streamlake/streamlake/internal/stage"
)

// TestEmptyFieldNameIsDeadLetter checks that a record with a member named
// "" at any depth is refused with the member's path: a column cannot have
// an empty name, and a table created with one could not be read back.
func TestEmptyFieldNameIsDeadLetter(t *testing.T) {
	cases := []struct{ value, reason string }{
		{`{"id":1,"":2}`, `field $[""] has an empty name, which a column cannot have`},
		{`{"id":1,"o":{"a":[{"x":1},{"":1}]}}`, `field $.o.a[1][""] has an empty name, which a column cannot have`},
		{`{"id":1,"o":{"a":[{"x":1}],"b":{}}}`, ``},
	}
	for _, c := range cases {
		_, reason := decodeObject(stage.Record{Value: []byte(c.value), ValueIsJSON: true})
		if reason != c.reason {
			t.Errorf("%s: reason %q, want %q", c.value, reason, c.reason)
		}
	}
}

// A value in Schema Registry's wire format is a dead letter that says so.
func TestWireFormatIsDeadLetter(t *testing.T) {
	for _, c := range []struct {
		value  []byte
		reason string
	}{
		{[]byte{0, 0, 0, 1, 7, 2, 'a'}, "value is not valid JSON: it is in Schema Registry's wire format (schema id 263); set kafka.schema_registry to decode Avro, Protobuf and JSON Schema values"},
		{[]byte{0, 1}, "value is not valid JSON"},
		{[]byte("plain text"), "value is not valid JSON"},
	} {
		if _, reason := decodeObject(stage.Record{Value: c.value}); reason != c.reason {
			t.Errorf("%q: reason %q, want %q", c.value, reason, c.reason)
		}
	}
}

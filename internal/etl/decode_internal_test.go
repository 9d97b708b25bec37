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

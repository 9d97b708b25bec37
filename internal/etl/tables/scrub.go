package tables

import (
	"fmt"

	"github.com/streamlake/streamlake/internal/schema"
)

// Scrub makes a raw record value safe to store in the dead-letter table.
//
// A table without hash, mask or drop transforms returns raw unchanged. For
// one with them:
//   - a JSON object is decoded, run through the table's rename, flatten,
//     drop, hash and mask transforms in their order (cast and derive are
//     skipped, and so is a flatten of a value that is not a struct, since
//     the record may be in the dead-letter table for exactly that), and
//     re-encoded with its members in order;
//   - anything else (invalid JSON, an array, a string, ...) becomes a
//     placeholder JSON object saying why it was withheld: there is no field
//     to find the PII in;
//   - nil (a tombstone) stays nil.
//
// So a field the table hashes, masks or drops is stored nowhere in the lake
// in the clear, whether the record loads or not. Scrub sees only the value:
// a Kafka key that carries the same data (a device id as the key) is the
// caller's to withhold, and where a field to flatten is not a struct (say
// a string), transforms of the flattened names cannot reach it, so it is
// kept as it is.
func (t *Table) Scrub(raw []byte) []byte {
	if !t.hasPII || raw == nil {
		return raw
	}
	v, err := schema.Parse(raw)
	o, ok := v.(schema.Object)
	if err != nil || !ok {
		return t.redacted(len(raw))
	}
	for _, s := range t.steps {
		if scrubs(s.kind) {
			if n, err := s.apply(t, o); err == nil {
				o = n
			}
		}
	}
	return appendJSON(nil, o)
}

// scrubs reports whether Scrub runs transforms of kind.
func scrubs(kind string) bool {
	switch kind {
	case "rename", "flatten", "drop", "hash", "mask":
		return true
	}
	return false
}

// RedactedKey is the one member of Scrub's placeholder.
const RedactedKey = "_redacted"

func (t *Table) redacted(n int) []byte {
	msg := fmt.Sprintf("%d bytes that are not a JSON object, withheld because table %s hashes, masks or drops fields", n, t.spec.Name)
	return appendJSON(nil, schema.Object{{Key: RedactedKey, Value: msg}})
}

package etl_test

import (
	"context"
	"strings"
	"testing"
)

// A list whose elements disagree takes its first element's type, as
// records that disagree do: the record is a dead letter for the element
// that does not fit, and later records of the first shape load.
func TestListElementsFirstTypeWins(t *testing.T) {
	e := newEnv(t)
	recs := []string{
		`{"id":1,"ts":"2026-11-20T10:00:00Z","z":[{"k":1},{"k":"two"}]}`,
		`{"id":2,"ts":"2026-11-20T10:00:00Z","z":[{"k":5}]}`,
	}
	e.put(t, "lists", 0, 0, 2, func(i int64) []byte { return []byte(recs[i]) })
	res, err := e.etl().RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 1 || res.DeadLetters != 1 {
		t.Fatalf("%+v, want 1 row and 1 dead letter", res)
	}
	tbl, err := e.store.LoadIceberg(context.Background(), "lake", "lists")
	if err != nil {
		t.Fatal(err)
	}
	z, ok := tbl.Schema().FindFieldByName("z.element.k")
	if !ok || z.Type.String() != "long" {
		t.Errorf("z.element.k is %v, want long", z.Type)
	}
	if reasons := deadLetterReasons(t, e, "lists"); !strings.Contains(reasons, `field $.z[1].k: "two" does not fit column type long`) {
		t.Errorf("dead letters say:\n%s", reasons)
	}
}

package etl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestClashingNamesAreDeadLetters checks that a field the table cannot take
// beside another (a name the same but for case, which SQL engines do not
// tell apart, or one data files would spell as another's: "a.b" and
// "a_x2Eb") never becomes a column: the records carrying it are dead
// letters with the reason, the others load, and the table keeps loading
// (before, the clash failed every append of the table).
func TestClashingNamesAreDeadLetters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// One batch creates the table: Name, then name in the same record and
	// in another; a.b, then a_x2Eb; a struct with both spellings inside.
	first := []string{
		`{"id":1,"ts":"2026-11-20T10:00:00Z","Name":"upper","a.b":1}`,
		`{"id":2,"ts":"2026-11-20T10:00:00Z","Name":"upper","name":"lower"}`,
		`{"id":3,"ts":"2026-11-20T10:00:00Z","name":"lower only"}`,
		`{"id":4,"ts":"2026-11-20T10:00:00Z","a_x2Eb":2}`,
		`{"id":5,"ts":"2026-11-20T10:00:00Z","o":{"k-1":1,"k_x2D1":2}}`,
		`{"id":6,"ts":"2026-11-20T10:00:00Z","items":[{"Q":1},{"q":2}]}`,
	}
	e.put(t, "ev", 0, 0, int64(len(first)), func(i int64) []byte { return []byte(first[i]) })
	res, err := e.etl().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 1 || res.DeadLetters != 5 {
		t.Fatalf("first load: %+v, want 1 row and 5 dead letters", res)
	}
	// A later commit: a case variant of an existing column, and a
	// clash inside a list's structs.
	later := []string{
		`{"id":7,"ts":"2026-11-20T10:00:00Z","NAME":"shout"}`,
		`{"id":8,"ts":"2026-11-20T10:00:00Z","Name":"fine","extra":true}`,
	}
	e.put(t, "ev", 0, int64(len(first)), int64(len(first)+len(later)), func(i int64) []byte { return []byte(later[i-int64(len(first))]) })
	if res, err = e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Rows != 1 || res.DeadLetters != 1 {
		t.Fatalf("second load: %+v, want 1 row and 1 dead letter", res)
	}
	if got, want := tableColumns(t, e, "ev"), "id,ts,Name,a.b,extra"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	reasons := deadLetterReasons(t, e, "ev")
	for _, want := range []string{
		"field $.name: its name differs only in case from field Name's",
		"field $.a_x2Eb: data files would name it a_x2Eb, as they name field a.b",
		"field $.o.k_x2D1: data files would name it k_x2D1, as they name field k-1",
		"field $.items.q: its name differs only in case from field Q's",
		"field $.NAME: its name differs only in case from field Name's",
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("no dead letter says %q; they say:\n%s", want, reasons)
		}
	}
	if n := strings.Count(reasons, "\n") + 1; n != 6 {
		t.Errorf("%d dead letters, want 6:\n%s", n, reasons)
	}

	// A rename transform fixes a_x2Eb; dlq replay brings that record in.
	fixed := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, `
- topic: ev
  transforms:
    - rename: {from: a_x2Eb, to: ab}
`)}, e.staging, e.store.Iceberg())
	rr, err := fixed.Replay(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	if rr.Replayed != 1 {
		t.Fatalf("replay after the rename: %+v, want 1 replayed", rr)
	}
	if n := count(t, e.store, "ev"); n != 3 {
		t.Fatalf("%d rows after the replay, want 3", n)
	}
}

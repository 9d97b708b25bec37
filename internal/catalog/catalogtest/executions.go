package catalogtest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
)

// testExecutions checks that the query history works on the backend too.
func testExecutions(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	_, err := s.Execution(ctx, "nope")
	if !errors.Is(err, catalog.ErrNoSuchExecution) {
		t.Errorf("Execution(missing) = %v, want ErrNoSuchExecution", err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, e := range []catalog.Execution{
		{ID: "a", Workgroup: "primary", State: "QUEUED", Submitted: t0},
		{ID: "b", Workgroup: "primary", State: "SUCCEEDED", Submitted: t0.Add(time.Second)},
		{ID: "c", Workgroup: "etl", State: "FAILED", Submitted: t0.Add(2 * time.Second)},
		{ID: "a", Workgroup: "primary", State: "SUCCEEDED", Submitted: t0},
	} {
		e.Document, _ = json.Marshal(map[string]any{"id": e.ID, "n": i})
		must(t, s.PutExecution(ctx, e))
	}
	got, err := s.Executions(ctx, catalog.ExecutionFilter{Workgroup: "primary", Before: t0.Add(2 * time.Second), Limit: 5})
	must(t, err)
	if n := names(got, func(e catalog.Execution) string { return e.ID + ":" + e.State }); n != "[b:SUCCEEDED a:SUCCEEDED]" {
		t.Errorf("Executions = %s", n)
	}
	e, err := open(t).Execution(ctx, "a")
	must(t, err)
	if !e.Submitted.Equal(t0) || string(e.Document) != `{"id":"a","n":3}` {
		t.Errorf("Execution(a) = %+v %s", e, e.Document)
	}
}

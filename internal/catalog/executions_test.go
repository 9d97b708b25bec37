package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestExecutions(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.db")
	s, err := Open(ctx, path, "file://"+filepath.ToSlash(filepath.Join(dir, "lake")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execution(ctx, "nope"); !errors.Is(err, ErrNoSuchExecution) {
		t.Fatalf("missing execution: %v, want ErrNoSuchExecution", err)
	}
	if got, err := s.Executions(ctx, ExecutionFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("empty history = %v, %v", got, err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	put := func(id, wg, state string, at time.Time) {
		t.Helper()
		doc, _ := json.Marshal(map[string]string{"id": id, "state": state})
		if err := s.PutExecution(ctx, Execution{ID: id, Workgroup: wg, State: state, Submitted: at, Document: doc}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", "primary", "QUEUED", t0)
	put("b", "primary", "SUCCEEDED", t0.Add(time.Second))
	put("c", "etl", "FAILED", t0.Add(2*time.Second))
	put("a", "primary", "SUCCEEDED", t0) // replaces
	if err := s.PutExecution(ctx, Execution{ID: "x", Document: json.RawMessage("{")}); err == nil {
		t.Error("PutExecution accepted a document that is not JSON")
	}

	ids := func(f ExecutionFilter) []string {
		t.Helper()
		got, err := s.Executions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    ExecutionFilter
		want string
	}{
		{ExecutionFilter{}, "[c b a]"},
		{ExecutionFilter{Workgroup: "primary"}, "[b a]"},
		{ExecutionFilter{State: "SUCCEEDED"}, "[b a]"},
		{ExecutionFilter{Limit: 1}, "[c]"},
		{ExecutionFilter{Before: t0.Add(2 * time.Second)}, "[b a]"},
		{ExecutionFilter{State: "QUEUED"}, "[]"},
	} {
		if got := ids(tc.f); fmt.Sprint(got) != tc.want {
			t.Errorf("Executions(%+v) = %v, want %s", tc.f, got, tc.want)
		}
	}
	s.Close()

	// The history survives reopening the file.
	s, err = Open(ctx, path, "file://"+filepath.ToSlash(filepath.Join(dir, "lake")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.Execution(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if e.State != "SUCCEEDED" || e.Workgroup != "primary" || !e.Submitted.Equal(t0) || string(e.Document) != `{"id":"a","state":"SUCCEEDED"}` {
		t.Errorf("execution a = %+v %s", e, e.Document)
	}
}

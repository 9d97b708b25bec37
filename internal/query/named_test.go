package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/query"
)

func TestNamedQueries(t *testing.T) {
	store, _ := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "adhoc"}}})
	ctx := t.Context()

	byID, err := s.CreateNamedQuery(ctx, query.NamedQueryInput{Name: "name_by_id", SQL: "SELECT name FROM lake.events WHERE id = ?",
		Database: "lake", Description: "the name of one event"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID.ID) != 36 || byID.Workgroup != query.PrimaryWorkgroup || byID.Created.IsZero() {
		t.Errorf("created %+v", byID)
	}
	// The same name in another workgroup is another query.
	other, err := s.CreateNamedQuery(ctx, query.NamedQueryInput{Name: "name_by_id", SQL: "SELECT 'other'", Workgroup: "adhoc"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateNamedQuery(ctx, query.NamedQueryInput{Name: "name_by_id", SQL: "SELECT 1"})
	if !errors.Is(err, query.ErrNamedQueryExists) || !strings.Contains(err.Error(), "name_by_id") {
		t.Errorf("duplicate name: %v, want ErrNamedQueryExists naming it", err)
	}
	for _, in := range []query.NamedQueryInput{
		{Name: "", SQL: "SELECT 1"},
		{Name: "has space", SQL: "SELECT 1"},
		{Name: "-dash", SQL: "SELECT 1"},
		{Name: strings.Repeat("x", 129), SQL: "SELECT 1"},
		{Name: "ok", SQL: "  "},
		{Name: "ok", SQL: "SELECT 1", Workgroup: "nope"},
		{Name: "ok", SQL: "SELECT 1", Description: strings.Repeat("d", 1025)},
	} {
		if _, err := s.CreateNamedQuery(ctx, in); !errors.Is(err, query.ErrInvalidRequest) {
			t.Errorf("CreateNamedQuery(%.40q, %q, wg %q) = %v, want ErrInvalidRequest", in.Name, in.SQL, in.Workgroup, err)
		}
	}

	// Found by name in its workgroup, or by id from anywhere.
	if q, err := s.NamedQuery(ctx, "", "name_by_id"); err != nil || q.ID != byID.ID || q.Description != "the name of one event" || q.Database != "lake" {
		t.Errorf("NamedQuery(primary, name) = %+v, %v", q, err)
	}
	if q, err := s.NamedQuery(ctx, "adhoc", "name_by_id"); err != nil || q.ID != other.ID {
		t.Errorf("NamedQuery(adhoc, name) = %+v, %v", q, err)
	}
	if q, err := s.NamedQuery(ctx, "", other.ID); err != nil || q.Name != "name_by_id" || q.Workgroup != "adhoc" {
		t.Errorf("NamedQuery(id) = %+v, %v", q, err)
	}
	if _, err := s.NamedQuery(ctx, "", "missing"); !errors.Is(err, query.ErrNoSuchNamedQuery) {
		t.Errorf("NamedQuery(missing) = %v, want ErrNoSuchNamedQuery", err)
	}
	list, err := s.NamedQueries(ctx, "adhoc")
	if err != nil || len(list) != 1 || list[0].ID != other.ID {
		t.Errorf("NamedQueries(adhoc) = %+v, %v", list, err)
	}
	if list, err := s.NamedQueries(ctx, ""); err != nil || len(list) != 2 {
		t.Errorf("NamedQueries(all) = %+v, %v", list, err)
	}
	if _, err := s.NamedQueries(ctx, "nope"); !errors.Is(err, query.ErrInvalidRequest) {
		t.Errorf("NamedQueries(unknown workgroup) = %v, want ErrInvalidRequest", err)
	}

	// Running one binds its parameters, numbers or text DuckDB casts.
	for _, p := range []any{int64(5), "5"} {
		id, err := s.StartNamed(ctx, query.StartNamedInput{Ref: "name_by_id", Params: []any{p}})
		if err != nil {
			t.Fatal(err)
		}
		x, err := s.Wait(ctx, id)
		if err != nil || x.State != query.Succeeded || x.SQL != byID.SQL || x.Workgroup != query.PrimaryWorkgroup {
			t.Fatalf("run with %T param: %+v %+v, %v", p, x, x.Error, err)
		}
		page, err := s.Results(ctx, id, 0, 10)
		if err != nil || pageRows(page) != "[e]" {
			t.Errorf("run with %T param: rows %v, %v", p, page, err)
		}
	}
	// By id, it runs in its own workgroup.
	id, err := s.StartNamed(ctx, query.StartNamedInput{Ref: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	if x, err := s.Wait(ctx, id); err != nil || x.State != query.Succeeded || x.Workgroup != "adhoc" {
		t.Errorf("run by id: %+v, %v", x, err)
	}
	// A missing parameter fails the execution as the user's error.
	id, err = s.StartNamed(ctx, query.StartNamedInput{Ref: "name_by_id"})
	if err != nil {
		t.Fatal(err)
	}
	if x, err := s.Wait(ctx, id); err != nil || x.State != query.Failed || x.Error.Category != query.CategoryUser {
		t.Errorf("run without its parameter: %+v %+v, %v", x, x.Error, err)
	}

	deleted, err := s.DeleteNamedQuery(ctx, "", "name_by_id")
	if err != nil || deleted.ID != byID.ID {
		t.Fatalf("DeleteNamedQuery = %+v, %v", deleted, err)
	}
	if _, err := s.StartNamed(ctx, query.StartNamedInput{Ref: "name_by_id"}); !errors.Is(err, query.ErrNoSuchNamedQuery) {
		t.Errorf("StartNamed(deleted) = %v, want ErrNoSuchNamedQuery", err)
	}
	if _, err := s.DeleteNamedQuery(ctx, "", "name_by_id"); !errors.Is(err, query.ErrNoSuchNamedQuery) {
		t.Errorf("DeleteNamedQuery(deleted) = %v, want ErrNoSuchNamedQuery", err)
	}
	if q, err := s.NamedQuery(ctx, "adhoc", "name_by_id"); err != nil || q.ID != other.ID {
		t.Errorf("the other workgroup's query after the delete: %+v, %v", q, err)
	}
}

// TestNamedQueriesNeedStore: a history that keeps no named queries makes
// the named-query methods refuse, saying so.
func TestNamedQueriesNeedStore(t *testing.T) {
	store, _ := eventsLake(t)
	s := newService(t, store, &recordingHistory{History: store}, query.ServiceConfig{})
	_, err := s.CreateNamedQuery(t.Context(), query.NamedQueryInput{Name: "x", SQL: "SELECT 1"})
	if !errors.Is(err, query.ErrInvalidRequest) || !strings.Contains(err.Error(), "no named queries") {
		t.Errorf("CreateNamedQuery without a NamedStore = %v", err)
	}
}

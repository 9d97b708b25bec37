package catalogtest

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
)

// testNamedQueries checks saved SQL: create, the two uniqueness rules, get
// by id and by name (also from a second Store), list per workgroup and in
// all, delete, and that of racing creations of one name exactly one wins.
func testNamedQueries(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	if _, err := s.NamedQuery(ctx, "nope"); !errors.Is(err, catalog.ErrNoSuchNamedQuery) {
		t.Errorf("NamedQuery(missing) = %v, want ErrNoSuchNamedQuery", err)
	}
	if _, err := s.NamedQueryByName(ctx, "primary", "nope"); !errors.Is(err, catalog.ErrNoSuchNamedQuery) {
		t.Errorf("NamedQueryByName(missing) = %v, want ErrNoSuchNamedQuery", err)
	}
	wantErr(t, "DeleteNamedQuery(missing)", s.DeleteNamedQuery(ctx, "nope"), catalog.ErrNoSuchNamedQuery)
	if got, err := s.NamedQueries(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("NamedQueries of an empty catalog = %v, %v", got, err)
	}

	t0 := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	for _, q := range []catalog.NamedQuery{
		{ID: "1", Name: "daily", Workgroup: "primary", Database: "lake", Description: "rows per day",
			SQL: "SELECT date_trunc('day', ts), count(*) FROM lake.t GROUP BY 1", Created: t0},
		{ID: "2", Name: "by_id", Workgroup: "primary", SQL: "SELECT * FROM lake.t WHERE id = ?", Created: t0.Add(time.Second)},
		{ID: "3", Name: "daily", Workgroup: "adhoc", SQL: "SELECT 1", Created: t0.Add(2 * time.Second)},
	} {
		must(t, s.CreateNamedQuery(ctx, q))
	}
	wantErr(t, "CreateNamedQuery(same name, same workgroup)",
		s.CreateNamedQuery(ctx, catalog.NamedQuery{ID: "4", Name: "daily", Workgroup: "primary", SQL: "SELECT 2"}), catalog.ErrAlreadyExists)
	wantErr(t, "CreateNamedQuery(same id)",
		s.CreateNamedQuery(ctx, catalog.NamedQuery{ID: "1", Name: "other", Workgroup: "primary", SQL: "SELECT 2"}), catalog.ErrAlreadyExists)
	for _, bad := range []catalog.NamedQuery{
		{Name: "x", Workgroup: "primary", SQL: "SELECT 1"},
		{ID: "5", Workgroup: "primary", SQL: "SELECT 1"},
		{ID: "5", Name: "x", SQL: "SELECT 1"},
		{ID: "5", Name: "x", Workgroup: "primary"},
	} {
		if err := s.CreateNamedQuery(ctx, bad); err == nil {
			t.Errorf("CreateNamedQuery(%+v) accepted a query with an empty field", bad)
		}
	}

	// A second Store (another process) sees them, every field intact.
	s2 := open(t)
	q, err := s2.NamedQuery(ctx, "1")
	must(t, err)
	if q.Name != "daily" || q.Workgroup != "primary" || q.Database != "lake" || q.Description != "rows per day" ||
		q.SQL != "SELECT date_trunc('day', ts), count(*) FROM lake.t GROUP BY 1" || !q.Created.Equal(t0) {
		t.Errorf("NamedQuery(1) = %+v", q)
	}
	q, err = s2.NamedQueryByName(ctx, "adhoc", "daily")
	must(t, err)
	if q.ID != "3" || q.SQL != "SELECT 1" {
		t.Errorf("NamedQueryByName(adhoc, daily) = %+v", q)
	}
	id := func(q catalog.NamedQuery) string { return q.Workgroup + "/" + q.Name + ":" + q.ID }
	list, err := s2.NamedQueries(ctx, "primary")
	must(t, err)
	if n := names(list, id); n != "[primary/by_id:2 primary/daily:1]" {
		t.Errorf("NamedQueries(primary) = %s", n)
	}
	list, err = s2.NamedQueries(ctx, "")
	must(t, err)
	if n := names(list, id); n != "[adhoc/daily:3 primary/by_id:2 primary/daily:1]" {
		t.Errorf("NamedQueries(all) = %s", n)
	}

	// Deleting frees the name.
	must(t, s2.DeleteNamedQuery(ctx, "1"))
	if _, err := s.NamedQuery(ctx, "1"); !errors.Is(err, catalog.ErrNoSuchNamedQuery) {
		t.Errorf("NamedQuery(deleted) = %v, want ErrNoSuchNamedQuery", err)
	}
	wantErr(t, "DeleteNamedQuery(deleted)", s.DeleteNamedQuery(ctx, "1"), catalog.ErrNoSuchNamedQuery)
	must(t, s.CreateNamedQuery(ctx, catalog.NamedQuery{ID: "6", Name: "daily", Workgroup: "primary", SQL: "SELECT 3"}))
	if q, err := s2.NamedQueryByName(ctx, "primary", "daily"); err != nil || q.ID != "6" || q.Created.IsZero() {
		t.Errorf("NamedQueryByName(primary, daily) after re-create = %+v, %v", q, err)
	}

	// Racing creations of one name on two Stores: exactly one wins.
	var (
		wg   sync.WaitGroup
		won  atomic.Int64
		errs = make(chan error, 8)
	)
	for i, st := range []*catalog.Store{s, s2, s, s2, s, s2, s, s2} {
		wg.Go(func() {
			err := st.CreateNamedQuery(ctx, catalog.NamedQuery{ID: "race" + strconv.Itoa(i), Name: "race", Workgroup: "primary", SQL: "SELECT 4"})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, catalog.ErrAlreadyExists):
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("racing CreateNamedQuery: %v", err)
	}
	if n := won.Load(); n != 1 {
		t.Errorf("%d of the racing creations of one name succeeded, want 1", n)
	}
}

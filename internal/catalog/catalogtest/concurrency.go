package catalogtest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// testConcurrentWriters runs writers on two Stores of one catalog at once
// (two processes): partitions from both all land, schema changes each make
// one version, and of racing creations of one name exactly one wins.
func testConcurrentWriters(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s1 := open(t)
	partitionedTable(t, s1)
	must(t, s1.CreateTable(ctx, catalog.Table{Database: "web", Name: "wide", Columns: cols("id", "string")}))
	s2 := open(t)
	stores := []*catalog.Store{s1, s2, s1, s2}

	const batches, perBatch, updates = 8, 5, 6
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w, s := range stores {
		wg.Go(func() {
			for b := range batches {
				var parts []catalog.Partition
				for i := range perBatch {
					year := strconv.Itoa(w*1000 + b*perBatch + i)
					parts = append(parts, catalog.Partition{Values: []string{year, "2026-11-23", "w" + strconv.Itoa(w)},
						Stats: catalog.Stats{RecordCount: int64(i)}})
				}
				if err := s.BatchCreatePartitions(ctx, "web", "events", parts); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
			}
		})
	}
	for w := range 2 * len(stores) {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range updates {
				cur, err := s.GetTable(ctx, "web", "wide")
				if err != nil {
					errs <- err
					return
				}
				cur.Columns = append(cur.Columns, catalog.Column{Name: fmt.Sprintf("c%d_%d", w, i), Type: "string"})
				if err := s.UpdateTable(ctx, cur); err != nil {
					errs <- fmt.Errorf("writer %d update %d: %w", w, i, err)
					return
				}
			}
		})
	}
	var created, exists atomic.Int32
	for i := range 8 {
		s := stores[i%len(stores)]
		wg.Go(func() {
			err := s.CreateTable(ctx, catalog.Table{Database: "web", Name: "race", Columns: cols("n", "int")})
			switch {
			case err == nil:
				created.Add(1)
			case errors.Is(err, catalog.ErrAlreadyExists):
				exists.Add(1)
			default:
				errs <- fmt.Errorf("racing CreateTable: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	ps, err := s2.GetPartitions(ctx, "web", "events", "")
	must(t, err)
	if want := len(stores) * batches * perBatch; len(ps) != want {
		t.Errorf("%d partitions after concurrent writers, want %d", len(ps), want)
	}
	for w := range stores {
		mine, err := s1.GetPartitions(ctx, "web", "events", fmt.Sprintf("region = 'w%d'", w))
		must(t, err)
		if len(mine) != batches*perBatch {
			t.Errorf("writer %d: %d partitions, want %d", w, len(mine), batches*perBatch)
		}
	}
	if created.Load() != 1 || exists.Load() != 7 {
		t.Errorf("racing CreateTable: %d created, %d already existed; want 1 and 7", created.Load(), exists.Load())
	}
	vs, err := s1.TableVersions(ctx, "web", "wide")
	must(t, err)
	want := 1 + 2*len(stores)*updates
	if len(vs) != want {
		t.Errorf("%d versions after %d concurrent schema changes, want %d", len(vs), want-1, want)
	}
	for i, v := range vs {
		if v.Version != i+1 {
			t.Errorf("versions are not 1..%d: [%d] is %d", want, i, v.Version)
			break
		}
	}
	if cur, err := s2.GetTable(ctx, "web", "wide"); err != nil || cur.Version != want {
		t.Errorf("current version %d, %v; want %d", cur.Version, err, want)
	}
}

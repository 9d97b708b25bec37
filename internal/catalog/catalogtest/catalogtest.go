// Package catalogtest is the conformance suite every catalog backend runs:
// databases, tables and their versions, partitions and the partition
// filter grammar, errors, concurrent writers, Iceberg tables seen through
// the same catalog, the query history and named queries. A backend passes
// when Run passes over it.
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// Run runs the suite. open returns a Store on a catalog that is empty at
// the first call for a test; later calls with the same t return another
// Store on the same catalog (a second process). The Store is closed when
// t ends. Opener makes such a function.
func Run(t *testing.T, open func(t *testing.T) *catalog.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) *catalog.Store)
	}{
		{"Databases", testDatabases},
		{"Tables", testTables},
		{"TableErrors", testTableErrors},
		{"Versions", testVersions},
		{"PutTable", testPutTable},
		{"DeleteTable", testDeleteTable},
		{"DeleteDatabase", testDeleteDatabase},
		{"Partitions", testPartitions},
		{"PartitionErrors", testPartitionErrors},
		{"Filter", testFilter},
		{"FilterErrors", testFilterErrors},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Iceberg", testIceberg},
		{"Reopen", testReopen},
		{"Executions", testExecutions},
		{"NamedQueries", testNamedQueries},
		{"MetadataLocation", testMetadataLocation},
		{"Views", testViews},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// Opener returns an open function for Run. The first call for a test
// asks newCatalog for a fresh catalog location (a path or URI, and a
// warehouse URL); every call opens a Store there and closes it when the
// test ends.
func Opener(newCatalog func(t *testing.T) (uri, warehouse string)) func(t *testing.T) *catalog.Store {
	var (
		mu    sync.Mutex
		where = map[*testing.T][2]string{}
	)
	return func(t *testing.T) *catalog.Store {
		t.Helper()
		mu.Lock()
		w, ok := where[t]
		if !ok {
			uri, wh := newCatalog(t)
			w = [2]string{uri, wh}
			where[t] = w
			t.Cleanup(func() {
				mu.Lock()
				delete(where, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		s, err := catalog.Open(context.Background(), w[0], w[1])
		if err != nil {
			t.Fatalf("open catalog: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close catalog: %v", err)
			}
		})
		return s
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %q", what, err, target)
	}
}

// createDB creates database name.
func createDB(t *testing.T, s *catalog.Store, name string) {
	t.Helper()
	must(t, s.CreateDatabase(t.Context(), catalog.Database{Name: name}))
}

func cols(spec ...string) []catalog.Column {
	var out []catalog.Column
	for i := 0; i+1 < len(spec); i += 2 {
		out = append(out, catalog.Column{Name: spec[i], Type: spec[i+1]})
	}
	return out
}

func names[T any](xs []T, name func(T) string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return fmt.Sprint(out)
}

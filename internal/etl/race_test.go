package etl_test

import (
	"context"
	"sync"
	"testing"

	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
)

// lateCatalog answers the first load of a table as missing, after letting
// another writer create and fill it: the moment between one writer finding
// no table and creating it.
type lateCatalog struct {
	icecat.Catalog
	mu    sync.Mutex
	loads int // of table c
	at    int // the load of c that the other writer goes before
	other func()
}

func (c *lateCatalog) LoadTable(ctx context.Context, id table.Identifier) (*table.Table, error) {
	if id[len(id)-1] == "c" {
		c.mu.Lock()
		c.loads++
		n := c.loads
		c.mu.Unlock()
		if n == c.at {
			c.other()
			return nil, icecat.ErrNoSuchTable
		}
	}
	return c.Catalog.LoadTable(ctx, id)
}

// TestTableCreatedConcurrentlyLoadsOnce has a writer find no table, then
// another writer create it and commit every record, and the first go on:
// its create fails, and it must plan its records again against the table's
// bookmark rather than append what it read to the table the other made
// (which, with no commit conflict to stop it, loaded every record twice).
func TestTableCreatedConcurrentlyLoadsOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "c", 0, 0, 100, sensor)
	e.put(t, "c", 1, 0, 100, sensor)
	// The first load seeds the writer's view of staging; the second is
	// the load before its commit.
	late := &lateCatalog{Catalog: e.store.Iceberg(), at: 2, other: func() {
		if _, err := e.etl().RunOnce(ctx); err != nil {
			t.Error(err)
		}
	}}
	if _, err := etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, late).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, e.store, "c"); n != 200 {
		t.Fatalf("lake.c has %d rows, want 200", n)
	}
}

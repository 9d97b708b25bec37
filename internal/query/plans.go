package query

import (
	"context"
	"database/sql"
	"sync"
)

// maxPlans bounds the plan cache; past it, an arbitrary plan is dropped.
const maxPlans = 256

// planKey identifies a plan: a table (by its UUID), one of its snapshots
// and a row filter ("" for none). A snapshot's data files never change, so
// a plan never goes stale: a commit makes a new snapshot, and so a new key.
type planKey struct {
	table    string
	snapshot int64
	filter   string
}

// plan is the data files planned for a planKey and, once described, the
// columns they hold.
type plan struct {
	files []string // local paths, without duplicates
	sizes []int64  // size of files[i] in bytes

	mu      sync.Mutex
	present map[string]string // folded name -> DuckDB type; read-only once set
}

// columns returns the columns (folded name -> DuckDB type) of from, the
// read_parquet of p.files, describing them on conn the first time.
func (p *plan) columns(ctx context.Context, conn *sql.Conn, from string) (map[string]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.present != nil {
		return p.present, nil
	}
	present, err := describe(ctx, conn, from)
	if err != nil {
		return nil, err
	}
	p.present = present
	return present, nil
}

// plans caches Iceberg scan plans. It is safe for concurrent use.
type plans struct {
	mu sync.Mutex
	m  map[planKey]*plan
}

func (c *plans) get(k planKey) *plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *plans) put(k planKey, p *plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[planKey]*plan{}
	}
	if len(c.m) >= maxPlans {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = p
}

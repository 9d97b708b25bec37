package query

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"

	"github.com/streamlake/streamlake/internal/schema"
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
	files  []string // local paths, without duplicates
	sizes  []int64  // size of files[i] in bytes
	remote []string // URL files[i] is a cached copy of, or "" (see fetchAll)

	mu      sync.Mutex
	present map[string]string // folded name -> DuckDB type; read-only once set
	union   bool              // the files' columns differ: read with union_by_name
	names   []map[int]string  // files[i]'s Parquet names by field id; read-only once set
}

// readParquet is the read_parquet call of the files, by name when union.
func readParquet(files []string, union bool) string {
	opts := "hive_partitioning = false"
	if union {
		opts = "union_by_name = true, " + opts
	}
	return "read_parquet(" + schema.StringList(files) + ", " + opts + ")"
}

// columns returns the columns (folded name -> DuckDB type) of p's files and
// whether they differ between files, describing on conn what is not known
// yet. Files with the same columns in the same order are read without
// union_by_name, which DuckDB binds without reading every footer; their
// columns are described once per file and cached in c, so a new snapshot
// or filter describes only files not seen before.
func (c *plans) columns(ctx context.Context, conn *sql.Conn, p *plan) (map[string]string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.present != nil {
		return p.present, p.union, nil
	}
	cols, same, err := c.sameColumns(ctx, conn, p.files)
	if err != nil {
		return nil, false, err
	}
	if same {
		p.present = make(map[string]string, len(cols))
		for _, col := range cols {
			p.present[strings.ToLower(col.name)] = col.typ
		}
		return p.present, false, nil
	}
	present, err := describe(ctx, conn, readParquet(p.files, true))
	if err != nil {
		return nil, false, err
	}
	p.present, p.union = present, true
	return present, true, nil
}

// fieldNames returns, for each of p's files, the names its Parquet schema
// gives its elements by field id (nested ones included), reading the
// files' footers on conn once per plan. Field ids are unique within a
// file, so one map per file holds them all.
func (p *plan) fieldNames(ctx context.Context, conn *sql.Conn) ([]map[int]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names != nil {
		return p.names, nil
	}
	index := make(map[string]int, len(p.files))
	names := make([]map[int]string, len(p.files))
	for i, f := range p.files {
		index[f] = i
		names[i] = map[int]string{}
	}
	rows, err := conn.QueryContext(ctx, "SELECT file_name, field_id, name FROM parquet_schema("+schema.StringList(p.files)+") WHERE field_id IS NOT NULL")
	if err != nil {
		return nil, duckError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var file, name string
		var id int
		if err := rows.Scan(&file, &id, &name); err != nil {
			return nil, duckError(err)
		}
		if i, ok := index[file]; ok {
			names[i][id] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, duckError(err)
	}
	p.names = names
	return names, nil
}

// maxFileDescribes bounds the files sameColumns describes for one plan;
// past it, the plan's files are described together (union_by_name).
const maxFileDescribes = 64

// sameColumns returns the columns of files and true if every file has the
// same columns in the same order.
func (c *plans) sameColumns(ctx context.Context, conn *sql.Conn, files []string) ([]namedType, bool, error) {
	c.mu.Lock()
	unknown := 0
	for _, f := range files {
		if _, ok := c.fileCols[f]; !ok {
			unknown++
		}
	}
	c.mu.Unlock()
	if unknown > maxFileDescribes {
		return nil, false, nil
	}
	var first []namedType
	for i, f := range files {
		c.mu.Lock()
		cols, ok := c.fileCols[f]
		c.mu.Unlock()
		if !ok {
			var err error
			if cols, err = describeColumns(ctx, conn, readParquet([]string{f}, false)); err != nil {
				return nil, false, err
			}
			c.mu.Lock()
			if c.fileCols == nil || len(c.fileCols) >= maxFileColumns {
				c.fileCols = map[string][]namedType{}
			}
			c.fileCols[f] = cols
			c.mu.Unlock()
		}
		if i == 0 {
			first = cols
		} else if !slices.Equal(cols, first) {
			return nil, false, nil
		}
	}
	return first, true, nil
}

// maxFileColumns bounds the cache of data files' columns; past it, the
// cache starts over.
const maxFileColumns = 1 << 16

// plans caches Iceberg scan plans, and the columns of data files by path
// (an Iceberg data file never changes). It is safe for concurrent use.
type plans struct {
	mu       sync.Mutex
	m        map[planKey]*plan
	fileCols map[string][]namedType
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

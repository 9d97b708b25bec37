package query

import (
	"context"
	"sync"

	"github.com/apache/iceberg-go/table"
)

// metadataLocator is an optional capability of a Catalog (*catalog.Store
// has it): where an Iceberg table's current metadata file is, which is
// cheaper to find than the file is to read and parse.
type metadataLocator interface {
	IcebergMetadataLocation(ctx context.Context, database, name string) (string, error)
}

// tables caches Iceberg tables by metadata location: a metadata file never
// changes (a commit writes a new one), so neither does what it parses to.
// It is safe for concurrent use.
type tables struct {
	mu sync.Mutex
	m  map[string]*table.Table
}

// maxTables bounds the cache; past it, it starts over.
const maxTables = 64

// loadIceberg is e.cat.LoadIceberg, reusing the table loaded before from
// the same metadata file when the catalog can say which file is current.
// Parsing a table's metadata costs about a millisecond and a half with 30
// snapshots, and grows with them; finding its location is one indexed read.
func (e *Engine) loadIceberg(ctx context.Context, database, name string) (*table.Table, error) {
	var loc string
	if ml, ok := e.cat.(metadataLocator); ok {
		if l, err := ml.IcebergMetadataLocation(ctx, database, name); err == nil {
			loc = l
		}
	}
	return e.loadIcebergAt(ctx, database, name, loc)
}

// loadIcebergAt is loadIceberg for a table whose current metadata file
// was just found at loc ("" if unknown).
func (e *Engine) loadIcebergAt(ctx context.Context, database, name, loc string) (*table.Table, error) {
	if loc != "" {
		e.meta.mu.Lock()
		tbl := e.meta.m[loc]
		e.meta.mu.Unlock()
		if tbl != nil {
			return tbl, nil
		}
	}
	tbl, err := e.cat.LoadIceberg(ctx, database, name)
	// A commit between the two reads: the table is newer than loc.
	if err == nil && loc != "" && tbl.MetadataLocation() == loc {
		e.meta.mu.Lock()
		if e.meta.m == nil || len(e.meta.m) >= maxTables {
			e.meta.m = map[string]*table.Table{}
		}
		e.meta.m[loc] = tbl
		e.meta.mu.Unlock()
	}
	return tbl, err
}

package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query/filecache"
	"github.com/streamlake/streamlake/internal/schema"
)

// icebergView returns the view body of an Iceberg table over the data files
// of its current snapshot (or the one at selects, with that snapshot's
// schema), and the directories it reads; it adds the files to sc. When
// query's WHERE clause bounds a partition source column (see rowFilter),
// only the files that can hold matching rows are planned. Plans are cached
// per snapshot and filter (see plans).
func (e *Engine) icebergView(ctx context.Context, conn *sql.Conn, t catalog.Table, at *travel, r refs, sc *scan) (string, []string, error) {
	name, query := t.Database+"."+t.Name, r.query
	tbl, err := e.iceberg(ctx, r, t)
	if err != nil {
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return "", nil, &NotFoundError{Database: t.Database, Table: t.Name}
		}
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	snap, sch, viewName := tbl.CurrentSnapshot(), tbl.Schema(), t.Name
	var opts []table.ScanOption
	if at != nil {
		if snap, sch, err = at.snapshotOf(tbl); err != nil {
			return "", nil, err
		}
		viewName = at.view
		opts = append(opts, table.WithSnapshotID(snap.SnapshotID))
	}
	cols, err := icebergColumns(sch)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	var p *plan
	if snap != nil {
		spec := tbl.Spec()
		filter := rowFilter(query, t.Database, viewName, sch, &spec)
		if filter == nil && at == nil {
			filter = viewRowFilter(query, r.views, t.Database, t.Name, sch, &spec)
		}
		key := planKey{table: tbl.Metadata().TableUUID().String(), snapshot: snap.SnapshotID}
		if filter != nil {
			key.filter = filter.String()
		}
		if p = e.plans.get(key); p == nil {
			if p, err = planFiles(ctx, tbl, filter, e.opts.Cache, opts...); err != nil {
				return "", nil, fmt.Errorf("query: table %s: %w", name, err)
			}
			e.plans.put(key, p)
		}
		e.log.Debug("query iceberg plan", "table", name, "snapshot", snap.SnapshotID, "filter", key.filter, "files", len(p.files))
	}
	if p == nil || len(p.files) == 0 {
		return emptyView(cols), nil, nil
	}
	for _, size := range p.sizes {
		sc.add(size)
	}
	if err := e.fetchAll(ctx, p, sc); err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	if byFieldID(tbl.Metadata(), sch) {
		var names []map[int]string
		if nestedRenamed(tbl.Metadata()) {
			if names, err = p.fieldNames(ctx, conn); err != nil {
				return "", nil, fmt.Errorf("query: table %s: read data files: %w", name, err)
			}
		}
		body, err := readByID(p.files, sch, cols, names)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: %w", name, err)
		}
		return body, e.icebergDirs(tbl.Location(), p.files), nil
	}
	present, union, err := e.plans.columns(ctx, conn, p)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: read data files: %w", name, err)
	}
	// Paths of an Iceberg table are not Hive partitions to DuckDB: the
	// partition values are in the files.
	from := readParquet(p.files, union)
	return "SELECT " + projection(cols, present) + " FROM " + from, e.icebergDirs(tbl.Location(), p.files), nil
}

// planFiles plans the data files of tbl's current snapshot (or the one
// opts select) under filter (nil for all). Files in object storage are
// planned as their copies in cache (see fetchAll).
func planFiles(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression, cache *filecache.Cache, opts ...table.ScanOption) (*plan, error) {
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	tasks, err := tbl.Scan(opts...).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files: %w", err)
	}
	p := &plan{}
	seen := map[string]bool{}
	for _, task := range tasks {
		if len(task.DeleteFiles)+len(task.EqualityDeleteFiles)+len(task.DeletionVectorFiles) > 0 {
			return nil, fmt.Errorf("data file %s has row-level deletes, which are not supported yet", task.File.FilePath())
		}
		if f := task.File.FileFormat(); f != iceberg.ParquetFile {
			return nil, fmt.Errorf("data file %s: format %s is not supported", task.File.FilePath(), f)
		}
		src := task.File.FilePath()
		path, err := dataFilePath(cache, src, task.File.FileSizeBytes())
		if err != nil {
			return nil, fmt.Errorf("data file: %w", err)
		}
		if !seen[path] {
			seen[path] = true
			p.files = append(p.files, path)
			p.sizes = append(p.sizes, task.File.FileSizeBytes())
			if !remote(src) {
				src = ""
			}
			p.remote = append(p.remote, src)
		}
	}
	return p, nil
}

// icebergDirs is the table location (or its directory in the cache) when
// every file is under it, else the files' directories.
func (e *Engine) icebergDirs(location string, files []string) []string {
	if root, err := e.readDir(location); err == nil {
		all := true
		for _, f := range files {
			if !strings.HasPrefix(f, root) {
				all = false
				break
			}
		}
		if all {
			return []string{root}
		}
	}
	dirs := make([]string, 0, len(files))
	for _, f := range files {
		dirs = append(dirs, dirOf(filepath.Dir(f)))
	}
	return dirs
}

// icebergColumns are the top-level columns of s in schema order.
func icebergColumns(s *iceberg.Schema) ([]column, error) {
	fields := s.Fields()
	names := duckNames(fields)
	cols := make([]column, len(fields))
	for i, f := range fields {
		d, err := duckType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		_, primitive := f.Type.(iceberg.PrimitiveType)
		cols[i] = column{name: names[i], duck: d, nested: !primitive}
	}
	return cols, nil
}

// duckType maps an Iceberg type to a DuckDB type.
func duckType(t iceberg.Type) (string, error) {
	switch t := t.(type) {
	case iceberg.BooleanType:
		return "BOOLEAN", nil
	case iceberg.Int32Type:
		return "INTEGER", nil
	case iceberg.Int64Type:
		return "BIGINT", nil
	case iceberg.Float32Type:
		return "FLOAT", nil
	case iceberg.Float64Type:
		return "DOUBLE", nil
	case iceberg.StringType:
		return "VARCHAR", nil
	case iceberg.DateType:
		return "DATE", nil
	case iceberg.TimeType:
		return "TIME", nil
	case iceberg.TimestampType:
		return "TIMESTAMP", nil
	case iceberg.TimestampTzType, iceberg.TimestampTzNsType:
		// DuckDB's TIMESTAMPTZ has microseconds.
		return "TIMESTAMPTZ", nil
	case iceberg.TimestampNsType:
		return "TIMESTAMP_NS", nil
	case iceberg.UUIDType:
		return "UUID", nil
	case iceberg.BinaryType, iceberg.FixedType:
		return "BLOB", nil
	case iceberg.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision(), t.Scale()), nil
	case *iceberg.StructType:
		parts := make([]string, len(t.FieldList))
		for i, f := range t.FieldList {
			d, err := duckType(f.Type)
			if err != nil {
				return "", fmt.Errorf("field %s: %w", f.Name, err)
			}
			parts[i] = schema.QuoteIdent(f.Name) + " " + d
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")", nil
	case *iceberg.ListType:
		d, err := duckType(t.Element)
		if err != nil {
			return "", err
		}
		return d + "[]", nil
	case *iceberg.MapType:
		k, err := duckType(t.KeyType)
		if err != nil {
			return "", err
		}
		v, err := duckType(t.ValueType)
		if err != nil {
			return "", err
		}
		return "MAP(" + k + ", " + v + ")", nil
	}
	return "", fmt.Errorf("iceberg type %s is not supported", t)
}

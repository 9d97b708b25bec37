package etl

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/streamlake/streamlake/internal/schema"
)

// errIneligible marks a compaction group that the DuckDB writer leaves to
// iceberg-go's (its files have deletes, an older partition spec or
// schema, or a type the writer does not map).
var errIneligible = errors.New("not eligible for the DuckDB writer")

// compactRowGroup is the rows per Parquet row group of compacted files,
// as the ETL writes them (DuckDB's vector-aligned default).
const compactRowGroup = 122880

// duckWriter rewrites compaction groups with an embedded DuckDB: it reads
// a group's Parquet files, sorts their rows by the table's event-time
// partition source (when it has one) and writes them with zstd into files
// of about the target size, with the Iceberg field ids of the table's
// current schema. DuckDB's files read faster in DuckDB (the query engine)
// than arrow-go's of the same rows. Only files whose Parquet schema is the
// current schema (names, field ids and physical types, nested levels
// included) are rewritten, so reading them by name is reading them by
// field id; others are left to iceberg-go. A duckWriter is used by one
// goroutine.
type duckWriter struct {
	db       *sql.DB
	tmp      string // local directory for downloads and outputs
	tbl      *table.Table
	want     []parquetColumn // the current schema's Parquet columns
	fieldIDs string          // COPY's FIELD_IDS value
	orderBy  string          // ORDER BY clause, or ""
}

// parquetColumn is one element of a Parquet schema as DuckDB's
// parquet_schema lists it (depth first, without the root).
type parquetColumn struct {
	name, typ string // typ: physical type, "" for groups
	id        int64  // field id, -1 for none
}

// newDuckWriter returns a writer for tbl's current schema, or an error
// wrapping errIneligible when the schema has a type it does not map.
func newDuckWriter(tbl *table.Table) (*duckWriter, error) {
	md := tbl.Metadata()
	if md.Version() >= 3 {
		return nil, fmt.Errorf("%w: format version %d (row lineage)", errIneligible, md.Version())
	}
	sc := tbl.Schema()
	want, ids, err := parquetLayout(sc.Fields())
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "streamlake-compact-")
	if err != nil {
		return nil, fmt.Errorf("temp directory: %w", err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db.SetMaxOpenConns(1)
	// A background job next to the ETL and the query engine: a sort past
	// the memory limit spills to the temp directory.
	for _, set := range []string{"SET temp_directory = " + schema.QuoteString(filepath.Join(tmp, "spill")), "SET memory_limit = '1GiB'"} {
		if _, err := db.Exec(set); err != nil {
			db.Close()
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("duckdb: %s: %w", set, err)
		}
	}
	w := &duckWriter{db: db, tmp: tmp, tbl: tbl, want: want, fieldIDs: "{" + strings.Join(ids, ", ") + "}"}
	spec := tbl.Spec()
	for _, f := range spec.Fields() {
		switch f.Transform.(type) {
		case iceberg.YearTransform, iceberg.MonthTransform, iceberg.DayTransform, iceberg.HourTransform:
			if col, ok := sc.FindColumnName(f.SourceID()); ok && !strings.Contains(col, ".") {
				w.orderBy = " ORDER BY " + schema.QuoteIdent(col)
			}
		}
		if w.orderBy != "" {
			break
		}
	}
	return w, nil
}

func (w *duckWriter) Close() error {
	err := w.db.Close()
	return errors.Join(err, os.RemoveAll(w.tmp))
}

// parquetLayout returns the Parquet columns that iceberg-go writes for
// fields and the FIELD_IDS entries that make DuckDB write the same.
func parquetLayout(fields []iceberg.NestedField) ([]parquetColumn, []string, error) {
	var cols []parquetColumn
	var ids []string
	for _, f := range fields {
		if f.Required {
			// DuckDB 1.5 writes every column optional (duckdb#22144), which
			// iceberg-go refuses for a required field.
			return nil, nil, fmt.Errorf("%w: column %s is required", errIneligible, f.Name)
		}
		c, id, err := fieldLayout(f.Name, f.ID, f.Type)
		if err != nil {
			return nil, nil, err
		}
		cols = append(cols, c...)
		ids = append(ids, schema.QuoteString(f.Name)+": "+id)
	}
	return cols, ids, nil
}

// fieldLayout is parquetLayout for one field: its columns and the value
// of its FIELD_IDS entry.
func fieldLayout(name string, id int, t iceberg.Type) ([]parquetColumn, string, error) {
	switch t := t.(type) {
	case *iceberg.StructType:
		cols, ids, err := parquetLayout(t.FieldList)
		if err != nil {
			return nil, "", err
		}
		return append([]parquetColumn{{name: name, id: int64(id)}}, cols...),
			"{__duckdb_field_id: " + strconv.Itoa(id) + ", " + strings.Join(ids, ", ") + "}", nil
	case *iceberg.ListType:
		if t.ElementRequired {
			return nil, "", fmt.Errorf("%w: elements of column %s are required", errIneligible, name)
		}
		elem, eid, err := fieldLayout("element", t.ElementID, t.Element)
		if err != nil {
			return nil, "", err
		}
		cols := append([]parquetColumn{{name: name, id: int64(id)}, {name: "list", id: -1}}, elem...)
		return cols, "{__duckdb_field_id: " + strconv.Itoa(id) + ", element: " + eid + "}", nil
	}
	phys, ok := physicalTypes[t.String()]
	if !ok {
		return nil, "", fmt.Errorf("%w: column %s has type %s", errIneligible, name, t)
	}
	return []parquetColumn{{name: name, typ: phys, id: int64(id)}}, strconv.Itoa(id), nil
}

// physicalTypes maps the Iceberg types the DuckDB writer handles to their
// Parquet physical types. DuckDB reads and writes each unchanged
// (timestamps as INT64 microseconds, adjusted to UTC when they were).
var physicalTypes = map[string]string{
	"boolean": "BOOLEAN", "int": "INT32", "long": "INT64", "float": "FLOAT", "double": "DOUBLE",
	"date": "INT32", "timestamp": "INT64", "timestamptz": "INT64", "string": "BYTE_ARRAY", "binary": "BYTE_ARRAY",
}

// rewrite writes group's rows into new files next to its first file and
// returns the result to commit; on error it leaves no new file behind.
func (w *duckWriter) rewrite(ctx context.Context, group table.CompactionTaskGroup, target int64) (table.CompactionGroupResult, error) {
	res := table.CompactionGroupResult{PartitionKey: group.PartitionKey, BytesBefore: group.TotalSizeBytes}
	spec := w.tbl.Spec()
	specID := spec.ID()
	seen := map[string]bool{}
	for _, task := range group.Tasks {
		f := task.File
		switch {
		case len(task.DeleteFiles)+len(task.EqualityDeleteFiles)+len(task.DeletionVectorFiles) > 0:
			return res, fmt.Errorf("%w: file %s has row-level deletes", errIneligible, f.FilePath())
		case f.FileFormat() != iceberg.ParquetFile:
			return res, fmt.Errorf("%w: file %s is %s", errIneligible, f.FilePath(), f.FileFormat())
		case int(f.SpecID()) != specID:
			return res, fmt.Errorf("%w: file %s has partition spec %d, not %d", errIneligible, f.FilePath(), f.SpecID(), specID)
		}
		if !seen[f.FilePath()] {
			seen[f.FilePath()] = true
			res.OldDataFiles = append(res.OldDataFiles, f)
		}
	}
	if len(res.OldDataFiles) == 0 {
		return res, nil
	}
	fsys, err := w.tbl.FS(ctx)
	if err != nil {
		return res, fmt.Errorf("table file system: %w", err)
	}
	wfs, ok := fsys.(iceio.WriteFileIO)
	if !ok {
		return res, fmt.Errorf("%w: file system %T cannot write", errIneligible, fsys)
	}
	work, err := os.MkdirTemp(w.tmp, "group-")
	if err != nil {
		return res, fmt.Errorf("temp directory: %w", err)
	}
	defer os.RemoveAll(work)
	inputs := make([]string, len(res.OldDataFiles))
	var rows int64
	for i, f := range res.OldDataFiles {
		if inputs[i], err = localCopy(fsys, f.FilePath(), work, i); err != nil {
			return res, err
		}
		if err := w.checkLayout(ctx, inputs[i]); err != nil {
			return res, fmt.Errorf("file %s: %w", f.FilePath(), err)
		}
		rows += f.Count()
	}
	written, err := w.write(ctx, inputs, work, group.TotalSizeBytes, target)
	if err != nil {
		return res, err
	}
	first := res.OldDataFiles[0].FilePath()
	dir := first[:strings.LastIndexByte(first, '/')] // a URL's: path.Dir would fold file:///
	batch := strings.ToLower(rand.Text())
	ok = false
	defer func() {
		if !ok {
			for _, df := range res.NewDataFiles {
				fsys.Remove(df.FilePath())
			}
			res.NewDataFiles = nil
		}
	}()
	var got int64
	for i, local := range written {
		dest := fmt.Sprintf("%s/%05d-compact-%s.parquet", dir, i, batch)
		df, err := w.upload(ctx, wfs, local, dest)
		if df != nil {
			res.NewDataFiles = append(res.NewDataFiles, df)
		}
		if err != nil {
			return res, fmt.Errorf("compacted file %s: %w", dest, err)
		}
		if a, b := fmt.Sprint(df.Partition()), fmt.Sprint(res.OldDataFiles[0].Partition()); a != b {
			return res, fmt.Errorf("compacted file %s: partition %s, want %s", dest, a, b)
		}
		got += df.Count()
		res.BytesAfter += df.FileSizeBytes()
	}
	if got != rows {
		return res, fmt.Errorf("compacted files of group %s hold %d rows, want %d", group.PartitionKey, got, rows)
	}
	ok = true
	return res, nil
}

// upload copies the local file to dest and returns its data file, built
// from its footer (counts, sizes and bounds for pruning, partition values
// from the bounds of the partition source columns). A non-nil data file
// is returned as soon as dest exists, so that the caller can remove it.
func (w *duckWriter) upload(ctx context.Context, wfs iceio.WriteFileIO, local, dest string) (iceberg.DataFile, error) {
	src, err := os.Open(local)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := wfs.Create(dest)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		wfs.Remove(dest)
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := dst.Close(); err != nil {
		wfs.Remove(dest)
		return nil, fmt.Errorf("write: %w", err)
	}
	df, err := table.FileToDataFile(ctx, wfs, dest, w.tbl.Schema(), w.tbl.Spec(), 0, w.tbl.Properties())
	if err != nil {
		wfs.Remove(dest)
		return nil, fmt.Errorf("read footer: %w", err)
	}
	return df, nil
}

// checkLayout returns an error wrapping errIneligible unless the Parquet
// schema of the local file is w.want.
func (w *duckWriter) checkLayout(ctx context.Context, file string) error {
	r, err := w.db.QueryContext(ctx, "SELECT name, coalesce(type, ''), coalesce(field_id, -1) FROM parquet_schema("+schema.QuoteString(file)+")")
	if err != nil {
		return fmt.Errorf("duckdb: read schema: %w", err)
	}
	defer r.Close()
	var got []parquetColumn
	for r.Next() {
		var c parquetColumn
		if err := r.Scan(&c.name, &c.typ, &c.id); err != nil {
			return fmt.Errorf("duckdb: read schema: %w", err)
		}
		got = append(got, c)
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("duckdb: read schema: %w", err)
	}
	if len(got) == 0 || !slices.Equal(got[1:], w.want) { // got[0] is the root
		return fmt.Errorf("%w: its columns are not the current schema's", errIneligible)
	}
	return nil
}

// localCopy returns a local path of the data file at loc: its own for a
// local table, else a copy downloaded into dir.
func localCopy(fsys iceio.IO, loc, dir string, n int) (string, error) {
	if u, err := url.Parse(loc); err == nil && (u.Scheme == "" || u.Scheme == "file") {
		if _, err := os.Stat(u.Path); err == nil {
			return u.Path, nil
		} // else a name the file system maps otherwise: read through it
	}
	src, err := fsys.Open(loc)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", loc, err)
	}
	defer src.Close()
	p := filepath.Join(dir, "in-"+strconv.Itoa(n)+".parquet")
	dst, err := os.Create(p)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", fmt.Errorf("download %s: %w", loc, err)
	}
	return p, dst.Close()
}

// write writes the rows of the local files inputs, sorted, into new files
// in work and returns them: one file, or n of about the target size when
// the rows' bytes (estimated as total, the inputs') are past the
// right-size bound (9/5 of the target, as compaction plans; smaller parts
// would be small files again).
func (w *duckWriter) write(ctx context.Context, inputs []string, work string, total, target int64) ([]string, error) {
	opts := " (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE " + strconv.Itoa(compactRowGroup) + ", FIELD_IDS " + w.fieldIDs + ")"
	src := "SELECT * FROM read_parquet(" + schema.StringList(inputs) + ", hive_partitioning = false)" + w.orderBy
	if target <= 0 || total <= target*9/5 {
		out := filepath.Join(work, "out-0.parquet")
		if _, err := w.db.ExecContext(ctx, "COPY ("+src+") TO "+schema.QuoteString(out)+opts); err != nil {
			return nil, fmt.Errorf("duckdb: write compacted file: %w", err)
		}
		return []string{out}, nil
	}
	// Sorted once into a table whose row ids follow the sort, then cut.
	if _, err := w.db.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE compact_group AS "+src); err != nil {
		return nil, fmt.Errorf("duckdb: sort compaction group: %w", err)
	}
	defer w.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS compact_group")
	var rows int64
	if err := w.db.QueryRowContext(ctx, "SELECT count(*) FROM compact_group").Scan(&rows); err != nil {
		return nil, fmt.Errorf("duckdb: count compaction group: %w", err)
	}
	n := (total + target - 1) / target
	per := (rows + n - 1) / n
	var outs []string
	for from := int64(0); from < rows; from += per {
		out := filepath.Join(work, "out-"+strconv.Itoa(len(outs))+".parquet")
		q := fmt.Sprintf("COPY (SELECT * FROM compact_group WHERE rowid >= %d AND rowid < %d ORDER BY rowid) TO %s%s", from, from+per, schema.QuoteString(out), opts)
		if _, err := w.db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("duckdb: write compacted file: %w", err)
		}
		outs = append(outs, out)
	}
	return outs, nil
}

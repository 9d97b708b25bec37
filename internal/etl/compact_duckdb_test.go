package etl_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
)

// nestedValue is a record with a struct and lists (of structs and of
// strings), on one of two days, its event times out of order within a
// commit.
func nestedValue(i int64) []byte {
	return fmt.Appendf(nil, `{"id":"n-%d","ts":"2026-11-%02dT%02d:%02d:%02dZ","n":%d,"s":{"a":%d,"b":"b%d"},"l":[{"q":%d}],"tags":["t%d","u"]}`,
		i, 20+i%2, (i*7)%24, i%60, (i*13)%60, i, i, i%5, i*2, i%3)
}

// rows returns every row of tbl, read by iceberg-go (by field id) and
// written as JSON, sorted.
func rows(t *testing.T, tbl *table.Table) []string {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	var buf bytes.Buffer
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	for tr.Next() {
		if err := array.RecordToJSON(tr.RecordBatch(), &buf); err != nil {
			t.Fatal(err)
		}
	}
	out := strings.Split(strings.TrimSpace(buf.String()), "\n")
	slices.Sort(out)
	return out
}

// lakeFile is what a test checks of one data file of the current snapshot.
type lakeFile struct {
	df        iceberg.DataFile
	createdBy string
	ts        []int64 // the ts column in file order
	rowGroups []int64 // rows per row group
}

func lakeFiles(t *testing.T, tbl *table.Table) []lakeFile {
	t.Helper()
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []lakeFile
	for _, task := range tasks {
		path := strings.TrimPrefix(task.File.FilePath(), "file://")
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			t.Fatal(err)
		}
		lf := lakeFile{df: task.File, createdBy: pf.MetaData().GetCreatedBy()}
		for i := range pf.NumRowGroups() {
			lf.rowGroups = append(lf.rowGroups, pf.MetaData().RowGroup(i).NumRows())
			for c := range pf.MetaData().Schema.NumColumns() {
				cc, err := pf.MetaData().RowGroup(i).ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if cc.Compression() != compress.Codecs.Zstd {
					t.Fatalf("%s: column %d compressed with %v, want zstd", path, c, cc.Compression())
				}
			}
		}
		checkFieldIDs(t, path, pf, tbl.Schema())
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		at, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		idx := at.Schema().FieldIndices("ts")
		if len(idx) != 1 {
			t.Fatalf("%s has no ts column: %v", path, at.Schema())
		}
		for _, ch := range at.Column(idx[0]).Data().Chunks() {
			for _, v := range ch.(*array.Timestamp).TimestampValues() {
				lf.ts = append(lf.ts, int64(v))
			}
		}
		if unit := at.Schema().Field(idx[0]).Type.(*arrow.TimestampType); unit.Unit != arrow.Microsecond || unit.TimeZone != "UTC" {
			t.Fatalf("%s: ts is %v, want microseconds adjusted to UTC", path, unit)
		}
		at.Release()
		pf.Close()
		out = append(out, lf)
	}
	return out
}

// checkFieldIDs checks that every leaf column of pf carries the field id
// that the Iceberg schema gives its path (lists' "list" levels skipped).
func checkFieldIDs(t *testing.T, path string, pf *file.Reader, sc *iceberg.Schema) {
	t.Helper()
	ps := pf.MetaData().Schema
	for i := range ps.NumColumns() {
		col := ps.Column(i)
		var parts []string
		for _, p := range col.ColumnPath() {
			if p != "list" {
				parts = append(parts, p)
			}
		}
		name := strings.Join(parts, ".")
		f, ok := sc.FindFieldByName(name)
		if !ok {
			t.Fatalf("%s: column %s is not in the table schema", path, name)
		}
		if got := col.SchemaNode().FieldID(); int(got) != f.ID {
			t.Fatalf("%s: column %s has field id %d, want %d", path, name, got, f.ID)
		}
	}
}

// TestCompactionWritesWithDuckDB: compaction rewrites each day's small
// files with DuckDB into one zstd file per day whose rows are sorted by
// event time, whose columns (nested ones too) carry the table's field ids,
// whose partition and column bounds let scans prune, and which holds
// exactly the rows it replaced.
func TestCompactionWritesWithDuckDB(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for k := range int64(10) {
		e.put(t, "n", 0, k*30, (k+1)*30, nestedValue)
		if _, err := e.etl().RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "n")
	if err != nil {
		t.Fatal(err)
	}
	before := rows(t, tbl)
	if len(before) != 300 {
		t.Fatalf("%d rows before compaction, want 300", len(before))
	}
	res, err := e.etl().Maintain(ctx, "n", etl.MaintainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res.DuckDBGroups != 2 || res.Rewritten != 20 || res.Written != 2 || res.FilesAfter != 2 {
		t.Fatalf("maintain: %+v, want 20 files rewritten into 2 by DuckDB", res)
	}
	tbl, err = e.store.LoadIceberg(ctx, "lake", "n")
	if err != nil {
		t.Fatal(err)
	}
	if after := rows(t, tbl); !slices.Equal(after, before) {
		t.Fatalf("rows changed by compaction:\nbefore %v\nafter  %v", before[:3], after[:3])
	}
	ts, _ := tbl.Schema().FindFieldByName("ts")
	days := map[string]bool{}
	for _, lf := range lakeFiles(t, tbl) {
		if !strings.Contains(lf.createdBy, "DuckDB") {
			t.Fatalf("%s written by %q, want DuckDB", lf.df.FilePath(), lf.createdBy)
		}
		if !slices.IsSorted(lf.ts) || len(lf.ts) != 150 || int64(len(lf.ts)) != lf.df.Count() {
			t.Fatalf("%s: %d rows (%d recorded), sorted %v; want 150 sorted by ts", lf.df.FilePath(), len(lf.ts), lf.df.Count(), slices.IsSorted(lf.ts))
		}
		day := fmt.Sprint(lf.df.Partition())
		if days[day] {
			t.Fatalf("two files in partition %s", day)
		}
		days[day] = true
		lo, hi := lf.df.LowerBoundValues()[ts.ID], lf.df.UpperBoundValues()[ts.ID]
		if len(lo) != 8 || len(hi) != 8 || lf.df.NullValueCounts()[ts.ID] != 0 || lf.df.ValueCounts()[ts.ID] != 150 {
			t.Fatalf("%s: ts bounds %x..%x, counts %v / %v; want 8-byte bounds, 150 values, no nulls",
				lf.df.FilePath(), lo, hi, lf.df.ValueCounts(), lf.df.NullValueCounts())
		}
	}
	// The bounds and partition values prune: an hour of the 21st plans one
	// file, and an hour with no rows plans none of the n column's range.
	for _, c := range []struct {
		filter iceberg.BooleanExpression
		want   int
	}{
		{iceberg.NewAnd(iceberg.GreaterThanEqual(iceberg.Reference("ts"), micros("2026-11-21T01:00:00Z")),
			iceberg.LessThan(iceberg.Reference("ts"), micros("2026-11-21T02:00:00Z"))), 1},
		{iceberg.GreaterThan(iceberg.Reference("n"), int64(1000)), 0},
		{iceberg.EqualTo(iceberg.Reference("s.b"), "b3"), 2},
	} {
		tasks, err := tbl.Scan(table.WithRowFilter(c.filter)).PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) != c.want {
			t.Fatalf("filter %v plans %d files, want %d", c.filter, len(tasks), c.want)
		}
	}
}

func micros(s string) int64 {
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return ts.UnixMicro()
}

// TestCompactionSplitsAtTargetSize: a group past 9/5 of the target file
// size is written into files of about the target size, of equal row
// counts, in event-time order across files.
func TestCompactionSplitsAtTargetSize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	value := func(i int64) []byte {
		return fmt.Appendf(nil, `{"id":"r-%d","ts":"2026-11-20T%02d:%02d:%02d.%06dZ","v":%d}`, i, (i/3600)%24, (i/60)%60, i%60, (i*7919)%1000000, i)
	}
	const n = 150_000
	for k := range int64(3) {
		e.put(t, "big", 0, k*n/3, (k+1)*n/3, value)
		if _, err := e.etl().RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "big")
	if err != nil {
		t.Fatal(err)
	}
	before := ids(t, tbl)
	res, err := e.etl().Maintain(ctx, "big", etl.WithWriteTarget(etl.MaintainConfig{}, 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	// Three loads, the first in two commits (the one that creates the
	// table holds its first records only): at least three files.
	if want := int((res.BytesBefore + 64<<10 - 1) / (64 << 10)); res.DuckDBGroups != 1 || res.FilesBefore < 3 || res.Rewritten != res.FilesBefore || res.Written != want {
		t.Fatalf("maintain: %+v, want every file rewritten by DuckDB into %d", res, want)
	}
	tbl, err = e.store.LoadIceberg(ctx, "lake", "big")
	if err != nil {
		t.Fatal(err)
	}
	if after := ids(t, tbl); len(after) != len(before) || len(after) != n {
		t.Fatalf("%d ids after compaction, %d before, want %d", len(after), len(before), n)
	}
	files := lakeFiles(t, tbl)
	slices.SortFunc(files, func(a, b lakeFile) int { return int(a.ts[0] - b.ts[0]) })
	var last int64
	for i, lf := range files {
		if !slices.IsSorted(lf.ts) || lf.ts[0] < last {
			t.Fatalf("%s: rows not in event-time order across files", lf.df.FilePath())
		}
		last = lf.ts[len(lf.ts)-1]
		per := len(files[0].ts)
		if len(lf.ts) != per && (i < len(files)-1 || len(lf.ts) > per || len(lf.ts) <= per-len(files)) {
			t.Fatalf("%s holds %d rows, the first file %d: want equal parts, the last one short of at most %d", lf.df.FilePath(), len(lf.ts), per, len(files)-1)
		}
	}
}

// TestCompactionLeavesEvolvedFilesToIcebergGo: files written before a
// column was added do not have the current schema, so their group is
// rewritten by iceberg-go (which reads by field id and fills the new
// column with nulls); once every file has the current schema, DuckDB
// rewrites it.
func TestCompactionLeavesEvolvedFilesToIcebergGo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for k := range int64(4) {
		e.put(t, "ev", 0, k*10, (k+1)*10, func(i int64) []byte {
			if k < 2 {
				return fmt.Appendf(nil, `{"id":"e-%d","ts":"2026-11-20T10:%02d:00Z","v":%d}`, i, i%60, i)
			}
			return fmt.Appendf(nil, `{"id":"e-%d","ts":"2026-11-20T10:%02d:00Z","v":%d,"w":"x%d"}`, i, i%60, i, i)
		})
		if _, err := e.etl().RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "ev")
	if err != nil {
		t.Fatal(err)
	}
	before := rows(t, tbl)
	res, err := e.etl().Maintain(ctx, "ev", etl.MaintainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res.DuckDBGroups != 0 || res.Rewritten != 4 || res.Written != 1 {
		t.Fatalf("maintain: %+v, want 4 files rewritten into 1 by iceberg-go", res)
	}
	tbl, _ = e.store.LoadIceberg(ctx, "lake", "ev")
	if after := rows(t, tbl); !slices.Equal(after, before) || !strings.Contains(after[0], `"w":null`) {
		t.Fatalf("rows changed by compaction, or old rows lack a null w:\nbefore %v\nafter  %v", before, after)
	}

	e.put(t, "ev", 0, 40, 50, func(i int64) []byte {
		return fmt.Appendf(nil, `{"id":"e-%d","ts":"2026-11-20T11:%02d:00Z","v":%d,"w":"y"}`, i, i%60, i)
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err = e.etl().Maintain(ctx, "ev", etl.MaintainConfig{}); err != nil {
		t.Fatal(err)
	}
	if res.DuckDBGroups != 1 || res.Rewritten != 2 || res.Written != 1 {
		t.Fatalf("second maintain: %+v, want 2 files rewritten into 1 by DuckDB", res)
	}
	tbl, _ = e.store.LoadIceberg(ctx, "lake", "ev")
	if got := rows(t, tbl); len(got) != 50 {
		t.Fatalf("%d rows after the second compaction, want 50", len(got))
	}
	for _, lf := range lakeFiles(t, tbl) {
		if !strings.Contains(lf.createdBy, "DuckDB") {
			t.Fatalf("%s written by %q, want DuckDB", lf.df.FilePath(), lf.createdBy)
		}
	}
}

// TestCompactionArrowWriter: MaintainConfig.ArrowWriter keeps compaction
// on iceberg-go's writer.
func TestCompactionArrowWriter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for k := range int64(4) {
		e.put(t, "aw", 0, k*10, (k+1)*10, dayValue)
		if _, err := e.etl().RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.etl().Maintain(ctx, "aw", etl.MaintainConfig{ArrowWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.DuckDBGroups != 0 || res.Rewritten != 8 || res.Written != 2 {
		t.Fatalf("maintain: %+v, want 8 files rewritten into 2 by iceberg-go", res)
	}
	tbl, _ := e.store.LoadIceberg(ctx, "lake", "aw")
	for _, lf := range lakeFiles(t, tbl) {
		if strings.Contains(lf.createdBy, "DuckDB") {
			t.Fatalf("%s written by %q, want arrow-go", lf.df.FilePath(), lf.createdBy)
		}
	}
}

// TestCompactionOfObjectStoreLake: on a lake that is not on local disk
// (iceberg-go's mem:// file system standing in for S3), DuckDB compacts
// copies of the data files downloaded for it and the files it writes are
// uploaded through the table's file system.
func TestCompactionOfObjectStoreLake(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	st, err := catalog.Open(ctx, filepath.Join(e.dir, "mem-catalog.db"), "mem://"+strings.ToLower(t.Name())+"/lake")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := func() *etl.ETL {
		return etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, st.Iceberg())
	}
	for k := range int64(6) {
		e.put(t, "o", 0, k*20, (k+1)*20, nestedValue)
		if _, err := w().RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := st.LoadIceberg(ctx, "lake", "o")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tbl.Location(), "mem://") {
		t.Fatalf("table at %s, want mem://", tbl.Location())
	}
	before := rows(t, tbl)
	res, err := w().Maintain(ctx, "o", etl.MaintainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res.DuckDBGroups != 2 || res.Rewritten != 12 || res.Written != 2 {
		t.Fatalf("maintain: %+v, want 12 files rewritten into 2 by DuckDB", res)
	}
	tbl, _ = st.LoadIceberg(ctx, "lake", "o")
	if after := rows(t, tbl); len(after) != 120 || !slices.Equal(after, before) {
		t.Fatalf("%d rows after compaction, want the 120 before", len(after))
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if p := task.File.FilePath(); !strings.HasPrefix(p, tbl.Location()+"/data/ts_day=") || !strings.Contains(p, "-compact-") {
			t.Fatalf("data file %s, want a compacted file under the table's partition directories", p)
		}
	}
}

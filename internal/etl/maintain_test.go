package etl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
)

// dayValue is a sensors-like record whose event time falls on one of two
// days.
func dayValue(i int64) []byte {
	return fmt.Appendf(nil, `{"id":"r-%d","ts":"2026-11-%02dT%02d:%02d:00Z","v":%d}`, i, 20+i%2, i%24, i%60, i)
}

// ids scans a table's id column.
func ids(t *testing.T, tbl *table.Table) map[string]int {
	t.Helper()
	at, err := tbl.Scan(table.WithSelectedFields("id")).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	out := map[string]int{}
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	for tr.Next() {
		col := tr.RecordBatch().Column(0).(*array.String)
		for i := range col.Len() {
			out[col.Value(i)]++
		}
	}
	return out
}

// filesPerPartition counts the data files of the current snapshot by
// partition.
func filesPerPartition(t *testing.T, tbl *table.Table) map[string]int {
	t.Helper()
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, task := range tasks {
		out[fmt.Sprint(task.File.Partition())]++
	}
	return out
}

// TestMaintainCompactsWhileAppending commits 40 small appends over two
// day partitions, then compacts while another ETL keeps appending: every
// partition ends with at most two files, no row is lost or doubled, old
// snapshots are expired, an orphan file is deleted, and a fresh ETL adds
// nothing twice afterwards (the bookmark survived).
func TestMaintainCompactsWhileAppending(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := e.etl()
	for k := range int64(40) {
		e.put(t, "m", 0, k*25, (k+1)*25, dayValue)
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "m")
	if err != nil {
		t.Fatal(err)
	}
	before := filesPerPartition(t, tbl)
	if len(before) != 2 {
		t.Fatalf("files per partition before: %v, want 2 partitions", before)
	}
	for p, n := range before {
		if n < 20 {
			t.Fatalf("partition %s has %d files before compaction, want many small ones", p, n)
		}
	}
	orphan := filepath.Join(strings.TrimPrefix(tbl.Location(), "file://"), "data", "orphan.parquet")
	if err := os.WriteFile(orphan, []byte("not referenced"), 0o644); err != nil {
		t.Fatalf("write orphan: %v", err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(orphan, old, old)

	// Another writer keeps appending while maintenance runs.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	var appendErr error
	go func() {
		defer wg.Done()
		w2 := e.etl()
		for k := int64(40); k < 60; k++ {
			select {
			case <-stop:
				return
			default:
			}
			e.put(t, "m", 0, k*25, (k+1)*25, dayValue)
			if _, err := w2.RunOnce(ctx); err != nil {
				appendErr = err
				return
			}
		}
	}()
	res, err := e.etl().Maintain(ctx, "m", etl.MaintainConfig{SnapshotRetention: time.Millisecond, RetainLast: 2})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if appendErr != nil {
		t.Fatal(appendErr)
	}
	if res.Rewritten < 30 || res.ExpiredSnapshots == 0 || res.OrphansDeleted != 1 {
		t.Fatalf("maintain: %+v, want >= 30 files rewritten, snapshots expired, 1 orphan deleted", res)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan file still there: %v", err)
	}

	// Whatever the appender committed, add the rest and load it all.
	for k := int64(40); k < 60; k++ {
		e.put(t, "m", 0, k*25, (k+1)*25, dayValue)
	}
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.etl().Maintain(ctx, "m", etl.MaintainConfig{}); err != nil {
		t.Fatal(err)
	}
	tbl, err = e.store.LoadIceberg(ctx, "lake", "m")
	if err != nil {
		t.Fatal(err)
	}
	got := ids(t, tbl)
	if len(got) != 1500 {
		t.Fatalf("%d distinct ids, want 1500", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("id %s appears %d times", id, n)
		}
	}
	for p, n := range filesPerPartition(t, tbl) {
		if n > 2 {
			t.Fatalf("partition %s has %d files after compaction, want at most 2", p, n)
		}
	}
}

package query_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

// travelLake makes lake.travel with three snapshots: s1 (ids 1-3, columns
// id, name, ts), s2 (ids 4-5, after adding score and renaming name to
// label) and s3 (id 6). It returns the table at its last snapshot.
func travelLake(t *testing.T) (*catalog.Store, *table.Table, []*table.Snapshot) {
	t.Helper()
	ctx := t.Context()
	store, _ := openCatalog(t)
	tbl := createEvents(t, store, "travel")
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"},
		{"id": 2, "name": "b", "ts": "2026-11-22T11:30:00Z"},
		{"id": 3, "name": "c", "ts": "2026-11-22T12:00:00Z"}]`)
	s1 := tbl.CurrentSnapshot()
	time.Sleep(5 * time.Millisecond) // distinct commit times
	txn := tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).
		AddColumn([]string{"score"}, iceberg.PrimitiveTypes.Float64, "", false, nil).
		RenameColumn([]string{"name"}, "label").
		Commit(); err != nil {
		t.Fatal(err)
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tbl = appendJSON(ctx, t, tbl, `[
		{"id": 4, "label": "d", "ts": "2026-11-23T00:00:00Z", "score": 4.5},
		{"id": 5, "label": "e", "ts": "2026-11-23T23:59:59Z", "score": 5.5}]`)
	s2 := tbl.CurrentSnapshot()
	time.Sleep(5 * time.Millisecond)
	tbl = appendJSON(ctx, t, tbl, `[{"id": 6, "label": "f", "ts": "2026-11-24T01:00:00Z", "score": 6.5}]`)
	s3 := tbl.CurrentSnapshot()
	if s1.TimestampMs >= s2.TimestampMs || s2.TimestampMs >= s3.TimestampMs {
		t.Fatalf("snapshot times %d %d %d are not increasing", s1.TimestampMs, s2.TimestampMs, s3.TimestampMs)
	}
	if err := store.PutTable(ctx, stagingTable("orders", filepath.Join(t.TempDir(), "orders"))); err != nil {
		t.Fatal(err)
	}
	return store, tbl, []*table.Snapshot{s1, s2, s3}
}

// snapshotBytes is what scan planning says snapshot id holds: files, bytes.
func snapshotBytes(t *testing.T, tbl *table.Table, id int64) (int64, int64) {
	t.Helper()
	tasks, err := tbl.Scan(table.WithSnapshotID(id)).PlanFiles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var n, size int64
	for _, task := range tasks {
		n++
		size += task.File.FileSizeBytes()
	}
	return n, size
}

func TestTimeTravel(t *testing.T) {
	store, tbl, snaps := travelLake(t)
	s, e := newService(t, store, nil, query.ServiceConfig{}), newEngine(t, store)
	s1, s2, s3 := snaps[0].SnapshotID, snaps[1].SnapshotID, snaps[2].SnapshotID
	at := func(ms int64) string {
		return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
	}
	for _, tc := range []struct{ sql, want string }{
		// The snapshot's schema: no score, name not yet renamed.
		{fmt.Sprintf(`SELECT * FROM lake.travel FOR VERSION AS OF %d ORDER BY id`, s1),
			"[id name ts] [[1 a 2026-11-21 10:00:00 +0000 UTC] [2 b 2026-11-22 11:30:00 +0000 UTC] [3 c 2026-11-22 12:00:00 +0000 UTC]]"},
		{fmt.Sprintf(`SELECT id, label, score FROM lake.travel FOR SYSTEM_VERSION AS OF %d WHERE id > 3 ORDER BY id`, s2),
			"[id label score] [[4 d 4.5] [5 e 5.5]]"},
		// Current, for comparison: old files' "name" is read as "label", by field id.
		{`SELECT count(*) AS n, count(score) AS scores, count(label) AS labels FROM lake.travel`, "[n scores labels] [[6 3 6]]"},
		// By time: the snapshot current then, inclusive of its commit time.
		{fmt.Sprintf(`SELECT count(*) AS n FROM lake.travel FOR TIMESTAMP AS OF '%s'`, at(snaps[0].TimestampMs)), "[n] [[3]]"},
		{fmt.Sprintf(`SELECT count(*) AS n FROM lake.travel FOR SYSTEM_TIME AS OF TIMESTAMP '%s UTC'`, at(snaps[2].TimestampMs-1)), "[n] [[5]]"},
		{fmt.Sprintf(`SELECT count(*) AS n FROM lake.travel FOR TIMESTAMP AS OF '%s'`, at(snaps[2].TimestampMs+1000)), "[n] [[6]]"},
		// A diff of two snapshots, and a snapshot joined with the current table.
		{fmt.Sprintf(`SELECT id FROM lake.travel FOR VERSION AS OF %d EXCEPT SELECT id FROM lake.travel FOR VERSION AS OF %d ORDER BY id`, s3, s1),
			"[id] [[4] [5] [6]]"},
		{fmt.Sprintf(`SELECT cur.id, old.name, cur.label FROM lake.travel cur JOIN lake.travel FOR VERSION AS OF %d old ON old.id = cur.id WHERE cur.id = 2`, s1),
			"[id name label] [[2 b b]]"},
		{fmt.Sprintf(`SELECT travel.id FROM lake.travel FOR VERSION AS OF %d WHERE travel.id = 1`, s1), "[id] [[1]]"},
		{fmt.Sprintf(`SELECT column_name FROM (DESCRIBE lake.travel FOR VERSION AS OF %d)`, s1), "[column_name] [[id] [name] [ts]]"},
		// The metadata tables list the snapshots.
		{`SELECT snapshot_id, parent_id, operation, summary['added-records'] AS added FROM lake."travel$snapshots" ORDER BY committed_at`,
			fmt.Sprintf("[snapshot_id parent_id operation added] [[%d <nil> append 3] [%d %d append 2] [%d %d append 1]]", s1, s2, s1, s3, s2)},
		{`SELECT snapshot_id, is_current_ancestor, made_current_at = (SELECT max(committed_at) FROM lake."travel$snapshots") AS last FROM lake."travel$history" ORDER BY made_current_at`,
			fmt.Sprintf("[snapshot_id is_current_ancestor last] [[%d true false] [%d true false] [%d true true]]", s1, s2, s3)},
		// $partitions: the current snapshot's partitions, from the manifests.
		{`SELECT partition.ts_day, record_count, file_count, total_size > 0 AS sized FROM lake."travel$partitions" ORDER BY 1`,
			"[ts_day record_count file_count sized] [[2026-11-21 00:00:00 +0000 UTC 1 1 true] [2026-11-22 00:00:00 +0000 UTC 2 1 true] [2026-11-23 00:00:00 +0000 UTC 2 1 true] [2026-11-24 00:00:00 +0000 UTC 1 1 true]]"},
		// A partition filter prunes the snapshot's files too.
		{fmt.Sprintf(`SELECT count(*) AS n FROM lake.travel FOR VERSION AS OF %d WHERE ts >= TIMESTAMPTZ '2026-11-23 00:00:00+00'`, s2), "[n] [[2]]"},
	} {
		res, err := e.Query(t.Context(), tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := fmt.Sprint(res.Columns, " ", res.Rows); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.sql, got, tc.want)
		}
	}

	// The statistics count the snapshot's files, and the workgroup limit
	// applies to them.
	n1, b1 := snapshotBytes(t, tbl, s1)
	n3, b3 := snapshotBytes(t, tbl, s3)
	if n1 >= n3 || b1 >= b3 {
		t.Fatalf("snapshot 1 has %d files, %d bytes; snapshot 3 %d, %d", n1, b1, n3, b3)
	}
	x := execute(t, s, query.StartInput{SQL: fmt.Sprintf(`SELECT count(*) FROM lake.travel FOR VERSION AS OF %d`, s1)})
	if x.State != query.Succeeded || x.Statistics.FilesScanned != n1 || x.Statistics.BytesScanned != b1 {
		t.Errorf("%s %+v: statistics %+v, want %d files, %d bytes", x.State, x.Error, x.Statistics, n1, b1)
	}
	x = execute(t, s, query.StartInput{SQL: fmt.Sprintf(`SELECT count(*) FROM lake.travel FOR VERSION AS OF %d, lake.travel FOR VERSION AS OF %d`, s1, s3)})
	if x.State != query.Succeeded || x.Statistics.FilesScanned != n1+n3 || x.Statistics.BytesScanned != b1+b3 {
		t.Errorf("two snapshots: %s %+v: statistics %+v, want %d files, %d bytes", x.State, x.Error, x.Statistics, n1+n3, b1+b3)
	}

	for _, tc := range []struct{ sql, msg string }{
		{`SELECT * FROM lake.travel FOR VERSION AS OF 12345`,
			"query: table lake.travel has no snapshot 12345 (FOR VERSION AS OF 12345): no such snapshot"},
		{`SELECT * FROM lake.travel FOR TIMESTAMP AS OF '2000-01-01 00:00:00'`,
			"query: table lake.travel has no snapshot as of 2000-01-01T00:00:00Z (FOR TIMESTAMP AS OF '2000-01-01 00:00:00 UTC'; its oldest snapshot is of "},
		{`SELECT * FROM raw.orders FOR VERSION AS OF 1`,
			"query: table raw.orders is an external (crawled) table: FOR VERSION AS OF 1 needs an Iceberg table (time travel reads its snapshots): not supported"},
		{`SELECT * FROM lake.nope FOR VERSION AS OF 1`, "query: table lake.nope not found"},
		{`SELECT * FROM raw."orders$snapshots"`,
			"query: table raw.orders is an external (crawled) table, which has no $snapshots (only Iceberg tables have snapshots): not supported"},
		{`SELECT * FROM lake.travel FOR VERSION AS OF 'x'`, "query: lake.travel FOR VERSION AS OF: x is not a snapshot id"},
	} {
		x := execute(t, s, query.StartInput{SQL: tc.sql})
		if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser || !strings.HasPrefix(x.Error.Message, tc.msg) {
			t.Errorf("%s: %s %+v, want FAILED USER %q", tc.sql, x.State, x.Error, tc.msg)
		}
	}
}

// A workgroup whose limit lies between an old snapshot's bytes and the
// current snapshot's runs the time travel query and refuses the current one.
func TestTimeTravelBytesScannedLimit(t *testing.T) {
	store, tbl, snaps := travelLake(t)
	_, b1 := snapshotBytes(t, tbl, snaps[0].SnapshotID)
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "small", BytesScannedLimit: b1}}})
	x := execute(t, s, query.StartInput{Workgroup: "small", SQL: fmt.Sprintf(`SELECT count(*) FROM lake.travel FOR VERSION AS OF %d`, snaps[0].SnapshotID)})
	if x.State != query.Succeeded || x.Statistics.BytesScanned != b1 {
		t.Errorf("old snapshot within the limit: %s %+v %+v", x.State, x.Error, x.Statistics)
	}
	x = execute(t, s, query.StartInput{Workgroup: "small", SQL: `SELECT count(id) FROM lake.travel`}) // count(*) is answered from metadata
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser ||
		!strings.Contains(x.Error.Message, "bytes-scanned limit exceeded") {
		t.Errorf("current snapshot over the limit: %s %+v", x.State, x.Error)
	}
}

// TestPartitionsMetadataTable: t$partitions, t$files, t$manifests and
// t$refs of a table
// partitioned by hour and bucket, whose values are ints (an hour's text,
// 2026-11-21-10, is not), and of an unpartitioned one, which has no
// partition column.
func TestPartitionsMetadataTable(t *testing.T) {
	store, _, _ := travelLake(t)
	e := newEngine(t, store)
	for _, q := range []string{
		`CREATE TABLE lake.hourly WITH (partitioning = ARRAY['hour(ts)', 'bucket(2, id)']) AS SELECT id, ts FROM lake.travel`,
		`CREATE TABLE lake.flat AS SELECT id FROM lake.travel`,
	} {
		if _, err := e.Query(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	first := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Unix() / 3600
	for _, tc := range []struct{ sql, want string }{
		{`SELECT count(*) AS partitions, sum(record_count) AS n, min(partition.ts_hour) AS first, bool_and(partition.id_bucket IN (0, 1)) AS buckets FROM lake."hourly$partitions"`,
			fmt.Sprintf("[partitions n first buckets] [[6 6 %d true]]", first)},
		{`SELECT * FROM lake."flat$partitions"`, "[record_count file_count total_size] [[6 1 "},
		// $files: one data file per partition here, with the same partition values.
		{`SELECT count(*) AS files, sum(record_count) AS n, min(partition.ts_hour) AS first, bool_and(file_format = 'PARQUET' AND file_path LIKE '%.parquet' AND file_size_in_bytes > 0) AS ok FROM lake."hourly$files"`,
			fmt.Sprintf("[files n first ok] [[6 6 %d true]]", first)},
		{`SELECT f.partition = p.partition AND f.record_count = p.record_count AS same FROM lake."hourly$files" f JOIN lake."hourly$partitions" p ON f.partition = p.partition LIMIT 1`,
			"[same] [[true]]"},
		{`SELECT record_count FROM lake."flat$files"`, "[record_count] [[6]]"},
		// $manifests: the CTAS' one commit wrote one manifest of its six
		// files; its summary bounds the partition values as text.
		{`SELECT count(*) AS manifests, sum(added_data_files_count) AS files, sum(added_rows_count) AS n, bool_and(path LIKE '%.avro' AND length > 0 AND deleted_rows_count = 0) AS ok, min(partition_summaries[1].lower_bound) AS low, min(len(partition_summaries)) AS fields FROM lake."hourly$manifests"`,
			fmt.Sprintf("[manifests files n ok low fields] [[1 6 6 true %d 2]]", first)},
		{`SELECT len(partition_summaries) AS fields, added_rows_count FROM lake."flat$manifests"`, "[fields added_rows_count] [[0 6]]"},
		// $refs: the main branch, at the current snapshot.
		{`SELECT r.name, r.type, r.snapshot_id = h.snapshot_id AS current, r.min_snapshots_to_keep FROM lake."flat$refs" r, lake."flat$history" h`,
			"[name type current min_snapshots_to_keep] [[main BRANCH true <nil>]]"},
	} {
		res, err := e.Query(t.Context(), tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := fmt.Sprint(res.Columns, " ", res.Rows); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s...", tc.sql, got, tc.want)
		}
	}
}

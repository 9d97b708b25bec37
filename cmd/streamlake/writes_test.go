package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestQueryWritesCLI: streamlake query runs CREATE TABLE AS and INSERT
// through the query service, prints the rows written, and the new table is
// in the catalog and queryable; time travel reads its first snapshot, whose
// id $snapshots lists.
func TestQueryWritesCLI(t *testing.T) {
	l := newLake(t)
	out, stderr, err := l.sl("", "query", "--stats", "--format", "csv",
		"CREATE TABLE lake.by_device WITH (partitioning = ARRAY['bucket(4, device)']) AS SELECT device, count(*) AS n FROM lake.sensors GROUP BY device")
	if err != nil {
		t.Fatalf("CTAS: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`^rows_written\n(\d+)\n$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("CTAS printed %q", out)
	}
	if !regexp.MustCompile(`^execution \S+ SUCCEEDED in \d+ ms, \d+ files?, [0-9.]+ [kMG]?B scanned, ` + m[1] + ` rows written\n$`).MatchString(stderr) {
		t.Fatalf("CTAS stats line: %q", stderr)
	}
	id := strings.Fields(stderr)[1]
	if show := l.ok("", "queries", "show", id, "--format", "csv"); !strings.Contains(show, "\nrows_written,"+m[1]+"\n") {
		t.Fatalf("queries show %s does not print rows_written %s:\n%s", id, m[1], show)
	}
	// An Iceberg table lists with its columns, version and location.
	if tables := l.ok("", "catalog", "tables", "lake", "--format", "csv"); !regexp.MustCompile(`\nby_device,ICEBERG,parquet,,2,device_bucket int,1,false,,file://\S+by_device,20`).MatchString(tables) {
		t.Fatalf("catalog tables lake does not list by_device with 2 columns, version 1 and its location:\n%s", tables)
	}
	if got := l.ok("", "query", "--format", "csv", "SELECT sum(n) AS n FROM lake.by_device"); got != "n\n2000\n" {
		t.Fatalf("sum over the new table: %q", got)
	}
	if got := l.ok("", "query", "--format", "csv", "INSERT INTO lake.by_device VALUES ('extra', 5)"); got != "rows_written\n1\n" {
		t.Fatalf("INSERT printed %q", got)
	}
	if got := l.ok("", "query", "--format", "csv", "SELECT sum(n) AS n FROM lake.by_device"); got != "n\n2005\n" {
		t.Fatalf("sum after INSERT: %q", got)
	}
	// Its partitions, from the manifests: every row in one of them.
	parts := strings.Split(strings.TrimSpace(l.ok("", "catalog", "partitions", "lake.by_device", "--format", "csv")), "\n")
	records := 0
	for _, p := range parts[1:] {
		f := strings.Split(p, ",")
		n, _ := strconv.Atoi(f[4])
		records += n
	}
	count := strings.TrimPrefix(l.ok("", "query", "--format", "csv", "SELECT count(*) AS n FROM lake.by_device"), "n\n")
	if parts[0] != "device_bucket,location,objects,bytes,records,last_modified" || len(parts) < 3 || strconv.Itoa(records)+"\n" != count {
		t.Fatalf("catalog partitions lake.by_device (want its bucket partitions holding the table's %s rows):\n%s", strings.TrimSpace(count), strings.Join(parts, "\n"))
	}
	// The same in SQL, Trino's way: bucket numbers in the partition struct.
	want := fmt.Sprintf("n,buckets,in_range\n%d,%d,true\n", records, len(parts)-1)
	if got := l.ok("", "query", "--format", "csv", `SELECT sum(record_count) AS n, count(*) AS buckets, bool_and(partition.device_bucket BETWEEN 0 AND 3) AS in_range FROM lake."by_device$partitions"`); got != want {
		t.Fatalf("by_device$partitions: %q, want %q", got, want)
	}
	// Time travel to the CTAS snapshot, found in the $snapshots table.
	first := strings.TrimPrefix(strings.TrimSpace(l.ok("", "query", "--format", "csv",
		`SELECT snapshot_id FROM lake."by_device$snapshots" ORDER BY committed_at LIMIT 1`)), "snapshot_id\n")
	if got := l.ok("", "query", "--format", "csv", "SELECT sum(n) AS n FROM lake.by_device FOR VERSION AS OF "+first); got != "n\n2000\n" {
		t.Fatalf("sum at the first snapshot %s: %q", first, got)
	}
	msg := l.fails("", "query", "CREATE TABLE lake.by_device AS SELECT 1 AS x")
	if !regexp.MustCompile(`^streamlake: query \S+ FAILED \(USER\): CREATE TABLE lake.by_device: table lake.by_device already exists`).MatchString(msg) {
		t.Fatalf("CTAS over an existing table: %q", msg)
	}
}

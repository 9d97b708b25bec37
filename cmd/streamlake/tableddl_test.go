package main

import (
	"strings"
	"testing"
)

// Athena's table DDL through the binary: OPTIMIZE bin-packs a table's
// small files with the ETL's compaction, VACUUM expires with the
// configured retention, ALTER TABLE changes the schema, and DROP TABLE
// removes the table.
func TestTableDDL(t *testing.T) {
	l := newLake(t)
	q := func(sql string) string {
		t.Helper()
		return strings.TrimSpace(l.ok("", "query", "--format", "csv", sql))
	}
	q("CREATE TABLE lake.small AS SELECT device, temperature FROM lake.sensors WHERE site = 'ams-1'")
	q("INSERT INTO lake.small SELECT device, temperature FROM lake.sensors WHERE site = 'ber-1'")
	q("INSERT INTO lake.small SELECT device, temperature FROM lake.sensors WHERE site = 'fra-2'")
	count := q("SELECT count(*) AS n FROM lake.small")
	if count == "n\n0" {
		t.Fatal("no rows in lake.small")
	}
	if got := q(`SELECT count(*) AS files FROM lake."small$files"`); got != "files\n3" {
		t.Fatalf("files before OPTIMIZE: %q", got)
	}
	if got := q("OPTIMIZE lake.small REWRITE DATA USING BIN_PACK"); got != "files_before,files_after,files_rewritten\n3,1,3" {
		t.Errorf("OPTIMIZE: %q", got)
	}
	if got := q(`SELECT count(*) AS files FROM lake."small$files"`); got != "files\n1" {
		t.Errorf("files after OPTIMIZE: %q", got)
	}
	if got := q("SELECT count(*) AS n FROM lake.small"); got != count {
		t.Errorf("rows after OPTIMIZE: %q, want %q", got, count)
	}
	if got := q("VACUUM lake.small"); got != "snapshots_expired,orphans_deleted\n0,0" {
		t.Errorf("VACUUM (every snapshot within etl.maintenance.snapshot_retention): %q", got)
	}
	q("ALTER TABLE lake.small ADD COLUMNS (note string)")
	q("ALTER TABLE lake.small CHANGE temperature temp_c double")
	if got := q("SELECT count(temp_c) = count(*) AS all_kept, count(note) AS notes FROM lake.small"); got != "all_kept,notes\ntrue,0" {
		t.Errorf("after ALTER TABLE: %q", got)
	}
	q("DROP TABLE lake.small")
	if msg := l.fails("", "query", "SELECT * FROM lake.small"); !strings.Contains(msg, "lake.small not found") {
		t.Errorf("after DROP TABLE: %s", msg)
	}
}

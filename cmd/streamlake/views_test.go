package main

import (
	"strings"
	"testing"
)

// TestViews creates views with `streamlake query` and reads them from
// other processes: the catalog lists and describes them with their query,
// a view over a view follows the view it reads when that is replaced,
// a workgroup's bytes-scanned limit counts the table's files, and DROP
// VIEW removes them.
func TestViews(t *testing.T) {
	l := newLake(t)
	q := func(sql string) string { t.Helper(); return l.ok("", "query", "--format", "csv", sql) }
	q("CREATE VIEW lake.north AS SELECT * FROM lake.sensors WHERE site = 'north'")
	q("CREATE VIEW lake.north_count AS SELECT count(*) AS n FROM lake.north")
	want := q("SELECT count(*) AS n FROM lake.sensors WHERE site = 'north'")
	if got := q("SELECT n FROM lake.north_count"); got != want || got == "n\n0" {
		t.Fatalf("the view over the view = %q, want %q", got, want)
	}
	if got := l.ok("", "catalog", "tables", "lake", "--format", "csv"); !strings.Contains(got, "north,VIRTUAL_VIEW,") || !strings.Contains(got, "north_count,VIRTUAL_VIEW,") {
		t.Errorf("catalog tables:\n%s", got)
	}
	if got := l.ok("", "catalog", "describe", "lake.north_count", "--format", "csv"); !strings.Contains(got, "column,n,bigint,") ||
		!strings.Contains(got, "table,view_text,SELECT count(*) AS n FROM lake.north,") {
		t.Errorf("catalog describe:\n%s", got)
	}
	q("CREATE OR REPLACE VIEW lake.north AS SELECT * FROM lake.sensors")
	if got, all := q("SELECT n FROM lake.north_count"), q("SELECT count(*) AS n FROM lake.sensors"); got != all {
		t.Errorf("after the replace: %q, want %q", got, all)
	}
	if msg := l.fails("", "query", "--workgroup", "tiny", "SELECT n FROM lake.north_count"); !strings.Contains(msg, "bytes-scanned limit exceeded") {
		t.Errorf("over the limit through views: %s", msg)
	}
	q("DROP VIEW lake.north_count")
	if msg := l.fails("", "query", "SELECT n FROM lake.north_count"); !strings.Contains(msg, "lake.north_count not found") {
		t.Errorf("dropped view: %s", msg)
	}
}

package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestSchemaDriftAndReplay streams records whose fields appear, disappear,
// widen from int to double and change from number to string through kcat
// -> broker -> run, then
// checks the evolved table (old rows read NULL in new columns), the dead
// letters and their reasons, and that `dlq replay` with coerce-to-string
// brings the unconvertible records in exactly once.
func TestSchemaDriftAndReplay(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run `make test`, which installs it (apt-get install -y kcat)")
	}
	dir := t.TempDir()
	addr, _, _ := startBroker(t, dir)
	sl := func(args ...string) string { t.Helper(); return inDir(t, dir, args...) }
	run := []string{"run", "--brokers", addr, "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn"}
	produce := func(format string, from, to int) {
		t.Helper()
		var lines bytes.Buffer
		for i := from; i < to; i++ {
			fmt.Fprintf(&lines, format+"\n", i)
		}
		cmd := exec.Command(kcat, "-P", "-b", addr, "-t", "drift")
		cmd.Stdin = &lines
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v: %s", err, out)
		}
	}
	// Phase 1: id, ts, reading (a number), unit, level (an integer).
	produce(`{"id":%d,"ts":"2026-11-20T10:00:00Z","reading":1.5,"unit":"C","level":7}`, 0, 300)
	sl(run...)
	// Phase 2: unit disappears, site appears, level widens from int to
	// double (two runs: two files in the day's partition, for compaction
	// below).
	produce(`{"id":%d,"ts":"2026-11-21T10:00:00Z","reading":2.5,"site":"north","level":7.25}`, 300, 450)
	sl(run...)
	produce(`{"id":%d,"ts":"2026-11-21T10:00:00Z","reading":2.5,"site":"north","level":7.25}`, 450, 600)
	sl(run...)
	// Phase 3: reading becomes a string for 50 records.
	produce(`{"id":%d,"ts":"2026-11-22T10:00:00Z","reading":"n/a","site":"south"}`, 600, 650)
	sl(run...)

	q := func(sql string) string { t.Helper(); return sl("query", "--format", "csv", sql) }
	if got := q("SELECT count(*), count(DISTINCT id), count(site), count(unit) FROM lake.drift"); got != "_col0,_col1,_col2,_col3\n600,600,300,300" {
		t.Fatalf("after drift:\n%s", got)
	}
	if got := q("SELECT count(*) FROM lake.drift WHERE id < 300 AND site IS NULL"); !strings.HasSuffix(got, "\n300") {
		t.Fatalf("old rows must read NULL for the new column:\n%s", got)
	}
	// level widened to double: the old integers read as doubles.
	if got := q("SELECT count(level), sum(level), min(typeof(level)) FROM lake.drift"); !strings.HasSuffix(got, "\n600,4275,DOUBLE") {
		t.Fatalf("widened level:\n%s", got)
	}
	if got := q(`SELECT count(*), min(error) FROM lake.drift_dlq WHERE error_stage = 'convert'`); !strings.HasSuffix(got, `50,"field $.reading: ""n/a"" does not fit column type double"`) {
		t.Fatalf("dead letters:\n%s", got)
	}

	// dlq list sums them up, dlq show lists them newest first.
	if got := sl("dlq", "list", "--format", "csv"); !strings.Contains(got, `lake.drift_dlq,50,convert 50,`) ||
		!strings.HasSuffix(strings.TrimSpace(got), `"field $.reading: ""n/a"" does not fit column type double (50)"`) {
		t.Fatalf("dlq list:\n%s", got)
	}
	show := strings.Split(strings.TrimSpace(sl("dlq", "show", "drift", "--limit", "2", "--stage", "convert", "--format", "csv")), "\n")
	if len(show) != 3 || show[0] != "topic,partition,offset,failed_at,error_stage,error,raw_value" {
		t.Fatalf("dlq show:\n%s", strings.Join(show, "\n"))
	}
	for _, row := range show[1:] {
		if !strings.HasPrefix(row, "drift,") || !strings.Contains(row, `,convert,"field $.reading: ""n/a"" does not fit column type double","{""id"":`) {
			t.Errorf("dlq show row: %s", row)
		}
	}
	if got := sl("dlq", "replay", "drift", "--format", "csv"); !strings.Contains(got, "replayed,,0") || !strings.Contains(got, "still failing") {
		t.Fatalf("replay without a fix:\n%s", got)
	}
	if got := sl("dlq", "replay", "drift", "--on-type-mismatch", "coerce-to-string", "--format", "csv"); !strings.Contains(got, "replayed,,50") {
		t.Fatalf("replay with coerce-to-string:\n%s", got)
	}
	if got := sl("dlq", "replay", "drift", "--on-type-mismatch", "coerce-to-string", "--format", "csv"); !strings.Contains(got, "replayed,,0") || !strings.Contains(got, "replayed before,,50") {
		t.Fatalf("second replay:\n%s", got)
	}
	if got := q("SELECT count(*), count(DISTINCT id), count(reading_string), min(reading_string) FROM lake.drift"); got != "_col0,_col1,_col2,_col3\n650,650,50,n/a" {
		t.Fatalf("after replay:\n%s", got)
	}
	// A later run adds nothing twice.
	sl(run...)
	if got := q("SELECT count(*) FROM lake.drift"); !strings.HasSuffix(got, "\n650") {
		t.Fatalf("run after replay:\n%s", got)
	}

	// Compaction packs the second phase's two files into one and changes
	// no result.
	sum := "SELECT count(*), count(DISTINCT id), sum(reading), count(reading_string), count(site) FROM lake.drift"
	before := q(sum)
	got := sl("compact", "drift", "--format", "csv")
	// How many files each run commits depends on how ingest's objects
	// and the ETL's runs interleave; after compaction every one of the
	// three day partitions has one file.
	var filesBefore, filesAfter, rewritten int
	_, err = fmt.Sscanf(got[strings.Index(got, "\ndrift,")+1:], "drift,%d,%d,%d,", &filesBefore, &filesAfter, &rewritten)
	if err != nil || !strings.HasPrefix(got, "table,files_before,files_after,files_rewritten,") ||
		filesBefore < 4 || filesAfter != 3 || rewritten < 2 {
		t.Fatalf("compact (want the 3 day partitions in 3 files, at least 2 rewritten): %v\n%s", err, got)
	}
	if after := q(sum); after != before {
		t.Fatalf("compaction changed results:\n%s\nthen\n%s", before, after)
	}
	sl(run...)
	if after := q(sum); after != before {
		t.Fatalf("a run after compaction changed results:\n%s\nthen\n%s", before, after)
	}
}

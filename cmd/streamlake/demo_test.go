package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestDemoShowsLiveStatus runs `streamlake demo`: while its records stream
// in it prints the status of the topic with real values — records
// consumed, rows committed, an ingest rate, the newest event and Kafka
// times, freshness and the demo's 20 dead letters — and it ends with every
// record in the lake.
func TestDemoShowsLiveStatus(t *testing.T) {
	dir := t.TempDir()
	out := inDir(t, dir, "demo", "--records", "6000")
	lines := strings.Split(out, "\n")
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "status while records stream in") {
		i++
	}
	if i+3 >= len(lines) {
		t.Fatalf("no status in the demo's output:\n%s", out)
	}
	header := fields(lines[i+1])
	row := fields(lines[i+3])
	if len(header) != len(row)+1 && len(header) != len(row) {
		t.Fatalf("status header %q, row %q", header, row)
	}
	col := map[string]string{}
	for j, h := range header {
		if j < len(row) {
			col[h] = row[j]
		}
	}
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(col[name], 64)
		if err != nil {
			t.Fatalf("status %s = %q: %v\n%s", name, col[name], err, out)
		}
		return v
	}
	if col["topic"] != "sensors" || col["table"] != "sensors" || num("records_consumed") <= 0 || num("rows_committed") <= 0 ||
		num("ingest_rate") <= 0 || num("freshness_s") <= 0 || num("dead_letters") != 20 ||
		!strings.HasPrefix(col["newest_event"], "20") || !strings.HasPrefix(col["newest_committed"], "20") ||
		!strings.HasPrefix(col["last_crawl"], "20") ||
		col["alarms"] != "none in ALARM" {
		t.Fatalf("status while streaming: %v\n%s", col, out)
	}
	if !strings.Contains(out, "lake.sensors gained 6000 rows") || !strings.Contains(out, "20 bad ones in lake.sensors_dlq") {
		t.Fatalf("demo did not end with every record in the lake:\n%s", out)
	}
}

// fields splits a table line at its | separators.
func fields(line string) []string {
	var out []string
	for _, f := range strings.Split(line, "|") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestProfileFlags runs a command with --cpuprofile and --memprofile and
// checks both files hold a profile (gzipped protobuf, with the sample type
// names pprof shows), and that an unwritable --memprofile fails before the
// command runs.
func TestProfileFlags(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	if _, err := execRoot("--data-dir", filepath.Join(dir, "data"), "--cpuprofile", cpu, "--memprofile", mem, "catalog", "databases"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{cpu: "cpu", mem: "alloc_space"} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: not a gzipped profile: %v", path, err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %q sample type in the profile", path, want)
		}
	}

	_, err := execRoot("--data-dir", filepath.Join(dir, "data"), "--memprofile", filepath.Join(dir, "missing", "mem.prof"), "catalog", "databases")
	if err == nil || !strings.HasPrefix(err.Error(), "--memprofile: ") {
		t.Errorf("--memprofile in a missing directory: %v, want an error naming the flag", err)
	}
}

// TestHeapPrefault checks when a run populates its heap: from a backlog of
// a full ETL commit, 4x the ingest budget.
func TestHeapPrefault(t *testing.T) {
	cases := []struct {
		lag    int64
		budget int
		want   int
	}{
		{0, 0, 0},
		{etl.DefaultMaxCommitRecords - 1, 64 << 20, 0},
		{etl.DefaultMaxCommitRecords, 0, 256 << 20},
		{5_000_000, 16 << 20, 64 << 20},
	}
	for _, c := range cases {
		if got := heapPrefault(c.lag, c.budget); got != c.want {
			t.Errorf("heapPrefault(lag %d, budget %d) = %d, want %d", c.lag, c.budget, got, c.want)
		}
	}
}

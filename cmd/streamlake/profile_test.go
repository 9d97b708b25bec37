package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestPIITransformsLeaveNoRawValues loads the sensors dataset through a
// table with hash(device) and drop(battery), plus bad records that carry a
// device id, and then reads every Parquet file and metadata file of the
// lake: no raw device id and no battery column is anywhere, and the
// table is partitioned as configured.
func TestPIITransformsLeaveNoRawValues(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run `make test`, which installs it (apt-get install -y kcat)")
	}
	dir := t.TempDir()
	addr, _, _ := startBroker(t, dir)
	cfg := filepath.Join(dir, "streamlake.yml")
	if err := os.WriteFile(cfg, []byte(`tables:
  - topic: sensors
    partition: ["hour(ts)", "bucket(4, site)"]
    transforms:
      - hash: {field: device, salt: pepper}
      - drop: battery
`), 0o644); err != nil {
		t.Fatal(err)
	}
	sl := func(args ...string) string { t.Helper(); return inDir(t, dir, append(args, "--config", cfg)...) }
	sl("produce", "--brokers", addr, "--topic", "sensors", "--dataset", "sensors", "--records", "3000")
	bad := exec.Command(kcat, "-P", "-b", addr, "-t", "sensors")
	bad.Stdin = strings.NewReader("not json, device dev-0042 battery 7\n" +
		`{"id":"x1","ts":"2026-11-22T10:00:00Z","device":"dev-0043","site":"a","battery":9,"temperature":"hot"}` + "\n")
	if out, err := bad.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	sl("run", "--brokers", addr, "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn")

	q := func(sql string) string { t.Helper(); return sl("query", "--format", "csv", sql) }
	if got := q("SELECT count(*), count(DISTINCT device), min(length(device)), max(length(device)) FROM lake.sensors"); !regexp.MustCompile(`\n3000,\d+,64,64$`).MatchString(got) {
		t.Fatalf("hashed devices:\n%s", got)
	}
	if got := q("SELECT count(*) FROM lake.sensors_dlq"); !strings.HasSuffix(got, "\n2") {
		t.Fatalf("dead letters:\n%s", got)
	}
	if got := q("SELECT column_name FROM (DESCRIBE lake.sensors) WHERE column_name = 'battery'"); strings.Contains(got, "battery\n") || strings.HasSuffix(got, "\nbattery") {
		t.Fatalf("battery column present:\n%s", got)
	}

	raw := regexp.MustCompile(`dev-\d{4}`)
	parquet, meta := 0, 0
	err = filepath.WalkDir(filepath.Join(dir, "lake"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".parquet"):
			parquet++
			checkParquet(t, path, raw)
		case strings.HasSuffix(path, ".json"):
			meta++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if raw.Match(b) || bytes.Contains(b, []byte(`"battery"`)) {
				t.Errorf("%s holds a raw device id or a battery field", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if parquet < 2 || meta < 2 {
		t.Fatalf("read %d parquet and %d metadata files; expected the table and its dead letters", parquet, meta)
	}
	// The partition spec is in the table's newest metadata file.
	newest := ""
	filepath.WalkDir(filepath.Join(dir, "lake"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(path, string(filepath.Separator)+"sensors"+string(filepath.Separator)) && strings.HasSuffix(path, ".metadata.json") && path > newest {
			newest = path
		}
		return nil
	})
	b, _ := os.ReadFile(newest)
	if !bytes.Contains(b, []byte(`"ts_hour"`)) || !bytes.Contains(b, []byte(`"site_bucket"`)) || !bytes.Contains(b, []byte(`"bucket[4]"`)) {
		t.Errorf("partition spec of %s lacks ts_hour / site_bucket", newest)
	}
}

// checkParquet reads every column of a Parquet file and fails on a column
// named battery or a string value matching raw.
func checkParquet(t *testing.T, path string, raw *regexp.Regexp) {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer tbl.Release()
	for i := range int(tbl.NumCols()) {
		col := tbl.Column(i)
		if col.Name() == "battery" {
			t.Errorf("%s has a battery column", path)
		}
		for _, chunk := range col.Data().Chunks() {
			if chunk.DataType().ID() != arrow.STRING {
				continue
			}
			s := chunk.(*array.String)
			for j := range s.Len() {
				if raw.MatchString(s.Value(j)) || strings.Contains(s.Value(j), `"battery"`) {
					t.Errorf("%s column %s row %d holds %q", path, col.Name(), j, s.Value(j))
				}
			}
		}
	}
}

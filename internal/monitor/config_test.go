package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// decode reads a monitor section strictly over the defaults, as
// internal/config does.
func decode(b []byte) (Config, error) {
	cfg := Default()
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfigGood(t *testing.T) {
	b, err := os.ReadFile("testdata/config/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := decode(b)
	if err != nil {
		t.Fatalf("good.yml: %v", err)
	}
	a := cfg.Alarms[0]
	if cfg.SampleInterval != 5*time.Second || cfg.StallWindow != 2*time.Minute || a.Period != time.Minute ||
		a.M() != 3 || a.Treatment() != MissingBreaching || !a.Actions.Log || cfg.CloudWatch.Interval != 5*time.Minute {
		t.Fatalf("decoded %+v", cfg)
	}
	all := cfg.AllAlarms()
	if len(all) != 1+len(DefaultAlarms(cfg.StallWindow, cfg.SampleInterval)) {
		t.Fatalf("AllAlarms: %d, want the configured one plus the defaults", len(all))
	}
	for _, s := range all[1:] {
		if len(s.Actions.Webhooks) != 1 || s.Actions.Webhooks[0] != "http://hooks.example/alarms" {
			t.Fatalf("default alarm %s webhooks %v, want monitor.webhooks", s.Name, s.Actions.Webhooks)
		}
		if s.Name == AlarmSilentStall && s.Period != 5*time.Second {
			t.Fatalf("silent-stall period %s, want the sampling interval", s.Period)
		}
	}
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	for _, s := range DefaultAlarms(def.StallWindow, def.SampleInterval) {
		if err := s.Validate(); err != nil {
			t.Fatalf("default alarm: %v", err)
		}
	}
}

// TestConfigBad checks each testdata/config/*.bad.yml fails with the error
// on its first line.
func TestConfigBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.bad.yml")
	if len(files) < 10 {
		t.Fatalf("found %d bad configs", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok {
				t.Fatalf("first line %q is not # error: ...", first)
			}
			_, err = decode(b)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want it to contain %q", err, want)
			}
		})
	}
}

func TestParseSelector(t *testing.T) {
	sel, err := ParseSelector(`streamlake_query_executions_total{state="FAILED", db!="raw"}`)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Name != "streamlake_query_executions_total" || len(sel.Matchers) != 2 || !sel.Matchers[1].Not {
		t.Fatalf("parsed %+v", sel)
	}
	for labels, want := range map[[2]string]bool{{"FAILED", "lake"}: true, {"FAILED", "raw"}: false, {"SUCCEEDED", "lake"}: false} {
		if got := sel.Matches("streamlake_query_executions_total", map[string]string{"state": labels[0], "db": labels[1]}); got != want {
			t.Errorf("matches state=%s db=%s: %v, want %v", labels[0], labels[1], got, want)
		}
	}
	for _, bad := range []string{"", "1abc", `x{a="b"`, `x{a=="b"}`, `x{a=~"b"}`, `x{="b"}`} {
		if _, err := ParseSelector(bad); err == nil {
			t.Errorf("ParseSelector(%q) accepted", bad)
		}
	}
}

package tables

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// config is the part of the main configuration this package owns.
type config struct {
	Tables []Spec `yaml:"tables"`
}

// decode reads YAML strictly, as internal/config does.
func decode(data []byte) (config, error) {
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

// TestBadConfigs checks every testdata/*.bad.yml fails with the error on
// its first line: "# want: <ValidateAll error>" or "# decode: <part of the
// YAML decoding error>".
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yml")
	if err != nil || len(files) < 30 {
		t.Fatalf("want at least 30 bad configs, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			c, derr := decode(data)
			switch {
			case strings.HasPrefix(first, "# decode: "):
				want := strings.TrimPrefix(first, "# decode: ")
				if derr == nil || !strings.Contains(derr.Error(), want) {
					t.Fatalf("decode error = %v, want one containing %q", derr, want)
				}
			case strings.HasPrefix(first, "# want: "):
				if derr != nil {
					t.Fatalf("decode: %v", derr)
				}
				want := strings.TrimPrefix(first, "# want: ")
				err := ValidateAll(c.Tables)
				if err == nil || err.Error() != want {
					t.Fatalf("ValidateAll error =\n  %v\nwant\n  %s", err, want)
				}
				// Every entry that fails alone also fails Compile.
				if strings.Contains(want, "].name:") || strings.Contains(want, "].match: every record") {
					return
				}
				i := strings.Index(want, "[")
				j := strings.Index(want, "]")
				var idx int
				for _, c := range want[i+1 : j] {
					idx = idx*10 + int(c-'0')
				}
				if _, err := Compile(c.Tables[idx]); err == nil {
					t.Fatalf("Compile(tables[%d]) succeeded", idx)
				}
			default:
				t.Fatalf("first line %q: want '# want: ' or '# decode: '", first)
			}
		})
	}
}

func TestGoodConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/sensors.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateAll(c.Tables); err != nil {
		t.Fatal(err)
	}
	s := c.Tables[0]
	if s.MaxLateness != 36*time.Hour || s.TimeFormat != FormatEpochMS || s.Match["kind"] != "reading" {
		t.Errorf("decoded %+v", s)
	}
	want := []Transform{
		{Rename: &Rename{From: "temperature", To: "temp"}},
		{Drop: "battery"},
		{Hash: &Hash{Field: "device"}},
		{Hash: &Hash{Field: "owner.email", Salt: "pepper"}},
		{Mask: &Mask{Field: "card"}},
		{Mask: &Mask{Field: "phone", KeepLast: 4}},
		{Cast: &Cast{Field: "temp", Type: "double"}},
		{Flatten: &Flatten{Field: "location"}},
		{Flatten: &Flatten{Field: "meta", Separator: "__"}},
		{Derive: &Derive{Name: "temp_f", Expr: "temp * 9 / 5 + 32"}},
	}
	if !reflect.DeepEqual(s.Transforms, want) {
		t.Errorf("transforms:\n got %+v\nwant %+v", s.Transforms, want)
	}
	for i, s := range c.Tables {
		tbl, err := Compile(s)
		if err != nil {
			t.Fatalf("tables[%d]: %v", i, err)
		}
		if i == 2 && (tbl.Name() != "clicks" || tbl.Spec().TimeField != "ts" || !reflect.DeepEqual(tbl.PartitionFields(), []PartitionField{{Source: "ts", Transform: "day"}})) {
			t.Errorf("defaults: %+v", tbl.Spec())
		}
	}
}

func TestWithDefaults(t *testing.T) {
	got := Default("Shop.Orders", "event_time")
	want := Spec{Name: "shop_orders", Topic: "Shop.Orders", TimeField: "event_time", TimeFormat: FormatAuto,
		TimeFallback: FallbackKafka, Partition: []string{"day(event_time)"}, OnTypeMismatch: MismatchDLQ}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Default =\n %+v\nwant\n %+v", got, want)
	}
	if err := got.Validate("tables[0]"); err != nil {
		t.Fatal(err)
	}
}

// A rename that creates the time field's name again, or a derive of it,
// makes the time field valid again.
func TestValidateRestores(t *testing.T) {
	s := Spec{Topic: "a", Transforms: []Transform{
		{Drop: "ts"},
		{Rename: &Rename{From: "event_time", To: "ts"}},
	}}
	if err := s.Validate("t"); err != nil {
		t.Fatal(err)
	}
	s.Transforms = append(s.Transforms, Transform{Flatten: &Flatten{Field: "ts"}})
	if err := s.Validate("t"); err == nil || !strings.Contains(err.Error(), `t.time_field: "ts" is flattened into ts_* by transforms[2]`) {
		t.Fatalf("err = %v", err)
	}
	s.Transforms = append(s.Transforms, Transform{Derive: &Derive{Name: "ts", Expr: "coalesce(ts_a, ts_b)"}})
	if err := s.Validate("t"); err != nil {
		t.Fatal(err)
	}
	// Set programmatically with two kinds.
	s.Transforms = []Transform{{Drop: "x", Hash: &Hash{Field: "y"}}}
	if err := s.Validate("t"); err == nil || err.Error() != "t.transforms[0]: sets drop and hash; want exactly one" {
		t.Fatalf("err = %v", err)
	}
	s.Transforms = []Transform{{}}
	if err := s.Validate("t"); err == nil || !strings.HasPrefix(err.Error(), "t.transforms[0]: empty; want one of rename") {
		t.Fatalf("err = %v", err)
	}
}

// Transforms may be shared between tables with YAML anchors.
func TestAnchors(t *testing.T) {
	var c struct {
		PII    any    `yaml:"pii"`
		Tables []Spec `yaml:"tables"`
	}
	dec := yaml.NewDecoder(strings.NewReader(`
pii: &pii {field: device, salt: s}
tables:
  - topic: a
    transforms: &tr
      - hash: *pii
      - drop: battery
  - topic: b
    transforms: *tr
`))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := ValidateAll(c.Tables); err != nil {
		t.Fatal(err)
	}
	want := []Transform{{Hash: &Hash{Field: "device", Salt: "s"}}, {Drop: "battery"}}
	if !reflect.DeepEqual(c.Tables[1].Transforms, want) {
		t.Errorf("got %+v", c.Tables[1].Transforms)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"unknown_key.bad.yml":           `line 2: unknown key "kafka.brokerz" (kafka takes: brokers, topics, group, start, listen, registry_listen, partitions, session_timeout, instance_id, schema_registry, tls, sasl)`,
		"unknown_workgroup_key.bad.yml": `line 3: unknown key "workgroups[0].concurency" (workgroups[0] takes: name, results_location, bytes_scanned_limit, concurrency, memory_limit, timeout)`,
		"int_duration.bad.yml":          `line 2: etl.interval: 5 is not a duration (e.g. 500ms, 2s, 1m) (and 1 more)`,
		"bad_start.bad.yml":             `kafka.start: "middle" is not one of earliest, latest`,
		"bad_policy.bad.yml":            `etl.on_type_mismatch: "guess" is not one of dlq, coerce-to-string`,
		"bad_table.bad.yml":             `tables[0].transforms[0].cast.type: "float" is not one of long, double, string, boolean, timestamp`,
		"bad_duration.bad.yml":          "line 2: ingest.flush_interval: soon is not a duration (e.g. 500ms, 2s, 1m)",
		"bad_log_format.bad.yml":        `log.format: "xml" is not one of text, json (or empty: text on a terminal, JSON otherwise)`,
		"bad_broker.bad.yml":            `kafka.brokers: "no-port" is not host:port`,
		"bad_database.bad.yml":          `etl.database: "Lake-1" must match`,
		"bad_max_columns.bad.yml":       "etl.max_columns: 0 must be at least 1",
		"bad_cache_size.bad.yml":        `query.cache_size: 1000 must be at least 1048576 (1 MiB)`,
		"bad_heartbeat.bad.yml":         `query.heartbeat_interval: 100ms must be between 1s and 1h`,
		"bad_registry_listen.bad.yml":   `kafka.registry_listen: "8081" is not host:port (or empty for no schema registry)`,
		"bad_registry.bad.yml":          `kafka.schema_registry: "localhost:8081" is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:8081)`,
	}
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) != len(want) {
		t.Fatalf("%d bad configs in testdata, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f, nil)
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), want[filepath.Base(f)]) {
				t.Fatalf("error %q does not contain %q", err, want[filepath.Base(f)])
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q spans lines", err)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	c, err := Load("testdata/good.yml", []string{"STREAMLAKE_KAFKA_TOPICS=a,b", "STREAMLAKE_ETL_INTERVAL=3s",
		"STREAMLAKE_QUERY_HEARTBEAT_INTERVAL=2s", "HOME=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/tmp/x" || c.Ingest.FlushInterval != 500*time.Millisecond {
		t.Fatalf("file values not applied: %+v", c)
	}
	if strings.Join(c.Kafka.Topics, ",") != "a,b" || c.ETL.Interval != 3*time.Second {
		t.Fatalf("env did not override file: topics %v interval %s", c.Kafka.Topics, c.ETL.Interval)
	}
	if c.Kafka.Group != "streamlake" {
		t.Fatalf("default group lost: %q", c.Kafka.Group)
	}
	if c.Query.HeartbeatInterval != 2*time.Second {
		t.Fatalf("query.heartbeat_interval %s, want the environment's 2s", c.Query.HeartbeatInterval)
	}
	if d, _ := Load("", nil); d.Query.HeartbeatInterval != 10*time.Second {
		t.Fatalf("default query.heartbeat_interval %s, want 10s", d.Query.HeartbeatInterval)
	}
	if err := c.Set("kafka.brokers", "h1:1, h2:2"); err != nil || len(c.Kafka.Brokers) != 2 {
		t.Fatalf("Set: %v %v", err, c.Kafka.Brokers)
	}
	if err := c.Set("kafka.nope", "1"); err == nil {
		t.Fatal("Set accepted an unknown key")
	}
}

func TestUnknownEnvIsAnError(t *testing.T) {
	_, err := Load("", []string{"STREAMLAKE_KAFKA_BROKERZ=x:1"})
	if err == nil || !strings.Contains(err.Error(), "STREAMLAKE_KAFKA_BROKERZ") {
		t.Fatalf("error %v does not name the variable", err)
	}
	_, err = Load("", []string{"STREAMLAKE_INGEST_FLUSH_RECORDS=lots"})
	if err == nil || !strings.Contains(err.Error(), `"lots" is not an integer`) {
		t.Fatalf("error %v", err)
	}
}

func TestDefaultsValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/good.yml", "testdata/unknown_key.bad.yml"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil)
		if err != nil {
			return
		}
		_ = c.Validate() // must not panic
	})
}

// A value of the wrong shape is named by its key's path, found on the line
// yaml reports even where a nested key shares that line.
func TestWrongShapeNamesKey(t *testing.T) {
	for y, want := range map[string]string{
		"workgroups:\n  name: a\n":                     `line 2: workgroups: a mapping is not a list`,
		"etl:\n  maintenance:\n    interval: [1, 2]\n": `line 3: etl.maintenance.interval: a list is not a duration (e.g. 500ms, 2s, 1m)`,
		"kafka:\n  brokers: 5\n":                       "line 2: kafka.brokers: 5 is not a list of strings",
		"etl:\n  maintenance: 5\n":                     "line 2: etl.maintenance: 5 is not a mapping of keys",
		"kafka: [\n":                                   "line 1: did not find expected node content",
	} {
		var c Config
		err := decode(strings.NewReader(y), &c)
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", y, err, want)
		}
	}
}

// An unknown STREAMLAKE_ variable is an error that suggests the variable
// it is a typo of, and none for a name far from every key.
func TestUnknownEnvSuggests(t *testing.T) {
	_, err := Load("", []string{"STREAMLAKE_KAFKA_BROKRS=127.0.0.1:9092"})
	if err == nil || !strings.Contains(err.Error(), "unknown key (no config key kafka_brokrs; did you mean STREAMLAKE_KAFKA_BROKERS?)") {
		t.Fatalf("error %v", err)
	}
	_, err = Load("", []string{"STREAMLAKE_SOMETHING_ELSE_ENTIRELY=1"})
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("error %v", err)
	}
}

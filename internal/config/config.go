// Package config owns streamlake's single YAML configuration: its typed
// sections, defaults, strict decoding (unknown keys are errors naming the key),
// STREAMLAKE_* environment overrides and validation.
//
// Precedence, lowest first: built-in defaults, the YAML file, STREAMLAKE_*
// environment variables, command-line flags (applied by cmd/streamlake).
// A Config is a plain value; it is not safe for concurrent mutation.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/monitor"
)

// Config is the whole configuration of a streamlake process.
type Config struct {
	DataDir string         `yaml:"data_dir"`
	Log     Log            `yaml:"log"`
	Kafka   Kafka          `yaml:"kafka"`
	Ingest  Ingest         `yaml:"ingest"`
	Storage Storage        `yaml:"storage"`
	Catalog Catalog        `yaml:"catalog"`
	ETL     ETL            `yaml:"etl"`
	Crawl   Crawl          `yaml:"crawl"`
	Metrics Metrics        `yaml:"metrics"`
	Monitor monitor.Config `yaml:"monitor"`
	Query   Query          `yaml:"query"`
	// Workgroups are the query service's workgroups (Athena's); a
	// "primary" workgroup always exists. Validated by the query package
	// (cmd/streamlake), which this package does not import: it links DuckDB.
	Workgroups []Workgroup `yaml:"workgroups"`
	// Tables map topics (or a field's value) to lake tables with their
	// event time, partitioning, transforms and type-mismatch policy.
	// Topics no table names get the defaults of etl.*.
	Tables []tables.Spec `yaml:"tables"`
	// Crawlers are saved crawlers of files under a path (see Crawler),
	// run on their interval inside run and by name with crawl --name.
	Crawlers []Crawler `yaml:"crawlers"`
}

// Workgroup is a named set of query limits and a results location; see
// query.Workgroup, which it converts to field by field.
type Workgroup struct {
	Name              string        `yaml:"name"`
	ResultsLocation   string        `yaml:"results_location"`
	BytesScannedLimit int64         `yaml:"bytes_scanned_limit"`
	Concurrency       int           `yaml:"concurrency"`
	MemoryLimit       string        `yaml:"memory_limit"`
	Timeout           time.Duration `yaml:"timeout"`
}

// Query sets the query engine's local file cache (<data-dir>/cache/query):
// copies of data files in object storage, and conversions of files DuckDB
// cannot read (Avro, bzip2 and snappy text).
type Query struct {
	// CacheSize bounds the cache in bytes; least recently used files are
	// evicted past it (files a running query reads stay).
	CacheSize int64 `yaml:"cache_size"`
	// HeartbeatInterval is how often a process saves a sign of life of
	// its queued and running executions; one silent for six intervals is
	// FAILED as abandoned (its process stopped).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json; empty: text on a terminal, JSON otherwise
}

// Kafka says where records come from.
type Kafka struct {
	// Brokers are seed addresses; empty means the embedded broker.
	Brokers []string `yaml:"brokers"`
	// Topics to consume; empty means every topic not starting with "_".
	Topics []string `yaml:"topics"`
	Group  string   `yaml:"group"`
	// Start is where a group with no committed offset begins: earliest or latest.
	Start string `yaml:"start"`
	// Listen is the embedded broker's address.
	Listen string `yaml:"listen"`
	// RegistryListen, when set, is where the embedded broker (streamlake
	// broker, or run and demo without brokers) also serves a schema
	// registry; with SchemaRegistry empty, values are decoded with it.
	RegistryListen string `yaml:"registry_listen"`
	// Partitions is the partition count of topics the embedded broker auto-creates.
	Partitions int `yaml:"partitions"`
	// SessionTimeout is how long the group waits for a crashed member
	// before reassigning its partitions.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// InstanceID is this process's static group membership id; empty
	// derives one from the host name and the data directory, so a
	// restarted process reclaims its partitions at once.
	InstanceID string `yaml:"instance_id"`
	// SchemaRegistry is the URL of a Confluent-compatible schema registry
	// (http://host:8081): values in its wire format (Avro, JSON Schema)
	// are decoded into rows. Empty: such values are dead letters.
	SchemaRegistry string `yaml:"schema_registry"`
	TLS            TLS    `yaml:"tls"`
	SASL           SASL   `yaml:"sasl"`
}

// TLS encrypts Kafka connections: enabled, or implied by any file set.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL authenticates Kafka connections: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
type SASL struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
}

// Ingest sets when a partition's batch becomes a staging object.
type Ingest struct {
	FlushRecords  int           `yaml:"flush_records"`
	FlushBytes    int           `yaml:"flush_bytes"`
	FlushInterval time.Duration `yaml:"flush_interval"`
	// MemoryBudget bounds the bytes held in open batches of all partitions.
	MemoryBudget int `yaml:"memory_budget"`
}

// Storage says where staging objects and the lake live. Empty URLs mean
// file:// directories under the data directory.
type Storage struct {
	StagingURL string `yaml:"staging_url"`
	// StagingRetention deletes staging objects older than this once the
	// lake holds them; 0 keeps them forever.
	StagingRetention time.Duration `yaml:"staging_retention"`
	Warehouse        string        `yaml:"warehouse"`
}

// Catalog says where the catalog lives. Empty means DataDir/catalog.db.
type Catalog struct {
	URI string `yaml:"uri"`
}

// ETL sets how staging objects become lake tables.
type ETL struct {
	Interval time.Duration `yaml:"interval"`
	Database string        `yaml:"database"`
	// TimeField is the event-time field partitioned by day.
	TimeField string `yaml:"time_field"`
	// OnTypeMismatch is what happens to a value that does not fit its
	// column: dlq (the record goes to the dead-letter table) or
	// coerce-to-string (the value is kept as text).
	OnTypeMismatch string `yaml:"on_type_mismatch"`
	// MaxColumns bounds a lake table's fields, nested ones included: a
	// record whose new fields would pass it is a dead letter.
	MaxColumns int `yaml:"max_columns"`
	// Maintenance compacts, expires snapshots and removes orphan files
	// of every lake table on a schedule inside run (and on demand with
	// streamlake compact).
	Maintenance Maintenance `yaml:"maintenance"`
}

// Maintenance sets lake table maintenance.
type Maintenance struct {
	Interval          time.Duration `yaml:"interval"`           // 0 turns scheduled maintenance off
	TargetFileSize    int64         `yaml:"target_file_size"`   // bytes compaction packs small files into
	SnapshotRetention time.Duration `yaml:"snapshot_retention"` // snapshots older than this are expired
	RetainLast        int           `yaml:"retain_last"`        // snapshots always kept
	OrphanGrace       time.Duration `yaml:"orphan_grace"`       // unreferenced files older than this are deleted
}

// Crawl sets the staging crawler.
type Crawl struct {
	Interval   time.Duration `yaml:"interval"`
	Database   string        `yaml:"database"`
	SampleSize int           `yaml:"sample_size"`
}

// Metrics sets the Prometheus endpoint of long-running commands.
type Metrics struct {
	Listen string `yaml:"listen"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir: "./streamlake-data",
		Log:     Log{Level: "info"},
		Kafka: Kafka{
			Group:          "streamlake",
			Start:          "earliest",
			Listen:         "127.0.0.1:9092",
			Partitions:     4,
			SessionTimeout: 45 * time.Second,
		},
		Ingest: Ingest{
			FlushRecords:  100_000,
			FlushBytes:    16 << 20,
			FlushInterval: time.Second,
			MemoryBudget:  64 << 20,
		},
		ETL: ETL{Interval: 2 * time.Second, Database: "lake", TimeField: "ts", OnTypeMismatch: "dlq", MaxColumns: 2000,
			Maintenance: Maintenance{Interval: 10 * time.Minute, TargetFileSize: 128 << 20,
				SnapshotRetention: 24 * time.Hour, RetainLast: 5, OrphanGrace: time.Hour}},
		Crawl:   Crawl{Interval: 30 * time.Second, Database: "raw", SampleSize: 1000},
		Metrics: Metrics{Listen: "127.0.0.1:9464"},
		Monitor: monitor.Default(),
		Query:   Query{CacheSize: 10 << 30, HeartbeatInterval: 10 * time.Second},
	}
}

// Load returns defaults overlaid with the YAML file at path (if path is not
// empty) and then with STREAMLAKE_* variables from env. It does not validate.
func Load(path string, env []string) (Config, error) {
	return LoadOver(Default(), path, env)
}

// LoadOver is Load with other defaults, e.g. a quieter log level for
// commands whose output is for people; the file and env still override.
func LoadOver(c Config, path string, env []string) (Config, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := decode(f, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	return c, nil
}

func decode(r io.Reader, c *Config) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return errors.New(strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " "))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		// yaml reports "line 3: field foo not found in type config.Kafka",
		// possibly several of them; say the first the way a user thinks
		// of it, by the key's path and what it takes.
		msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msgs = te.Errors
		}
		msg := yamlError(strings.Join(strings.Fields(msgs[0]), " "), &doc)
		if len(msgs) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(msgs)-1)
		}
		return errors.New(msg)
	}
	return nil
}

// EnvName is the environment variable that overrides the key at path,
// e.g. EnvName("kafka.brokers") == "STREAMLAKE_KAFKA_BROKERS".
func EnvName(path string) string {
	return "STREAMLAKE_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// applyEnv sets every leaf whose STREAMLAKE_ variable is present in env.
// Unknown STREAMLAKE_ variables are errors, like unknown YAML keys.
func applyEnv(c *Config, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, "STREAMLAKE_") {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	known := map[string]bool{}
	err := walk(reflect.ValueOf(c).Elem(), "", func(path string, v reflect.Value) error {
		name := EnvName(path)
		known[name] = true
		s, ok := vars[name]
		if !ok {
			return nil
		}
		if err := setScalar(v, s); err != nil {
			return fmt.Errorf("config: environment %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k := range vars {
		if !known[k] {
			hint := ""
			if near := nearest(k, slices.Collect(maps.Keys(known))); near != "" {
				hint = "; did you mean " + near + "?"
			}
			return fmt.Errorf("config: environment %s: unknown key (no config key %s%s)", k, envToPath(k), hint)
		}
	}
	return nil
}

func envToPath(name string) string {
	return strings.ToLower(strings.TrimPrefix(name, "STREAMLAKE_"))
}

// walk calls fn for every leaf field of a struct value with its dotted YAML path.
func walk(v reflect.Value, prefix string, fn func(path string, v reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			if err := walk(f, path, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(path, f); err != nil {
			return err
		}
	}
	return nil
}

var durationType = reflect.TypeFor[time.Duration]()

func setScalar(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 500ms, 2s, 1m)", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(SplitList(s)))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports the first invalid key, naming it and what is allowed.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...)
	}
	switch {
	case c.DataDir == "":
		return bad("data_dir", "must not be empty")
	case !oneOf(c.Log.Level, "debug", "info", "warn", "error"):
		return bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	case c.Log.Format != "" && !oneOf(c.Log.Format, "text", "json"):
		return bad("log.format", "%q is not one of text, json (or empty: text on a terminal, JSON otherwise)", c.Log.Format)
	case c.Kafka.Group == "":
		return bad("kafka.group", "must not be empty")
	case !oneOf(c.Kafka.Start, "earliest", "latest"):
		return bad("kafka.start", "%q is not one of earliest, latest", c.Kafka.Start)
	case c.Kafka.Partitions < 1 || c.Kafka.Partitions > 10_000:
		return bad("kafka.partitions", "%d is out of range 1..10000", c.Kafka.Partitions)
	case c.Kafka.SessionTimeout < 6*time.Second || c.Kafka.SessionTimeout > 30*time.Minute:
		return bad("kafka.session_timeout", "%s is out of range 6s..30m", c.Kafka.SessionTimeout)
	case c.Kafka.SchemaRegistry != "" && !httpURL(c.Kafka.SchemaRegistry):
		return bad("kafka.schema_registry", "%q is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:8081)", c.Kafka.SchemaRegistry)
	case c.Ingest.FlushRecords < 1:
		return bad("ingest.flush_records", "%d must be at least 1", c.Ingest.FlushRecords)
	case c.Ingest.FlushBytes < 1024:
		return bad("ingest.flush_bytes", "%d must be at least 1024", c.Ingest.FlushBytes)
	case c.Ingest.FlushInterval < 10*time.Millisecond:
		return bad("ingest.flush_interval", "%s must be at least 10ms", c.Ingest.FlushInterval)
	case c.Ingest.MemoryBudget < 1<<20:
		return bad("ingest.memory_budget", "%d must be at least 1048576 (1 MiB)", c.Ingest.MemoryBudget)
	case c.Storage.StagingRetention < 0:
		return bad("storage.staging_retention", "%s must not be negative (0 keeps objects forever)", c.Storage.StagingRetention)
	case c.ETL.Interval < 10*time.Millisecond:
		return bad("etl.interval", "%s must be at least 10ms", c.ETL.Interval)
	case !identifier.MatchString(c.ETL.Database):
		return bad("etl.database", "%q must match %s", c.ETL.Database, identifier)
	case c.ETL.TimeField == "":
		return bad("etl.time_field", "must not be empty")
	case c.ETL.OnTypeMismatch != "dlq" && c.ETL.OnTypeMismatch != "coerce-to-string":
		return bad("etl.on_type_mismatch", "%q is not one of dlq, coerce-to-string", c.ETL.OnTypeMismatch)
	case c.ETL.MaxColumns < 1:
		return bad("etl.max_columns", "%d must be at least 1", c.ETL.MaxColumns)
	case c.ETL.Maintenance.Interval < 0:
		return bad("etl.maintenance.interval", "%s must not be negative (0 turns scheduled maintenance off)", c.ETL.Maintenance.Interval)
	case c.ETL.Maintenance.TargetFileSize < 1<<20:
		return bad("etl.maintenance.target_file_size", "%d must be at least 1048576 (1 MiB)", c.ETL.Maintenance.TargetFileSize)
	case c.ETL.Maintenance.SnapshotRetention < time.Minute:
		return bad("etl.maintenance.snapshot_retention", "%s must be at least 1m", c.ETL.Maintenance.SnapshotRetention)
	case c.ETL.Maintenance.RetainLast < 1:
		return bad("etl.maintenance.retain_last", "%d must be at least 1", c.ETL.Maintenance.RetainLast)
	case c.ETL.Maintenance.OrphanGrace < 10*time.Minute:
		return bad("etl.maintenance.orphan_grace", "%s must be at least 10m (files being written must not look orphaned)", c.ETL.Maintenance.OrphanGrace)
	case c.Crawl.Interval < 100*time.Millisecond:
		return bad("crawl.interval", "%s must be at least 100ms", c.Crawl.Interval)
	case !identifier.MatchString(c.Crawl.Database):
		return bad("crawl.database", "%q must match %s", c.Crawl.Database, identifier)
	case c.Crawl.Database == c.ETL.Database:
		return bad("crawl.database", "%q must differ from etl.database", c.Crawl.Database)
	case c.Crawl.SampleSize < 1:
		return bad("crawl.sample_size", "%d must be at least 1", c.Crawl.SampleSize)
	case c.Query.CacheSize < 1<<20:
		return bad("query.cache_size", "%d must be at least 1048576 (1 MiB)", c.Query.CacheSize)
	case c.Query.HeartbeatInterval < time.Second || c.Query.HeartbeatInterval > time.Hour:
		return bad("query.heartbeat_interval", "%s must be between 1s and 1h", c.Query.HeartbeatInterval)
	}
	for _, b := range c.Kafka.Brokers {
		if !hostPort.MatchString(b) {
			return bad("kafka.brokers", "%q is not host:port", b)
		}
	}
	if !hostPort.MatchString(c.Kafka.Listen) {
		return bad("kafka.listen", "%q is not host:port", c.Kafka.Listen)
	}
	if c.Kafka.RegistryListen != "" && !hostPort.MatchString(c.Kafka.RegistryListen) {
		return bad("kafka.registry_listen", "%q is not host:port (or empty for no schema registry)", c.Kafka.RegistryListen)
	}
	if c.Metrics.Listen != "" && !hostPort.MatchString(c.Metrics.Listen) {
		return bad("metrics.listen", "%q is not host:port (or empty to disable)", c.Metrics.Listen)
	}
	if err := c.Monitor.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := tables.ValidateAll(c.TableSpecs()); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return ValidateCrawlers(c.Crawlers)
}

// TableSpecs returns the tables: section with every empty setting filled
// in from the defaults and etl.time_field.
func (c *Config) TableSpecs() []tables.Spec {
	out := make([]tables.Spec, len(c.Tables))
	for i, s := range c.Tables {
		out[i] = s.WithDefaults(c.ETL.TimeField)
	}
	return out
}

var (
	identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	hostPort   = regexp.MustCompile(`^[^\s:]*:\d{1,5}$`)
)

// httpURL reports whether s is an http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

// Paths are the locations derived from the data directory.
type Paths struct {
	Kafka, Staging, Lake, CatalogDB, Results, Monitor, QueryCache string
}

// Paths returns where embedded state lives, as ARCHITECTURE.md lays it out.
func (c *Config) Paths() Paths {
	d := c.DataDir
	return Paths{
		Kafka:     filepath.Join(d, "kafka"),
		Staging:   filepath.Join(d, "staging"),
		Lake:      filepath.Join(d, "lake"),
		CatalogDB: filepath.Join(d, "catalog.db"),
		Results:   filepath.Join(d, "results"),
		Monitor:   filepath.Join(d, "monitor"),
		// QueryCache is the query engine's file cache (query.cache_size).
		QueryCache: filepath.Join(d, "cache", "query"),
	}
}

// Set sets the key at a dotted path (e.g. "kafka.brokers") from its string
// form, as a flag or environment variable gives it. Lists are comma-separated.
func (c *Config) Set(path, value string) error {
	found := false
	err := walk(reflect.ValueOf(c).Elem(), "", func(p string, v reflect.Value) error {
		if p != path {
			return nil
		}
		found = true
		return setScalar(v, value)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("config: unknown key %q", path)
	}
	return nil
}

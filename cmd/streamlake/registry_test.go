package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

const readingSchema = `{"type": "record", "name": "Reading", "fields": [
	{"name": "id", "type": "long"},
	{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	{"name": "site", "type": ["null", "string"], "default": null},
	{"name": "value", "type": "double"}
]}`

// registerReadings registers readingSchema under subject in the registry
// at url with franz-go's client, and returns it and a Serde that encodes
// values with it in the registry's wire format.
func registerReadings(t *testing.T, url, subject string) (sr.SubjectSchema, *sr.Serde) {
	t.Helper()
	rc, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := rc.CreateSchema(t.Context(), subject, sr.Schema{Schema: readingSchema, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	sch := avro.MustParse(readingSchema)
	var serde sr.Serde
	serde.Register(ss.ID, map[string]any{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(sch, v) }))
	return ss, &serde
}

// produceValues sends values to topic on the broker at addr.
func produceValues(t *testing.T, addr, topic string, values ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// encodeReadings encodes readings 0..n-1, without a site, each with value.
func encodeReadings(t *testing.T, serde *sr.Serde, n int64, value float64) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for id := range n {
		v, err := serde.Encode(map[string]any{"id": id, "ts": time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), "site": nil, "value": value})
		if err != nil {
			t.Fatal(err)
		}
		out[id] = v
	}
	return out
}

// TestSchemaRegistryAvro produces Avro values in Schema Registry's wire
// format (franz-go's Serde, against a schema registered with its client in
// its srfake registry) beside a JSON value. Without kafka.schema_registry
// they are dead letters that name their schema id; dlq replay with it
// loads them once, a later run loads new ones, and a value whose schema id
// the registry does not know stays a dead letter saying so.
func TestSchemaRegistryAvro(t *testing.T) {
	dir := t.TempDir()
	addr, _, _ := startBroker(t, dir)
	reg := srfake.New()
	defer reg.Close()
	ss, serde := registerReadings(t, reg.URL(), "readings-value")
	produce := func(values ...[]byte) { t.Helper(); produceValues(t, addr, "readings", values...) }
	avroValues := func(from, to int64) [][]byte {
		var out [][]byte
		for id := from; id < to; id++ {
			var site any
			if id%2 == 0 {
				s := "north"
				site = &s
			}
			v, err := serde.Encode(map[string]any{"id": id, "ts": time.Date(2026, 12, 3, 10, 0, int(id), 0, time.UTC), "site": site, "value": float64(id) / 2})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	produce(avroValues(0, 10)...)
	produce([]byte(`{"id": 100, "ts": "2026-12-03T11:00:00Z", "value": 1}`), []byte{0, 0, 0, 0x03, 0xe7, 2, 4})

	run := []string{"run", "--brokers", addr, "--topics", "readings", "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn"}
	inDir(t, dir, run...)
	q := func(sql string) string { t.Helper(); return inDir(t, dir, "query", "--format", "csv", sql) }
	if got := q("SELECT count(*) AS n, min(error) AS e FROM lake.readings_dlq WHERE error LIKE '%wire format (schema id " + strconv.Itoa(ss.ID) + ")%'"); !strings.HasPrefix(got, "n,e\n10,") {
		t.Fatalf("without a registry, the Avro values are dead letters naming their schema id:\n%s", got)
	}

	cfg := filepath.Join(dir, "registry.yml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  schema_registry: "+reg.URL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := inDir(t, dir, "dlq", "replay", "readings", "--config", cfg, "--format", "csv"); !strings.Contains(got, "replayed,,10") ||
		!strings.Contains(got, "schema id 999 is not in the schema registry at "+reg.URL()) {
		t.Fatalf("replay with the registry:\n%s", got)
	}
	produce(avroValues(10, 15)...)
	inDir(t, dir, append(run, "--config", cfg)...)
	if got := q("SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id) AS s, count(site) AS sites, max(value) AS v, typeof(max(ts)) AS t FROM lake.readings"); got != "n,ids,s,sites,v,t\n16,16,205,8,7,TIMESTAMP WITH TIME ZONE" {
		t.Fatalf("rows:\n%s", got)
	}
	if got := q("SELECT id, ts, site FROM lake.readings WHERE id IN (4, 5) ORDER BY id"); got != "id,ts,site\n4,2026-12-03T10:00:04Z,north\n5,2026-12-03T10:00:05Z," {
		t.Fatalf("values:\n%s", got)
	}
	if got := inDir(t, dir, "dlq", "replay", "readings", "--config", cfg, "--format", "csv"); !strings.Contains(got, "replayed,,0") || !strings.Contains(got, "replayed before,,10") {
		t.Fatalf("second replay:\n%s", got)
	}
}

// TestEmbeddedSchemaRegistry runs `streamlake broker --registry-listen`:
// franz-go's client registers a schema there, Avro values produced with it
// load into the lake through kafka.schema_registry, and after the broker
// restarts the schema id still names the schema.
func TestEmbeddedSchemaRegistry(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	addr, regAddr := freePort(t), freePort(t)
	startWithRegistry := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, "broker", "--listen", addr, "--registry-listen", regAddr, "--data-dir", dir, "--log-level", "warn")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		waitDial(t, addr)
		waitDial(t, regAddr)
		return cmd
	}
	broker := startWithRegistry()
	ss, serde := registerReadings(t, "http://"+regAddr, "embedded-value")
	produceValues(t, addr, "embedded", encodeReadings(t, serde, 5, 1.5)...)
	cfg := filepath.Join(dir, "registry.yml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  schema_registry: http://"+regAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inDir(t, dir, "run", "--brokers", addr, "--topics", "embedded", "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn", "--config", cfg)
	if got := inDir(t, dir, "query", "--format", "csv", "SELECT count(*) AS n, sum(value) AS v FROM lake.embedded"); got != "n,v\n5,7.5" {
		t.Fatalf("rows:\n%s", got)
	}
	broker.Process.Signal(syscall.SIGTERM)
	broker.Wait()
	startWithRegistry()
	rc, err := sr.NewClient(sr.URLs("http://" + regAddr))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.SchemaByID(ctx, ss.ID)
	if err != nil || got.Schema != readingSchema {
		t.Fatalf("schema id %d after a restart: %+v, %v", ss.ID, got, err)
	}
}

// TestRunServesRegistry runs `streamlake run` on its embedded broker with
// kafka.registry_listen: the registry is served beside the broker, and the
// Avro values produced with a schema registered there load without
// kafka.schema_registry set.
func TestRunServesRegistry(t *testing.T) {
	dir := t.TempDir()
	addr, regAddr := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "embedded.yml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  listen: "+addr+"\n  registry_listen: "+regAddr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "run", "--config", cfg, "--topics", "local", "--metrics-listen", "", "--log-level", "warn", "--data-dir", dir)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill() })
	waitDial(t, addr)
	waitDial(t, regAddr)
	ss, serde := registerReadings(t, "http://"+regAddr, "local-value")
	produceValues(t, addr, "local", encodeReadings(t, serde, 5, 2.0)...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := exec.Command(bin, "query", "--format", "csv", "--data-dir", dir, "--log-level", "error",
			"SELECT count(*) AS n, sum(value) AS v FROM lake.local").Output()
		if got := strings.TrimSpace(string(out)); got == "n,v\n5,10" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("schema id %d: rows after 60 s:\n%s", ss.ID, got)
		}
		time.Sleep(500 * time.Millisecond)
	}
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestProduceRegistryFormats: `streamlake produce --value-format avro`
// and `protobuf` register the dataset's schema and send its records in
// the wire format; `run` with the registry loads every one, typed, with
// no dead letter.
func TestProduceRegistryFormats(t *testing.T) {
	dir := t.TempDir()
	addr, _, _ := startBroker(t, dir)
	reg := srfake.New()
	defer reg.Close()
	cfg := filepath.Join(dir, "registry.yml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  schema_registry: "+reg.URL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"avro", "protobuf"} {
		topic := "sensors_" + format
		if out := inDir(t, dir, "produce", "--brokers", addr, "--topic", topic, "--dataset", "sensors", "--records", "500",
			"--value-format", format, "--registry", reg.URL()); !strings.Contains(out, "500 records") {
			t.Fatalf("produce %s: %s", format, out)
		}
		inDir(t, dir, "run", "--brokers", addr, "--topics", topic, "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn", "--config", cfg)
		got := inDir(t, dir, "query", "--format", "csv", "SELECT count(*) AS n, count(DISTINCT id) AS ids, typeof(max(ts)) AS t, typeof(max(battery)) AS b, count(temperature) AS temps FROM lake."+topic)
		if got != "n,ids,t,b,temps\n500,500,TIMESTAMP WITH TIME ZONE,BIGINT,500" {
			t.Fatalf("%s rows:\n%s", format, got)
		}
		if msg := inDirFail(t, dir, "query", "SELECT count(*) FROM lake."+topic+"_dlq"); !strings.Contains(msg, "lake."+topic+"_dlq not found") {
			t.Fatalf("%s dead letters: %s, want no dead-letter table", format, msg)
		}
	}
}

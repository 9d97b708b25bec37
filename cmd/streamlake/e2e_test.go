package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/produce"
)

// bin is the streamlake binary built once for the tests that check exit
// codes and what a user sees on stderr.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "streamlake-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "streamlake")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building streamlake:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the root command in-process and returns its stdout.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("streamlake %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func produceBad(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		v := fmt.Sprintf("garbage line %d {", i)
		if i%2 == 1 {
			v = fmt.Sprintf("[%d]", i) // valid JSON, not an object
		}
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEndToEndInProcess runs broker, producer, run --exit-when-idle and
// query in this process and checks every count against what was produced.
func TestEndToEndInProcess(t *testing.T) {
	dir := t.TempDir()
	br, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "kafka"), Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	sum, err := produce.Run(context.Background(), produce.Config{Brokers: []string{br.Addr()}, Topic: "orders.v1",
		Dataset: produce.DatasetOrders, Records: 3000, Seed: 7})
	if err != nil || sum.Records != 3000 {
		t.Fatalf("produce: %v %+v", err, sum)
	}
	produceBad(t, br.Addr(), "orders.v1", 30)

	common := []string{"--data-dir", dir, "--log-level", "warn"}
	run := append([]string{"run", "--brokers", br.Addr(), "--topics", "orders.v1", "--exit-when-idle", "--metrics-listen", ""}, common...)
	mustCLI(t, run...)
	q := func(sql string) string {
		return strings.TrimSpace(mustCLI(t, append([]string{"query", "--format", "csv", sql}, common...)...))
	}
	if got := q("SELECT count(*), count(DISTINCT id) FROM lake.orders_v1"); got != "_col0,_col1\n3000,3000" {
		t.Fatalf("lake counts:\n%s", got)
	}
	if got := q("SELECT count(*) FROM lake.orders_v1_dlq"); !strings.HasSuffix(got, "\n30") {
		t.Fatalf("dead letters:\n%s", got)
	}
	// Nested columns survive: order totals equal the sum of their items.
	if got := q(`SELECT count(*) FROM lake.orders_v1
		WHERE abs(total - list_sum(list_transform(items, x -> x.qty * x.price))) > 0.01`); !strings.HasSuffix(got, "\n0") {
		t.Fatalf("orders whose total differs from their items:\n%s", got)
	}
	if got := q("SELECT count(*) FROM raw.orders_v1"); !strings.HasSuffix(got, "\n3030") {
		t.Fatalf("raw staging records:\n%s", got)
	}
	checkLakeStatus(t, common, q("SELECT epoch_us(max(ts)) FROM lake.orders_v1"))

	// Running again adds nothing.
	mustCLI(t, run...)
	if got := q("SELECT count(*) FROM lake.orders_v1"); !strings.HasSuffix(got, "\n3000") {
		t.Fatalf("after a second run:\n%s", got)
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKcatToLake is the foundation's acceptance path with an outside
// client: `streamlake broker`, kcat produces JSON lines (and bad ones),
// `streamlake run --exit-when-idle`, `streamlake query --format csv`.
func TestKcatToLake(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run `make test`, which installs it (apt-get install -y kcat)")
	}
	dir := t.TempDir()
	addr, brokerCmd, brokerErr := startBroker(t, dir)

	const good, bad = 5000, 100
	var lines bytes.Buffer
	for i := range good {
		fmt.Fprintf(&lines, `{"id":"k-%d","ts":"2026-11-%02dT10:00:00.%03dZ","n":%d,"tag":"t%d"}`+"\n", i, 1+i%28, i%1000, i, i%7)
		if i%(good/bad) == 0 {
			fmt.Fprintf(&lines, "not json %d\n", i)
		}
	}
	produce := exec.Command(kcat, "-P", "-b", addr, "-t", "events")
	produce.Stdin = &lines
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}

	sl := func(args ...string) string { t.Helper(); return inDir(t, dir, args...) }
	run := []string{"run", "--brokers", addr, "--exit-when-idle", "--metrics-listen", "", "--log-level", "warn"}
	sl(run...)
	if got := sl("query", "--format", "csv", "SELECT count(*), count(DISTINCT id) FROM lake.events"); !strings.HasSuffix(got, "\n5000,5000") {
		t.Fatalf("lake.events counts:\n%s", got)
	}
	if got := sl("query", "--format", "csv", "SELECT count(*) FROM lake.events_dlq WHERE raw_value LIKE 'not json %'"); !strings.HasSuffix(got, "\n100") {
		t.Fatalf("dead letters:\n%s", got)
	}
	sl(run...)
	if got := sl("query", "--format", "csv", "SELECT count(*) FROM lake.events"); !strings.HasSuffix(got, "\n5000") {
		t.Fatalf("second run changed the lake:\n%s", got)
	}

	// The broker stops cleanly on SIGTERM.
	brokerCmd.Process.Signal(os.Interrupt)
	if err := brokerCmd.Wait(); err != nil {
		t.Fatalf("broker exit: %v\n%s", err, brokerErr.String())
	}
}

// startBroker runs `streamlake broker` on a free port with its data in dir.
func startBroker(t *testing.T, dir string) (string, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, "broker", "--listen", addr, "--data-dir", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitDial(t, addr)
	return addr, cmd, &stderr
}

// inDir runs the binary with --data-dir dir and returns its trimmed
// standard output, failing the test (with standard error) on an error.
func inDir(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", dir)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("streamlake %v: %v\n%s", args, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func waitDial(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker at %s not up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestErrorsAreOneLine checks what a user sees when something is wrong:
// one line on stderr naming the problem, nothing on stdout, and a non-zero
// exit.
func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yml")
	os.WriteFile(cfg, []byte("kafka:\n  brokerz: [127.0.0.1:9092]\n"), 0o644)
	sasl := filepath.Join(dir, "sasl.yml")
	os.WriteFile(sasl, []byte("kafka:\n  sasl: {mechanism: GSSAPI, username: u}\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong flag", []string{"run", "--brokerz", "x"}, "unknown flag: --brokerz"},
		{"unknown config key", []string{"run", "--config", cfg}, `unknown key "kafka.brokerz" (kafka takes: brokers, topics,`},
		{"bad sasl mechanism", []string{"run", "--config", sasl}, `kafka.sasl.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"bad flag value", []string{"query", "--format", "xml", "SELECT 1"}, `--format: "xml" is not one of table, csv, json`},
		{"unreachable broker", []string{"run", "--brokers", "127.0.0.1:1", "--metrics-listen", ""}, "127.0.0.1:1 unreachable"},
		{"missing table", []string{"query", "SELECT * FROM lake.nope"}, "table lake.nope not found"},
		{"produce a missing file", []string{"produce", "--brokers", "127.0.0.1:1", "--topic", "x", "--file", "/nonexistent/x.jsonl"}, "produce: open --file: open /nonexistent/x.jsonl"},
		{"unknown alarm", []string{"alarms", "history", "bogus", "--metrics-listen", "127.0.0.1:1", "--log-level", "error"}, `alarm "bogus": no such alarm; the alarms are consumer-time-lag, `},
		{"compact a missing table", []string{"compact", "nope"}, "maintain lake.nope: no such table"},
		{"unknown subcommand", []string{"dlq", "replya"}, `unknown command "replya" for "streamlake dlq"; did you mean "replay"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(c.args, "--data-dir", dir)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatal("exit 0")
			}
			if stdout.Len() > 0 {
				t.Errorf("a failure printed to stdout too:\n%s", stdout.String())
			}
			msg := strings.TrimRight(stderr.String(), "\n")
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "streamlake: ") {
				t.Fatalf("stderr is not one line:\n%s", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Fatalf("stderr %q does not say %q", msg, c.want)
			}
		})
	}
}

// checkLakeStatus checks what `streamlake status` shows of lake.orders_v1
// with no run answering: the catalog's view, against what the queries of
// TestEndToEndInProcess found (newestCSV: the newest ts in microseconds,
// under a CSV header).
func checkLakeStatus(t *testing.T, common []string, newestCSV string) {
	t.Helper()
	// No process listens on a fresh port: the status is the offline one.
	args := append([]string{"status", "--format", "json", "--metrics-listen", freePort(t)}, common...)
	out, err := cli(t, args...)
	if err != nil && !strings.Contains(err.Error(), "in ALARM") {
		t.Fatalf("streamlake status: %v", err)
	}
	var st struct {
		Topics []json.RawMessage
		Tables []etl.TableState
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status output: %v\n%s", err, out)
	}
	if len(st.Topics) != 0 || len(st.Tables) != 1 {
		t.Fatalf("offline status: %d topics (want none: no run answers), tables %+v (want lake.orders_v1)", len(st.Topics), st.Tables)
	}
	tb := st.Tables[0]
	newest, _ := strconv.ParseInt(newestCSV[strings.LastIndexByte(newestCSV, '\n')+1:], 10, 64)
	if tb.Table != "lake.orders_v1" || !slices.Equal(tb.Topics, []string{"orders.v1"}) || tb.Rows != 3000 ||
		tb.DeadLetters != 30 || tb.DataFiles < 1 || tb.Bytes < 1 || time.Since(tb.LastCommit) > 2*time.Minute ||
		!tb.NewestEvent.Equal(time.UnixMicro(newest)) {
		t.Fatalf("lake table status %+v; want 3000 rows, 30 dead letters, topic orders.v1, newest event %v",
			tb, time.UnixMicro(newest).UTC())
	}
}

// TestStatusWithoutCatalog: status in a data directory nothing has run in
// yet shows no lake tables and creates no catalog.
func TestStatusWithoutCatalog(t *testing.T) {
	dir := t.TempDir()
	out, err := cli(t, "status", "--format", "json", "--metrics-listen", freePort(t), "--data-dir", dir, "--log-level", "error")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var st struct{ Tables []etl.TableState }
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Tables == nil || len(st.Tables) != 0 {
		t.Fatalf("status tables %+v (%v), want an empty list:\n%s", st.Tables, err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.db")); !os.IsNotExist(err) {
		t.Fatalf("status created a catalog: %v", err)
	}
}

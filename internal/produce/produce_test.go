package produce

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/broker"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func startBroker(t *testing.T) string {
	t.Helper()
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b.Addr()
}

// consume reads topic from the start until it has n records, then waits
// briefly for any extra (duplicate) records.
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: %d of %d records before timeout", topic, len(out), n)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("consume %s[%d]: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	return append(out, cl.PollFetches(short).Records()...)
}

func TestRunDatasets(t *testing.T) {
	addr := startBroker(t)
	for _, ds := range datasets {
		t.Run(ds, func(t *testing.T) {
			const n = 5000
			topic := "run-" + ds
			sum, err := Run(context.Background(), Config{
				Brokers: []string{addr}, Topic: topic, Dataset: ds, Records: n, Seed: 1, Logger: testLogger(t),
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if sum.Records != n || sum.Errors != 0 || sum.Bytes <= 0 || sum.Elapsed <= 0 || sum.Topic != topic {
				t.Fatalf("summary %+v, want %d records, no errors", sum, n)
			}
			t.Log(sum)
			recs := consume(t, addr, topic, n)
			if len(recs) != n {
				t.Fatalf("consumed %d records, want %d", len(recs), n)
			}
			ids := map[string]bool{}
			var bytes int64
			for _, r := range recs {
				var v struct{ ID string }
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatalf("record %s: %v", r.Value, err)
				}
				if ids[v.ID] {
					t.Fatalf("duplicate id %q", v.ID)
				}
				ids[v.ID] = true
				if string(r.Key) != v.ID {
					t.Fatalf("key %q, want the id %q", r.Key, v.ID)
				}
				bytes += int64(len(r.Value))
			}
			if bytes != sum.Bytes {
				t.Errorf("summary bytes %d, consumed %d", sum.Bytes, bytes)
			}
		})
	}
}

func TestRunTwiceHasDistinctIDs(t *testing.T) {
	addr := startBroker(t)
	cfg := Config{Brokers: []string{addr}, Topic: "twice", Dataset: DatasetSensors, Records: 100, Seed: 1}
	for range 2 {
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]bool{}
	for _, r := range consume(t, addr, "twice", 200) {
		ids[string(r.Key)] = true
	}
	if len(ids) != 200 {
		t.Fatalf("two runs with the same seed gave %d distinct ids, want 200", len(ids))
	}
}

func TestRunFileReplay(t *testing.T) {
	addr := startBroker(t)
	lines := []string{
		`{"id":"a1","v":1}`,
		`not json at all`,
		`{"id":"a2","nested":{"id":"inner"}}`,
		`{"broken": `,
		`[1,2,3]`,
		`{"id":42}`,
		"  {\"id\":\"spaced\"}  ",
		`{"id":"crlf"}`,
	}
	content := strings.Join(lines[:len(lines)-1], "\n") + "\n\n" + lines[len(lines)-1] + "\r\n"
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Config{Brokers: []string{addr}, Topic: "replay", File: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Records != len(lines) {
		t.Fatalf("summary %+v, want %d records (the blank line skipped)", sum, len(lines))
	}
	wantKey := map[string]string{lines[0]: "a1", lines[2]: "a2", lines[6]: "spaced", lines[7]: "crlf"}
	got := map[string]bool{}
	for _, r := range consume(t, addr, "replay", len(lines)) {
		v := string(r.Value)
		if got[v] {
			t.Fatalf("duplicate record %q", v)
		}
		got[v] = true
		if string(r.Key) != wantKey[v] {
			t.Errorf("record %q: key %q, want %q", v, r.Key, wantKey[v])
		}
	}
	for _, l := range lines {
		if !got[l] {
			t.Errorf("line %q was not sent verbatim", l)
		}
	}
	if len(got) != len(lines) {
		t.Errorf("got %d distinct records, want %d", len(got), len(lines))
	}

	// --records N takes the first N lines.
	sum, err = Run(context.Background(), Config{Brokers: []string{addr}, Topic: "replay-3", File: path, Records: 3})
	if err != nil || sum.Records != 3 {
		t.Fatalf("Run with --records 3: %+v, %v", sum, err)
	}
}

func TestRunMissingFile(t *testing.T) {
	_, err := Run(context.Background(), Config{Brokers: []string{"127.0.0.1:1"}, Topic: "t", File: "/nonexistent/x.jsonl"})
	if err == nil || !strings.HasPrefix(err.Error(), "produce: open --file: open /nonexistent/x.jsonl") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunUnreachableBroker(t *testing.T) {
	start := time.Now()
	sum, err := Run(context.Background(), Config{
		Brokers: []string{"127.0.0.1:1"}, Topic: "t", Dataset: DatasetSensors, Records: 10,
	})
	if err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
	if !strings.HasPrefix(err.Error(), "produce: brokers 127.0.0.1:1 unreachable: ") {
		t.Errorf("err = %q", err)
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("took %s to fail, want about %s at most", d, PingTimeout)
	}
	if sum.Records != 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestRunRateLimited(t *testing.T) {
	addr := startBroker(t)
	start := time.Now()
	sum, err := Run(context.Background(), Config{
		Brokers: []string{addr}, Topic: "paced", Dataset: DatasetOrders, Records: 1000, Rate: 2000,
	})
	if err != nil || sum.Records != 1000 {
		t.Fatalf("Run: %+v, %v", sum, err)
	}
	// 1000 records at 2000/s with a 20-record burst: about 490ms.
	if d := time.Since(start); d < 480*time.Millisecond || d > 1500*time.Millisecond {
		t.Fatalf("1000 records at 2000/s took %s, want about 500ms", d)
	}
}

func TestRunCancelled(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sum, err := Run(ctx, Config{
		Brokers: []string{addr}, Topic: "cancel", Dataset: DatasetSensors, Records: 1_000_000, Rate: 1000,
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "produce: interrupted after sending") {
		t.Fatalf("err = %v", err)
	}
	if sum.Records == 0 || sum.Records >= 1_000_000 || sum.Errors != 0 {
		t.Fatalf("summary %+v: want some records, all sent ones acknowledged", sum)
	}
	if got := len(consume(t, addr, "cancel", sum.Records)); got != sum.Records {
		t.Fatalf("consumed %d, summary says %d", got, sum.Records)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "t", Dataset: "sensors", Records: 1}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"file whole", func(c *Config) { c.Dataset, c.File, c.Records = "", "x.jsonl", 0 }, ""},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "--brokers: at least one broker address is required"},
		{"empty broker", func(c *Config) { c.Brokers = []string{" "} }, "--brokers: empty broker address"},
		{"no topic", func(c *Config) { c.Topic = "" }, "--topic: required"},
		{"bad topic", func(c *Config) { c.Topic = "a/b" }, `--topic: "a/b": only letters, digits, '.', '_' and '-' are allowed`},
		{"dot topic", func(c *Config) { c.Topic = ".." }, `--topic: ".." is not a valid topic name`},
		{"bad dataset", func(c *Config) { c.Dataset = "foo" }, `--dataset: "foo" is not one of sensors, orders`},
		{"no source", func(c *Config) { c.Dataset = "" }, "--dataset: required (one of sensors, orders) unless --file is given"},
		{"both sources", func(c *Config) { c.File = "x.jsonl" }, "--file and --dataset are mutually exclusive"},
		{"zero records", func(c *Config) { c.Records = 0 }, "--records: must be > 0"},
		{"negative records", func(c *Config) { c.Records = -1 }, "--records: must be > 0"},
		{"file negative records", func(c *Config) { c.Dataset, c.File, c.Records = "", "x.jsonl", -1 }, "--records: must be >= 0 with --file (0 = whole file)"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "--rate: -1: must be a number >= 0 (0 = unlimited)"},
	} {
		c := ok
		tc.mod(&c)
		err := c.Validate()
		if got := errString(err); got != tc.want {
			t.Errorf("%s: Validate() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSummaryString(t *testing.T) {
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{Topic: "sensors", Records: 100000, Bytes: 19_512_345, Elapsed: 1200 * time.Millisecond},
			"produced 100000 records (19.5 MB) to sensors in 1.2s (83,333 rec/s)"},
		{Summary{Topic: "t", Records: 10, Bytes: 999, Elapsed: 1500 * time.Microsecond, Errors: 2},
			"produced 10 records (999 B) to t in 2ms (6,667 rec/s), 2 failed"},
		{Summary{Topic: "t"}, "produced 0 records (0 B) to t in 0s"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestRunSilentBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("waits PingTimeout")
	}
	// Accepts connections and never answers: Run must give up, not hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Run(context.Background(), Config{
		Brokers: []string{ln.Addr().String()}, Topic: "t", Dataset: DatasetSensors, Records: 10,
	})
	d := time.Since(start)
	// Either the ping deadline or the dial timeout may fire first; both
	// must name the broker and say it is unreachable.
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()+" unreachable") {
		t.Fatalf("err = %v", err)
	}
	if d > PingTimeout+2*time.Second {
		t.Fatalf("took %s", d)
	}
	t.Logf("%s after %s", err, d.Round(time.Millisecond))
}

package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/broker"
)

// kcat returns the kcat binary. Interop with a client nobody here wrote is
// part of the broker's contract, so a missing kcat fails instead of skipping.
func kcat(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"kcat", "kafkacat"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("kcat is not on PATH: run `make test`, which installs it (or `apt-get install -y kcat`)")
	return ""
}

func runKcat(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func TestKcatProducesKgoConsumes(t *testing.T) {
	kcat(t)
	b := startBroker(t, broker.Config{Partitions: 3})
	const topic, n = "kcat-in", 1000

	var in bytes.Buffer
	want := make(map[string]int, n)
	for i := range n {
		line := fmt.Sprintf(`{"id":"kcat-%04d","n":%d,"msg":"héllo, \"world\""}`, i, i)
		in.WriteString(line + "\n")
		want[line]++
	}
	runKcat(t, in.Bytes(), "-P", "-b", b.Addr(), "-t", topic)

	got := consumeAll(t, b.Addr(), topic, n)
	if len(got) != n {
		t.Fatalf("consumed %d records, want %d", len(got), n)
	}
	for _, r := range got {
		v := string(r.Value)
		if want[v] == 0 {
			t.Fatalf("unexpected or duplicate value %q", v)
		}
		want[v]--
	}
}

func TestKgoProducesKcatConsumes(t *testing.T) {
	kcat(t)
	b := startBroker(t, broker.Config{Partitions: 3})
	const topic, n = "kcat-out", 1000

	cl := newClient(t, b.Addr(), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	want := make(map[string]string, n)
	rs := make([]*kgo.Record, n)
	for i := range rs {
		k, v := fmt.Sprintf("key-%04d", i), fmt.Sprintf(`{"id":"key-%04d","v":%d}`, i, i*7)
		want[k] = v
		rs[i] = &kgo.Record{Key: []byte(k), Value: []byte(v)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	out := runKcat(t, nil, "-C", "-b", b.Addr(), "-t", topic, "-o", "beginning", "-e", "-q", "-f", `%k\t%s\n`)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("kcat consumed %d lines, want %d; first lines: %q", len(lines), n, lines[:min(3, len(lines))])
	}
	for _, line := range lines {
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("kcat line %q has no tab", line)
		}
		w, ok := want[k]
		if !ok {
			t.Fatalf("kcat returned unknown or duplicate key %q", k)
		}
		if v != w {
			t.Fatalf("key %s: kcat value %q, want %q", k, v, w)
		}
		delete(want, k)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// crashEnv makes the pipeline flush and commit often, so that kills land
// between uploads, offset commits and lake commits.
var crashEnv = []string{"STREAMLAKE_KAFKA_SESSION_TIMEOUT=6s", "STREAMLAKE_INGEST_FLUSH_RECORDS=5000",
	"STREAMLAKE_INGEST_FLUSH_INTERVAL=150ms", "STREAMLAKE_ETL_INTERVAL=200ms", "STREAMLAKE_CRAWL_INTERVAL=2s"}

type crashRig struct {
	t    *testing.T
	dir  string
	addr string
	prod *exec.Cmd
	out  bytes.Buffer
}

// newCrashRig starts `streamlake broker` and a producer of n records at a
// steady rate, in the background.
func newCrashRig(t *testing.T, n, rate int) *crashRig {
	r := &crashRig{t: t, dir: t.TempDir(), addr: freePort(t)}
	br := exec.Command(bin, "broker", "--listen", r.addr, "--data-dir", r.dir)
	if err := br.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Process.Kill(); br.Wait() })
	waitDial(t, r.addr)
	r.prod = exec.Command(bin, "produce", "--brokers", r.addr, "--topic", "crash", "--dataset", "sensors",
		"--records", fmt.Sprint(n), "--rate", fmt.Sprint(rate), "--data-dir", r.dir)
	r.prod.Stdout = &r.out
	if err := r.prod.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *crashRig) run(extraEnv ...string) *exec.Cmd { return r.runMetrics("", extraEnv...) }

// runMetrics is run serving /metrics, /healthz and /readyz on metrics.
func (r *crashRig) runMetrics(metrics string, extraEnv ...string) *exec.Cmd {
	cmd := exec.Command(bin, "run", "--brokers", r.addr, "--topics", "crash", "--metrics-listen", metrics,
		"--data-dir", r.dir, "--log-level", "error")
	cmd.Env = append(append(os.Environ(), crashEnv...), extraEnv...)
	cmd.Stderr = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	return cmd
}

// finish waits for the producer, runs until idle and checks the lake holds
// every record exactly once.
func (r *crashRig) finish(n int) {
	t := r.t
	if err := r.prod.Wait(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if !strings.Contains(r.out.String(), fmt.Sprintf("produced %d records", n)) {
		t.Fatalf("producer: %s", r.out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	final := exec.CommandContext(ctx, bin, "run", "--brokers", r.addr, "--topics", "crash", "--metrics-listen", "",
		"--data-dir", r.dir, "--exit-when-idle", "--log-level", "warn")
	final.Env = append(os.Environ(), crashEnv...)
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "query", "--format", "csv", "--data-dir", r.dir,
		"SELECT count(*), count(DISTINCT id) FROM lake.crash").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, fmt.Sprintf("\n%d,%d", n, n)) {
		t.Fatalf("the lake holds:\n%s\nwant %d rows, all distinct", got, n)
	}
}

// TestKillNineLosesAndDuplicatesNothing kills `streamlake run` with SIGKILL
// at random moments, at least five times, while 300,000 records stream in;
// a final run then finds every record in the lake exactly once.
func TestKillNineLosesAndDuplicatesNothing(t *testing.T) {
	const n = 300_000
	r := newCrashRig(t, n, 60_000)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range 6 {
		after := time.Duration(300+rng.IntN(1500)) * time.Millisecond
		run := r.run()
		time.Sleep(after)
		run.Process.Kill() // SIGKILL: no flush, no commit, no cleanup
		run.Wait()
		t.Logf("seed %d: killed run %d after %s", seed, i+1, after)
	}
	r.finish(n)
}

// TestMemberJoinsAndLeaves runs a second consumer-group member (its own
// static instance id, same staging and catalog) that joins mid-run and
// leaves with SIGTERM, while the first member keeps running: partitions
// move twice, and the lake still holds every record exactly once.
func TestMemberJoinsAndLeaves(t *testing.T) {
	const n = 200_000
	r := newCrashRig(t, n, 50_000)
	a := r.run()
	time.Sleep(time.Second)
	// The second member serves /readyz, so that it leaves only after it
	// has joined and loaded (a signal during start-up exits 130).
	metrics := freePort(t)
	b := r.runMetrics(metrics, "STREAMLAKE_KAFKA_INSTANCE_ID=second-member")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + metrics + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second member never became ready:\n%s", b.Stderr)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	b.Process.Signal(os.Interrupt)
	if err := b.Wait(); err != nil {
		t.Fatalf("second member exit: %v\n%s", err, b.Stderr)
	}
	time.Sleep(time.Second)
	a.Process.Signal(os.Interrupt)
	if err := a.Wait(); err != nil {
		t.Fatalf("first member exit: %v\n%s", err, a.Stderr)
	}
	r.finish(n)
}

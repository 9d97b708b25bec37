package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestKillNineLosesAndDuplicatesNothing kills `streamlake run` with SIGKILL
// several times while records stream in, then lets a final run finish: the
// lake must hold every produced record exactly once.
func TestKillNineLosesAndDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	br := exec.Command(bin, "broker", "--listen", addr, "--data-dir", dir)
	if err := br.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { br.Process.Kill(); br.Wait() }()
	waitDial(t, addr)

	const records = 30000
	prod := exec.Command(bin, "produce", "--brokers", addr, "--topic", "crash", "--dataset", "sensors",
		"--records", fmt.Sprint(records), "--rate", "10000", "--data-dir", dir)
	var prodOut bytes.Buffer
	prod.Stdout = &prodOut
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	// STREAMLAKE_* env: flush small batches often so kills land mid-flight.
	env := []string{"STREAMLAKE_KAFKA_SESSION_TIMEOUT=6s", "STREAMLAKE_INGEST_FLUSH_RECORDS=700", "STREAMLAKE_INGEST_FLUSH_INTERVAL=150ms", "STREAMLAKE_ETL_INTERVAL=200ms"}
	runArgs := []string{"run", "--brokers", addr, "--topics", "crash", "--metrics-listen", "", "--data-dir", dir, "--log-level", "error"}
	for i, after := range []time.Duration{900 * time.Millisecond, 1300 * time.Millisecond, 700 * time.Millisecond} {
		run := exec.Command(bin, runArgs...)
		run.Env = append(run.Environ(), env...)
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		run.Process.Kill() // SIGKILL: no flush, no commit, no cleanup
		run.Wait()
		t.Logf("killed run %d after %s", i+1, after)
	}
	if err := prod.Wait(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if !strings.Contains(prodOut.String(), fmt.Sprintf("produced %d records", records)) {
		t.Fatalf("producer: %s", prodOut.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	final := exec.CommandContext(ctx, bin, append(runArgs, "--exit-when-idle", "--log-level", "info")...)
	final.Env = append(final.Environ(), env...)
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "query", "--format", "csv", "--data-dir", dir,
		"SELECT count(*), count(DISTINCT id) FROM lake.crash").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, fmt.Sprintf("\n%d,%d", records, records)) {
		t.Fatalf("after three SIGKILLs the lake holds:\n%s\nwant %d rows, all distinct", got, records)
	}
}

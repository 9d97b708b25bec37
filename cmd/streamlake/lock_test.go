package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOneRunPerDataDir: a second `run` on a data directory a running one
// uses, as the same static group member (the id derived from the
// directory), fails at once with one line naming the directory, the member
// and the running process (it would fence the first out of the group), and
// leaves the first running; once the first exits, the member id is free
// again and the two runs stored every record once. (A member with its own
// instance id may share the directory: TestMemberJoinsAndLeaves.)
func TestOneRunPerDataDir(t *testing.T) {
	dir := t.TempDir()
	addr, _, _ := startBroker(t, t.TempDir())
	inDir(t, t.TempDir(), "produce", "--brokers", addr, "--topic", "locked", "--dataset", "sensors", "--records", "100")
	args := []string{"run", "--brokers", addr, "--topics", "locked", "--metrics-listen", "", "--log-level", "warn", "--data-dir", dir}
	first := exec.Command(bin, args...)
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill() })
	pid := strconv.Itoa(first.Process.Pid)
	deadline := time.Now().Add(15 * time.Second)
	for {
		locks, _ := filepath.Glob(filepath.Join(dir, "run-*.lock"))
		if len(locks) == 1 {
			if b, _ := os.ReadFile(locks[0]); strings.TrimSpace(string(b)) == pid {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("first run did not lock %s:\n%s", dir, firstErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	second := exec.Command(bin, args...)
	var stderr bytes.Buffer
	second.Stderr = &stderr
	start := time.Now()
	if err := second.Run(); err == nil {
		t.Fatal("second run on the same data directory exited 0")
	}
	msg := strings.TrimRight(stderr.String(), "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "streamlake: data directory "+dir+" is in use") ||
		!strings.Contains(msg, "member streamlake-") || !strings.Contains(msg, "(pid "+pid+")") || !strings.Contains(msg, "kafka.instance_id") {
		t.Fatalf("second run's error %q: want one line naming %s, the member id, pid %s and kafka.instance_id", msg, dir, pid)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("second run took %v to refuse", took)
	}

	if first.ProcessState != nil {
		t.Fatal("first run exited")
	}
	first.Process.Signal(os.Interrupt)
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, firstErr.String())
	}
	third := exec.Command(bin, append(args, "--exit-when-idle")...)
	if out, err := third.CombinedOutput(); err != nil {
		t.Fatalf("run after the first exited: %v\n%s", err, out)
	}
	if got := inDir(t, dir, "query", "--format", "csv", "SELECT count(*) FROM lake.locked"); got != "_col0\n100" {
		t.Fatalf("lake.locked after both runs:\n%s", got)
	}
}

// TestExitWhenIdleMissingTopic: `run --exit-when-idle` over a topic that
// does not exist has nothing to do: it exits 0, having said which topic is
// missing, instead of warning about the lag every five seconds forever.
func TestExitWhenIdleMissingTopic(t *testing.T) {
	addr, _, _ := startBroker(t, t.TempDir())
	cmd := exec.Command(bin, "run", "--brokers", addr, "--topics", "nosuch", "--exit-when-idle", "--metrics-listen", "",
		"--log-level", "warn", "--log-format", "text", "--data-dir", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("run --exit-when-idle over a missing topic did not exit within 60s:\n%s", stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "topic does not exist") || !strings.Contains(got, "topic=nosuch") {
		t.Fatalf("stderr does not name the missing topic:\n%s", got)
	}
}

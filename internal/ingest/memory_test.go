package ingest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/produce"
)

// TestMain lets this test binary serve as a broker process (see
// startBrokerProcess), so that memory and CPU measured in the test process
// are ingest's alone, not the broker's.
func TestMain(m *testing.M) {
	if os.Getenv("STREAMLAKE_TEST_BROKER_CHILD") == "1" {
		if err := brokerChild(); err != nil {
			fmt.Fprintln(os.Stderr, "broker child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// brokerChild starts a broker, fills topic "bench" with sensors records,
// prints the broker's address and serves until stdin closes.
func brokerChild() error {
	parts, _ := strconv.Atoi(os.Getenv("STREAMLAKE_TEST_PARTITIONS"))
	records, _ := strconv.Atoi(os.Getenv("STREAMLAKE_TEST_RECORDS"))
	br, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Partitions: parts})
	if err != nil {
		return err
	}
	defer br.Close()
	if _, err := produce.Run(context.Background(), produce.Config{Brokers: []string{br.Addr()},
		Topic: "bench", Dataset: produce.DatasetSensors, Records: records, Seed: 1}); err != nil {
		return err
	}
	fmt.Println(br.Addr())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// startBrokerProcess runs a broker in a child process holding records
// sensors records in topic "bench" with the given partition count.
func startBrokerProcess(tb testing.TB, partitions, records int) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STREAMLAKE_TEST_BROKER_CHILD=1",
		fmt.Sprintf("STREAMLAKE_TEST_PARTITIONS=%d", partitions), fmt.Sprintf("STREAMLAKE_TEST_RECORDS=%d", records))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("broker process: %v", err)
	}
	return strings.TrimSpace(line)
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func peakRSS(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// resetPeakRSS returns freed memory to the OS and restarts VmHWM from the
// current RSS, so that earlier tests in this process do not count.
func resetPeakRSS(tb testing.TB) {
	tb.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatalf("reset peak RSS: %v", err)
	}
}

// runDefaultIngest consumes topic "bench" at addr with the default ingest
// settings until every record is staged.
func runDefaultIngest(tb testing.TB, addr string, b *blob.Bucket) {
	tb.Helper()
	d := config.Default().Ingest
	in, err := ingest.New(ingest.Config{
		Brokers: []string{addr}, Topics: []string{"bench"}, Group: fmt.Sprintf("mem-%d", time.Now().UnixNano()),
		Start: "earliest", FlushRecords: d.FlushRecords, FlushBytes: d.FlushBytes,
		FlushInterval: d.FlushInterval, MemoryBudget: d.MemoryBudget,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, b)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		lag, err := in.Lag(context.Background())
		if err == nil && lag == 0 && in.Idle() {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not idle within 5m: lag %d, %v", lag, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
}

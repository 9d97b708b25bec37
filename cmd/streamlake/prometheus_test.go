package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// prometheusBin is the Prometheus server the scrape test runs; `make test`
// installs it (apt-get install prometheus).
const prometheusBin = "/usr/bin/prometheus"

// TestPrometheusScrapesRun is issue 7's acceptance path with a real
// Prometheus: `streamlake broker`, `streamlake produce`, `streamlake run`
// serving /metrics, and Prometheus scraping it every second; PromQL over
// what Prometheus stored must count every produced record.
func TestPrometheusScrapesRun(t *testing.T) {
	if _, err := os.Stat(prometheusBin); err != nil {
		t.Fatalf("Prometheus (%s) is not installed: run `make test`, which installs it (apt-get install -y prometheus): %v", prometheusBin, err)
	}
	const records, bad = 2000, 7
	dir := t.TempDir()
	addr, _, _ := startBroker(t, filepath.Join(dir, "broker"))
	if got := inDir(t, dir, "produce", "--brokers", addr, "--topic", "sensors", "--dataset", "sensors",
		"--records", strconv.Itoa(records)); !bytes.Contains([]byte(got), []byte("produced 2000 records")) {
		t.Fatalf("produce printed %q", got)
	}
	produceBad(t, addr, "sensors", bad) // dead letters, counted apart from the rows

	metricsAddr := freePort(t)
	run := exec.Command(bin, "run", "--brokers", addr, "--topics", "sensors", "--metrics-listen", metricsAddr,
		"--data-dir", filepath.Join(dir, "run"), "--log-level", "warn")
	var runErr bytes.Buffer
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- run.Wait() }()
	t.Cleanup(func() {
		run.Process.Kill()
		<-runDone
	})

	promAddr := startPrometheus(t, t.TempDir(), "streamlake", metricsAddr)
	// Each query is polled until it answers the exact value: the run needs a
	// flush and an ETL pass, Prometheus a scrape after them.
	expect := []struct {
		query string
		want  float64
	}{
		{`up{job="streamlake"}`, 1},
		{`sum(streamlake_etl_rows_committed_total{table="sensors"})`, records},
		{`sum(streamlake_ingest_records_total{topic="sensors"})`, records + bad},
		{`sum(streamlake_etl_dead_letter_rows_total{table="sensors"})`, bad},
		{`count(streamlake_ingest_consumer_lag{topic="sensors"})`, 4}, // the broker's default 4 partitions
		{`sum(streamlake_ingest_consumer_lag{topic="sensors"})`, 0},
	}
	start := time.Now()
	deadline := start.Add(40 * time.Second)
	for _, e := range expect {
		var got string
		for {
			v, err := promQuery(promAddr, e.query)
			got = fmt.Sprint(v, err)
			if err == nil && v == e.want {
				t.Logf("%s = %v after %s", e.query, v, time.Since(start).Round(time.Millisecond))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("PromQL %s = %s, want %v\nrun stderr:\n%s", e.query, got, e.want, runErr.String())
			}
			select {
			case err := <-runDone:
				t.Fatalf("streamlake run exited early: %v\n%s", err, runErr.String())
			case <-time.After(250 * time.Millisecond):
			}
		}
	}

	// The run stops cleanly on SIGTERM.
	run.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-runDone:
		runDone <- err // for the cleanup
		if err != nil {
			t.Fatalf("run exit on SIGTERM: %v\n%s", err, runErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not exit within 20s of SIGTERM\n%s", runErr.String())
	}
}

// startPrometheus runs a Prometheus server with its config and data in dir,
// scraping target every second as job, and returns its address once its
// HTTP API answers. It is killed when the test ends.
func startPrometheus(t *testing.T, dir, job, target string) string {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	err := os.WriteFile(cfg, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: ['%s']
`, job, target), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(prometheusBin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// promQuery evaluates an instant PromQL query that must return exactly one
// sample and returns its value.
func promQuery(addr, query string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("status %s: %s", body.Status, body.Error)
	}
	if body.Data.ResultType != "vector" || len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("%d %s samples, want one", len(body.Data.Result), body.Data.ResultType)
	}
	s, ok := body.Data.Result[0].Value[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", body.Data.Result[0].Value[1])
	}
	return strconv.ParseFloat(s, 64)
}

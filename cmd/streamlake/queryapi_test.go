package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/query"
)

// apiClient talks to the query API of streamlake serve or run.
type apiClient struct {
	t    *testing.T
	base string
}

// do sends a request and decodes the JSON answer into v (if not nil).
func (c apiClient) do(method, path string, body any, v any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("%s %s: %s: %v\n%s", method, path, resp.Status, err, b)
		}
	}
	return resp.StatusCode
}

func (c apiClient) start(sql, workgroup string) string {
	c.t.Helper()
	var out struct{ ID string }
	if st := c.do("POST", "/v1/queries", map[string]string{"sql": sql, "workgroup": workgroup}, &out); st != http.StatusAccepted || out.ID == "" {
		c.t.Fatalf("start %q: %d %+v", sql, st, out)
	}
	return out.ID
}

// wait polls an execution until it is in one of states.
func (c apiClient) wait(id string, states ...query.State) query.Execution {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var x query.Execution
		if st := c.do("GET", "/v1/queries/"+id, nil, &x); st != http.StatusOK {
			c.t.Fatalf("get %s: %d", id, st)
		}
		if slices.Contains(states, x.State) {
			return x
		}
		if x.State.Terminal() || time.Now().After(deadline) {
			c.t.Fatalf("execution %s is %s, want %v: %+v", id, x.State, states, x)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDaemon starts a long-running streamlake command on the lake and
// waits until addr answers /healthz.
func (l *lake) startDaemon(addr string, args ...string) (*exec.Cmd, *syncBuffer) {
	l.t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", l.dir, "--config", l.cfg, "--log-level", "warn")...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, &stderr
			}
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("streamlake %s: no /healthz at %s: %v\n%s", args[0], addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGINT and expects a clean exit.
func stop(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) {
	t.Helper()
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd.Args[1], err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop on SIGINT", cmd.Args[1])
	}
}

// TestQueryAPI drives the HTTP API of streamlake serve and of streamlake
// run: start, poll, paged results, list, refusals, cancel over HTTP and with
// streamlake queries cancel, and what shutdown does to a running query.
func TestQueryAPI(t *testing.T) {
	l := newLake(t)
	addr := freePort(t)
	serve, serveErr := l.startDaemon(addr, "serve", "--listen", addr)
	c := apiClient{t: t, base: "http://" + addr}

	const sites = "SELECT site, count(*) AS n FROM lake.sensors GROUP BY site ORDER BY site"
	id := c.start(sites, "adhoc")
	x := c.wait(id, query.Succeeded)
	if x.Workgroup != "adhoc" || x.Statistics.RowsReturned < 3 || x.Statistics.FilesScanned == 0 {
		t.Fatalf("execution: %+v", x)
	}
	// Two pages hold what streamlake query prints.
	var p1, p2 query.ResultPage
	if st := c.do("GET", "/v1/queries/"+id+"/results?limit=2", nil, &p1); st != http.StatusOK || len(p1.Rows) != 2 || p1.NextOffset != 2 || p1.Total != x.Statistics.RowsReturned {
		t.Fatalf("page 1: %d %+v", st, p1)
	}
	c.do("GET", "/v1/queries/"+id+"/results?offset=2&limit=1000", nil, &p2)
	if p2.NextOffset != 0 || p2.Offset != 2 || len(p1.Rows)+len(p2.Rows) != int(p1.Total) {
		t.Fatalf("page 2: %+v", p2)
	}
	got := []string{p1.Columns[0].Name + "," + p1.Columns[1].Name}
	for _, r := range append(p1.Rows, p2.Rows...) {
		got = append(got, *r[0]+","+*r[1])
	}
	if want := strings.Split(strings.TrimSpace(l.ok("", "query", "--format", "csv", sites)), "\n"); !slices.Equal(got, want) {
		t.Fatalf("API results %q, query printed %q", got, want)
	}
	var list struct{ Executions []query.Execution }
	if c.do("GET", "/v1/queries?workgroup=adhoc", nil, &list); len(list.Executions) != 1 || list.Executions[0].ID != id {
		t.Fatalf("list: %+v", list)
	}
	if st := c.do("GET", "/v1/queries/no-such-id", nil, nil); st != http.StatusNotFound {
		t.Fatalf("unknown execution: %d", st)
	}

	// The bytes-scanned limit of workgroup tiny refuses the query.
	x = c.wait(c.start("SELECT count(id) FROM lake.sensors", "tiny"), query.Failed)
	if x.Error == nil || x.Error.Category != query.CategoryUser || !strings.Contains(x.Error.Message, "bytes-scanned limit") {
		t.Fatalf("refused: %+v", x)
	}

	// Cancel over HTTP.
	long := c.start(longSQL, "")
	c.wait(long, query.Running)
	if st := c.do("POST", "/v1/queries/"+long+"/cancel", nil, &x); st != http.StatusOK || x.State != query.Cancelled {
		t.Fatalf("cancel: %d %+v", st, x)
	}

	// streamlake queries cancel reaches the serve that runs the query only
	// when told where it is (serve listens on a port of the test's).
	long = c.start(longSQL, "")
	c.wait(long, query.Running)
	if msg := l.fails("", "queries", "cancel", long); !strings.Contains(msg, "execution is run by another process") {
		t.Fatalf("cancel without --api: %q", msg)
	}
	start := time.Now()
	if out := l.ok("", "queries", "cancel", long, "--api", addr); out != "execution "+long+" CANCELLED\n" {
		t.Fatalf("queries cancel: %q", out)
	}
	if x := l.show(long); x.State != query.Cancelled || x.StateReason != "cancelled by request" || time.Since(start) > 20*time.Second {
		t.Fatalf("after queries cancel (%s): %+v", time.Since(start), x)
	}
	if out := l.ok("", "queries", "cancel", long); out != "execution "+long+" is already CANCELLED\n" {
		t.Fatalf("cancel of a cancelled execution: %q", out)
	}

	// A query still running when serve stops ends FAILED (SYSTEM).
	long = c.start(longSQL, "")
	c.wait(long, query.Running)
	stop(t, serve, serveErr)
	if x := l.show(long); x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategorySystem ||
		!strings.Contains(x.Error.Message, "the query service stopped") {
		t.Fatalf("after serve stopped: %+v", x)
	}

	// streamlake run serves the same API beside /v1/status and /metrics,
	// and queries cancel finds it at metrics.listen.
	run, runErr := l.startDaemon(l.metrics, "run")
	c = apiClient{t: t, base: "http://" + l.metrics}
	if st := c.do("GET", "/v1/status", nil, &map[string]any{}); st != http.StatusOK {
		t.Fatalf("run /v1/status: %d", st)
	}
	var named struct {
		NamedQueries []query.NamedQuery `json:"named_queries"`
	}
	if st := c.do("GET", "/v1/named-queries", nil, &named); st != http.StatusOK || named.NamedQueries == nil {
		t.Fatalf("run /v1/named-queries: %d %+v", st, named)
	}
	id = c.start("SELECT count(*) AS n FROM lake.sensors", "")
	c.wait(id, query.Succeeded)
	var page query.ResultPage
	if c.do("GET", "/v1/queries/"+id+"/results", nil, &page); len(page.Rows) != 1 || *page.Rows[0][0] != "2000" {
		t.Fatalf("run results: %+v", page)
	}
	long = c.start(longSQL, "")
	c.wait(long, query.Running)
	if out := l.ok("", "queries", "cancel", long); out != "execution "+long+" CANCELLED\n" {
		t.Fatalf("queries cancel via run: %q", out)
	}
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `streamlake_query_executions_total{state="CANCELLED",workgroup="primary"} 1`) {
		t.Fatalf("run /metrics has no query executions:\n%s", metrics)
	}
	stop(t, run, runErr)
}

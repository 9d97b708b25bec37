package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/query"
)

// longSQL runs for many minutes unless cancelled.
const longSQL = "SELECT count(*) FROM range(1000000000000)"

// lake is a data directory with lake.sensors (2000 rows) and a config with
// workgroups adhoc and tiny (a 1000-byte bytes-scanned limit).
type lake struct {
	t        *testing.T
	dir, cfg string
	metrics  string // metrics.listen of streamlake run
}

func newLake(t *testing.T) *lake {
	t.Helper()
	l := &lake{t: t, dir: t.TempDir(), metrics: freePort(t)}
	l.cfg = filepath.Join(l.dir, "streamlake.yml")
	yml := fmt.Sprintf(`metrics:
  listen: %s
kafka:
  listen: %s
workgroups:
  - name: adhoc
  - name: tiny
    bytes_scanned_limit: 1000
`, l.metrics, freePort(t))
	if err := os.WriteFile(l.cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := l.ok("", "demo", "--records", "2000"); !strings.Contains(out, "OK: the lake row count equals the produced count") {
		t.Fatalf("demo:\n%s", out)
	}
	return l
}

// sl runs the binary on the lake with stdin and returns its output.
func (l *lake) sl(stdin string, args ...string) (stdout, stderr string, err error) {
	l.t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", l.dir, "--config", l.cfg)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// ok is sl that fails the test on an error.
func (l *lake) ok(stdin string, args ...string) string {
	l.t.Helper()
	out, stderr, err := l.sl(stdin, args...)
	if err != nil {
		l.t.Fatalf("streamlake %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// fails is sl that expects exit status 1 with one line on stderr, which
// it returns.
func (l *lake) fails(stdin string, args ...string) string {
	l.t.Helper()
	_, stderr, err := l.sl(stdin, args...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		l.t.Fatalf("streamlake %s: want exit status 1, got %v\n%s", strings.Join(args, " "), err, stderr)
	}
	msg := strings.TrimRight(stderr, "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "streamlake: ") {
		l.t.Fatalf("streamlake %s: stderr is not one line:\n%s", strings.Join(args, " "), stderr)
	}
	return msg
}

func (l *lake) show(id string) query.Execution {
	l.t.Helper()
	var x query.Execution
	if err := json.Unmarshal([]byte(l.ok("", "queries", "show", id, "--format", "json")), &x); err != nil {
		l.t.Fatal(err)
	}
	return x
}

// TestQueryCLI covers streamlake query (workgroups, the bytes-scanned
// limit, statistics), queries list/show/results with paging, and sql fed
// from standard input.
func TestQueryCLI(t *testing.T) {
	l := newLake(t)

	// query runs as an execution of the workgroup; --stats names it.
	out, stderr, err := l.sl("", "query", "--workgroup", "adhoc", "--stats", "--format", "csv", "SELECT id FROM lake.sensors ORDER BY id")
	if err != nil {
		t.Fatalf("query: %v\n%s", err, stderr)
	}
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(rows) != 2001 || rows[0] != "id" {
		t.Fatalf("query printed %d lines, first %q", len(rows), rows[0])
	}
	m := regexp.MustCompile(`^execution (\S+) SUCCEEDED in \d+ ms, (\d+) files?, ([0-9.]+ [kMG]?B) scanned\n$`).FindStringSubmatch(stderr)
	if m == nil || m[2] == "0" || m[3] == "0 B" {
		t.Fatalf("stats line: %q", stderr)
	}
	id := m[1]
	// Without --stats and a terminal, stderr stays empty.
	if _, stderr, _ := l.sl("", "query", "SELECT 1"); stderr != "" {
		t.Fatalf("query wrote on a non-terminal stderr: %q", stderr)
	}

	// The execution is in the history, with its statistics.
	x := l.show(id)
	if x.State != query.Succeeded || x.Workgroup != "adhoc" || x.Statistics.RowsReturned != 2000 || x.Statistics.BytesScanned == 0 {
		t.Fatalf("show: %+v", x)
	}
	if csv := l.ok("", "queries", "show", id, "--format", "csv"); !strings.Contains(csv, "\nstate,SUCCEEDED\n") || !strings.Contains(csv, "\nrows_returned,2000\n") {
		t.Fatalf("show csv:\n%s", csv)
	}
	var list []query.Execution
	if err := json.Unmarshal([]byte(l.ok("", "queries", "list", "--workgroup", "adhoc", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != id {
		t.Fatalf("list --workgroup adhoc: %+v", list)
	}

	// Saved results page; all of them print what query printed.
	if got := l.ok("", "queries", "results", id, "--format", "csv"); got != out {
		t.Fatalf("results differ from the query's output")
	}
	page := strings.Split(strings.TrimSuffix(l.ok("", "queries", "results", id, "--offset", "10", "--limit", "5", "--format", "csv"), "\n"), "\n")
	if want := append([]string{"id"}, rows[11:16]...); !slices.Equal(page, want) {
		t.Fatalf("page 10+5:\n%q\nwant\n%q", page, want)
	}
	if tail := l.ok("", "queries", "results", id, "--offset", "1998", "--format", "csv"); tail != "id\n"+rows[1999]+"\n"+rows[2000]+"\n" {
		t.Fatalf("last page: %q", tail)
	}

	// Over the workgroup's bytes-scanned limit: refused before it runs.
	msg := l.fails("", "query", "--workgroup", "tiny", "SELECT count(id) FROM lake.sensors")
	refused := regexp.MustCompile(`^streamlake: query (\S+) FAILED \(USER\): .*bytes-scanned limit exceeded.*workgroup tiny`).FindStringSubmatch(msg)
	if refused == nil {
		t.Fatalf("refusal: %q", msg)
	}
	x = l.show(refused[1])
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser || !x.Started.IsZero() {
		t.Fatalf("refused execution: %+v", x)
	}
	if tbl := l.ok("", "queries", "show", refused[1]); !regexp.MustCompile(`(?m)^ error_category +\| USER$`).MatchString(tbl) ||
		!regexp.MustCompile(`(?m)^ state +\| FAILED$`).MatchString(tbl) {
		t.Fatalf("show table:\n%s", tbl)
	}
	if err := l.fails("", "queries", "results", refused[1]); !strings.Contains(err, "execution has no results: it is FAILED") {
		t.Fatalf("results of a failed execution: %q", err)
	}
	if err := l.fails("", "queries", "list", "--state", "bogus"); !strings.Contains(err, "--state") {
		t.Fatalf("list --state bogus: %q", err)
	}
	var failed []query.Execution
	json.Unmarshal([]byte(l.ok("", "queries", "list", "--state", "failed", "--format", "json")), &failed)
	if len(failed) != 1 || failed[0].ID != refused[1] {
		t.Fatalf("list --state failed: %+v", failed)
	}

	// sql reads statements from stdin: one spans lines (with a comment
	// holding a ';'), two share a line, the last has no ';'.
	multi := "SELECT site,\n  count(*) AS n -- per site; not the end\nFROM lake.sensors\nGROUP BY site ORDER BY site LIMIT 2;\n"
	script := multi + "\\format json\nSELECT 'a;b' AS s; SELECT 2 AS two\n"
	want := l.ok("", "query", strings.TrimSuffix(strings.TrimSpace(multi), ";")) + "\n" +
		l.ok("", "query", "--format", "json", "SELECT 'a;b' AS s") + l.ok("", "query", "--format", "json", "SELECT 2 AS two")
	if got := l.ok(script, "sql"); got != want {
		t.Fatalf("sql printed\n%s\nwant\n%s", got, want)
	}
	var recent []query.Execution
	json.Unmarshal([]byte(l.ok("", "queries", "list", "--limit", "3", "--format", "json")), &recent)
	if len(recent) != 3 || recent[0].SQL != "SELECT 2 AS two" || recent[1].SQL != "SELECT 'a;b' AS s" || !strings.HasPrefix(recent[2].SQL, "SELECT site,\n") {
		t.Fatalf("the history does not hold sql's three statements: %+v", recent)
	}
	// \l, \dt and \d stand for SHOW DATABASES, SHOW TABLES and DESCRIBE.
	want = l.ok("", "query", "--format", "csv", "SHOW DATABASES") + l.ok("", "query", "--format", "csv", "SHOW TABLES IN lake") +
		l.ok("", "query", "--format", "csv", "DESCRIBE lake.sensors")
	if got := l.ok("\\l\n\\dt lake\n\\d lake.sensors\n", "sql", "--format", "csv"); got != want || !strings.Contains(got, "tab_name\nsensors\n") {
		t.Fatalf("sql \\l, \\dt, \\d printed\n%s\nwant\n%s", got, want)
	}
	// A failing statement does not stop the others; the exit status says so.
	out, stderr, err = l.sl("SELECT nope;\n\\bogus\nSELECT 3 AS three;\n", "sql", "--format", "csv")
	if err == nil || out != "three\n3\n" || !strings.Contains(stderr, "FAILED (USER)") || !strings.Contains(stderr, "1 of 2 statements failed") ||
		!strings.Contains(stderr, `unknown command \bogus (\? for help)`) {
		t.Fatalf("sql with a failing statement and an unknown backslash command: %v\n%s\n%s", err, out, stderr)
	}

	// SIGINT (Ctrl-C) stops streamlake query and cancels its execution.
	q := exec.Command(bin, "query", longSQL, "--data-dir", l.dir, "--config", l.cfg)
	var qerr syncBuffer
	q.Stderr = &qerr
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Process.Kill() })
	var running []query.Execution
	for deadline := time.Now().Add(30 * time.Second); len(running) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the query never ran: %s", qerr.String())
		}
		json.Unmarshal([]byte(l.ok("", "queries", "list", "--state", "running", "--format", "json")), &running)
	}
	q.Process.Signal(os.Interrupt)
	var ee *exec.ExitError
	if err := q.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("query after SIGINT: %v, want exit status 130\n%s", err, qerr.String())
	}
	if x := l.show(running[0].ID); x.State != query.Cancelled || x.SQL != longSQL {
		t.Fatalf("after SIGINT: %+v", x)
	}
}

// TestSQLShellOnTerminal runs streamlake sql on a pseudo-terminal (script
// from util-linux): continuation prompt, statistics, the progress line of a
// long query, Ctrl-C cancelling it without leaving the shell, and history.
func TestSQLShellOnTerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script (util-linux) is not installed")
	}
	dir := t.TempDir()
	in, feed := ioPipe(t)
	// script runs the command through $SHELL -c; exec replaces that shell, so
	// Ctrl-C reaches streamlake alone (dash, unlike bash, dies of the SIGINT
	// and script then exits 130 while the shell goes on).
	cmd := exec.Command(scriptBin, "-qec", fmt.Sprintf("exec %s sql --data-dir %s", bin, dir), "/dev/null")
	cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
	cmd.Stdin = in
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	feed("SELECT 40 + 2\n  AS answer;\n")
	waitFor(t, &out, "SUCCEEDED in")
	feed(longSQL + ";\n")
	waitFor(t, &out, " RUNNING ") // the progress line
	feed("\x03")                  // Ctrl-C
	waitFor(t, &out, "CANCELLED: cancelled by request")
	feed("\\q\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sql: %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("sql did not quit on \\q:\n%s", out.String())
	}
	s := out.String()
	if !strings.Contains(s, "  -> ") || !regexp.MustCompile(`(?m)^ +42\r?$`).MatchString(s) {
		t.Fatalf("no continuation prompt or result:\n%s", s)
	}
	hist, err := os.ReadFile(filepath.Join(dir, "sql_history"))
	if err != nil || string(hist) != "SELECT 40 + 2 AS answer;\n"+longSQL+";\n" {
		t.Fatalf("history %q: %v", hist, err)
	}
}

// ioPipe is a stdin whose content the test writes as it goes.
func ioPipe(t *testing.T) (*os.File, func(string)) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); r.Close() })
	return r, func(s string) {
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor waits until buf (written by a process) contains s.
func waitFor(t *testing.T, buf *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(buf.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", s, buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

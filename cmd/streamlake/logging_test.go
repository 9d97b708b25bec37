package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/config"
)

// TestLoggerFormat checks the handler newLogger picks: log.format when set,
// otherwise JSON off a terminal (a buffer, a file: what a log collector
// reads), and the level filter.
func TestLoggerFormat(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := logFormat(f, ""); got != "json" {
		t.Errorf("unset format on a file: %s, want json", got)
	}
	if got := logFormat(f, "text"); got != "text" {
		t.Errorf("log.format text on a file: %s, want text", got)
	}
	cases := []struct {
		format, level string
		want          string // the line newLogger writes for Info("hello", "n", 1, "took", 1.5s), "" for none
	}{
		{"", "info", `"msg":"hello","n":1,"took":"1.5s"}`},
		{"json", "debug", `"msg":"hello","n":1,"took":"1.5s"}`},
		{"text", "info", `level=INFO msg=hello n=1 took=1.5s`},
		{"", "warn", ""},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		newLogger(&buf, config.Log{Level: c.level, Format: c.format}).Info("hello", "n", 1, "took", 1500*time.Millisecond)
		if got := strings.TrimSpace(buf.String()); c.want == "" && got != "" || !strings.HasSuffix(got, c.want) {
			t.Errorf("format %q level %s: wrote %q, want a line ending %q", c.format, c.level, got, c.want)
		}
	}
}

// TestLoggerRedactsURIPasswords logs a URI and an error that hold passwords
// and checks the logger writes neither password.
func TestLoggerRedactsURIPasswords(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, config.Log{Level: "debug", Format: "json"})
	err := fmt.Errorf("catalog: dial postgres://alice:pg-s3cret@db:5432/lake?sslmode=disable&password=pg-s3cret: %w", errors.New("refused"))
	log.Error("open failed", "stage", "etl", "uri", "s3://AKIA:s3-s3cret@bucket/x", "err", err)
	out := buf.String()
	if strings.Contains(out, "s3cret") {
		t.Fatalf("the log shows a password:\n%s", out)
	}
	for _, want := range []string{`"uri":"s3://AKIA:xxxxx@bucket/x"`, "postgres://alice:xxxxx@db:5432/lake", "password=xxxxx", "refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %s:\n%s", want, out)
		}
	}
}

// TestSecretsNeverLogged runs the binary at debug level with a config that
// holds a SASL password, a PostgreSQL catalog URI with a password, an S3
// staging URL with keys and a webhook URL with a token, in runs that fail
// (unreachable catalog, unparsable catalog URI, a staging bucket that does
// not open, unreachable broker, a broker that refuses SASL)
// and one that succeeds, and checks that no secret appears on stdout or
// stderr, while the logs are JSON and the errors still name what failed.
func TestSecretsNeverLogged(t *testing.T) {
	const saslPassword, pgPassword, hookToken, s3Secret = "sasl-pa55word", "pg-s3cret", "hook-tok3n", "s3-s3cret-key"
	dir := t.TempDir()
	writeConfig := func(name, catalogURI string, more ...string) string {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, "kafka:\n  sasl: {mechanism: PLAIN, username: alice, password: %s}\n", saslPassword)
		fmt.Fprintf(&b, "monitor:\n  webhooks: [\"https://hooks.example/services/T0/B0/%s?token=%s\"]\n", hookToken, hookToken)
		if catalogURI != "" {
			fmt.Fprintf(&b, "catalog:\n  uri: %q\n", catalogURI)
		}
		for _, m := range more {
			b.WriteString(m + "\n")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pg := writeConfig("pg.yml", "postgres://alice:"+pgPassword+"@127.0.0.1:1/lake?sslmode=disable&connect_timeout=2")
	pgBadPort := writeConfig("pgbad.yml", "postgres://alice:"+pgPassword+"@127.0.0.1:notaport/lake")
	sqlite := writeConfig("sqlite.yml", "")
	s3 := writeConfig("s3.yml", "", fmt.Sprintf("storage:\n  staging_url: \"s3://AKIAEXAMPLE:%s@staging/x?secret_access_key=%s\"", s3Secret, s3Secret))
	brokerAddr, _, _ := startBroker(t, filepath.Join(dir, "broker"))

	// The idle run leaves --log-format unset: stderr is a pipe, so JSON.
	debug := []string{"--log-level", "debug", "--data-dir", filepath.Join(dir, "data")}
	cases := []struct {
		name string
		args []string
		ok   bool   // the command succeeds
		want string // stderr says this
		env  string
	}{
		{"unreachable catalog", []string{"run", "--log-format", "json", "--config", pg, "--brokers", "127.0.0.1:1", "--metrics-listen", ""}, false, "postgres://alice:xxxxx@127.0.0.1:1/lake", ""},
		{"unparsable catalog URI", []string{"run", "--log-format", "json", "--config", pgBadPort, "--brokers", "127.0.0.1:1", "--metrics-listen", ""}, false, `invalid port ":notaport"`, ""},
		{"query on an unreachable catalog", []string{"query", "--log-format", "json", "--config", pg, "SELECT 1"}, false, "postgres://alice:xxxxx@127.0.0.1:1/lake", ""},
		{"unreachable broker", []string{"run", "--log-format", "json", "--config", sqlite, "--brokers", "127.0.0.1:1", "--metrics-listen", ""}, false, "127.0.0.1:1 unreachable", ""},
		{"staging URL with credentials", []string{"run", "--log-format", "json", "--config", s3, "--brokers", "127.0.0.1:1", "--metrics-listen", ""}, false, "s3://xxxxx@staging/x", ""},
		{"broker refuses SASL", []string{"run", "--log-format", "json", "--config", sqlite, "--brokers", brokerAddr, "--metrics-listen", ""}, false, brokerAddr + " unreachable", ""},
		{"idle run on the embedded broker", []string{"run", "--config", sqlite, "--exit-when-idle", "--metrics-listen", "", "--group", "g"}, true, `"msg":"idle`,
			"STREAMLAKE_KAFKA_LISTEN=" + freePort(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(c.args, debug...)...)
			if c.env != "" {
				cmd.Env = append(os.Environ(), c.env)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if c.ok != (err == nil) {
				t.Fatalf("exit: %v, want success %v\n%s", err, c.ok, stderr.String())
			}
			all := stdout.String() + stderr.String()
			for _, secret := range []string{saslPassword, pgPassword, hookToken, s3Secret} {
				if strings.Contains(all, secret) {
					t.Errorf("output shows the secret %q:\n%s", secret, all)
				}
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, stderr.String())
			}
			// Every line but the final error is a JSON log record.
			logged := 0
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if line == "" || strings.HasPrefix(line, "streamlake: ") {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil {
					t.Errorf("stderr line is not a JSON log record: %s", line)
				}
				logged++
			}
			if c.ok && logged == 0 {
				t.Error("a debug run logged nothing")
			}
		})
	}
}

// TestErrorLogsNameStageAndObject reads every non-test Go file of
// cmd/streamlake and internal/ and checks that each warning and error log
// call names its stage ("stage" key) and at least one object beside the
// error. The monitor, query and server packages are exempt from the stage
// key only: their loggers come scoped (With("stage", ...)) from the wiring.
func TestErrorLogsNameStageAndObject(t *testing.T) {
	scoped := map[string]bool{"monitor": true, "query": true, "server": true}
	// Messages whose object is the process's one instance of a part.
	single := map[string]bool{
		"query service close":   true, // the error names each execution it could not save
		"monitor gather failed": true, // the process's own metrics registry
	}
	fset := token.NewFileSet()
	calls := 0
	for _, root := range []string{".", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Error" && sel.Sel.Name != "Warn") || !isLogger(sel.X) || len(call.Args) == 0 {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true // not a log/slog call (t.Error, fmt-style)
				}
				calls++
				msg, _ := strconv.Unquote(lit.Value)
				if call.Ellipsis.IsValid() {
					return true // attributes built elsewhere (monitor's alarm log)
				}
				keys := map[string]bool{}
				for i := 1; i < len(call.Args); i += 2 {
					if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						k, _ := strconv.Unquote(lit.Value)
						keys[k] = true
					}
				}
				pos := fset.Position(call.Pos())
				if !keys["stage"] && !scoped[f.Name.Name] {
					t.Errorf("%s: %s log without a stage", pos, sel.Sel.Name)
				}
				delete(keys, "stage")
				delete(keys, "err")
				if len(keys) == 0 && !single[msg] {
					t.Errorf("%s: %s log names no object", pos, sel.Sel.Name)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d warning and error log calls checked", calls)
	if calls < 20 {
		t.Fatalf("found %d warning and error log calls, want the 20 or more the code has", calls)
	}
}

// isLogger reports whether x names a logger: log, logger, or a field of
// that name.
func isLogger(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.Ident:
		return x.Name == "log" || x.Name == "logger"
	case *ast.SelectorExpr:
		return x.Sel.Name == "log" || x.Sel.Name == "logger"
	}
	return false
}

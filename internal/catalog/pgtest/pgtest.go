// Package pgtest starts a real, throw-away PostgreSQL server for tests.
//
// StartPostgres runs the server binaries of the local PostgreSQL
// installation (/usr/lib/postgresql/<version>/bin, installed by `make test`
// through apt) in a temporary directory: the data directory, the unix
// socket and the log live there, the server listens only on 127.0.0.1 on a
// free port, runs with fsync off, and is stopped and removed when the test
// ends. When the process runs as root the server runs as the `postgres` OS
// user, because initdb refuses root.
//
// A missing installation fails the test; it never skips.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// BinGlob is where the PostgreSQL server binaries are looked for.
const BinGlob = "/usr/lib/postgresql/*/bin"

// Server is a running PostgreSQL server.
type Server struct {
	// DSN connects as the superuser to database "postgres".
	DSN string
	dbs atomic.Int64
}

// StartPostgres starts a server that lives as long as t and returns its DSN
// (postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable).
func StartPostgres(t testing.TB) string {
	return Start(t).DSN
}

// Start starts a server that lives as long as t.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := FindBin()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// os.MkdirTemp makes 0700 directories; the server's user must reach it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := runner(t, dir)

	start := time.Now()
	data := filepath.Join(dir, "data")
	if err := initData(bin, data, run); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1", "-p " + strconv.Itoa(port), "-k " + dir,
		"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
		"-c max_connections=200", "-c shared_buffers=32MB",
	}, " ")
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", logFile,
		"-w", "-t", "30", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		os.RemoveAll(templateDir(bin)) // a broken template is rebuilt by the next run
		t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
		}
	})
	t.Logf("pgtest: PostgreSQL %s on 127.0.0.1:%d started in %v", filepath.Base(filepath.Dir(bin)), port, time.Since(start).Round(time.Millisecond))
	return &Server{DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
}

// NewDatabase creates an empty database on the server and returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	db, err := sql.Open("pgx", s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	u, err := url.Parse(s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// FindBin returns the bin directory of the newest PostgreSQL installed
// under BinGlob, or an error saying how to install one.
func FindBin() (string, error) { return findBin(BinGlob) }

func findBin(glob string) (string, error) {
	dirs, _ := filepath.Glob(glob)
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("pgtest: no PostgreSQL server binaries (initdb, pg_ctl) in %s; `make test` installs them (apt-get install -y postgresql)", glob)
	}
	slices.SortFunc(found, func(a, b string) int { return majorOf(a) - majorOf(b) })
	return found[len(found)-1], nil
}

func majorOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

// runner returns a command maker that runs as the postgres OS user when the
// test runs as root, after giving that user dir.
func runner(t testing.TB, dir string) func(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return func(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("pgtest: running as root needs the postgres OS user (installed with the postgresql package): %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		cmd.Dir = dir
		return cmd
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// initData makes a fresh cluster in data. initdb takes seconds on a busy
// machine, so the first run keeps a copy of its result in the user's cache
// directory (one per installed version) and later runs copy that.
func initData(bin, data string, run func(string, ...string) *exec.Cmd) error {
	tmpl := templateDir(bin)
	if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
		if out, err := exec.Command("cp", "-a", tmpl, data).CombinedOutput(); err == nil {
			return nil
		} else {
			os.RemoveAll(data)
			log.Printf("pgtest: copy of template cluster %s failed, running initdb: %v: %s", tmpl, err, out)
		}
	}
	if out, err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// Best effort: publish the template atomically; a concurrent run may win.
	if err := os.MkdirAll(filepath.Dir(tmpl), 0o755); err != nil {
		return nil
	}
	staging, err := os.MkdirTemp(filepath.Dir(tmpl), "tmp-")
	if err != nil {
		return nil
	}
	defer os.RemoveAll(staging)
	if err := exec.Command("cp", "-a", data, filepath.Join(staging, "data")).Run(); err == nil {
		_ = os.Rename(filepath.Join(staging, "data"), tmpl)
	}
	return nil
}

// templateDir is the cached cluster for the installation in bin, keyed by
// its version and initdb's size and modification time.
func templateDir(bin string) string {
	key := filepath.Base(filepath.Dir(bin))
	if fi, err := os.Stat(filepath.Join(bin, "initdb")); err == nil {
		key += fmt.Sprintf("-%d-%d", fi.Size(), fi.ModTime().Unix())
	}
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	return filepath.Join(root, "streamlake-pgtest", key)
}

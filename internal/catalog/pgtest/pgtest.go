// Package pgtest starts a real, throw-away PostgreSQL server for tests.
//
// Start runs the server binaries of the newest local PostgreSQL
// installation (/usr/lib/postgresql/<version>/bin, installed by `make test`
// through apt) in a temporary directory: the data directory, the unix
// socket and the log live there, the server listens only on 127.0.0.1 on a
// free port, runs with fsync off, and is stopped and removed when the test
// ends. The postmaster is a child of the test process and gets SIGQUIT if
// that process dies, so a killed test leaves no server running. When the
// test runs as root, initdb and the server run as the `postgres` OS user,
// because both refuse root. The first run keeps an initdb'd cluster in the
// user cache directory and later runs copy it, so a start takes about a
// second instead of initdb's several.
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
	"syscall"
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
	var (
		port int
		errs []string
	)
	for attempt := 0; ; attempt++ {
		port, err = freePort()
		if err != nil {
			t.Fatal(err)
		}
		stop, err := serve(t, bin, dir, data, port, run)
		if err == nil {
			t.Cleanup(stop)
			break
		}
		errs = append(errs, err.Error())
		if attempt == 2 {
			os.RemoveAll(templateDir(bin)) // in case the template is broken: the next run rebuilds it
			t.Fatalf("pgtest: PostgreSQL did not start:\n%s", strings.Join(errs, "\n"))
		}
	}
	t.Logf("pgtest: PostgreSQL %s on 127.0.0.1:%d started in %v", filepath.Base(filepath.Dir(bin)), port, time.Since(start).Round(time.Millisecond))
	return &Server{DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
}

// serve runs the postmaster on data as a child process and waits until it
// accepts connections. The child gets SIGQUIT (immediate shutdown) when the
// test process dies, so a killed test leaves no server behind; stop shuts
// it down.
func serve(t testing.TB, bin, dir, data string, port int, run func(string, ...string) *exec.Cmd) (stop func(), err error) {
	logFile := filepath.Join(dir, "postgres.log")
	logOut, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer logOut.Close()
	cmd := run(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logOut, logOut
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		stop()
		return nil, err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile)
			return nil, fmt.Errorf("postgres exited: %v\n%s", err, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logFile)
			return nil, fmt.Errorf("postgres not ready after 30s: %v\n%s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
// test runs as root (initdb and postgres refuse root), after giving that
// user dir.
func runner(t testing.TB, dir string) func(name string, args ...string) *exec.Cmd {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres OS user (installed with the postgresql package): %v", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		if err := os.Chown(dir, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
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

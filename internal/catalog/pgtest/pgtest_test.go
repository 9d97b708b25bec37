package pgtest

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartPostgres(t *testing.T) {
	s := Start(t)
	db, err := sql.Open("pgx", s.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var (
		one  int
		name string
	)
	if err := db.QueryRowContext(t.Context(), "SELECT 1, current_database()").Scan(&one, &name); err != nil || one != 1 || name != "test_1" {
		t.Fatalf("SELECT 1, current_database() = %d, %q, %v", one, name, err)
	}
}

func TestFindBin(t *testing.T) {
	root := t.TempDir()
	glob := filepath.Join(root, "*", "bin")
	_, err := findBin(glob)
	if err == nil || !strings.Contains(err.Error(), "`make test` installs them") {
		t.Errorf("findBin with nothing installed = %v, want an error saying `make test` installs them", err)
	}
	for _, v := range []string{"9", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "initdb"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "16", "bin"), 0o755); err != nil { // client only, no initdb
		t.Fatal(err)
	}
	if got, err := findBin(glob); err != nil || got != filepath.Join(root, "15", "bin") {
		t.Errorf("findBin = %q, %v; want the newest server, 15", got, err)
	}
}

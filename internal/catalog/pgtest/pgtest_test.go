package pgtest

import (
	"database/sql"
	"testing"
)

func TestStartPostgres(t *testing.T) {
	s := Start(t)
	db, err := sql.Open("pgx", s.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	var name string
	if err := db.QueryRowContext(t.Context(), "SELECT 1, current_database()").Scan(&one, &name); err != nil || one != 1 || name != "test_1" {
		t.Fatalf("SELECT 1 = %d, %q, %v", one, name, err)
	}
}

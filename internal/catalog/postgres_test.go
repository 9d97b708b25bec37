package catalog_test

import (
	"path/filepath"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog/catalogtest"
	"github.com/streamlake/streamlake/internal/catalog/pgtest"
)

// TestPostgres runs the conformance suite on a real PostgreSQL server,
// one fresh database per test.
func TestPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	catalogtest.Run(t, catalogtest.Opener(func(t *testing.T) (string, string) {
		return srv.NewDatabase(t), "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "lake"))
	}))
}

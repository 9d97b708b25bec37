package catalog_test

import (
	"path/filepath"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog/catalogtest"
)

func TestSQLite(t *testing.T) {
	catalogtest.Run(t, catalogtest.Opener(func(t *testing.T) (string, string) {
		dir := t.TempDir()
		return filepath.Join(dir, "catalog.db"), "file://" + filepath.ToSlash(filepath.Join(dir, "lake"))
	}))
}

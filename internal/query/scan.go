package query

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamlake/streamlake/internal/query/filecache"
)

// scan is what a query's views read, known at planning: the data files of
// the referenced tables (an Iceberg table's planned files, an external
// table's files under its location) and their total size in bytes. It is
// the whole of each file: DuckDB may read less of it (only the columns and
// row groups a query needs), so bytes is an upper bound of what is read.
type scan struct {
	files int
	bytes int64
	// pins are the file cache entries the views read, held until the
	// query ends (release).
	pins []*filecache.Handle
}

// pin holds h until release.
func (sc *scan) pin(h *filecache.Handle) { sc.pins = append(sc.pins, h) }

// release lets the file cache evict the entries the query read.
func (sc *scan) release() {
	for _, h := range sc.pins {
		h.Release()
	}
	sc.pins = nil
}

func (sc *scan) add(size int64) {
	sc.files++
	sc.bytes += size
}

// addFiles adds the files an external table's view reads: the regular files
// with one of exts in the data directories of loc (see dataDirGlob).
func (sc *scan) addFiles(loc string, keys, exts []string) error {
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if depth == 0 && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, d := range entries {
			switch {
			case d.IsDir() && len(keys) == 0:
				err = walk(filepath.Join(dir, d.Name()), depth+1)
			case d.IsDir() && depth < len(keys) && strings.HasPrefix(d.Name(), keys[depth]+"="):
				err = walk(filepath.Join(dir, d.Name()), depth+1)
			case d.Type().IsRegular() && (len(keys) == 0 || depth == len(keys)) && hasSuffix(d.Name(), exts):
				var info fs.FileInfo
				if info, err = d.Info(); err == nil {
					sc.add(info.Size())
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(loc, 0)
}

func hasSuffix(name string, exts []string) bool {
	for _, ext := range exts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

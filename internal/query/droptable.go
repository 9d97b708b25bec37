package query

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
)

// dropTable is a DROP TABLE statement on a catalog database:
//
//	DROP TABLE [IF EXISTS] db.t
type dropTable struct {
	ifExists bool
	db, name string // folded
}

// parseDropTable returns the DROP TABLE statement that query is, when it
// is one statement dropping a table of one of the databases dbs (folded);
// nil otherwise.
func parseDropTable(query string, dbs map[string]bool) *dropTable {
	if !strings.Contains(strings.ToLower(query), "drop") {
		return nil // most DDL: not tokenized again
	}
	toks := trimSemicolons(tokens(query))
	if len(statementStarts(toks)) != 1 || len(toks) < 5 || !isWord(toks[0], "drop") || !isWord(toks[1], "table") {
		return nil
	}
	var d dropTable
	i := 2
	if isWord(toks[i], "if") && isWord(toks[i+1], "exists") {
		d.ifExists, i = true, i+2
	}
	if i+3 != len(toks) || toks[i].kind != tokIdent || toks[i+1].kind != tokDot || toks[i+2].kind != tokIdent ||
		!dbs[strings.ToLower(toks[i].text)] {
		return nil
	}
	d.db, d.name = strings.ToLower(toks[i].text), strings.ToLower(toks[i+2].text)
	return &d
}

// dropStatement runs d against the catalog, as Athena drops tables: an
// Iceberg table is a managed table, so its catalog entry goes and then its
// files (data, manifests, metadata) are deleted; an external (crawled)
// table's entry and partitions go and its files stay. A view is dropped
// with DROP VIEW.
func (e *Engine) dropStatement(ctx context.Context, d *dropTable) error {
	name := d.db + "." + d.name
	w, ok := e.cat.(catalogWriter)
	if !ok {
		return fmt.Errorf("query: drop table %s: this catalog does not drop tables: %w", name, ErrUnsupported)
	}
	t, err := e.cat.Table(ctx, d.db, d.name)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable) && d.ifExists:
		return nil
	case errors.Is(err, catalog.ErrNoSuchTable):
		return fmt.Errorf("query: table %s not found (DROP TABLE IF EXISTS ignores a missing table): %w", name, catalog.ErrNoSuchTable)
	case err != nil:
		return fmt.Errorf("query: drop table %s: %w", name, err)
	case t.Type == catalog.VirtualView:
		return fmt.Errorf("query: %s is a view (DROP VIEW drops it): %w", name, ErrUnsupported)
	case t.Type != catalog.Iceberg:
		if err := w.DeleteTable(ctx, t.Database, t.Name); err != nil {
			return fmt.Errorf("query: drop table %s: %w", name, err)
		}
		return nil
	}
	tbl, err := e.cat.LoadIceberg(ctx, t.Database, t.Name)
	if err != nil {
		return fmt.Errorf("query: drop table %s: %w", name, err)
	}
	if err := w.DeleteTable(ctx, t.Database, t.Name); err != nil {
		return fmt.Errorf("query: drop table %s: %w", name, err)
	}
	// The table is gone from the catalog, so no query plans its files
	// again; a file left behind is an orphan, not a wrong answer.
	if err := tbl.PurgeFiles(ctx); err != nil {
		e.log.Warn("dropped table, but some of its files were not deleted", "table", name, "location", tbl.Location(), "err", err)
	}
	removeEmptyDirs(tbl.Location())
	return nil
}

// removeEmptyDirs removes the directories under a local table location,
// itself included, that are empty once its files are deleted (object
// stores have no directories). A directory that still holds a file stays.
func removeEmptyDirs(location string) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "file" && u.Scheme != "" {
		return
	}
	var dirs []string
	filepath.WalkDir(u.Path, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, as it should, on a directory that is not empty
	}
}

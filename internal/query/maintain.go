package query

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	icecat "github.com/apache/iceberg-go/catalog"
)

// Maintainer maintains an Iceberg table for Athena's OPTIMIZE and VACUUM
// statements (cmd gives the ETL's maintenance, as `streamlake compact`
// runs it): optimize bin-packs small data files, vacuum expires old
// snapshots and deletes orphan files.
type Maintainer interface {
	Maintain(ctx context.Context, ice icecat.Catalog, database, table string, optimize, vacuum bool) (Maintenance, error)
}

// Maintenance says what a Maintainer did.
type Maintenance struct {
	FilesBefore, FilesAfter, FilesRewritten int64 // data files of the current snapshot; replaced by optimize
	SnapshotsExpired, OrphansDeleted        int64
}

// maintainStmt is OPTIMIZE db.t REWRITE DATA USING BIN_PACK or VACUUM db.t.
type maintainStmt struct {
	optimize bool
	db, name string // folded
}

// parseMaintain returns the OPTIMIZE or VACUUM statement that query is,
// when it is one statement on a table of one of the databases dbs
// (folded); nil if it is not one; an error wrapping ErrUnsupported if it
// is one that cannot be read.
func parseMaintain(query string, dbs map[string]bool) (*maintainStmt, error) {
	if lower := strings.ToLower(query); !strings.Contains(lower, "optimize") && !strings.Contains(lower, "vacuum") {
		return nil, nil // most DDL: not tokenized again
	}
	toks := trimSemicolons(tokens(query))
	if len(statementStarts(toks)) != 1 || len(toks) < 4 || !isWord(toks[0], "optimize") && !isWord(toks[0], "vacuum") ||
		toks[1].kind != tokIdent || toks[2].kind != tokDot || toks[3].kind != tokIdent || !dbs[strings.ToLower(toks[1].text)] {
		return nil, nil
	}
	m := &maintainStmt{optimize: isWord(toks[0], "optimize"), db: strings.ToLower(toks[1].text), name: strings.ToLower(toks[3].text)}
	rest := toks[4:]
	switch {
	case !m.optimize && len(rest) == 0:
		return m, nil
	case m.optimize && len(rest) == 4 && isWord(rest[0], "rewrite") && isWord(rest[1], "data") && isWord(rest[2], "using") && isWord(rest[3], "bin_pack"):
		return m, nil
	case m.optimize && len(rest) > 4 && isWord(rest[4], "where"):
		return nil, fmt.Errorf("query: OPTIMIZE %s.%s: WHERE is %w: OPTIMIZE compacts every partition of the table", m.db, m.name, ErrUnsupported)
	}
	return nil, fmt.Errorf("query: %s %s.%s: the statement is OPTIMIZE db.t REWRITE DATA USING BIN_PACK or VACUUM db.t: %w",
		strings.ToUpper(toks[0].text), m.db, m.name, ErrUnsupported)
}

// maintainStatement runs m on its Iceberg table and returns the query of
// its one-row result.
func (e *Engine) maintainStatement(ctx context.Context, m *maintainStmt) (string, error) {
	verb, name := "VACUUM", m.db+"."+m.name
	if m.optimize {
		verb = "OPTIMIZE"
	}
	ic, ok := e.cat.(IcebergCatalog)
	if e.opts.Maintainer == nil || !ok {
		return "", fmt.Errorf("query: %s %s: this engine does not maintain tables: %w", verb, name, ErrUnsupported)
	}
	t, err := e.icebergTable(ctx, verb, m.db, m.name, "it is not an Iceberg table", "it is not an Iceberg table")
	if err != nil {
		return "", err
	}
	res, err := e.opts.Maintainer.Maintain(ctx, ic.Iceberg(), t.Database, t.Name, m.optimize, !m.optimize)
	if err != nil {
		return "", fmt.Errorf("query: %s %s: %w", verb, name, err)
	}
	type col struct {
		name string
		v    int64
	}
	cols := []col{{"snapshots_expired", res.SnapshotsExpired}, {"orphans_deleted", res.OrphansDeleted}}
	if m.optimize {
		cols = []col{{"files_before", res.FilesBefore}, {"files_after", res.FilesAfter}, {"files_rewritten", res.FilesRewritten}}
	}
	items := make([]string, len(cols))
	for i, c := range cols {
		items[i] = strconv.FormatInt(c.v, 10) + "::BIGINT AS " + c.name
	}
	return "SELECT " + strings.Join(items, ", "), nil
}

package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Time travel (Athena's and Trino's syntax) reads an Iceberg table as it
// was at one of its snapshots:
//
//	SELECT ... FROM db.t FOR VERSION AS OF 5937117119577207000
//	SELECT ... FROM db.t FOR TIMESTAMP AS OF '2026-11-20 10:00:00'
//	SELECT ... FROM db.t FOR TIMESTAMP AS OF TIMESTAMP '2026-11-20 10:00:00 UTC'
//
// FOR SYSTEM_VERSION AS OF and FOR SYSTEM_TIME AS OF are the same. DuckDB
// does not parse the clause, so the engine removes it: the reference
// becomes a view of its own, db."t@v<id>" (or db."t@t<unix micros>")
// aliased back to t in a FROM clause, defined over the data files of that snapshot with the
// snapshot's schema. The same table can so be read at several snapshots,
// and currently, in one query.

// Errors of time travel, both of the user category.
var (
	// ErrNoSuchSnapshot: the table has no snapshot with that id, or none
	// as of that time.
	ErrNoSuchSnapshot = errors.New("no such snapshot")
	// ErrUnsupported: SQL that streamlake does not support, such as time
	// travel on an external table or a malformed FOR ... AS OF clause.
	ErrUnsupported = errors.New("not supported")
)

// travel is one table reference with a FOR ... AS OF clause.
type travel struct {
	db, name string        // as written
	table    catalog.Table // once resolved
	view     string        // the view's name in db
	snapshot int64         // FOR VERSION AS OF; 0 with asOf
	asOf     time.Time     // FOR TIMESTAMP AS OF
}

// clause is the time travel clause as a user would write it, for errors.
func (tr *travel) clause() string {
	if tr.asOf.IsZero() {
		return fmt.Sprintf("FOR VERSION AS OF %d", tr.snapshot)
	}
	return fmt.Sprintf("FOR TIMESTAMP AS OF '%s'", tr.asOf.UTC().Format("2006-01-02 15:04:05.999999 UTC"))
}

// snapshotOf returns the snapshot of tbl that tr selects and the schema
// it was written with. A missing one is an error wrapping
// ErrNoSuchSnapshot.
func (tr *travel) snapshotOf(tbl *table.Table) (*table.Snapshot, *iceberg.Schema, error) {
	name := tr.table.Database + "." + tr.table.Name
	var snap *table.Snapshot
	if tr.asOf.IsZero() {
		snap = tbl.SnapshotByID(tr.snapshot)
		if snap == nil {
			return nil, nil, fmt.Errorf("query: table %s has no snapshot %d (%s): %w", name, tr.snapshot, tr.clause(), ErrNoSuchSnapshot)
		}
	} else {
		snap = tbl.SnapshotAsOf(tr.asOf.UnixMilli(), true)
		if snap == nil {
			oldest := "it has no snapshot"
			for e := range tbl.Metadata().SnapshotLogs() {
				oldest = "its oldest snapshot is of " + time.UnixMilli(e.TimestampMs).UTC().Format(time.RFC3339Nano)
				break
			}
			return nil, nil, fmt.Errorf("query: table %s has no snapshot as of %s (%s; %s): %w",
				name, tr.asOf.UTC().Format(time.RFC3339Nano), tr.clause(), oldest, ErrNoSuchSnapshot)
		}
	}
	sch := tbl.Schema()
	if snap.SchemaID != nil {
		for _, s := range tbl.Metadata().Schemas() {
			if s.ID == *snap.SchemaID {
				sch = s
				break
			}
		}
	}
	return snap, sch, nil
}

// rewriteTimeTravel removes the FOR ... AS OF clauses of query: each
// db.t FOR ... AS OF x becomes db."t@..." AS t (the alias only when the
// query has none). It returns the rewritten query and the references, one
// per distinct view. Clauses in strings and comments are left alone.
func rewriteTimeTravel(query string) (string, []travel, error) {
	toks := tokens(query)
	var (
		b     strings.Builder
		out   []travel
		seen  = map[string]bool{}
		last  int
		found bool
	)
	for i := 0; i+4 < len(toks); i++ {
		if toks[i].kind != tokIdent || toks[i+1].kind != tokDot || toks[i+2].kind != tokIdent ||
			!isWord(toks[i+3], "for") || (i > 0 && toks[i-1].kind == tokDot) {
			continue
		}
		kind := strings.ToLower(toks[i+4].text)
		if toks[i+4].kind != tokIdent || toks[i+4].quoted ||
			(kind != "version" && kind != "system_version" && kind != "timestamp" && kind != "system_time") {
			continue
		}
		tr := travel{db: toks[i].text, name: toks[i+2].text}
		ref := tr.db + "." + tr.name
		j := i + 5
		if j+1 >= len(toks) || !isWord(toks[j], "as") || !isWord(toks[j+1], "of") {
			return "", nil, fmt.Errorf("query: %s FOR %s: expected AS OF: %w", ref, strings.ToUpper(kind), ErrUnsupported)
		}
		j += 2
		var err error
		if kind == "version" || kind == "system_version" {
			tr.snapshot, j, err = snapshotID(query, toks, j)
			tr.view = strings.ToLower(tr.name) + "@v" + strconv.FormatInt(tr.snapshot, 10)
		} else {
			tr.asOf, j, err = asOfTime(toks, j)
			tr.view = strings.ToLower(tr.name) + "@t" + strconv.FormatInt(tr.asOf.UnixMicro(), 10)
		}
		if err != nil {
			return "", nil, fmt.Errorf("query: %s FOR %s AS OF: %w", ref, strings.ToUpper(kind), err)
		}
		b.WriteString(query[last:toks[i].pos])
		b.WriteString(query[toks[i].pos:toks[i].end] + "." + schema.QuoteIdent(tr.view))
		if inFrom(toks, i) && !hasAlias(toks, j) {
			b.WriteString(" AS " + schema.QuoteIdent(tr.name))
		}
		last, found = toks[j-1].end, true
		key := strings.ToLower(tr.db) + "." + tr.view
		if !seen[key] {
			seen[key] = true
			out = append(out, tr)
		}
		i = j - 1
	}
	if !found {
		return query, nil, nil
	}
	b.WriteString(query[last:])
	return b.String(), out, nil
}

// snapshotID reads the snapshot id at toks[j]: a number, or a string of
// one. It returns the index after it.
func snapshotID(query string, toks []token, j int) (int64, int, error) {
	if j >= len(toks) {
		return 0, j, fmt.Errorf("expected a snapshot id: %w", ErrUnsupported)
	}
	text := query[toks[j].pos:toks[j].end]
	if toks[j].kind == tokString {
		text = toks[j].text
	}
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || (toks[j].kind != tokOther && toks[j].kind != tokString) {
		return 0, j, fmt.Errorf("%s is not a snapshot id (an integer): %w", text, ErrUnsupported)
	}
	return id, j + 1, nil
}

// asOfTime reads the time at toks[j]: a string, optionally typed
// TIMESTAMP [WITH TIME ZONE] or TIMESTAMPTZ. It returns the index after it.
func asOfTime(toks []token, j int) (time.Time, int, error) {
	if j < len(toks) && (isWord(toks[j], "timestamp") || isWord(toks[j], "timestamptz")) {
		j++
		if j+2 < len(toks) && isWord(toks[j], "with") && isWord(toks[j+1], "time") && isWord(toks[j+2], "zone") {
			j += 3
		}
	}
	if j >= len(toks) || toks[j].kind != tokString {
		return time.Time{}, j, fmt.Errorf("expected a timestamp literal such as '2026-11-20 10:00:00 UTC': %w", ErrUnsupported)
	}
	t, err := parseAsOf(toks[j].text)
	if err != nil {
		return time.Time{}, j, err
	}
	return t, j + 1, nil
}

// asOfLayouts are the accepted timestamp spellings; without an offset or
// zone a timestamp is UTC.
var asOfLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseAsOf parses a timestamp such as '2026-11-20 10:00:00',
// '2026-11-20T10:00:00.5+01:00' or '2026-11-20 10:00:00 UTC' (a zone
// name last, as Athena writes it).
func parseAsOf(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	loc := time.UTC
	if i := strings.LastIndexByte(s, ' '); i > 0 && i+1 < len(s) && isIdentStart(s[i+1]) {
		l, err := time.LoadLocation(s[i+1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q: time zone %q: %w", s, s[i+1:], ErrUnsupported)
		}
		loc, s = l, s[:i]
	}
	for _, layout := range asOfLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not of the form '2026-11-20 10:00:00[.fff][+01:00| UTC]': %w", s, ErrUnsupported)
}

// notAlias are the keywords that can follow a table reference and are not
// its alias.
var notAlias = map[string]bool{
	"where": true, "join": true, "inner": true, "left": true, "right": true, "full": true,
	"outer": true, "cross": true, "natural": true, "on": true, "using": true, "group": true,
	"order": true, "limit": true, "offset": true, "union": true, "except": true,
	"intersect": true, "having": true, "window": true, "qualify": true, "positional": true,
	"asof": true, "anti": true, "semi": true, "lateral": true, "tablesample": true,
	"pivot": true, "unpivot": true, "fetch": true, "returning": true, "select": true,
	"values": true, "for": true,
}

// inFrom reports whether the table reference at toks[i] is in a FROM
// clause (after FROM, JOIN or a comma), where it can have an alias; not
// after DESCRIBE, SUMMARIZE or TABLE.
func inFrom(toks []token, i int) bool {
	return i > 0 && (isWord(toks[i-1], "from") || isWord(toks[i-1], "join") || isPunct(toks[i-1], ","))
}

// hasAlias reports whether the table reference ending before toks[j] has
// an alias.
func hasAlias(toks []token, j int) bool {
	if j >= len(toks) || toks[j].kind != tokIdent {
		return false
	}
	return toks[j].quoted || !notAlias[strings.ToLower(toks[j].text)]
}

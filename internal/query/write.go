package query

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
)

// Writes. Two statements write Iceberg tables of the catalog:
//
//	CREATE TABLE [IF NOT EXISTS] db.t
//	  [WITH (partitioning = ARRAY['day(ts)', 'bucket(8, id)'], format = 'PARQUET')]
//	  AS SELECT ...
//	INSERT INTO db.t [(col, ...)] SELECT ... | VALUES ...
//
// where db is a database of the catalog. DuckDB runs the query part
// (reading the catalog's tables as any query does, under the same
// restrictions and bytes-scanned limit); its rows are appended to the
// Iceberg table in one commit through iceberg-go, which partitions them by
// the table's spec. The table is created in the catalog's warehouse, at
// the location the Iceberg catalog gives it: a statement cannot choose a
// location. Other statements that name a catalog table as their target
// (CREATE TABLE db.t (...), CREATE OR REPLACE, INSERT OR REPLACE) are
// refused; DuckDB's own tables (unqualified or in its main schema) live in
// the query's in-memory database and are gone after it.

// writeKind is the kind of a write statement.
type writeKind uint8

const (
	ctas writeKind = iota + 1
	insert
)

// writeStmt is a parsed write statement.
type writeStmt struct {
	kind        writeKind
	db, name    string // as written
	ifNotExists bool   // CTAS
	columns     []string
	partition   []partitionField // CTAS
	query       string           // the SELECT or VALUES part
}

func (w *writeStmt) verb() string {
	if w.kind == ctas {
		return "CREATE TABLE"
	}
	return "INSERT INTO"
}

// partitionField is one entry of CTAS' partitioning property.
type partitionField struct {
	transform string // identity, year, month, day, hour, bucket, truncate
	column    string
	n         int // bucket count or truncate width
}

// parseWrite returns the write statement of query, or nil if query is not
// one. It is one when its first statement is CREATE TABLE or INSERT INTO
// with a target db.t where db is one of dbs (folded names). Such a
// statement must be the only one of the query.
func parseWrite(query string, dbs map[string]bool) (*writeStmt, error) {
	toks := trimSemicolons(tokens(query))
	if len(toks) < 2 {
		return nil, nil
	}
	var (
		w   writeStmt
		i   int
		err error
	)
	switch {
	case isWord(toks[0], "create"):
		w.kind, i = ctas, 1
		if i+1 < len(toks) && isWord(toks[i], "or") && isWord(toks[i+1], "replace") {
			i += 2
		}
		if i >= len(toks) || !isWord(toks[i], "table") {
			return nil, nil
		}
		i++
		if i+2 < len(toks) && isWord(toks[i], "if") && isWord(toks[i+1], "not") && isWord(toks[i+2], "exists") {
			w.ifNotExists, i = true, i+3
		}
	case isWord(toks[0], "insert"):
		w.kind, i = insert, 1
		if i < len(toks) && (isWord(toks[i], "or") || isWord(toks[i], "overwrite")) {
			i = skipTo(toks, i, "into")
		}
		if i >= len(toks) || !isWord(toks[i], "into") {
			return nil, nil
		}
		i++
	default:
		return nil, nil
	}
	if i+2 >= len(toks) || toks[i].kind != tokIdent || toks[i+1].kind != tokDot || toks[i+2].kind != tokIdent ||
		(i+3 < len(toks) && toks[i+3].kind == tokDot) || !dbs[strings.ToLower(toks[i].text)] {
		return nil, nil // not a catalog table: DuckDB's own
	}
	w.db, w.name = toks[i].text, toks[i+2].text
	target := w.db + "." + w.name
	head := strings.ToUpper(strings.Join(strings.Fields(query[toks[0].pos:toks[i].pos]), " "))
	if head != "CREATE TABLE" && head != "CREATE TABLE IF NOT EXISTS" && head != "INSERT INTO" {
		return nil, fmt.Errorf("query: %s %s: only CREATE TABLE [IF NOT EXISTS] db.t ... AS SELECT and INSERT INTO db.t write catalog tables: %w",
			head, target, ErrUnsupported)
	}
	i += 3
	for j := i; j < len(toks); j++ {
		if isPunct(toks[j], ";") {
			return nil, fmt.Errorf("query: %s %s must be the only statement of its query: %w", w.verb(), target, ErrUnsupported)
		}
	}
	if w.kind == ctas {
		i, err = w.parseCTAS(toks, i)
	} else {
		i, err = w.parseInsert(toks, i)
	}
	if err != nil {
		return nil, fmt.Errorf("query: %s %s: %w", w.verb(), target, err)
	}
	if i >= len(toks) {
		return nil, fmt.Errorf("query: %s %s: the statement has no query (SELECT or VALUES): %w", w.verb(), target, ErrUnsupported)
	}
	// Up to the last token: without a trailing comment or semicolon.
	w.query = query[toks[i].pos:toks[len(toks)-1].end]
	return &w, nil
}

// skipTo returns the index of the first toks[j] >= i that is word, or
// len(toks).
func skipTo(toks []token, i int, word string) int {
	for ; i < len(toks) && !isWord(toks[i], word); i++ {
	}
	return i
}

// parseCTAS parses [WITH (...)] AS from toks[i] and returns the index of
// the query's first token.
func (w *writeStmt) parseCTAS(toks []token, i int) (int, error) {
	if i < len(toks) && isPunct(toks[i], "(") {
		return i, fmt.Errorf("a table with a column list is not supported; create Iceberg tables with CREATE TABLE db.t AS SELECT ...: %w", ErrUnsupported)
	}
	if i < len(toks) && isWord(toks[i], "with") {
		var err error
		if i, err = w.parseProperties(toks, i+1); err != nil {
			return i, err
		}
	}
	if i >= len(toks) || !isWord(toks[i], "as") {
		return i, fmt.Errorf("expected AS SELECT ...: %w", ErrUnsupported)
	}
	return i + 1, nil
}

// parseProperties parses (key = value, ...) at toks[i].
func (w *writeStmt) parseProperties(toks []token, i int) (int, error) {
	if i >= len(toks) || !isPunct(toks[i], "(") {
		return i, fmt.Errorf("WITH: expected (property = value, ...): %w", ErrUnsupported)
	}
	i++
	for {
		if i+1 >= len(toks) || toks[i].kind != tokIdent || !isPunct(toks[i+1], "=") {
			return i, fmt.Errorf("WITH: expected property = value: %w", ErrUnsupported)
		}
		key := strings.ToLower(toks[i].text)
		i += 2
		var vals []string
		switch {
		case i < len(toks) && toks[i].kind == tokString:
			vals = []string{toks[i].text}
			i++
		case i+1 < len(toks) && isWord(toks[i], "array") && isPunct(toks[i+1], "["):
			for i += 2; i < len(toks) && toks[i].kind == tokString; {
				vals = append(vals, toks[i].text)
				i++
				if i < len(toks) && isPunct(toks[i], ",") {
					i++
				}
			}
			if i >= len(toks) || !isPunct(toks[i], "]") {
				return i, fmt.Errorf("WITH: %s: expected ARRAY['...', ...]: %w", key, ErrUnsupported)
			}
			i++
		default:
			return i, fmt.Errorf("WITH: %s: expected a string or ARRAY['...']: %w", key, ErrUnsupported)
		}
		if err := w.property(key, vals); err != nil {
			return i, fmt.Errorf("WITH: %w", err)
		}
		switch {
		case i < len(toks) && isPunct(toks[i], ","):
			i++
		case i < len(toks) && isPunct(toks[i], ")"):
			return i + 1, nil
		default:
			return i, fmt.Errorf("WITH: expected , or ): %w", ErrUnsupported)
		}
	}
}

// property applies one CTAS property.
func (w *writeStmt) property(key string, vals []string) error {
	one := func() (string, error) {
		if len(vals) != 1 {
			return "", fmt.Errorf("%s: expected one string: %w", key, ErrUnsupported)
		}
		return strings.ToUpper(vals[0]), nil
	}
	switch key {
	case "partitioning", "partitioned_by":
		for _, v := range vals {
			f, err := parsePartitionField(v)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			w.partition = append(w.partition, f)
		}
	case "format":
		if v, err := one(); err != nil || v != "PARQUET" {
			return fmt.Errorf("format: only 'PARQUET' is supported: %w", ErrUnsupported)
		}
	case "table_type":
		if v, err := one(); err != nil || v != "ICEBERG" {
			return fmt.Errorf("table_type: only 'ICEBERG' is supported: %w", ErrUnsupported)
		}
	case "location", "external_location":
		return fmt.Errorf("%s: a table's location is %w: tables are created in the lake's warehouse", key, ErrNotAllowed)
	default:
		return fmt.Errorf("property %s: %w (known: partitioning, format, table_type)", key, ErrUnsupported)
	}
	return nil
}

var (
	transformCall = regexp.MustCompile(`^\s*(\w+)\s*\(\s*("?[^,()"]+"?|\d+)\s*(?:,\s*("?[^,()"]+"?|\d+)\s*)?\)\s*$`)
	identityCol   = regexp.MustCompile(`^\s*("[^"]+"|\w+)\s*$`)
)

// parsePartitionField parses 'col', 'year(col)', 'month(col)', 'day(col)',
// 'hour(col)', 'bucket(n, col)' or 'truncate(n, col)' (the column may
// also come first, as Trino writes it).
func parsePartitionField(s string) (partitionField, error) {
	if m := identityCol.FindStringSubmatch(s); m != nil {
		return partitionField{transform: "identity", column: strings.Trim(m[1], `"`)}, nil
	}
	m := transformCall.FindStringSubmatch(s)
	if m == nil {
		hint := ""
		if !strings.ContainsAny(s, `()"`) {
			hint = fmt.Sprintf(` (quote a column whose name is not letters, digits and _, as Trino does: '"%s"')`, strings.TrimSpace(s))
		}
		return partitionField{}, fmt.Errorf("%q is not col, year|month|day|hour(col) or bucket|truncate(n, col)%s: %w", s, hint, ErrUnsupported)
	}
	f := partitionField{transform: strings.ToLower(m[1])}
	args := []string{strings.TrimSpace(m[2])}
	if m[3] != "" {
		args = append(args, strings.TrimSpace(m[3]))
	}
	switch f.transform {
	case "year", "month", "day", "hour":
		if len(args) != 1 {
			return partitionField{}, fmt.Errorf("%q: %s takes one column: %w", s, f.transform, ErrUnsupported)
		}
		f.column = strings.Trim(args[0], `"`)
	case "bucket", "truncate":
		if len(args) != 2 {
			return partitionField{}, fmt.Errorf("%q: %s takes a number and a column: %w", s, f.transform, ErrUnsupported)
		}
		n, err := strconv.Atoi(args[0])
		col := args[1]
		if err != nil {
			n, err = strconv.Atoi(args[1])
			col = args[0]
		}
		if err != nil || n <= 0 {
			return partitionField{}, fmt.Errorf("%q: %s needs a positive number: %w", s, f.transform, ErrUnsupported)
		}
		f.n, f.column = n, strings.Trim(col, `"`)
	default:
		return partitionField{}, fmt.Errorf("%q: unknown transform %s: %w", s, f.transform, ErrUnsupported)
	}
	return f, nil
}

// transform is the Iceberg transform of f.
func (f partitionField) transformOf() iceberg.Transform {
	switch f.transform {
	case "year":
		return iceberg.YearTransform{}
	case "month":
		return iceberg.MonthTransform{}
	case "day":
		return iceberg.DayTransform{}
	case "hour":
		return iceberg.HourTransform{}
	case "bucket":
		return iceberg.BucketTransform{NumBuckets: f.n}
	case "truncate":
		return iceberg.TruncateTransform{Width: f.n}
	}
	return iceberg.IdentityTransform{}
}

// parseInsert parses [(col, ...)] at toks[i] and returns the index of the
// query's first token.
func (w *writeStmt) parseInsert(toks []token, i int) (int, error) {
	if i < len(toks) && isPunct(toks[i], "(") && !(i+1 < len(toks) && (isWord(toks[i+1], "select") || isWord(toks[i+1], "with") || isWord(toks[i+1], "values"))) {
		for i++; ; {
			if i >= len(toks) || toks[i].kind != tokIdent {
				return i, fmt.Errorf("expected a column list (a, b, ...): %w", ErrUnsupported)
			}
			w.columns = append(w.columns, toks[i].text)
			i++
			if i < len(toks) && isPunct(toks[i], ",") {
				i++
				continue
			}
			if i < len(toks) && isPunct(toks[i], ")") {
				i++
				break
			}
			return i, fmt.Errorf("expected , or ) in the column list: %w", ErrUnsupported)
		}
	}
	if i < len(toks) && toks[i].kind == tokIdent && !toks[i].quoted {
		switch strings.ToLower(toks[i].text) {
		case "select", "with", "values", "from", "table":
		case "default", "by", "on", "returning":
			return i, fmt.Errorf("%s is not supported: %w", strings.ToUpper(toks[i].text), ErrUnsupported)
		}
	}
	return i, nil
}

// writeDatabases returns the folded names of the catalog's databases if
// a statement of query may write or change objects (it starts with
// CREATE, INSERT or another of catalogDDL), else nil.
func (e *Engine) writeDatabases(ctx context.Context, query string) (map[string]bool, error) {
	toks := tokens(query)
	if !slices.ContainsFunc(statementStarts(toks), func(i int) bool { return catalogDDL[statementWord(toks[i])] }) {
		return nil, nil
	}
	all, err := e.cat.Tables(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	dbs := map[string]bool{}
	for _, db := range e.opts.Databases {
		dbs[strings.ToLower(db)] = true
	}
	for _, t := range all {
		dbs[strings.ToLower(t.Database)] = true
	}
	return dbs, nil
}

package query

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Counting rows from metadata. A query that is exactly
//
//	SELECT count(*) [[AS] name] FROM db.t [[AS] alias] [WHERE p AND ...] [;]
//
// on an Iceberg table, where every p is a comparison of a partition source
// column with a literal (see comparison), is answered from the record
// counts that the manifests keep for each data file, without opening any:
// its result is the sum of the counts of the files that scan planning
// keeps, as one BIGINT column named count_star() (or name), as DuckDB
// answers. It is exact only when the WHERE clause decides whole files, so
// it is answered this way only if
//   - every WHERE term converted to an Iceberg predicate (none left out),
//   - planning left no residual for any file: the partition values prove
//     that all of a file's rows match (residual true) or none do (false),
//   - no planned file has delete files (streamlake writes none),
//
// and otherwise runs as written. The answer reads no data file, so the
// execution's bytes and files scanned are 0.

// countAnswer is a table's row count under a filter, from metadata, or
// !ok if the metadata cannot answer.
type countAnswer struct {
	rows int64
	ok   bool
}

// counts caches countAnswers per snapshot and filter, which never change.
type counts struct {
	mu sync.Mutex
	m  map[planKey]countAnswer
}

func (c *counts) get(k planKey) (countAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[k]
	return a, ok
}

func (c *counts) put(k planKey, a countAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPlans {
		c.m = map[planKey]countAnswer{}
	}
	c.m[k] = a
}

// countFromMetadata returns SQL that answers r's query with a constant, and
// true, when the query is a count(*) that metadata answers exactly (see
// above); else false. Any error (loading the table, planning) is false:
// the query then runs as written and meets the error there.
func (e *Engine) countFromMetadata(ctx context.Context, r refs) (string, bool) {
	if len(r.tables) != 1 || r.tables[0].Type != catalog.Iceberg || len(r.travels)+len(r.metas)+len(r.views) > 0 {
		return "", false
	}
	t := r.tables[0]
	col, where, names, ok := countQuery(tokens(r.query), t.Database, t.Name)
	if !ok {
		return "", false
	}
	tbl, err := e.iceberg(ctx, r, t)
	if err != nil {
		return "", false
	}
	var filter iceberg.BooleanExpression
	if len(where) > 0 {
		if filter = exactFilter(where, names, tbl.Schema(), tbl.Spec()); filter == nil {
			return "", false
		}
	}
	var n int64
	if snap := tbl.CurrentSnapshot(); snap != nil {
		key := planKey{table: tbl.Metadata().TableUUID().String(), snapshot: snap.SnapshotID}
		if filter != nil {
			key.filter = filter.String()
		}
		a, cached := e.count.get(key)
		if !cached {
			a = countRows(ctx, tbl, filter)
			if ctx.Err() != nil {
				return "", false
			}
			e.count.put(key, a)
		}
		if !a.ok {
			return "", false
		}
		n = a.rows
	}
	e.log.Debug("query answered from metadata", "table", t.Database+"."+t.Name, "filter", filter, "rows", n)
	return "SELECT CAST(" + strconv.FormatInt(n, 10) + " AS BIGINT) AS " + schema.QuoteIdent(col), true
}

// countRows sums the record counts of the files planned for tbl's current
// snapshot under filter (nil for all), if no file has deletes or a
// residual.
func countRows(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression) countAnswer {
	var opts []table.ScanOption
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	tasks, err := tbl.Scan(opts...).PlanFiles(ctx)
	if err != nil {
		return countAnswer{}
	}
	var n int64
	seen := map[string]bool{} // a large file is planned as several tasks
	for _, task := range tasks {
		if len(task.DeleteFiles)+len(task.EqualityDeleteFiles)+len(task.DeletionVectorFiles) > 0 {
			return countAnswer{}
		}
		if task.File.ContentType() != iceberg.EntryContentData {
			return countAnswer{}
		}
		all := true
		if filter != nil {
			// A nil residual is the whole filter, not none.
			switch task.Residual.(type) {
			case iceberg.AlwaysTrue:
			case iceberg.AlwaysFalse:
				all = false
			default:
				return countAnswer{}
			}
		}
		if p := task.File.FilePath(); !seen[p] {
			seen[p] = true
			if all {
				n += task.File.Count()
			}
		}
	}
	return countAnswer{rows: n, ok: true}
}

// countQuery matches SELECT count(*) [[AS] name] FROM db.name [[AS] alias]
// [WHERE ...] [;] and returns the result column's name, the WHERE
// clause's tokens (nil without one) and the names the table goes by.
func countQuery(toks []token, db, name string) (col string, where []token, names map[string]bool, ok bool) {
	toks = trimSemicolons(toks)
	if len(toks) < 9 || !isWord(toks[0], "select") || !isWord(toks[1], "count") || !isPunct(toks[2], "(") ||
		!isPunct(toks[3], "*") || !isPunct(toks[4], ")") {
		return "", nil, nil, false
	}
	i := 5
	col = "count_star()"
	if alias, n := aliasAt(toks[i:]); n > 0 {
		col, i = alias, i+n
	}
	if i+4 > len(toks) || !isWord(toks[i], "from") || toks[i+1].kind != tokIdent || toks[i+2].kind != tokDot ||
		toks[i+3].kind != tokIdent || !strings.EqualFold(toks[i+1].text, db) || !strings.EqualFold(toks[i+3].text, name) {
		return "", nil, nil, false
	}
	i += 4
	names = map[string]bool{strings.ToLower(name): true}
	if alias, n := aliasAt(toks[i:]); n > 0 {
		names, i = map[string]bool{strings.ToLower(alias): true}, i+n
	}
	switch {
	case i == len(toks):
		return col, nil, names, true
	case isWord(toks[i], "where") && i+1 < len(toks):
		return col, toks[i+1:], names, true
	}
	return "", nil, nil, false
}

// aliasAt matches [AS] alias at the start of toks and returns the alias and
// the number of tokens; 0 if there is none. A keyword that can follow a
// select item or a table (FROM, WHERE, LIMIT, FOR, ...) is not an alias
// unless quoted.
func aliasAt(toks []token) (string, int) {
	n := 0
	if len(toks) > 0 && isWord(toks[0], "as") {
		n = 1
	}
	if n >= len(toks) || toks[n].kind != tokIdent || (!toks[n].quoted && notCountAlias[strings.ToLower(toks[n].text)]) {
		return "", 0
	}
	return toks[n].text, n + 1
}

// notCountAlias are keywords that may follow a select item or a table
// reference.
var notCountAlias = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "window": true, "qualify": true, "order": true,
	"limit": true, "offset": true, "using": true, "for": true, "at": true, "tablesample": true, "union": true,
	"except": true, "intersect": true, "join": true, "natural": true, "cross": true, "left": true, "right": true,
	"inner": true, "full": true, "outer": true, "positional": true, "asof": true, "anti": true, "semi": true,
	"lateral": true, "pivot": true, "unpivot": true, "as": true, "on": true,
}

// exactFilter is the Iceberg filter equal to a WHERE clause whose every
// top-level AND term is a comparison of a partition source column of spec
// with a literal; nil if any term is something else.
func exactFilter(where []token, names map[string]bool, sch *iceberg.Schema, spec iceberg.PartitionSpec) iceberg.BooleanExpression {
	sources := map[string]iceberg.NestedField{}
	for _, f := range spec.Fields() {
		if src, ok := sch.FindFieldByID(f.SourceID()); ok {
			sources[strings.ToLower(src.Name)] = src
		}
	}
	terms := conjuncts(where)
	if len(terms) == 0 {
		return nil
	}
	preds := make([]iceberg.BooleanExpression, 0, len(terms))
	for _, term := range terms {
		p := comparison(term, names, sources)
		if p == nil {
			return nil
		}
		preds = append(preds, p)
	}
	if len(preds) == 1 {
		return preds[0]
	}
	return iceberg.NewAnd(preds[0], preds[1], preds[2:]...)
}

package query

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"sync"

	"github.com/goccy/go-json"
)

// Result column names. Athena (Trino) names a result column that is an
// expression without an alias _col<i>, i its position in the result:
// SELECT site, count(*) FROM t gives site and _col1. DuckDB names it after
// the expression (count_star(), "(a + 1)", CAST(x AS INTEGER)), which a
// query, a dashboard or a script brought over from Athena does not find.
// Columns and aliased expressions keep their names.

// parsedQuery is what athenaNames reads of json_serialize_sql's tree.
type parsedQuery struct {
	Error      bool `json:"error"`
	Statements []struct {
		Node queryNode `json:"node"`
	} `json:"statements"`
}

// queryNode is a SELECT, or a set operation (UNION, ...) whose result
// columns are named by its left side.
type queryNode struct {
	Type       string       `json:"type"`
	SelectList []selectItem `json:"select_list"`
	Left       *queryNode   `json:"left"`
}

type selectItem struct {
	Class string `json:"class"`
	Alias string `json:"alias"`
}

// selectLists caches the select list that names a query's result, by
// query text: dashboards run the same queries again and again, and
// parsing costs about a quarter of a millisecond. It is safe for
// concurrent use.
type selectLists struct {
	mu sync.Mutex
	m  map[string][]selectItem // nil: the result is not a SELECT's
}

// maxSelectLists bounds selectLists; when full it starts over.
const maxSelectLists = 1024

// athenaNames returns cols, the result columns of query as DuckDB names
// them, with the unaliased expressions of query's select list named as
// Athena names them. It parses query (its last statement: the one whose
// result it is) with DuckDB's parser on db, only when a name is not a
// plain identifier and query was not parsed before, and returns cols
// unchanged when the result is not a SELECT's or its columns cannot be
// matched to the select list.
func (c *selectLists) athenaNames(ctx context.Context, db *sql.DB, query string, cols []string) []string {
	if query == "" || !hasExpressionName(cols) {
		return cols
	}
	c.mu.Lock()
	items, ok := c.m[query]
	c.mu.Unlock()
	if !ok {
		var err error
		if items, err = parseSelectList(ctx, db, query); err != nil {
			return cols // not cached: the context may have ended
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxSelectLists {
			c.m = map[string][]selectItem{}
		}
		c.m[query] = items
		c.mu.Unlock()
	}
	if items == nil {
		return cols
	}
	return renameExpressions(items, cols)
}

// parseSelectList returns the select list that names the result of query
// (its last statement; a set operation's left side), or nil if that is
// not a SELECT.
func parseSelectList(ctx context.Context, db *sql.DB, query string) ([]selectItem, error) {
	var text string
	if err := db.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", query).Scan(&text); err != nil {
		return nil, err
	}
	var p parsedQuery
	if err := json.Unmarshal([]byte(text), &p); err != nil || p.Error || len(p.Statements) == 0 {
		return nil, nil // DuckDB serializes SELECTs only
	}
	node := &p.Statements[len(p.Statements)-1].Node
	for node.Type == "SET_OPERATION_NODE" && node.Left != nil {
		node = node.Left
	}
	if node.Type != "SELECT_NODE" {
		return nil, nil
	}
	return node.SelectList, nil
}

// renameExpressions names the columns of cols that items, the select list
// they come from, has as unaliased expressions: _col<i>. A star (*,
// COLUMNS(...)) expands to columns the list does not show, so the items
// before the first star are matched to the first columns and those after
// the last to the last.
func renameExpressions(items []selectItem, cols []string) []string {
	first, last := -1, -1
	for i, it := range items {
		if it.Class == "STAR" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 && len(items) != len(cols) || first >= 0 && len(items)-1 > len(cols) {
		return cols
	}
	out := slices.Clone(cols)
	rename := func(item, col int) {
		if it := items[item]; it.Alias == "" && it.Class != "COLUMN_REF" && it.Class != "STAR" {
			out[col] = "_col" + strconv.Itoa(col)
		}
	}
	if first < 0 {
		for i := range items {
			rename(i, i)
		}
		return out
	}
	for i := range first {
		rename(i, i)
	}
	for i := last + 1; i < len(items); i++ {
		rename(i, len(cols)-(len(items)-i))
	}
	return out
}

// hasExpressionName reports whether a name in cols is not a plain
// identifier, as DuckDB's name of an expression is not (count_star(),
// "(a + 1)", 'x').
func hasExpressionName(cols []string) bool {
	for _, c := range cols {
		if !plainIdent.MatchString(c) {
			return true
		}
	}
	return false
}

// columnNames are the names of a result's columns, as DuckDB names them.
func columnNames(types []*sql.ColumnType) []string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name()
	}
	return names
}

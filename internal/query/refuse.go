package query

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNotAllowed is wrapped by the refusal of a statement that reaches
// outside the query's tables.
var ErrNotAllowed = errors.New("not allowed")

// refusedStatements are the first keywords of statements that attach
// databases, load extensions or move data in or out of DuckDB. Without
// Options.AllowFileAccess they are refused before DuckDB runs. This is a
// clearer error in front of DuckDB's own restrictions (see restrict), which
// refuse them too, except ATTACH of an in-memory database.
var refusedStatements = map[string]bool{
	"attach": true, "detach": true, "install": true, "force": true, "load": true,
	"copy": true, "export": true, "import": true,
}

// refuseStatements returns an error wrapping ErrNotAllowed if a statement
// of query starts with one of refusedStatements.
func refuseStatements(query string) error {
	toks := tokens(query)
	for _, i := range statementStarts(toks) {
		switch word := statementWord(toks[i]); {
		case refusedStatements[word]:
			return fmt.Errorf("query: %s statements are %w: SQL can only read the catalog's tables",
				strings.ToUpper(toks[i].text), ErrNotAllowed)
		case word == "msck":
			// Athena's MSCK REPAIR TABLE registers partitions found in
			// storage; here the crawlers do.
			return fmt.Errorf("query: MSCK REPAIR TABLE is not needed: crawlers register partitions and files (streamlake crawl --name N, or run on each crawler's interval); the raw staging tables are read whole: %w",
				ErrUnsupported)
		}
	}
	return nil
}

// catalogDDL are the first keywords of statements that create, change or
// remove objects: on a catalog database's name they are refused by
// refuseCatalogDDL, since DuckDB would make the change in the query's own
// instance, where it is gone when the query ends, and answer as if it had
// succeeded.
var catalogDDL = map[string]bool{
	"create": true, "drop": true, "alter": true, "delete": true, "update": true, "merge": true,
	"truncate": true, "insert": true, "comment": true, "optimize": true, "vacuum": true,
}

// ddlWords are the words between a catalogDDL keyword and the name of the
// object it acts on.
var ddlWords = map[string]bool{
	"or": true, "replace": true, "temp": true, "temporary": true, "persistent": true, "view": true,
	"table": true, "macro": true, "function": true, "sequence": true, "schema": true, "index": true,
	"unique": true, "type": true, "if": true, "not": true, "exists": true, "from": true, "into": true,
	"on": true, "column": true, "materialized": true, "external": true, "database": true,
}

// refuseCatalogDDL returns an error wrapping ErrUnsupported if a statement
// of query creates, changes or removes an object in one of dbs (the
// catalog's databases, folded): DROP TABLE lake.t CASCADE, DROP SCHEMA lake,
// ALTER TABLE, DELETE FROM, UPDATE, MERGE INTO, TRUNCATE or a CREATE
// TABLE that is not CREATE TABLE AS (which parseWrite takes). The same
// statements on a query's own objects (CREATE TEMP VIEW v AS ...; SELECT
// ... FROM v) run.
func refuseCatalogDDL(query string, dbs map[string]bool) error {
	toks := tokens(query)
	for _, i := range statementStarts(toks) {
		if !catalogDDL[statementWord(toks[i])] {
			continue
		}
		j := i + 1
		var kinds []string
		for j < len(toks) && toks[j].kind == tokIdent && !toks[j].quoted && ddlWords[strings.ToLower(toks[j].text)] {
			kinds = append(kinds, strings.ToUpper(toks[j].text))
			j++
		}
		if j >= len(toks) || toks[j].kind != tokIdent || !dbs[strings.ToLower(toks[j].text)] {
			continue
		}
		name := toks[j].text
		schemaOnly := j+1 >= len(toks) || toks[j+1].kind != tokDot
		if !schemaOnly && j+2 < len(toks) && toks[j+2].kind == tokIdent {
			name += "." + toks[j+2].text
		} else if !schemaOnly || !slices.Contains(kinds, "SCHEMA") && !slices.Contains(kinds, "DATABASE") {
			continue // a name in a database of the query's own, or not a name
		}
		stmt := strings.Join(append([]string{strings.ToUpper(toks[i].text)}, kinds...), " ")
		hint := "SQL here reads the catalog's tables and adds to them with CREATE TABLE ... AS SELECT and INSERT INTO ... SELECT"
		if slices.Contains(kinds, "VIEW") && strings.EqualFold(toks[i].text, "create") {
			hint = "a view is created by a query of its own, CREATE [OR REPLACE] VIEW db.v AS SELECT ..."
		}
		return fmt.Errorf("query: %s %s is %w: %s (each query runs on a DuckDB of its own, where any other change would be gone when it ends)",
			stmt, name, ErrUnsupported, hint)
	}
	return nil
}

package query

import (
	"errors"
	"fmt"
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
	start := true
	for _, tok := range tokens(query) {
		if tok.kind == tokOther && tok.text == ";" {
			start = true
			continue
		}
		if start && tok.kind == tokIdent && !tok.quoted {
			switch word := strings.ToLower(tok.text); {
			case refusedStatements[word]:
				return fmt.Errorf("query: %s statements are %w: SQL can only read the catalog's tables",
					strings.ToUpper(tok.text), ErrNotAllowed)
			case word == "msck":
				// Athena's MSCK REPAIR TABLE registers partitions found in
				// storage; here the crawlers do.
				return fmt.Errorf("query: MSCK REPAIR TABLE is not needed: crawlers register partitions and files (streamlake crawl --name N, or run on each crawler's interval); the raw staging tables are read whole: %w",
					ErrUnsupported)
			}
		}
		start = false
	}
	return nil
}

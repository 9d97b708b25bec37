package query

// IdleInstance returns the DuckDB instance an engine would reuse next for
// a query on the same tables as the last one (an opaque pointer), or nil.
func IdleInstance(e *Engine) any {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	if len(e.pool.idle) == 0 {
		return nil
	}
	return e.pool.idle[len(e.pool.idle)-1]
}

// SetBeforeCommit makes e call f before a write (CREATE TABLE AS, INSERT)
// commits, to race it with another commit.
func SetBeforeCommit(e *Engine, f func()) { e.beforeCommit = f }

// KeptStatements returns the queries whose prepared statements the
// instance IdleInstance returns keeps, least recently used first.
func KeptStatements(e *Engine) []string {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	if len(e.pool.idle) == 0 {
		return nil
	}
	var out []string
	for _, k := range e.pool.idle[len(e.pool.idle)-1].stmts {
		out = append(out, k.query)
	}
	return out
}

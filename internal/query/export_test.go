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

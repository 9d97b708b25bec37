package etl

// WithoutFastPath returns c with the columnar fast path off, so that tests
// can compare the lake it writes with the general path's.
func WithoutFastPath(c Config) Config {
	c.noFastPath = true
	return c
}

// FastRows is the number of rows e committed through the fast path.
func FastRows(e *ETL) int64 { return e.fastRows }

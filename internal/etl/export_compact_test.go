package etl

// WithWriteTarget returns c with compaction planning its groups for
// c.TargetFileSize but writing files of n bytes with DuckDB, so that a
// test can make a group split into several files.
func WithWriteTarget(c MaintainConfig, n int64) MaintainConfig {
	c.writeTarget = n
	return c
}

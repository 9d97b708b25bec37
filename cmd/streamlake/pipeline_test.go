package main

import (
	"testing"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestHeapPrefault checks when a run populates its heap: from a backlog of
// a full ETL commit, 4x the ingest budget.
func TestHeapPrefault(t *testing.T) {
	cases := []struct {
		lag    int64
		budget int
		want   int
	}{
		{0, 0, 0},
		{etl.DefaultMaxCommitRecords - 1, 64 << 20, 0},
		{etl.DefaultMaxCommitRecords, 0, 256 << 20},
		{5_000_000, 16 << 20, 64 << 20},
	}
	for _, c := range cases {
		if got := heapPrefault(c.lag, c.budget); got != c.want {
			t.Errorf("heapPrefault(lag %d, budget %d) = %d, want %d", c.lag, c.budget, got, c.want)
		}
	}
}

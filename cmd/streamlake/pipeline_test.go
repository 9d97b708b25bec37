package main

import (
	"testing"
	"time"

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

// Failed loads back off: the interval, then doubled per consecutive
// failure, up to maxRetryWait; a success starts again at the interval.
func TestRetryWait(t *testing.T) {
	for _, c := range []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{time.Second, 0, time.Second},
		{time.Second, 1, time.Second},
		{time.Second, 2, 2 * time.Second},
		{time.Second, 5, 16 * time.Second},
		{time.Second, 6, 30 * time.Second},
		{time.Second, 1000, 30 * time.Second},
		{250 * time.Millisecond, 3, time.Second},
		{time.Minute, 3, time.Minute}, // never below the interval
	} {
		if got := retryWait(c.interval, c.failures); got != c.want {
			t.Errorf("retryWait(%v, %d) = %v, want %v", c.interval, c.failures, got, c.want)
		}
	}
}

package main

import (
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/monitor"
	"github.com/streamlake/streamlake/internal/query"
)

// Alarm, table and execution times print to the millisecond, as the rest of the
// output does, not with the nanoseconds of the clock that took them.
func TestStatusTimesInMilliseconds(t *testing.T) {
	at := time.Date(2026, 12, 3, 13, 58, 58, 484290816, time.UTC)
	r := alarmsResult([]monitor.AlarmStatus{{Name: "silent-stall", State: "OK", Since: at}, {Name: "never"}})
	if got := r.Rows[0][2]; got != at.Truncate(time.Millisecond) {
		t.Errorf("since %v, want %v", got, at.Truncate(time.Millisecond))
	}
	if r.Rows[1][2] != nil {
		t.Errorf("a zero since is %v, want NULL", r.Rows[1][2])
	}
	if got := timeOrNil(at); got != at.Truncate(time.Millisecond) {
		t.Errorf("timeOrNil %v", got)
	}
	x := query.Execution{ID: "x", Submitted: at, Started: at, Finished: at.Add(time.Second)}
	if got := listResult([]query.Execution{x}, true).Rows[0][3]; got != at.Truncate(time.Millisecond) {
		t.Errorf("queries list submitted %v", got)
	}
	for _, row := range showResult(x).Rows {
		if row[0] == "submitted" && row[1] != "2026-12-03T13:58:58.484Z" {
			t.Errorf("queries show submitted %v", row[1])
		}
	}
}

package catalogtest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
)

// partitionedTable creates web.events partitioned by year (int), dt (date)
// and region (string).
func partitionedTable(t *testing.T, s *catalog.Store) {
	t.Helper()
	createDB(t, s, "web")
	must(t, s.CreateTable(t.Context(), catalog.Table{Database: "web", Name: "events", Format: "parquet",
		Location: "file:///lake/events", Columns: cols("id", "string"),
		PartitionKeys: cols("year", "int", "dt", "date", "region", "string")}))
}

func testPartitions(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	partitionedTable(t, s)
	modified := time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC)
	p1 := catalog.Partition{Values: []string{"2026", "2026-11-22", "eu"}, Location: "file:///lake/events/year=2026/dt=2026-11-22/region=eu",
		Stats:      catalog.Stats{RecordCount: 1000, SizeBytes: 65536, ObjectCount: 3, LastModified: modified},
		Parameters: map[string]string{"compressionType": "zstd"}}
	p2 := catalog.Partition{Values: []string{"2026", "2026-11-22", "us"}, Location: "file:///lake/events/year=2026/dt=2026-11-22/region=us"}
	before := time.Now().Add(-time.Second)
	must(t, s.BatchCreatePartitions(ctx, "web", "events", []catalog.Partition{p1, p2}))

	got, err := s.GetPartition(ctx, "web", "events", p1.Values)
	must(t, err)
	if got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("partition times: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	want := p1
	want.Database, want.Table, want.CreatedAt, want.UpdatedAt = "web", "events", got.CreatedAt, got.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetPartition =\n%+v\nwant\n%+v", got, want)
	}
	all, err := s.GetPartitions(ctx, "web", "events", "")
	must(t, err)
	if len(all) != 2 || !reflect.DeepEqual(all[0], got) || all[1].Values[2] != "us" {
		t.Errorf("GetPartitions(\"\") = %+v", all)
	}

	// New statistics in place.
	upd := got
	upd.Values = nil
	upd.Stats.RecordCount, upd.Stats.ObjectCount = 1500, 4
	time.Sleep(2 * time.Millisecond)
	must(t, s.UpdatePartition(ctx, "web", "events", p1.Values, upd))
	after, err := s.GetPartition(ctx, "web", "events", p1.Values)
	must(t, err)
	if after.Stats.RecordCount != 1500 || after.Stats.ObjectCount != 4 || after.Stats.SizeBytes != 65536 ||
		!after.CreatedAt.Equal(got.CreatedAt) || !after.UpdatedAt.After(got.UpdatedAt) {
		t.Errorf("after UpdatePartition: %+v", after)
	}
	// Moved to other values.
	moved := after
	moved.Values = []string{"2026", "2026-11-23", "eu"}
	must(t, s.UpdatePartition(ctx, "web", "events", p1.Values, moved))
	_, err = s.GetPartition(ctx, "web", "events", p1.Values)
	wantErr(t, "GetPartition of the old values after a move", err, catalog.ErrNoSuchPartition)
	if m, err := s.GetPartition(ctx, "web", "events", moved.Values); err != nil || m.Stats.RecordCount != 1500 {
		t.Errorf("moved partition = %+v, %v", m, err)
	}
	// Onto another partition: refused, nothing changes.
	onto := moved
	onto.Values = p2.Values
	wantErr(t, "UpdatePartition onto an existing one", s.UpdatePartition(ctx, "web", "events", moved.Values, onto), catalog.ErrAlreadyExists)
	if _, err := s.GetPartition(ctx, "web", "events", moved.Values); err != nil {
		t.Errorf("a refused move lost the partition: %v", err)
	}

	// Deletes are all or nothing.
	wantErr(t, "DeletePartitions with a missing one",
		s.DeletePartitions(ctx, "web", "events", [][]string{p2.Values, {"2020", "2020-01-01", "eu"}}), catalog.ErrNoSuchPartition)
	if ps, _ := s.GetPartitions(ctx, "web", "events", ""); len(ps) != 2 {
		t.Errorf("a failed DeletePartitions deleted something: %d left, want 2", len(ps))
	}
	must(t, s.DeletePartitions(ctx, "web", "events", [][]string{p2.Values, moved.Values}))
	if ps, err := s.GetPartitions(ctx, "web", "events", ""); err != nil || len(ps) != 0 {
		t.Errorf("after deleting all: %v, %v", ps, err)
	}
}

func testPartitionErrors(t *testing.T, open func(t *testing.T) *catalog.Store) {
	ctx := t.Context()
	s := open(t)
	partitionedTable(t, s)
	ok := catalog.Partition{Values: []string{"2026", "2026-11-22", "eu"}}
	must(t, s.BatchCreatePartitions(ctx, "web", "events", []catalog.Partition{ok}))
	for _, tc := range []struct {
		values []string
		want   string
	}{
		{[]string{"2026", "2026-11-22"}, "2 values for 3 partition keys"},
		{[]string{"2026", "2026-11-22", "eu", "x"}, "4 values for 3 partition keys"},
		{[]string{"twenty", "2026-11-22", "eu"}, `value "twenty" of key year is not of type int`},
		{[]string{"2026", "22/11/2026", "eu"}, `value "22/11/2026" of key dt is not a date`},
	} {
		err := s.BatchCreatePartitions(ctx, "web", "events", []catalog.Partition{{Values: tc.values}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("BatchCreatePartitions(%v) = %v, want an error containing %q", tc.values, err, tc.want)
		}
	}
	// All or nothing: the good one before the duplicate is not created.
	fresh := catalog.Partition{Values: []string{"2026", "2026-11-23", "eu"}}
	wantErr(t, "BatchCreatePartitions with an existing one",
		s.BatchCreatePartitions(ctx, "web", "events", []catalog.Partition{fresh, ok}), catalog.ErrAlreadyExists)
	wantErr(t, "BatchCreatePartitions with one twice",
		s.BatchCreatePartitions(ctx, "web", "events", []catalog.Partition{fresh, fresh}), catalog.ErrAlreadyExists)
	if _, err := s.GetPartition(ctx, "web", "events", fresh.Values); !errors.Is(err, catalog.ErrNoSuchPartition) {
		t.Errorf("a failed batch created a partition: %v", err)
	}

	wantErr(t, "BatchCreatePartitions of a missing table",
		s.BatchCreatePartitions(ctx, "web", "nope", []catalog.Partition{ok}), catalog.ErrNoSuchTable)
	_, err := s.GetPartitions(ctx, "web", "nope", "")
	wantErr(t, "GetPartitions of a missing table", err, catalog.ErrNoSuchTable)
	_, err = s.GetPartition(ctx, "web", "nope", ok.Values)
	wantErr(t, "GetPartition of a missing table", err, catalog.ErrNoSuchTable)
	_, err = s.GetPartition(ctx, "web", "events", []string{"1999", "1999-01-01", "eu"})
	wantErr(t, "GetPartition(missing)", err, catalog.ErrNoSuchPartition)
	wantErr(t, "UpdatePartition(missing)",
		s.UpdatePartition(ctx, "web", "events", []string{"1999", "1999-01-01", "eu"}, catalog.Partition{}), catalog.ErrNoSuchPartition)
	wantErr(t, "DeletePartitions of a missing table",
		s.DeletePartitions(ctx, "web", "nope", [][]string{ok.Values}), catalog.ErrNoSuchTable)
	bad := ok
	bad.Values = []string{"x", "2026-11-22", "eu"}
	if err := s.UpdatePartition(ctx, "web", "events", ok.Values, bad); err == nil || !strings.Contains(err.Error(), "is not of type int") {
		t.Errorf("UpdatePartition to a bad value = %v", err)
	}
}

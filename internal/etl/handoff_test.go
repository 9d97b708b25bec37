package etl_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/stage"
)

// TestHandoffMatchesStorage loads the same objects from storage alone and
// through a handoff (as `run` does, the ingester handing the ETL the lines
// it just staged): the tables, dead letters and bookmarks are identical.
// The handoff also holds stale lines for one object (as when another
// process rewrote it under the same name): the ETL must load what storage
// holds, not them.
func TestHandoffMatchesStorage(t *testing.T) {
	ctx := context.Background()
	spec := "- topic: t\n  name: t\n  max_lateness: 2400h\n"
	seed := seedValues()
	stale := []string{`{"id":"stale","ts":"2026-11-20T10:00:00Z","n":99}`}
	var envs [2]*env
	for k := range envs {
		e := newEnv(t)
		reg := prometheus.NewRegistry()
		var h *stage.Handoff
		if k == 1 {
			h = stage.NewHandoff(0)
		}
		x := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, spec), Handoff: h,
			Metrics: etl.NewMetrics(reg)}, e.staging, e.store.Iceberg())
		put := func(p int32, from int64, values []string, handed []string) {
			name, lines := encodeRecords(p, from, values, true)
			obj := stage.Compress(nil, lines)
			if err := e.staging.WriteAll(ctx, name, obj, nil); err != nil {
				t.Fatal(err)
			}
			if h == nil {
				return
			}
			if handed != nil { // what a rewrite replaced: other lines, other bytes
				_, lines = encodeRecords(p, from, handed, true)
				obj = stage.Compress(nil, lines)
			}
			var buf stage.Buffer
			buf.Write(lines)
			if !h.Put(ctx, name, obj, &buf) || buf.Len() != 0 {
				t.Fatalf("handoff refused %s", name)
			}
		}
		put(0, 0, seed, nil)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		put(0, 20, fastCorpus, nil)
		put(1, 0, fastCorpus[:10], stale)
		if _, err := x.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := gauge(t, reg, "streamlake_etl_handoff_objects_total")
		if want := []float64{0, 2}[k]; got != want {
			t.Errorf("env %d: %v objects taken from the handoff, want %v", k, got, want)
		}
		if h.Bytes() != 0 {
			t.Errorf("the handoff still holds %d bytes after the ETL read every object", h.Bytes())
		}
		envs[k] = e
	}
	for _, name := range []string{"t", "t_dlq"} {
		sr, ss := tableRows(t, envs[0], name)
		hr, hs := tableRows(t, envs[1], name)
		if ss != hs || strings.Join(sr, "\n") != strings.Join(hr, "\n") || len(sr) == 0 {
			t.Errorf("%s differs:\nstorage (%s):\n%s\nhandoff (%s):\n%s", name, ss, strings.Join(sr, "\n"), hs, strings.Join(hr, "\n"))
		}
		if strings.Contains(strings.Join(hr, "\n"), "stale") {
			t.Errorf("%s holds the stale handed-off lines", name)
		}
	}
}

// gauge returns the value of an unlabelled counter or gauge.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// TestCreatingCommitHoldsFewRecords: a backlog in one object creates its
// table from the first records only and loads the rest through the fast
// path; an object that starts with more dead letters than that still loads
// whole. Either way every record lands once and the objects end covered.
func TestCreatingCommitHoldsFewRecords(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts"}, e.staging, e.store.Iceberg())
	e.put(t, "t", 0, 0, 5000, sensor)
	e.put(t, "u", 0, 0, 3000, func(i int64) []byte {
		if i < 1500 {
			return []byte("not json")
		}
		return sensor(i)
	})
	res, err := x.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 6500 || res.DeadLetters != 1500 || res.Objects != 2 {
		t.Fatalf("result %+v, want 6500 rows, 1500 dead letters, 2 objects", res)
	}
	// t: 1000 create the table, 4000 go fast. u: the first 1000 records
	// are dead letters (no table yet), the next 1000 (500 dead, 500 good)
	// create it, and the last 1000 go fast.
	if got := etl.FastRows(x); got != 4000+1000 {
		t.Errorf("the fast path took %d rows, want 5000", got)
	}
	for name, want := range map[string]int64{"t": 5000, "u": 1500, "u_dlq": 1500} {
		if n := count(t, e.store, name); n != want {
			t.Errorf("lake.%s has %d rows, want %d", name, n, want)
		}
	}
	if n, err := x.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pending objects %d, %v; want 0", n, err)
	}
	if res, err := e.etl().RunOnce(ctx); err != nil || res.Rows+res.DeadLetters+res.Objects != 0 {
		t.Fatalf("a fresh ETL loaded %+v, %v; want nothing", res, err)
	}
}

// TestCreatingCommitKeepsHandedLines: the commit that creates a table
// reads the first object in part and the next pass reads it again; the
// lines taken from the handoff serve both reads, so nothing is
// decompressed.
func TestCreatingCommitKeepsHandedLines(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	h := stage.NewHandoff(0)
	x := etl.New(etl.Config{Database: "lake", TimeField: "ts", Handoff: h, Metrics: etl.NewMetrics(reg)},
		e.staging, e.store.Iceberg())
	var lines []byte
	for i := range int64(5000) {
		lines = stage.AppendEnvelope(lines, &stage.Record{Topic: "t", Offset: i, Timestamp: base, Value: sensor(i)})
	}
	name := stage.ObjectName("t", 0, 0, base)
	obj := stage.Compress(nil, lines)
	var buf stage.Buffer
	buf.Write(lines)
	if !h.Put(ctx, name, obj, &buf) {
		t.Fatal("handoff refused the object")
	}
	if err := e.staging.WriteAll(ctx, name, obj, nil); err != nil {
		t.Fatal(err)
	}
	res, err := x.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 5000 || res.Objects != 1 || etl.FastRows(x) != 4000 {
		t.Fatalf("result %+v, %d rows through the fast path; want 5000 rows, 1 object, 4000 fast", res, etl.FastRows(x))
	}
	if n := count(t, e.store, "t"); n != 5000 {
		t.Fatalf("lake.t has %d rows, want 5000", n)
	}
	for metric, want := range map[string]float64{"streamlake_etl_handoff_objects_total": 1, "streamlake_etl_staging_decompressed_objects_total": 0} {
		if got := gauge(t, reg, metric); got != want {
			t.Errorf("%s = %v, want %v", metric, got, want)
		}
	}
}

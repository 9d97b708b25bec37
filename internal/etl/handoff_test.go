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
			if !h.Put(name, obj, &buf) || buf.Len() != 0 {
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

package query_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/stage"
)

// recordingHistory is the real catalog history that also remembers every
// state saved per execution.
type recordingHistory struct {
	query.History
	mu     sync.Mutex
	states map[string][]string
}

func (h *recordingHistory) PutExecution(ctx context.Context, e catalog.Execution) error {
	h.mu.Lock()
	if h.states == nil {
		h.states = map[string][]string{}
	}
	h.states[e.ID] = append(h.states[e.ID], e.State)
	h.mu.Unlock()
	return h.History.PutExecution(ctx, e)
}

func (h *recordingHistory) saved(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.states[id])
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

// newService is a Service over store with cfg, results under a temporary
// directory unless cfg says otherwise; it is closed with the test.
func newService(t *testing.T, store *catalog.Store, h query.History, cfg query.ServiceConfig) *query.Service {
	t.Helper()
	if cfg.ResultsDir == "" {
		cfg.ResultsDir = filepath.Join(t.TempDir(), "results")
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if h == nil {
		h = store
	}
	s, err := query.NewService(query.New(store, query.Options{Threads: 1, Logger: cfg.Logger}), h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

// execute starts a query and waits for its final state.
func execute(t *testing.T, s *query.Service, in query.StartInput) query.Execution {
	t.Helper()
	id, err := s.Start(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	x, err := s.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// waitState polls until execution id is in state want.
func waitState(t *testing.T, s *query.Service, id string, want query.State) query.Execution {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		x, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if x.State == want {
			return x
		}
		if x.State.Terminal() || time.Now().After(deadline) {
			t.Fatalf("execution %s is %s (%+v), want %s", id, x.State, x.Error, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dataFiles counts and sums the Parquet files under dir.
func dataFiles(t *testing.T, dir string) (n int64, bytes int64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		bytes += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, bytes
}

// firstDataFile is a Parquet file under dir.
func firstDataFile(t *testing.T, dir string) string {
	t.Helper()
	var found string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && found == "" && strings.HasSuffix(path, ".parquet") {
			found = path
		}
		return err
	})
	if found == "" {
		t.Fatalf("no data file under %s", dir)
	}
	return found
}

// eventsLake creates lake.events with 5 rows in two commits (one NULL
// name) and returns the catalog and its directory.
func eventsLake(t *testing.T) (*catalog.Store, string) {
	t.Helper()
	store, dir := openCatalog(t)
	tbl := createEvents(t, store, "events")
	tbl = appendJSON(t.Context(), t, tbl, `[
		{"id": 1, "name": "a", "ts": "2026-11-21T10:00:00Z"},
		{"id": 2, "name": "b,\"q\"", "ts": "2026-11-22T11:30:00Z"},
		{"id": 3, "name": null, "ts": "2026-11-22T12:00:00Z"}]`)
	appendJSON(t.Context(), t, tbl, `[
		{"id": 4, "name": "", "ts": "2026-11-23T00:00:00Z"},
		{"id": 5, "name": "e", "ts": "2026-11-23T23:59:59Z"}]`)
	return store, dir
}

const slowSQL = `SELECT sum(i) FROM range(1000000000000) t(i)`

func TestExecutionSucceeds(t *testing.T) {
	store, dir := eventsLake(t)
	hist := &recordingHistory{History: store}
	reg := prometheus.NewRegistry()
	results := filepath.Join(dir, "results")
	s := newService(t, store, hist, query.ServiceConfig{ResultsDir: results, Registerer: reg})

	before := time.Now().UTC()
	x := execute(t, s, query.StartInput{SQL: `SELECT id, name FROM lake.events ORDER BY id`})
	if x.State != query.Succeeded || x.Error != nil {
		t.Fatalf("execution = %+v", x)
	}
	if x.Workgroup != query.PrimaryWorkgroup || len(x.ID) != 36 {
		t.Errorf("workgroup %q, id %q", x.Workgroup, x.ID)
	}
	if x.Submitted.Before(before.Add(-time.Second)) || x.Started.Before(x.Submitted) || x.Finished.Before(x.Started) {
		t.Errorf("times: submitted %v started %v finished %v", x.Submitted, x.Started, x.Finished)
	}
	if got, want := hist.saved(x.ID), []string{"QUEUED", "RUNNING", "SUCCEEDED"}; !slices.Equal(got, want) {
		t.Errorf("saved states = %v, want %v", got, want)
	}
	files, bytes := dataFiles(t, filepath.Join(dir, "lake"))
	if files < 2 {
		t.Fatalf("fixture has %d data files", files)
	}
	st := x.Statistics
	if st.RowsReturned != 5 || st.FilesScanned != files || st.BytesScanned != bytes {
		t.Errorf("statistics = %+v, want 5 rows, %d files, %d bytes", st, files, bytes)
	}

	// The saved CSV: every value quoted, NULL an empty field.
	csvPath := filepath.Join(results, "primary", x.ID+".csv")
	if x.Output != csvPath {
		t.Errorf("output = %q, want %q", x.Output, csvPath)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	want := "\"id\",\"name\"\r\n\"1\",\"a\"\r\n\"2\",\"b,\"\"q\"\"\"\r\n\"3\",\r\n\"4\",\"\"\r\n\"5\",\"e\"\r\n"
	if string(b) != want {
		t.Errorf("csv:\n%q\nwant\n%q", b, want)
	}
	var meta query.Metadata
	b, err = os.ReadFile(filepath.Join(results, "primary", x.ID+".metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.ID != x.ID || meta.State != query.Succeeded || meta.Statistics != x.Statistics ||
		!slices.Equal(meta.Columns, []query.ResultColumn{{Name: "id", Type: "BIGINT"}, {Name: "name", Type: "VARCHAR"}}) {
		t.Errorf("metadata = %s", b)
	}

	// Paging.
	page, err := s.Results(t.Context(), x.ID, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := pageRows(page); got != `[1 a] [2 b,"q"]` || page.NextOffset != 2 || page.Total != 5 || len(page.Columns) != 2 {
		t.Errorf("page 1 = %s next %d total %d", got, page.NextOffset, page.Total)
	}
	page, err = s.Results(t.Context(), x.ID, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := pageRows(page); got != `[3 NULL] [4 ]` || page.NextOffset != 4 {
		t.Errorf("page 2 = %s next %d", got, page.NextOffset)
	}
	page, err = s.Results(t.Context(), x.ID, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := pageRows(page); got != `[5 e]` || page.NextOffset != 0 {
		t.Errorf("page 3 = %s next %d", got, page.NextOffset)
	}
	if page, err = s.Results(t.Context(), x.ID, 9, 2); err != nil || len(page.Rows) != 0 {
		t.Errorf("page past the end = %v, %v", page, err)
	}
	if _, err := s.Results(t.Context(), x.ID, -1, 2); !errors.Is(err, query.ErrInvalidRequest) {
		t.Errorf("negative offset: %v", err)
	}

	// Metrics.
	if got := metricValue(t, reg, "streamlake_query_executions_total", "state", "SUCCEEDED"); got != 1 {
		t.Errorf("executions_total{SUCCEEDED} = %v", got)
	}
	if got := metricValue(t, reg, "streamlake_query_bytes_scanned_total", "workgroup", "primary"); got != float64(bytes) {
		t.Errorf("bytes_scanned_total = %v, want %d", got, bytes)
	}
	if got := metricValue(t, reg, "streamlake_query_duration_seconds", "workgroup", "primary"); got != 1 {
		t.Errorf("duration_seconds count = %v, want 1", got)
	}
}

// pageRows renders rows as [a b] [c NULL].
func pageRows(p *query.ResultPage) string {
	var rows []string
	for _, r := range p.Rows {
		var cells []string
		for _, v := range r {
			if v == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, *v)
			}
		}
		rows = append(rows, "["+strings.Join(cells, " ")+"]")
	}
	return strings.Join(rows, " ")
}

// metricValue is a counter's value or a histogram's count, for the series
// with label=value.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if h := m.GetHistogram(); h != nil {
						return float64(h.GetSampleCount())
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

func TestExecutionErrors(t *testing.T) {
	store, dir := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})

	for _, tc := range []struct {
		sql, category, msg string
	}{
		{"SELEC 1", query.CategoryUser, "query: Parser Error: syntax error"},
		{"SELECT * FROM lake.nope", query.CategoryUser, "query: table lake.nope not found"},
		{"SELECT nope FROM lake.events", query.CategoryUser, "query: Binder Error:"},
		{"SELECT CAST('x' AS INTEGER)", query.CategoryUser, "query: Conversion Error:"},
	} {
		x := execute(t, s, query.StartInput{SQL: tc.sql})
		if x.State != query.Failed || x.Error == nil || x.Error.Category != tc.category || !strings.HasPrefix(x.Error.Message, tc.msg) {
			t.Errorf("%s: %s %+v, want FAILED %s %q", tc.sql, x.State, x.Error, tc.category, tc.msg)
		}
		if _, err := s.Results(t.Context(), x.ID, 0, 10); !errors.Is(err, query.ErrNotFinished) {
			t.Errorf("%s: results of a failed execution: %v", tc.sql, err)
		}
	}

	// A data file gone from storage is the system's fault.
	if err := os.Remove(firstDataFile(t, filepath.Join(dir, "lake"))); err != nil {
		t.Fatal(err)
	}
	x := execute(t, s, query.StartInput{SQL: "SELECT count(id) FROM lake.events"})
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategorySystem {
		t.Errorf("missing data file: %s %+v, want FAILED SYSTEM", x.State, x.Error)
	}

	for _, in := range []query.StartInput{{SQL: " "}, {SQL: "SELECT 1", Workgroup: "nope"}} {
		if _, err := s.Start(t.Context(), in); !errors.Is(err, query.ErrInvalidRequest) {
			t.Errorf("Start(%+v) = %v, want ErrInvalidRequest", in, err)
		}
	}
	if _, err := s.Get(t.Context(), "nope"); !errors.Is(err, query.ErrNoSuchExecution) {
		t.Errorf("Get(nope) = %v", err)
	}
	if err := s.Cancel(t.Context(), "nope"); !errors.Is(err, query.ErrNoSuchExecution) {
		t.Errorf("Cancel(nope) = %v", err)
	}
}

func TestExecutionParams(t *testing.T) {
	store, _ := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})
	x := execute(t, s, query.StartInput{SQL: "SELECT name FROM lake.events WHERE id = ?", Params: []any{int64(5)}})
	if x.State != query.Succeeded {
		t.Fatalf("%s %+v", x.State, x.Error)
	}
	page, err := s.Results(t.Context(), x.ID, 0, 10)
	if err != nil || pageRows(page) != "[e]" {
		t.Errorf("rows = %v, %v", page, err)
	}
	// Values must match the ? placeholders one for one (the driver bound
	// the first of too many and ignored the rest); a ? in a string or a
	// comment is not one, and $1-style parameters are DuckDB's to check.
	for _, c := range []struct {
		in   query.StartInput
		want string
	}{
		{query.StartInput{SQL: "SELECT name FROM lake.events WHERE id = ?", Params: []any{int64(5), int64(6)}}, "the query has 1 ? placeholders and 2 values were given"},
		{query.StartInput{SQL: "SELECT name FROM lake.events WHERE id = ?"}, "the query has 1 ? placeholders and 0 values were given"},
		{query.StartInput{SQL: "SELECT '?' AS q -- ?", Params: []any{int64(1)}}, "the query has 0 ? placeholders and 1 values were given"},
	} {
		x := execute(t, s, c.in)
		if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser || !strings.Contains(x.Error.Message, c.want) {
			t.Errorf("%q with %v: %s %+v, want FAILED USER saying %q", c.in.SQL, c.in.Params, x.State, x.Error, c.want)
		}
	}
	for _, in := range []query.StartInput{
		{SQL: "SELECT '?' AS q, ? AS p", Params: []any{int64(1)}},
		{SQL: "SELECT name FROM lake.events WHERE id = $1", Params: []any{int64(5)}},
	} {
		if x := execute(t, s, in); x.State != query.Succeeded {
			t.Errorf("%q with %v: %s %+v", in.SQL, in.Params, x.State, x.Error)
		}
	}
}

func TestBytesScannedLimit(t *testing.T) {
	store, dir := eventsLake(t)
	files, bytes := dataFiles(t, filepath.Join(dir, "lake"))
	hist := &recordingHistory{History: store}
	results := filepath.Join(dir, "results")
	s := newService(t, store, hist, query.ServiceConfig{ResultsDir: results, Workgroups: []query.Workgroup{
		{Name: "small", BytesScannedLimit: bytes - 1},
		{Name: "exact", BytesScannedLimit: bytes},
	}})

	x := execute(t, s, query.StartInput{SQL: "SELECT count(id) FROM lake.events", Workgroup: "small"})
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser {
		t.Fatalf("over the limit: %s %+v, want FAILED USER", x.State, x.Error)
	}
	want := "query: bytes-scanned limit exceeded: the query would scan " + itoa(bytes) + " bytes in " + itoa(files) +
		" data files, over the " + itoa(bytes-1) + "-byte limit of workgroup small"
	if x.Error.Message != want {
		t.Errorf("message = %q\nwant %q", x.Error.Message, want)
	}
	// Refused before running: never RUNNING, nothing scanned, no result.
	if !x.Started.IsZero() || x.Statistics.BytesScanned != 0 || x.Statistics.ExecutionMs != 0 {
		t.Errorf("refused execution ran: started %v, statistics %+v", x.Started, x.Statistics)
	}
	if got, want := hist.saved(x.ID), []string{"QUEUED", "FAILED"}; !slices.Equal(got, want) {
		t.Errorf("saved states = %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(results, "small", x.ID+".csv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused execution has a CSV: %v", err)
	}

	// A query that reads no table, or exactly the limit, runs.
	for _, in := range []query.StartInput{
		{SQL: "SELECT 1", Workgroup: "small"},
		{SQL: "SELECT count(*) FROM lake.events", Workgroup: "exact"},
	} {
		if x := execute(t, s, in); x.State != query.Succeeded {
			t.Errorf("%+v: %s %+v", in, x.State, x.Error)
		}
	}
	// Describing reads no data, as in Athena: it scans nothing and the
	// limit does not refuse it. EXPLAIN ANALYZE runs the query.
	for _, sql := range []string{
		"DESCRIBE lake.events", "describe SELECT id FROM lake.events", "SHOW lake.events",
		"EXPLAIN SELECT count(id) FROM lake.events", "/* plan */ explain select * from lake.events; DESCRIBE lake.events",
	} {
		x := execute(t, s, query.StartInput{SQL: sql, Workgroup: "small"})
		if x.State != query.Succeeded || x.Statistics.BytesScanned != 0 || x.Statistics.FilesScanned != 0 || x.Statistics.RowsReturned == 0 {
			t.Errorf("%q: %s %+v, statistics %+v, want SUCCEEDED, rows, nothing scanned", sql, x.State, x.Error, x.Statistics)
		}
	}
	for _, sql := range []string{"EXPLAIN ANALYZE SELECT count(id) FROM lake.events", "DESCRIBE lake.events; SELECT id FROM lake.events"} {
		if x := execute(t, s, query.StartInput{SQL: sql, Workgroup: "small"}); x.State != query.Failed || x.Error == nil || !strings.Contains(x.Error.Message, "bytes-scanned limit") {
			t.Errorf("%q: %s %+v, want refused over the limit", sql, x.State, x.Error)
		}
	}
	x = execute(t, s, query.StartInput{SQL: "EXPLAIN ANALYZE SELECT count(id) FROM lake.events", Workgroup: "exact"})
	if x.State != query.Succeeded || x.Statistics.BytesScanned != bytes {
		t.Errorf("EXPLAIN ANALYZE: %s %+v, scanned %d, want %d", x.State, x.Error, x.Statistics.BytesScanned, bytes)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestExecutionQueuedAndCancelled(t *testing.T) {
	store, _ := openCatalog(t)
	hist := &recordingHistory{History: store}
	s := newService(t, store, hist, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "one", Concurrency: 1}}})

	slow, err := s.Start(t.Context(), query.StartInput{SQL: slowSQL, Workgroup: "one"})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, s, slow, query.Running)
	next, err := s.Start(t.Context(), query.StartInput{SQL: "SELECT 42", Workgroup: "one"})
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := s.Start(t.Context(), query.StartInput{SQL: "SELECT 43", Workgroup: "one"})
	if err != nil {
		t.Fatal(err)
	}
	// Another workgroup is not held up.
	if x := execute(t, s, query.StartInput{SQL: "SELECT 1"}); x.State != query.Succeeded {
		t.Errorf("primary: %s %+v", x.State, x.Error)
	}
	time.Sleep(200 * time.Millisecond)
	for _, id := range []string{next, dropped} {
		if x, err := s.Get(t.Context(), id); err != nil || x.State != query.Queued || !x.Started.IsZero() {
			t.Fatalf("second query of a workgroup of concurrency 1: %+v, %v, want QUEUED", x, err)
		}
	}

	// Cancel one while queued, then the running one.
	if err := s.Cancel(t.Context(), dropped); err != nil {
		t.Fatal(err)
	}
	x, err := s.Get(t.Context(), dropped)
	if err != nil || x.State != query.Cancelled || !x.Started.IsZero() || x.StateReason != "cancelled by request" {
		t.Errorf("cancelled while queued: %+v, %v", x, err)
	}
	start := time.Now()
	if err := s.Cancel(t.Context(), slow); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	x, err = s.Get(t.Context(), slow)
	if err != nil || x.State != query.Cancelled || x.Error != nil || x.Started.IsZero() {
		t.Errorf("cancelled while running: %+v, %v", x, err)
	}
	if got, want := hist.saved(slow), []string{"QUEUED", "RUNNING", "CANCELLED"}; !slices.Equal(got, want) {
		t.Errorf("saved states = %v, want %v", got, want)
	}
	// The queued query gets the slot.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	x, err = s.Wait(ctx, next)
	if err != nil || x.State != query.Succeeded || x.Statistics.QueueMs < 200 {
		t.Errorf("queued query: %+v, %v", x, err)
	}
	// Cancelling a finished execution changes nothing.
	if err := s.Cancel(t.Context(), next); err != nil {
		t.Error(err)
	}
	if x, _ := s.Get(t.Context(), next); x.State != query.Succeeded {
		t.Errorf("after cancel of a finished execution: %s", x.State)
	}
}

func TestExecutionTimeout(t *testing.T) {
	store, _ := openCatalog(t)
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "quick", Timeout: 300 * time.Millisecond}}})
	start := time.Now()
	x := execute(t, s, query.StartInput{SQL: slowSQL, Workgroup: "quick"})
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser ||
		x.Error.Message != "query: timed out after 300ms (the timeout of workgroup quick)" {
		t.Errorf("timed out: %s %+v", x.State, x.Error)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestExecutionMemoryLimit(t *testing.T) {
	store, _ := openCatalog(t)
	s := newService(t, store, nil, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "lean", MemoryLimit: "300MB"}}})
	setting := func(wg string) string {
		x := execute(t, s, query.StartInput{SQL: "SELECT current_setting('memory_limit')", Workgroup: wg})
		page, err := s.Results(t.Context(), x.ID, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return pageRows(page)
	}
	lean, primary := setting("lean"), setting("primary")
	if lean != "[286.1 MiB]" || primary == lean {
		t.Errorf("memory_limit: lean %s, primary %s", lean, primary)
	}
	// A query that needs more than the limit fails as the author's
	// error, naming the workgroup's limit, without DuckDB's advice to
	// change settings that queries cannot change.
	x := execute(t, s, query.StartInput{SQL: "SELECT list(i) FROM range(100000000) t(i)", Workgroup: "lean"})
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategoryUser ||
		!strings.HasPrefix(x.Error.Message, "query: the query needs more memory than the memory limit of workgroup lean (300MB): query: Out of Memory Error: ") ||
		strings.Contains(x.Error.Message, "SET ") {
		t.Errorf("%s %+v", x.State, x.Error)
	}
}

// The history outlives the Service and the catalog handle.
func TestHistorySurvivesRestart(t *testing.T) {
	store, dir := eventsLake(t)
	results := filepath.Join(dir, "results")
	first, err := query.NewService(query.New(store, query.Options{Threads: 1}), store, query.ServiceConfig{ResultsDir: results})
	if err != nil {
		t.Fatal(err)
	}
	ok := execute(t, first, query.StartInput{SQL: "SELECT id FROM lake.events ORDER BY id DESC LIMIT 2"})
	bad := execute(t, first, query.StartInput{SQL: "SELECT * FROM lake.nope"})
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Start(t.Context(), query.StartInput{SQL: "SELECT 1"}); err == nil {
		t.Error("Start after Close: no error")
	}
	store.Close()

	reopened, err := catalog.Open(t.Context(), filepath.Join(dir, "catalog.db"), "file://"+filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	second := newService(t, reopened, nil, query.ServiceConfig{ResultsDir: results})
	x, err := second.Get(t.Context(), ok.ID)
	if err != nil || x.State != query.Succeeded || x.Statistics != ok.Statistics || !x.Finished.Equal(ok.Finished) {
		t.Errorf("after restart: %+v, %v; before: %+v", x, err, ok)
	}
	page, err := second.Results(t.Context(), ok.ID, 0, 10)
	if err != nil || pageRows(page) != "[5] [4]" {
		t.Errorf("results after restart: %v, %v", page, err)
	}
	list, err := second.List(t.Context(), query.ListFilter{})
	if err != nil || len(list) != 2 || list[0].ID != bad.ID || list[1].ID != ok.ID {
		t.Errorf("list = %+v, %v", list, err)
	}
	list, err = second.List(t.Context(), query.ListFilter{State: query.Failed})
	if err != nil || len(list) != 1 || list[0].ID != bad.ID || list[0].Error == nil || list[0].Error.Category != query.CategoryUser {
		t.Errorf("list FAILED = %+v, %v", list, err)
	}
	if x, err := second.Wait(t.Context(), bad.ID); err != nil || x.State != query.Failed {
		t.Errorf("wait for a finished execution: %+v, %v", x, err)
	}
}

func TestWorkgroupValidate(t *testing.T) {
	for _, tc := range []struct {
		w    query.Workgroup
		want string
	}{
		{query.Workgroup{Name: "a b"}, `workgroups: name "a b" must be 1-128 letters, digits, '.', '_' or '-'`},
		{query.Workgroup{Name: "w", BytesScannedLimit: -1}, "workgroups[w].bytes_scanned_limit: -1 is negative (0 is no limit)"},
		{query.Workgroup{Name: "w", Concurrency: -1}, "workgroups[w].concurrency: -1 is negative (0 is the default, 4)"},
		{query.Workgroup{Name: "w", MemoryLimit: "lots"}, `workgroups[w].memory_limit: "lots" is not a size such as 512MB or 2GB`},
		{query.Workgroup{Name: "w", Timeout: -time.Second}, "workgroups[w].timeout: -1s is negative (0 is none)"},
		{query.Workgroup{Name: "w", ResultsLocation: "s3://bucket/results"}, `workgroups[w].results_location: location "s3://bucket/results": only local files (a path or file://) can be read`},
	} {
		if err := tc.w.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.w, err, tc.want)
		}
	}
	good := query.Workgroup{Name: "etl-1", ResultsLocation: "/tmp/r", BytesScannedLimit: 1 << 30, Concurrency: 2, MemoryLimit: "1.5GiB", Timeout: time.Minute}
	if err := good.Validate(); err != nil {
		t.Error(err)
	}
	if err := query.ValidateWorkgroups([]query.Workgroup{good, good}); err == nil || err.Error() != `workgroups: "etl-1" is defined twice` {
		t.Errorf("duplicate: %v", err)
	}
	var decoded []query.Workgroup
	dec := yaml.NewDecoder(strings.NewReader("- name: etl-1\n  results_location: /tmp/r\n  bytes_scanned_limit: 1073741824\n" +
		"  concurrency: 2\n  memory_limit: 1.5GiB\n  timeout: 1m\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&decoded); err != nil || len(decoded) != 1 || decoded[0] != good {
		t.Errorf("yaml = %+v, %v, want %+v", decoded, err, good)
	}
	store, _ := openCatalog(t)
	if _, err := query.NewService(query.New(store, query.Options{}), store, query.ServiceConfig{Workgroups: []query.Workgroup{{Name: "x", Concurrency: -2}}}); err == nil {
		t.Error("NewService accepted an invalid workgroup")
	}
}

// Close ends what is queued or running, and Start fails after it.
func TestServiceClose(t *testing.T) {
	store, _ := openCatalog(t)
	s, err := query.NewService(query.New(store, query.Options{Threads: 1}), store,
		query.ServiceConfig{ResultsDir: t.TempDir(), Workgroups: []query.Workgroup{{Name: "one", Concurrency: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	running, err := s.Start(t.Context(), query.StartInput{SQL: slowSQL, Workgroup: "one"})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, s, running, query.Running)
	queued, err := s.Start(t.Context(), query.StartInput{SQL: "SELECT 1", Workgroup: "one"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{running, queued} {
		x, err := store.Execution(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got query.Execution
		if err := json.Unmarshal(x.Document, &got); err != nil {
			t.Fatal(err)
		}
		if got.State != query.Failed || got.Error == nil || got.Error.Category != query.CategorySystem ||
			got.Error.Message != "query: the query service stopped" {
			t.Errorf("%s after Close: %s %+v", id, got.State, got.Error)
		}
	}
	if _, err := s.Start(t.Context(), query.StartInput{SQL: "SELECT 1"}); err == nil {
		t.Error("Start after Close: no error")
	}
}

// Bytes scanned of an external table are its files that the view reads:
// files outside its partition directories or with other extensions are not.
func TestExternalBytesScanned(t *testing.T) {
	store, dir := openCatalog(t)
	staging := filepath.Join(dir, "staging")
	day := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	writeStaging(t, staging,
		stage.Record{Topic: "orders", Partition: 0, Offset: 0, Timestamp: day, Value: []byte(`{"id": 1}`)},
		stage.Record{Topic: "orders", Partition: 0, Offset: 1, Timestamp: day, Value: []byte(`{"id": 2}`)})
	writeStaging(t, staging,
		stage.Record{Topic: "orders", Partition: 1, Offset: 0, Timestamp: day.Add(time.Hour), Value: []byte(`{"id": 3}`)})
	loc := filepath.Join(staging, "orders")
	var want int64
	filepath.WalkDir(loc, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			want += info.Size()
		}
		return err
	})
	for _, junk := range []string{"stray.zst", "dt=2026-11-22/hr=10/p=0/notes.txt", "dt=2026-11-22/hr=10/x.zst"} {
		if err := os.WriteFile(filepath.Join(loc, junk), []byte("not a table file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.PutTable(t.Context(), stagingTable("orders", loc)); err != nil {
		t.Fatal(err)
	}
	s := newService(t, store, nil, query.ServiceConfig{})
	x := execute(t, s, query.StartInput{SQL: "SELECT count(*) FROM raw.orders"})
	if x.State != query.Succeeded || x.Statistics.FilesScanned != 2 || x.Statistics.BytesScanned != want || want == 0 {
		t.Errorf("%s %+v, statistics %+v, want 2 files, %d bytes", x.State, x.Error, x.Statistics, want)
	}
	page, err := s.Results(t.Context(), x.ID, 0, 1)
	if err != nil || pageRows(page) != "[3]" {
		t.Errorf("count = %v, %v", page, err)
	}
}

// putExecution writes x to the history as the process running it would
// have left it.
func putExecution(t *testing.T, store *catalog.Store, x query.Execution) {
	t.Helper()
	doc, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutExecution(t.Context(), catalog.Execution{ID: x.ID, Workgroup: x.Workgroup, State: string(x.State),
		Submitted: x.Submitted, Document: doc}); err != nil {
		t.Fatal(err)
	}
}

// TestAbandonedExecutionFails: executions a stopped process left QUEUED
// or RUNNING in the history read as FAILED (SYSTEM) once they have shown
// no sign of life for six heartbeat intervals, and are saved so; a recent
// one of another process stays as it is.
func TestAbandonedExecutionFails(t *testing.T) {
	store, _ := openCatalog(t)
	ctx := t.Context()
	now := time.Now().UTC()
	long := now.Add(-10 * time.Minute)
	putExecution(t, store, query.Execution{ID: "left-running", SQL: slowSQL, Workgroup: query.PrimaryWorkgroup,
		State: query.Running, Submitted: long, Started: long, Heartbeat: long.Add(time.Minute)})
	putExecution(t, store, query.Execution{ID: "left-queued", SQL: "SELECT 1", Workgroup: query.PrimaryWorkgroup,
		State: query.Queued, Submitted: long})
	putExecution(t, store, query.Execution{ID: "elsewhere", SQL: slowSQL, Workgroup: query.PrimaryWorkgroup,
		State: query.Running, Submitted: now, Started: now})
	s := newService(t, store, nil, query.ServiceConfig{})

	running, err := s.List(ctx, query.ListFilter{State: query.Running})
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 1 || running[0].ID != "elsewhere" {
		t.Fatalf("RUNNING executions: %+v, want only the recent one", running)
	}
	x, err := s.Get(ctx, "left-running")
	if err != nil {
		t.Fatal(err)
	}
	if x.State != query.Failed || x.Error == nil || x.Error.Category != query.CategorySystem ||
		!strings.Contains(x.Error.Message, "process running it stopped") || x.Finished.IsZero() {
		t.Fatalf("abandoned RUNNING execution: %+v (%+v)", x, x.Error)
	}
	if rec, err := store.Execution(ctx, "left-running"); err != nil || rec.State != string(query.Failed) {
		t.Fatalf("history: %+v, %v; want it saved FAILED", rec, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if x, err := s.Wait(wctx, "left-queued"); err != nil || x.State != query.Failed {
		t.Fatalf("waiting for an abandoned QUEUED execution: %+v, %v", x, err)
	}
	if x, err := s.Get(ctx, "elsewhere"); err != nil || x.State != query.Running {
		t.Fatalf("a recent execution of another process: %+v, %v; want RUNNING", x, err)
	}
}

// slowHistory is the real catalog history whose saves of one state take
// a while, as a PostgreSQL catalog under load may.
type slowHistory struct {
	query.History
	state string
	delay time.Duration
}

func (h slowHistory) PutExecution(ctx context.Context, e catalog.Execution) error {
	if e.State == h.state {
		time.Sleep(h.delay)
	}
	return h.History.PutExecution(ctx, e)
}

// TestStateSavedBeforeReported: a process reports a new state only once
// the history has it, so a client told RUNNING (or SUCCEEDED) by the
// runner never reads an older state from another process, however slow
// the save.
func TestStateSavedBeforeReported(t *testing.T) {
	store, _ := openCatalog(t)
	for _, tc := range []struct {
		state query.State
		sql   string
	}{{query.Running, slowSQL}, {query.Succeeded, "SELECT 42"}} {
		runner := newService(t, store, slowHistory{History: store, state: string(tc.state), delay: 300 * time.Millisecond}, query.ServiceConfig{})
		other := newService(t, store, nil, query.ServiceConfig{})
		id, err := runner.Start(t.Context(), query.StartInput{SQL: tc.sql})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, runner, id, tc.state)
		if got, err := other.Get(t.Context(), id); err != nil || got.State != tc.state {
			t.Fatalf("the runner reports %s; another process reads %s (%v)", tc.state, got.State, err)
		}
		if tc.state == query.Running {
			if err := runner.Cancel(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestHeartbeatKeepsExecutionAlive: a long query's heartbeats keep it
// RUNNING for another process reading the history long past six
// intervals since it started; cancelled, it reads CANCELLED there.
func TestHeartbeatKeepsExecutionAlive(t *testing.T) {
	store, _ := openCatalog(t)
	cfg := query.ServiceConfig{HeartbeatInterval: 200 * time.Millisecond} // stale after 1.2 s
	runner := newService(t, store, nil, cfg)
	other := newService(t, store, nil, cfg) // another process on the same history
	id, err := runner.Start(t.Context(), query.StartInput{SQL: slowSQL})
	if err != nil {
		t.Fatal(err)
	}
	x := waitState(t, runner, id, query.Running)
	for time.Since(x.Started) < 3*time.Second { // 15 intervals
		got, err := other.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != query.Running {
			t.Fatalf("another process reads %s (%+v) while it runs", got.State, got.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := runner.Cancel(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Get(t.Context(), id); err != nil || got.State != query.Cancelled {
		t.Fatalf("after cancel another process reads %+v, %v", got, err)
	}
}

// A saved result holds anonymous rows (which the driver cannot read as
// they are) with their fields named field0, field1, ..., also with
// parameters.
func TestExecutionSavesAnonymousRows(t *testing.T) {
	store, _ := eventsLake(t)
	s := newService(t, store, nil, query.ServiceConfig{})
	x := execute(t, s, query.StartInput{SQL: "SELECT row(id, name) AS r, [(id, 1)] AS l FROM lake.events WHERE id >= ? ORDER BY id;", Params: []any{int64(4)}})
	if x.State != query.Succeeded {
		t.Fatalf("%s %+v", x.State, x.Error)
	}
	page, err := s.Results(t.Context(), x.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pageRows(page), `[{"field0":4,"field1":""} [{"field0":4,"field1":1}]] [{"field0":5,"field1":"e"} [{"field0":5,"field1":1}]]`; got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
	if len(page.Columns) != 2 || page.Columns[0].Type != `STRUCT("field0" BIGINT, "field1" VARCHAR)` {
		t.Errorf("columns %+v", page.Columns)
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/server"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// lake is a real catalog with lake.events, an Iceberg table of three rows.
func lake(t *testing.T) (*catalog.Store, string) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	store, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"), (&url.URL{Scheme: "file", Path: filepath.Join(dir, "lake")}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Iceberg().CreateNamespace(ctx, table.Identifier{"lake"}, nil); err != nil {
		t.Fatal(err)
	}
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String})
	tbl, err := store.Iceberg().CreateTable(ctx, table.Identifier{"lake", "events"}, sc)
	if err != nil {
		t.Fatal(err)
	}
	asc, err := table.SchemaToArrowSchema(sc, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	at, err := array.TableFromJSON(memory.DefaultAllocator, asc, []string{`[{"id": 1, "name": "a"}, {"id": 2, "name": null}, {"id": 3, "name": "c"}]`})
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if _, err := tbl.AppendTable(ctx, at, 1024, nil); err != nil {
		t.Fatal(err)
	}
	return store, dir
}

// api serves the real query service over store.
func api(t *testing.T, store *catalog.Store, dir string) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(tWriter{t}, nil))
	svc, err := query.NewService(query.New(store, query.Options{Threads: 1, Logger: log}), store, query.ServiceConfig{
		ResultsDir: filepath.Join(dir, "results"), Logger: log,
		Workgroups: []query.Workgroup{{Name: "tiny", BytesScannedLimit: 10}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(svc, log))
	t.Cleanup(func() {
		ts.Close()
		svc.Close(context.Background())
	})
	return ts
}

// call makes a request and decodes a JSON response into out; it returns
// the status.
func call(t *testing.T, method, u, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, body %s", method, u, ct, b)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, u, b, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error    string `json:"error"`
	Category string `json:"category"`
}

// start posts a query and returns its id.
func start(t *testing.T, ts *httptest.Server, body string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if st := call(t, "POST", ts.URL+"/v1/queries", body, &out); st != http.StatusAccepted || out.ID == "" {
		t.Fatalf("POST %s: %d %+v", body, st, out)
	}
	return out.ID
}

// poll gets an execution until it is in a final state.
func poll(t *testing.T, ts *httptest.Server, id string) query.Execution {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var x query.Execution
		if st := call(t, "GET", ts.URL+"/v1/queries/"+id, "", &x); st != http.StatusOK {
			t.Fatalf("GET %s: %d", id, st)
		}
		if x.State.Terminal() {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still %s", id, x.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPI(t *testing.T) {
	store, dir := lake(t)
	ts := api(t, store, dir)

	var health map[string]string
	if st := call(t, "GET", ts.URL+"/healthz", "", &health); st != 200 || health["status"] != "ok" {
		t.Errorf("healthz: %d %v", st, health)
	}

	id := start(t, ts, `{"sql": "SELECT id, name FROM lake.events WHERE id >= ? ORDER BY id", "params": [1]}`)
	x := poll(t, ts, id)
	if x.State != query.Succeeded || x.ID != id || x.Workgroup != "primary" || x.Statistics.RowsReturned != 3 ||
		x.Statistics.FilesScanned != 1 || x.Statistics.BytesScanned <= 10 || x.Started.IsZero() {
		t.Fatalf("execution = %+v", x)
	}

	var page query.ResultPage
	if st := call(t, "GET", ts.URL+"/v1/queries/"+id+"/results?offset=1&limit=1", "", &page); st != 200 {
		t.Fatalf("results: %d", st)
	}
	if len(page.Rows) != 1 || page.Rows[0][0] == nil || *page.Rows[0][0] != "2" || page.Rows[0][1] != nil ||
		page.NextOffset != 2 || page.Total != 3 || page.Columns[1] != (query.ResultColumn{Name: "name", Type: "VARCHAR"}) {
		t.Errorf("page = %+v", page)
	}
	page = query.ResultPage{}
	if st := call(t, "GET", ts.URL+"/v1/queries/"+id+"/results?offset=2", "", &page); st != 200 || len(page.Rows) != 1 || page.NextOffset != 0 {
		t.Errorf("last page: %d %+v", st, page)
	}

	// Over the bytes-scanned limit: refused before running, a USER error.
	refused := poll(t, ts, start(t, ts, `{"sql": "SELECT count(id) FROM lake.events", "workgroup": "tiny"}`))
	if refused.State != query.Failed || refused.Error == nil || refused.Error.Category != query.CategoryUser ||
		!strings.Contains(refused.Error.Message, "over the 10-byte limit of workgroup tiny") || !refused.Started.IsZero() {
		t.Errorf("over the limit: %+v %+v", refused, refused.Error)
	}
	var e apiError
	if st := call(t, "GET", ts.URL+"/v1/queries/"+refused.ID+"/results", "", &e); st != http.StatusConflict ||
		e.Category != "USER" || !strings.Contains(e.Error, "execution has no results: it is FAILED") {
		t.Errorf("results of a failed execution: %d %+v", st, e)
	}

	// Cancel a running query.
	slow := start(t, ts, `{"sql": "SELECT sum(i) FROM range(1000000000000) t(i)"}`)
	for {
		var x query.Execution
		call(t, "GET", ts.URL+"/v1/queries/"+slow, "", &x)
		if x.State == query.Running {
			break
		}
		if x.State.Terminal() {
			t.Fatalf("slow query ended: %+v", x)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var cancelled query.Execution
	if st := call(t, "POST", ts.URL+"/v1/queries/"+slow+"/cancel", "", &cancelled); st != 200 || cancelled.State != query.Cancelled {
		t.Errorf("cancel: %d %+v", st, cancelled)
	}

	// List, newest first, with filters.
	var list struct {
		Executions []query.Execution `json:"executions"`
	}
	if st := call(t, "GET", ts.URL+"/v1/queries", "", &list); st != 200 || len(list.Executions) != 3 ||
		list.Executions[0].ID != slow || list.Executions[2].ID != id {
		t.Errorf("list: %d %+v", st, list)
	}
	list.Executions = nil
	if st := call(t, "GET", ts.URL+"/v1/queries?state=failed&limit=5", "", &list); st != 200 || len(list.Executions) != 1 || list.Executions[0].ID != refused.ID {
		t.Errorf("list FAILED: %d %+v", st, list)
	}
	list.Executions = nil
	if st := call(t, "GET", ts.URL+"/v1/queries?workgroup=primary&limit=1", "", &list); st != 200 || len(list.Executions) != 1 || list.Executions[0].ID != slow {
		t.Errorf("list primary limit 1: %d %+v", st, list)
	}
}

func TestAPIErrors(t *testing.T) {
	store, dir := lake(t)
	ts := api(t, store, dir)
	failed := poll(t, ts, start(t, ts, `{"sql": "SELECT * FROM lake.nope"}`))
	if failed.State != query.Failed || failed.Error.Category != "USER" || failed.Error.Message != "query: table lake.nope not found" {
		t.Errorf("missing table: %+v", failed.Error)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"POST", "/v1/queries", `{"sql": ""}`, 400, "invalid request: sql is empty"},
		{"POST", "/v1/queries", `{"sql": "SELECT 1", "workgroup": "nope"}`, 400, `workgroup "nope" does not exist`},
		{"POST", "/v1/queries", `{"sql": "SELECT 1", "colour": "red"}`, 400, `unknown field "colour"`},
		{"POST", "/v1/queries", `{"sql": "SELECT ?", "params": [[1]]}`, 400, "params[0]: only strings, numbers"},
		{"POST", "/v1/queries", `not json`, 400, "invalid request: body"},
		{"GET", "/v1/queries/nope", "", 404, "no such query execution"},
		{"POST", "/v1/queries/nope/cancel", "", 404, "no such query execution"},
		{"GET", "/v1/queries/nope/results", "", 404, "no such query execution"},
		{"GET", "/v1/queries/" + failed.ID + "/results?limit=x", "", 400, `limit: "x" is not a non-negative integer`},
		{"GET", "/v1/queries/" + failed.ID + "/results?limit=1000000", "", 400, "limit between 0 and 10000"},
		{"GET", "/v1/queries?state=DONE", "", 400, `state "DONE" is not one of`},
		{"GET", "/v1/queries?before=yesterday", "", 400, `before: "yesterday" is not an RFC 3339 time`},
		{"GET", "/v2/nothing", "", 404, "no such path: GET /v2/nothing"},
		{"DELETE", "/v1/queries/" + failed.ID, "", 405, "DELETE /v1/queries/" + failed.ID + " is not allowed; use GET"},
		{"GET", "/v1/queries/" + failed.ID + "/cancel", "", 405, "is not allowed; use POST"},
	} {
		var e apiError
		st := call(t, tc.method, ts.URL+tc.path, tc.body, &e)
		if st != tc.status || e.Category != "USER" || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s %s %s: %d %+v, want %d USER containing %q", tc.method, tc.path, tc.body, st, e, tc.status, tc.msg)
		}
	}

	// A broken history is a SYSTEM error.
	store.Close()
	var e apiError
	if st := call(t, "GET", ts.URL+"/v1/queries", "", &e); st != 500 || e.Category != "SYSTEM" || !strings.Contains(e.Error, "list executions") {
		t.Errorf("closed catalog: %d %+v", st, e)
	}
}

// ListenAndServe serves until its context is done.
func TestServe(t *testing.T) {
	store, dir := lake(t)
	svc, err := query.NewService(query.New(store, query.Options{Threads: 1}), store, query.ServiceConfig{ResultsDir: filepath.Join(dir, "results")})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- server.New(svc, nil).Serve(ctx, ln) }()
	var health map[string]string
	if st := call(t, "GET", fmt.Sprintf("http://%s/healthz", ln.Addr()), "", &health); st != 200 {
		t.Errorf("healthz: %d", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context was done")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
}

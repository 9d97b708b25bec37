package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/query"
)

// TestNamedQueriesAPI drives the named-query endpoints of the real service
// over a real catalog file: create, the duplicate name refused, get by
// name and by id, list per workgroup, start with parameters and read the
// execution's result, delete.
func TestNamedQueriesAPI(t *testing.T) {
	store, dir := lake(t)
	ts := api(t, store, dir)

	var q query.NamedQuery
	st := call(t, "POST", ts.URL+"/v1/named-queries",
		`{"name": "names_from", "sql": "SELECT id, name FROM lake.events WHERE id >= ? ORDER BY id", "database": "lake", "description": "names from an id"}`, &q)
	if st != http.StatusCreated || len(q.ID) != 36 || q.Name != "names_from" || q.Workgroup != "primary" ||
		q.Database != "lake" || q.Description != "names from an id" || q.Created.IsZero() {
		t.Fatalf("create: %d %+v", st, q)
	}
	var tiny query.NamedQuery
	if st := call(t, "POST", ts.URL+"/v1/named-queries", `{"name": "names_from", "sql": "SELECT 1", "workgroup": "tiny"}`, &tiny); st != http.StatusCreated || tiny.Workgroup != "tiny" {
		t.Fatalf("create in tiny: %d %+v", st, tiny)
	}
	var e apiError
	if st := call(t, "POST", ts.URL+"/v1/named-queries", `{"name": "names_from", "sql": "SELECT 2"}`, &e); st != http.StatusConflict ||
		e.Category != "USER" || !strings.Contains(e.Error, "names_from in workgroup primary: already exists") {
		t.Errorf("duplicate: %d %+v", st, e)
	}

	for _, path := range []string{"/v1/named-queries/names_from", "/v1/named-queries/" + q.ID, "/v1/named-queries/names_from?workgroup=primary"} {
		var got query.NamedQuery
		if st := call(t, "GET", ts.URL+path, "", &got); st != 200 || got != q {
			t.Errorf("GET %s: %d %+v, want %+v", path, st, got, q)
		}
	}
	var got query.NamedQuery
	if st := call(t, "GET", ts.URL+"/v1/named-queries/names_from?workgroup=tiny", "", &got); st != 200 || got.ID != tiny.ID {
		t.Errorf("GET in tiny: %d %+v", st, got)
	}
	var list struct {
		NamedQueries []query.NamedQuery `json:"named_queries"`
	}
	if st := call(t, "GET", ts.URL+"/v1/named-queries?workgroup=primary", "", &list); st != 200 || len(list.NamedQueries) != 1 || list.NamedQueries[0] != q {
		t.Errorf("list primary: %d %+v", st, list)
	}
	list.NamedQueries = nil
	if st := call(t, "GET", ts.URL+"/v1/named-queries", "", &list); st != 200 || len(list.NamedQueries) != 2 {
		t.Errorf("list all: %d %+v", st, list)
	}

	// Start it with a parameter; the execution is an ordinary one.
	var started struct {
		ID string `json:"id"`
	}
	if st := call(t, "POST", ts.URL+"/v1/named-queries/names_from/start", `{"params": [2]}`, &started); st != http.StatusAccepted || started.ID == "" {
		t.Fatalf("start: %d %+v", st, started)
	}
	x := poll(t, ts, started.ID)
	if x.State != query.Succeeded || x.SQL != q.SQL || x.Workgroup != "primary" || x.Statistics.RowsReturned != 2 {
		t.Fatalf("execution of the named query: %+v %+v", x, x.Error)
	}
	var page query.ResultPage
	if st := call(t, "GET", ts.URL+"/v1/queries/"+x.ID+"/results", "", &page); st != 200 || len(page.Rows) != 2 ||
		*page.Rows[0][0] != "2" || page.Rows[0][1] != nil || *page.Rows[1][0] != "3" || *page.Rows[1][1] != "c" {
		t.Errorf("results: %d %+v", st, page)
	}
	// Without a body: no parameters; tiny's query runs in tiny.
	if st := call(t, "POST", ts.URL+"/v1/named-queries/names_from/start?workgroup=tiny", "", &started); st != http.StatusAccepted {
		t.Fatalf("start without a body: %d", st)
	}
	if x := poll(t, ts, started.ID); x.State != query.Succeeded || x.Workgroup != "tiny" || x.SQL != "SELECT 1" {
		t.Errorf("execution in tiny: %+v %+v", x, x.Error)
	}

	var deleted query.NamedQuery
	if st := call(t, "DELETE", ts.URL+"/v1/named-queries/"+q.ID, "", &deleted); st != 200 || deleted != q {
		t.Errorf("delete: %d %+v", st, deleted)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/v1/named-queries/names_from", "", 404, `workgroup primary has no named query "names_from"`},
		{"DELETE", "/v1/named-queries/names_from", "", 404, "no such named query"},
		{"POST", "/v1/named-queries/names_from/start", "", 404, "no such named query"},
		{"POST", "/v1/named-queries", `{"name": "a b", "sql": "SELECT 1"}`, 400, `named query name "a b" must be`},
		{"POST", "/v1/named-queries", `{"name": "x", "sql": ""}`, 400, "sql is empty"},
		{"POST", "/v1/named-queries", `{"name": "x", "sql": "SELECT 1", "workgroup": "nope"}`, 400, `workgroup "nope" does not exist`},
		{"POST", "/v1/named-queries", `{"name": "x", "sql": "SELECT 1", "colour": "red"}`, 400, `unknown field "colour"`},
		{"POST", "/v1/named-queries", ``, 400, "invalid request: body"},
		{"GET", "/v1/named-queries?workgroup=nope", "", 400, `workgroup "nope" does not exist`},
		{"POST", "/v1/named-queries/names_from/start?workgroup=tiny", `{"params": [{}]}`, 400, "params[0]: only strings, numbers"},
		{"PUT", "/v1/named-queries/names_from", "", 405, "is not allowed; use GET, DELETE"},
		{"GET", "/v1/named-queries/names_from/start", "", 405, "is not allowed; use POST"},
	} {
		var e apiError
		st := call(t, tc.method, ts.URL+tc.path, tc.body, &e)
		if st != tc.status || e.Category != "USER" || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s %s %s: %d %+v, want %d USER containing %q", tc.method, tc.path, tc.body, st, e, tc.status, tc.msg)
		}
	}
}

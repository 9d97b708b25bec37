package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/query"
)

// TestNamedQueriesCLI covers streamlake queries save, named, run and
// delete on a real lake, and the same named queries over the HTTP API of
// streamlake serve.
func TestNamedQueriesCLI(t *testing.T) {
	l := newLake(t)
	for _, sub := range []string{"save", "named", "run", "delete"} {
		if out := l.ok("", "queries", sub, "--help"); !strings.Contains(out, "Usage:\n  streamlake queries "+sub) {
			t.Errorf("queries %s --help:\n%s", sub, out)
		}
	}
	site := strings.Split(l.ok("", "query", "--format", "csv", "SELECT min(site) FROM lake.sensors"), "\n")[1]
	if site == "" {
		t.Fatal("the lake has no site")
	}

	const bySite = "SELECT site, count(*) AS n, min(id) AS first FROM lake.sensors WHERE site = ? GROUP BY site"
	out := l.ok("", "queries", "save", "by_site", bySite, "--description", "readings of one site", "--database", "lake")
	m := regexp.MustCompile(`^saved named query by_site in workgroup primary: ([0-9a-f-]{36})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("save printed %q", out)
	}
	id := m[1]
	if msg := l.fails("", "queries", "save", "by_site", "SELECT 1"); !strings.Contains(msg, "by_site in workgroup primary: already exists") {
		t.Errorf("duplicate save: %q", msg)
	}
	if msg := l.fails("", "queries", "save", "bad name", "SELECT 1"); !strings.Contains(msg, `named query name "bad name" must be`) {
		t.Errorf("bad name: %q", msg)
	}
	l.ok("", "queries", "save", "by_site", "SELECT 'adhoc' AS wg", "--workgroup", "adhoc")

	var list []query.NamedQuery
	if err := json.Unmarshal([]byte(l.ok("", "queries", "named", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Workgroup != "adhoc" || list[1].ID != id || list[1].SQL != bySite ||
		list[1].Description != "readings of one site" || list[1].Database != "lake" {
		t.Fatalf("named: %+v", list)
	}
	if out := l.ok("", "queries", "named", "--workgroup", "adhoc", "--format", "csv"); !regexp.MustCompile(
		`^name,workgroup,id,created,database,description,sql\nby_site,adhoc,[0-9a-f-]{36},[0-9-]+T[0-9:.]+Z,,,SELECT 'adhoc' AS wg\n$`).MatchString(out) {
		t.Errorf("named --workgroup adhoc --format csv:\n%s", out)
	}
	if out := l.ok("", "queries", "named"); !strings.Contains(out, "readings of one site") || !strings.Contains(out, "by_site") {
		t.Errorf("named (table):\n%s", out)
	}

	// run prints what query prints for the same SQL with the value inlined.
	want := l.ok("", "query", "--format", "csv", strings.Replace(bySite, "?", "'"+site+"'", 1))
	out, stderr, err := l.sl("", "queries", "run", "by_site", "--param", site, "--format", "csv", "--stats")
	if err != nil || out != want || !strings.HasPrefix(want, "site,n,first\n"+site+",") {
		t.Fatalf("run: %v %q, want %q\n%s", err, out, want, stderr)
	}
	sm := regexp.MustCompile(`^execution (\S+) SUCCEEDED in \d+ ms, \d+ files?, .* scanned\n$`).FindStringSubmatch(stderr)
	if sm == nil {
		t.Fatalf("run --stats: %q", stderr)
	}
	if x := l.show(sm[1]); x.SQL != bySite || x.Workgroup != "primary" || x.Statistics.RowsReturned != 1 {
		t.Errorf("the execution of run: %+v", x)
	}
	if out := l.ok("", "queries", "run", id, "--param", site, "--format", "csv"); out != want {
		t.Errorf("run by id: %q", out)
	}
	if out := l.ok("", "queries", "run", "by_site", "--workgroup", "adhoc", "--format", "json"); out != "[\n{\"wg\":\"adhoc\"}\n]\n" {
		t.Errorf("run in adhoc: %q", out)
	}
	if msg := l.fails("", "queries", "run", "by_site"); !regexp.MustCompile(`^streamlake: query \S+ FAILED \(USER\): wrong number of parameters: the query has 1 \? placeholders and 0 values were given`).MatchString(msg) {
		t.Errorf("run without its --param: %q", msg)
	}
	if msg := l.fails("", "queries", "run", "by_site", "--param", "a", "--param", "b"); !strings.Contains(msg, "the query has 1 ? placeholders and 2 values were given") {
		t.Errorf("run with two --param for one ?: %q", msg)
	}

	// streamlake serve serves them.
	addr := freePort(t)
	serve, serveErr := l.startDaemon(addr, "serve", "--listen", addr)
	c := apiClient{t: t, base: "http://" + addr}
	var got query.NamedQuery
	if st := c.do("GET", "/v1/named-queries/by_site", nil, &got); st != http.StatusOK || got.ID != id {
		t.Errorf("GET /v1/named-queries/by_site: %d %+v", st, got)
	}
	var started struct{ ID string }
	if st := c.do("POST", "/v1/named-queries/by_site/start", map[string]any{"params": []any{site}}, &started); st != http.StatusAccepted {
		t.Fatalf("start over HTTP: %d", st)
	}
	c.wait(started.ID, query.Succeeded)
	var page query.ResultPage
	if c.do("GET", "/v1/queries/"+started.ID+"/results", nil, &page); len(page.Rows) != 1 || *page.Rows[0][0] != site {
		t.Errorf("results of the named query over HTTP: %+v", page)
	}
	if st := c.do("DELETE", "/v1/named-queries/by_site?workgroup=adhoc", nil, &got); st != http.StatusOK || got.Workgroup != "adhoc" {
		t.Errorf("DELETE over HTTP: %d %+v", st, got)
	}
	stop(t, serve, serveErr)

	if out := l.ok("", "queries", "delete", "by_site"); out != "deleted named query by_site of workgroup primary: "+id+"\n" {
		t.Errorf("delete printed %q", out)
	}
	if msg := l.fails("", "queries", "run", "by_site"); !strings.Contains(msg, `no such named query: workgroup primary has no named query "by_site"`) {
		t.Errorf("run after delete: %q", msg)
	}
	if msg := l.fails("", "queries", "delete", "by_site"); !strings.Contains(msg, "no such named query") {
		t.Errorf("delete after delete: %q", msg)
	}
	if out := l.ok("", "queries", "named", "--format", "json"); out != "[]\n" {
		t.Errorf("named after the deletes: %q", out)
	}
}

package registry_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamlake/streamlake/internal/registry"
)

// The embedded registry answers franz-go's client, and a restart replays
// its log: every schema keeps its id, a deleted subject stays deleted, and
// the next schema gets the next id.
func TestServerSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.jsonl")
	start := func() (*registry.Server, *httptest.Server, *sr.Client) {
		t.Helper()
		s, err := registry.NewServer(path)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(s)
		cl, err := sr.NewClient(sr.URLs(hs.URL))
		if err != nil {
			t.Fatal(err)
		}
		return s, hs, cl
	}
	s, hs, cl := start()
	a, err := cl.CreateSchema(ctx, "a-value", sr.Schema{Schema: `{"type": "record", "name": "A", "fields": [{"name": "x", "type": "long"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.CreateSchema(ctx, "b-value", sr.Schema{Schema: `{"type": "object"}`, Type: sr.TypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateSchema(ctx, "gone-value", sr.Schema{Schema: `"string"`}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteSubject(ctx, "gone-value", sr.SoftDelete); err != nil {
		t.Fatal(err)
	}
	// A change the registry refuses is not logged (a JSON schema that is
	// not JSON).
	if _, err := cl.CreateSchema(ctx, "bad-value", sr.Schema{Schema: `{`, Type: sr.TypeJSON}); err == nil {
		t.Error("an invalid schema was registered")
	}
	hs.Close()
	s.Close()

	s, hs, cl = start()
	defer s.Close()
	defer hs.Close()
	for _, want := range []sr.SubjectSchema{a, b} {
		got, err := cl.SchemaByID(ctx, want.ID)
		if err != nil || got.Schema != want.Schema.Schema || got.Type != want.Type {
			t.Errorf("schema id %d after a restart: %+v, %v; want %+v", want.ID, got, err, want.Schema)
		}
	}
	subjects, err := cl.Subjects(ctx)
	if err != nil || len(subjects) != 2 || subjects[0] != "a-value" || subjects[1] != "b-value" {
		t.Errorf("subjects after a restart: %v, %v", subjects, err)
	}
	c, err := cl.CreateSchema(ctx, "c-value", sr.Schema{Schema: `"long"`})
	if err != nil || c.ID != 4 {
		t.Errorf("the next schema: id %d, %v; want 4", c.ID, err)
	}
}

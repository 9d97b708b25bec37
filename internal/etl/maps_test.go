package etl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestObjectsWithDataKeysBecomeMaps checks the map inference rules (as
// DuckDB's read_json): objects whose keys are data become map columns (of
// their values' texts when the values mix types), objects whose keys are
// fields stay structs, and a map column then takes
// new keys without schema changes while a value of another type is a dead
// letter with the key named.
func TestObjectsWithDataKeysBecomeMaps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "m", 0, 0, 50, func(i int64) []byte {
		many := make([]string, 250) // more keys than a struct takes, every one in every record
		for k := range many {
			many[k] = fmt.Sprintf(`"c%d":%d`, k, k)
		}
		many[0] = `"c0":null` // null values neither type nor stop a map
		return fmt.Appendf(nil, `{"ts":"2026-11-21T00:00:00Z","id":%d,`+
			`"tags":{"k%d":1,"k%d":2,"k%d":3},`+ // 3 of 150 keys a record: sparse
			`"dims":{"w":%d,"h":%d.5},`+ // the same keys in every record: a struct
			`"attrs":{"a%d":"red","b%d":%d},`+ // sparse, mixed value types: a map of their texts
			`"items":[{"sku":"x","labels":{"l%d":"on"}}],`+ // a map inside list elements
			`"many":{%s}}`,
			i, 3*i, 3*i+1, 3*i+2, i, i, i, i, i, i, strings.Join(many, ","))
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "m")
	if err != nil {
		t.Fatal(err)
	}
	wantColumns(t, tbl, map[string]string{
		"tags":                 "map<string, long>",
		"many":                 "map<string, long>",
		"items.element.labels": "map<string, string>",
		"dims":                 "struct<",
		"attrs":                "map<string, string>",
	})
	if got, want := scanRows(t, tbl, "id", "attrs")[3], `[{"key":"a3","value":"red"},{"key":"b3","value":"3"}]`; got != want {
		t.Errorf("row 3: attrs %s, want %s", got, want)
	}
	schemaID := tbl.Schema().ID

	e.put(t, "m", 0, 50, 54, func(i int64) []byte {
		switch i {
		case 50:
			return []byte(`{"ts":"2026-11-21T00:00:00Z","id":50,"tags":{"new":7,"dup":1,"dup":2}}`)
		case 51:
			return []byte(`{"ts":"2026-11-21T00:00:00Z","id":51,"tags":{}}`)
		case 52:
			return []byte(`{"ts":"2026-11-21T00:00:00Z","id":52,"tags":{"k1":1.5}}`)
		}
		return []byte(`{"ts":"2026-11-21T00:00:00Z","id":53,"tags":{"k2":"two"}}`)
	})
	res, err := e.etl().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || res.DeadLetters != 2 {
		t.Fatalf("result %+v, want 2 rows and 2 dead letters", res)
	}
	if tbl, err = e.store.LoadIceberg(ctx, "lake", "m"); err != nil {
		t.Fatal(err)
	}
	if tbl.Schema().ID != schemaID {
		t.Fatalf("schema changed by new keys of a map: %v", tbl.Schema())
	}
	rows := scanRows(t, tbl, "id", "tags")
	for id, want := range map[int64]string{
		0:  `[{"key":"k0","value":1},{"key":"k1","value":2},{"key":"k2","value":3}]`,
		50: `[{"key":"new","value":7},{"key":"dup","value":2}]`,
		51: `[]`,
	} {
		if got := rows[id]; got != want {
			t.Errorf("row %d: tags %s, want %s", id, got, want)
		}
	}
	reasons := deadLetterReasons(t, e, "m")
	for _, want := range []string{"field $.tags.k1: 1.5 does not fit column type long", `field $.tags.k2: "two" does not fit column type long`} {
		if !strings.Contains(reasons, want) {
			t.Errorf("dead letters %q lack %q", reasons, want)
		}
	}
}

// TestStructColumnStaysAStruct checks that a column made a struct keeps
// taking new keys as columns, even when later records show map-like keys:
// Iceberg cannot turn a struct into a map, and no key may be dropped.
func TestStructColumnStaysAStruct(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "s", 0, 0, 5, func(i int64) []byte {
		return fmt.Appendf(nil, `{"ts":"2026-11-21T00:00:00Z","id":%d,"tags":{"a":1,"b":2}}`, i)
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.put(t, "s", 0, 5, 305, func(i int64) []byte {
		return fmt.Appendf(nil, `{"ts":"2026-11-21T00:00:00Z","id":%d,"tags":{"k%d":%d}}`, i, i, i)
	})
	if _, err := e.etl().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "s")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := tbl.Schema().FindFieldByName("tags")
	st, ok := f.Type.(*iceberg.StructType)
	if !ok || len(st.FieldList) != 302 {
		t.Fatalf("tags is %T with %d fields, want a struct of 302", f.Type, len(st.FieldList))
	}
	if got := scanRows(t, tbl, "id", "tags")[304]; !strings.Contains(got, `"k304":304`) || strings.Contains(got, `"k303":303`) {
		t.Fatalf("row 304: tags %s, want k304 alone", got)
	}
}

// wantColumns checks that tbl's columns, by name, have types that begin
// as want says.
func wantColumns(t *testing.T, tbl *table.Table, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if f, ok := tbl.Schema().FindFieldByName(name); !ok || !strings.HasPrefix(f.Type.String(), w) {
			t.Errorf("column %s: %v (found %v), want %s...", name, f.Type, ok, w)
		}
	}
}

// scanRows reads the columns of tbl's rows by their first column (a
// long), the second rendered as JSON.
func scanRows(t *testing.T, tbl *table.Table, cols ...string) map[int64]string {
	t.Helper()
	at, err := tbl.Scan(table.WithSelectedFields(cols...)).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	out := map[int64]string{}
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		ids := rec.Column(0).(*array.Int64)
		for i := range int(rec.NumRows()) {
			b, err := json.Marshal(rec.Column(1).GetOneForMarshal(i))
			if err != nil {
				t.Fatal(err)
			}
			out[ids.Value(i)] = string(b)
		}
	}
	return out
}

// deadLetterReasons is every error of name's dead-letter table, joined.
func deadLetterReasons(t *testing.T, e *env, name string) string {
	t.Helper()
	dlq, err := e.store.LoadIceberg(context.Background(), "lake", name+"_dlq")
	if err != nil {
		t.Fatal(err)
	}
	at, err := dlq.Scan(table.WithSelectedFields("error")).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	var out []string
	for _, c := range at.Column(0).Data().Chunks() {
		s := c.(*array.String)
		for i := range s.Len() {
			out = append(out, s.Value(i))
		}
	}
	return strings.Join(out, "\n")
}

// TestMapValueCoercedToText checks the coerce-to-string policy on a map
// column: a map with a value of another type moves, as its JSON text, to
// the string column <field>_string, and the map is NULL in that row.
func TestMapValueCoercedToText(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "c", 0, 0, 40, func(i int64) []byte {
		return fmt.Appendf(nil, `{"ts":"2026-11-21T00:00:00Z","id":%d,"tags":{"k%d":%d}}`, i, i, i)
	})
	e.put(t, "c", 0, 40, 41, func(i int64) []byte {
		return []byte(`{"ts":"2026-11-21T00:00:00Z","id":40,"tags":{"k1":"one"}}`)
	})
	coerce := etl.New(etl.Config{Database: "lake", TimeField: "ts", OnTypeMismatch: etl.PolicyCoerceToString}, e.staging, e.store.Iceberg())
	res, err := coerce.RunOnce(ctx)
	if err != nil || res.Rows != 41 || res.DeadLetters != 0 {
		t.Fatalf("%+v %v, want 41 rows", res, err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "c")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := tbl.Schema().FindFieldByName("tags"); !ok || !strings.HasPrefix(f.Type.String(), "map<") {
		t.Fatalf("tags: %v, want a map", f.Type)
	}
	if got := scanRows(t, tbl, "id", "tags_string")[40]; got != `"{\"k1\":\"one\"}"` {
		t.Errorf("row 40: tags_string %s", got)
	}
	if got := scanRows(t, tbl, "id", "tags")[40]; got != "null" {
		t.Errorf("row 40: tags %s, want null", got)
	}
	if got := scanRows(t, tbl, "id", "tags")[7]; got != `[{"key":"k7","value":7}]` {
		t.Errorf("row 7: tags %s", got)
	}
}

// TestNamedMaps checks a table's maps setting: the object fields it names
// become maps from a commit of two records (too few for inference), one
// whose values mix types a map of each value's text, and a field it does
// not name stays a struct.
func TestNamedMaps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "n", 0, 0, 2, func(i int64) []byte {
		return fmt.Appendf(nil, `{"ts":"2026-11-21T00:00:00Z","id":%d,"attrs":{"color":"red","size":%d,"tags":["a"]},`+
			`"items":[{"labels":{"l%d":%d}}],"other":{"a":1},"empty":{}}`, i, 40+i, i, i)
	})
	cfg := etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, "- topic: n\n  maps: [attrs, items.labels, empty]\n")}
	if _, err := etl.New(cfg, e.staging, e.store.Iceberg()).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "n")
	if err != nil {
		t.Fatal(err)
	}
	wantColumns(t, tbl, map[string]string{
		"attrs":                "map<string, string>",
		"items.element.labels": "map<string, long>",
		"other":                "struct<",
	})
	if _, ok := tbl.Schema().FindFieldByName("empty"); ok {
		t.Error("an always-empty object named in maps got a column before any key showed its type")
	}
	if got, want := scanRows(t, tbl, "id", "attrs")[1], `[{"key":"color","value":"red"},{"key":"size","value":"41"},{"key":"tags","value":"[\"a\"]"}]`; got != want {
		t.Errorf("row 1: attrs %s, want %s", got, want)
	}
}

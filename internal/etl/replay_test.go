package etl_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/etl"
)

// TestReplayAfterCoerceToString dead-letters values that do not fit their
// column, replays them without a fix (nothing comes in), then with the
// coerce-to-string policy (they come in once, as text beside the column),
// replays again (nothing twice), and checks that the replay commit kept
// the offset bookmark: later records load once.
func TestReplayAfterCoerceToString(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(t, "ev", 0, 0, 10, sensor)
	dlqETL := e.etl()
	if _, err := dlqETL.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	e.put(t, "ev", 0, 10, 14, func(i int64) []byte {
		if i == 13 {
			return []byte("not json")
		}
		return fmt.Appendf(nil, `{"id":"h%d","ts":"2026-11-21T00:00:00.000Z","device":%d,"temperature":"hot"}`, i, i)
	})
	res, err := dlqETL.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 0 || res.DeadLetters != 4 {
		t.Fatalf("run %+v, want 0 rows and 4 dead letters", res)
	}

	rr, err := dlqETL.Replay(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	failing := 0
	for _, n := range rr.StillFailing {
		failing += n
	}
	if rr.Replayed != 0 || rr.DeadLetters != 4 || failing != 4 || rr.StillFailing["value is not valid JSON"] != 1 {
		t.Fatalf("replay without a fix: %+v, want nothing replayed and 4 still failing", rr)
	}

	coerce := etl.New(etl.Config{Database: "lake", TimeField: "ts", OnTypeMismatch: etl.PolicyCoerceToString},
		e.staging, e.store.Iceberg())
	rr, err = coerce.Replay(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	if rr.Replayed != 3 || rr.StillFailing["value is not valid JSON"] != 1 {
		t.Fatalf("replay with coerce-to-string: %+v, want 3 replayed, the non-JSON one still failing", rr)
	}
	if n := count(t, e.store, "ev"); n != 13 {
		t.Fatalf("%d rows after replay, want 13", n)
	}
	rr, err = coerce.Replay(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	if rr.Replayed != 0 || rr.Skipped != 3 {
		t.Fatalf("second replay: %+v, want 0 replayed, 3 skipped", rr)
	}

	tbl, err := e.store.LoadIceberg(ctx, "lake", "ev")
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan(table.WithSelectedFields("id", "device", "temperature", "temperature_string")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	got := map[string]string{}
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	for tr.Next() {
		rb := tr.RecordBatch()
		ids := rb.Column(0).(*array.String)
		dev := rb.Column(1).(*array.String)
		temp := rb.Column(2).(*array.Float64)
		text := rb.Column(3).(*array.String)
		for i := range int(rb.NumRows()) {
			if text.IsValid(i) {
				if temp.IsValid(i) {
					t.Errorf("row %s has both temperature and temperature_string", ids.Value(i))
				}
				got[ids.Value(i)] = dev.Value(i) + "|" + text.Value(i)
			}
		}
	}
	want := map[string]string{"h10": "10|hot", "h11": "11|hot", "h12": "12|hot"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("coerced rows %v, want %v (numbers in a string column become text, strings in a double column move to temperature_string)", got, want)
	}

	e.put(t, "ev", 0, 14, 19, sensor)
	res, err = coerce.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 5 {
		t.Fatalf("run after replay: %+v, want 5 rows", res)
	}
	if n := count(t, e.store, "ev"); n != 18 {
		t.Fatalf("%d rows, want 18: the replay commit must keep the offset bookmark", n)
	}
}

// A table that hashes a field stores its dead letters with the field
// hashed; a replay hashes it no second time, so a replayed record's hash
// is the one its loaded siblings have.
func TestReplayHashesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recs := []string{
		`{"id":1,"ts":"2026-11-20T10:00:00Z","device":"d1","temperature":1.5}`,
		`{"id":2,"ts":"2026-11-20T10:00:00Z","device":"d1","temperature":"hot"}`,
	}
	e.put(t, "hashed", 0, 0, 2, func(i int64) []byte { return []byte(recs[i]) })
	config := `
- topic: hashed
  transforms:
    - hash: {field: device, salt: s}
`
	if res, err := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, config)}, e.staging, e.store.Iceberg()).RunOnce(ctx); err != nil || res.Rows != 1 || res.DeadLetters != 1 {
		t.Fatalf("run: %+v, %v", res, err)
	}
	rr, err := etl.New(etl.Config{Database: "lake", TimeField: "ts", Tables: compile(t, config+"  on_type_mismatch: coerce-to-string\n")},
		e.staging, e.store.Iceberg()).Replay(ctx, "hashed")
	if err != nil || rr.Replayed != 1 {
		t.Fatalf("replay: %+v, %v", rr, err)
	}
	tbl, err := e.store.LoadIceberg(ctx, "lake", "hashed")
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan(table.WithSelectedFields("id", "device")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	devices := map[string]bool{}
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	for tr.Next() {
		col := tr.RecordBatch().Column(1).(*array.String)
		for i := range col.Len() {
			devices[col.Value(i)] = true
		}
	}
	if len(devices) != 1 || devices["d1"] {
		t.Errorf("devices %v: want the one hash of d1 for both rows", devices)
	}
}

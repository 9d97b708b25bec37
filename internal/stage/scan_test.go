package stage

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestScanLineReadsWhatEncoderWrites: every envelope the Encoder writes
// with a JSON value scans, with the head DecodeLine reads; the others
// (text and binary values, binary keys) are left to DecodeLine.
func TestScanLineReadsWhatEncoderWrites(t *testing.T) {
	ts := time.Date(2026, 11, 23, 18, 4, 5, 678_900_000, time.UTC)
	cases := []struct {
		r    Record
		scan bool
	}{
		{Record{Topic: "sensors", Partition: 3, Offset: 42, Timestamp: ts, Value: []byte(`{"a":1}`)}, true},
		{Record{Topic: "t", Partition: 0, Offset: 0, Timestamp: ts, Key: []byte(`k"1`), Value: []byte(` {"a": [1, {"b": "}"}]} `)}, true},
		{Record{Topic: "t", Offset: 1 << 40, Timestamp: ts, Headers: []Header{{Key: "h", Value: []byte("v")}, {Key: "e"}}, Value: []byte(`[]`)}, true},
		{Record{Topic: "t", Offset: 5, Timestamp: ts, Value: []byte("not json")}, false},
		{Record{Topic: "t", Offset: 5, Timestamp: ts, Value: []byte{0xff}}, false},
		{Record{Topic: "t", Offset: 5, Timestamp: ts, Key: []byte{0xff}, Value: []byte(`1`)}, false},
		{Record{Topic: "t", Offset: 5, Timestamp: ts}, false},
		{Record{Topic: `we"ird`, Offset: 5, Timestamp: ts, Value: []byte(`1`)}, false},
	}
	for _, c := range cases {
		line := bytes.TrimSuffix(AppendEnvelope(nil, &c.r), []byte("\n"))
		h, v, ok := ScanLine(line, c.r.Topic)
		if ok != c.scan {
			t.Errorf("ScanLine(%s) ok = %v, want %v", line, ok, c.scan)
			continue
		}
		if !ok {
			continue
		}
		want, err := DecodeLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if h.Partition != want.Partition || h.Offset != want.Offset || !h.Timestamp.Equal(want.Timestamp) ||
			!bytes.Equal(bytes.TrimSpace(v), bytes.TrimSpace(want.Value)) {
			t.Errorf("ScanLine(%s) = %+v %s, DecodeLine %+v", line, h, v, want)
		}
	}
	if _, _, ok := ScanLine([]byte(`{"topic":"other","partition":0,"offset":1,"timestamp":"2026-11-23T18:04:05.678Z","value":1}`), "t"); ok {
		t.Error("a line of another topic scanned")
	}
}

// TestScanLineTimestamps: the envelope's timestamp reads back as written on
// every day of five years (leap days and a century's rule included), and a
// day that does not exist is refused.
func TestScanLineTimestamps(t *testing.T) {
	var ls LineScanner // one for all lines, as the ETL scans an object's
	for d := time.Date(1899, 12, 31, 23, 59, 59, 999_000_000, time.UTC); d.Year() < 1905; d = d.AddDate(0, 0, 1) {
		r := Record{Topic: "t", Timestamp: d, Value: []byte(`1`)}
		line := bytes.TrimSuffix(AppendEnvelope(nil, &r), []byte("\n"))
		h, _, ok := ScanLine(line, "t")
		if !ok || !h.Timestamp.Equal(d) {
			t.Fatalf("timestamp %v scanned as %v, %v", d, h.Timestamp, ok)
		}
		for range 2 { // read, then repeated from the last line's
			if h, _, ok := ls.Scan(line, "t"); !ok || !h.Timestamp.Equal(d) {
				t.Fatalf("LineScanner: timestamp %v scanned as %v, %v", d, h.Timestamp, ok)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		ScanLine([]byte(`{"topic":"t","partition":0,"offset":1,"timestamp":"2026-11-23T18:04:05.678Z","value":1}`), "t")
	}); n != 0 {
		t.Errorf("ScanLine allocates %v times a line", n)
	}
	for _, ts := range []string{"2026-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-01-01T24:00:00.000Z"} {
		if _, _, ok := ScanLine([]byte(`{"topic":"t","partition":0,"offset":1,"timestamp":"`+ts+`","value":1}`), "t"); ok {
			t.Errorf("timestamp %s scanned", ts)
		}
	}
}

// FuzzScanLine: a line ScanLine accepts, with a valid JSON value, is one
// DecodeLine accepts with the same head and value.
func FuzzScanLine(f *testing.F) {
	ts := time.Date(2026, 11, 23, 18, 4, 5, 678_000_000, time.UTC)
	for _, r := range []Record{
		{Topic: "t", Partition: 1, Offset: 7, Timestamp: ts, Key: []byte("k\\\"é"), Value: []byte(`{"a":1}`)},
		{Topic: "t", Offset: 9, Timestamp: ts, Headers: []Header{{Key: "h\n", Value: []byte("<&>")}}, Value: []byte(`"s"`)},
	} {
		f.Add(bytes.TrimSuffix(AppendEnvelope(nil, &r), []byte("\n")))
	}
	f.Add([]byte(`{"topic":"t","partition":0,"offset":0,"timestamp":"2026-02-29T00:00:00.000Z","value":{}}`))
	f.Add([]byte(`{"topic":"t","partition":0,"offset":0,"timestamp":"2026-11-23T18:04:05.678Z","key":"\q","value":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		h, v, ok := ScanLine(line, "t")
		if !ok || !json.Valid(v) {
			return
		}
		r, err := DecodeLine(line)
		if err != nil {
			t.Fatalf("ScanLine accepted %q, DecodeLine: %v", line, err)
		}
		if r.Topic != "t" || r.Partition != h.Partition || r.Offset != h.Offset || !r.Timestamp.Equal(h.Timestamp) ||
			!r.ValueIsJSON || !bytes.Equal(bytes.TrimSpace(r.Value), bytes.TrimSpace(v)) {
			t.Fatalf("%q: ScanLine %+v %q, DecodeLine %+v", line, h, v, r)
		}
	})
}

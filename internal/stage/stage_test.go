package stage

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 22, 13, 4, 5, 123_000_000, time.UTC)
	recs := []Record{
		{Topic: "t", Partition: 3, Offset: 42, Timestamp: ts, Key: []byte("k1"),
			Headers: []Header{{"h", []byte("v")}, {"bin", []byte{0xff, 0}}}, Value: []byte(`{"a":1,"b":[true,null]}`)},
		{Topic: "t", Partition: 3, Offset: 43, Timestamp: ts, Value: []byte("not json\nline two")},
		{Topic: "u\"é", Partition: 3, Offset: 44, Timestamp: ts, Key: []byte{0xfe}, Value: []byte{0xff, 0xfe}},
		{Topic: "t", Partition: 3, Offset: 45, Timestamp: ts},
		{Topic: "t", Partition: 3, Offset: 46, Timestamp: ts, Value: []byte("{\n  \"pretty\": 1\n}")},
	}
	var raw []byte
	var e Encoder // one for all, as ingest's: it caches the topic's head
	for i := range recs {
		raw = e.Append(raw, &recs[i])
	}
	if n := bytes.Count(raw, []byte("\n")); n != len(recs) {
		t.Fatalf("%d lines for %d records", n, len(recs))
	}
	lines, err := Decompress(Compress(nil, raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	if err := Decode(lines, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("decoded %d records, want %d", len(got), len(recs))
	}
	for i, w := range recs {
		g := got[i]
		if g.Topic != w.Topic || g.Partition != w.Partition || g.Offset != w.Offset || !g.Timestamp.Equal(w.Timestamp) {
			t.Errorf("record %d: got %+v", i, g)
		}
		if !bytes.Equal(g.Key, w.Key) {
			t.Errorf("record %d: key %q, want %q", i, g.Key, w.Key)
		}
		if len(g.Headers) != len(w.Headers) {
			t.Errorf("record %d: headers %v", i, g.Headers)
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !bytes.Equal(g.Headers[j].Value, w.Headers[j].Value) {
				t.Errorf("record %d: header %d = %+v", i, j, g.Headers[j])
			}
		}
	}
	if !bytes.Equal(got[0].Value, recs[0].Value) || !got[0].ValueIsJSON {
		t.Errorf("JSON value %q (json=%v)", got[0].Value, got[0].ValueIsJSON)
	}
	if !bytes.Equal(got[1].Value, recs[1].Value) || got[1].ValueIsJSON {
		t.Errorf("text value %q (json=%v)", got[1].Value, got[1].ValueIsJSON)
	}
	if !bytes.Equal(got[2].Value, recs[2].Value) {
		t.Errorf("binary value %x", got[2].Value)
	}
	if got[3].Value != nil {
		t.Errorf("tombstone value %q", got[3].Value)
	}
	if string(got[4].Value) != `{"pretty":1}` || !got[4].ValueIsJSON {
		t.Errorf("multi-line JSON not compacted: %q", got[4].Value)
	}
}

func TestObjectNameIsPureAndParses(t *testing.T) {
	ts := time.Date(2026, 11, 22, 23, 59, 0, 0, time.FixedZone("x", 3600))
	a := ObjectName("my.topic", 7, 1234, ts)
	if a != ObjectName("my.topic", 7, 1234, ts) {
		t.Fatal("name not deterministic")
	}
	if a != "my.topic/dt=2026-11-22/hr=22/p=7/00000000000000001234.ndjson.zst" {
		t.Fatalf("name %s", a)
	}
	o, ok := ParseName(a)
	if !ok || o.Topic != "my.topic" || o.Partition != 7 || o.FirstOffset != 1234 {
		t.Fatalf("parse %s: %+v %v", a, o, ok)
	}
	for _, bad := range []string{"x.ndjson.zst", "t/dt=1/hr=2/p=x/1.ndjson.zst", "t/dt=1/hr=2/p=1/1.json"} {
		if _, ok := ParseName(bad); ok {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
}

func FuzzDecodeLine(f *testing.F) {
	r := Record{Topic: "t", Offset: 1, Timestamp: time.Unix(0, 0), Key: []byte("k"), Value: []byte(`{"a":1}`)}
	f.Add(AppendEnvelope(nil, &r))
	f.Add([]byte(`{"topic":"t","offset":1,"timestamp":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := DecodeLine(line)
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip.
		again, err := DecodeLine(bytes.TrimSuffix(AppendEnvelope(nil, &rec), []byte("\n")))
		if err != nil {
			t.Fatalf("re-decode of %q: %v", AppendEnvelope(nil, &rec), err)
		}
		if again.Offset != rec.Offset || again.Topic != rec.Topic || !bytes.Equal(again.Key, rec.Key) {
			t.Fatalf("round trip changed %+v to %+v", rec, again)
		}
	})
}

// TestBufferRoundTrip writes pieces that straddle chunk boundaries and checks
// that the bytes, and their compressed frame, come back exactly.
func TestBufferRoundTrip(t *testing.T) {
	var want []byte
	var b Buffer
	for i := range 3000 {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 1+(i*7919)%600)
		want = append(want, p...)
		if i%2 == 0 {
			b.Write(p)
		} else {
			b.Commit(append(b.Free(), p...)) // in place, or copied when it straddles chunks
		}
	}
	if b.Len() != len(want) || !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("buffer holds %d bytes, want %d (or contents differ)", b.Len(), len(want))
	}
	var out bytes.Buffer
	if err := CompressBuffer(&out, &b); err != nil {
		t.Fatal(err)
	}
	got, err := Decompress(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decompressed %d bytes, want %d", len(got), len(want))
	}
	if cap(got) != len(want) {
		t.Errorf("Decompress allocated %d bytes for %d: the size frame was not read", cap(got), len(want))
	}
	// A streaming decoder that knows nothing of the size frame skips it.
	zr, err := zstd.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := io.ReadAll(zr)
	zr.Close()
	if err != nil || !bytes.Equal(streamed, want) {
		t.Fatalf("streaming decoder: %d bytes, %v", len(streamed), err)
	}
	b.Release()
	if b.Len() != 0 {
		t.Fatalf("released buffer has length %d", b.Len())
	}
	out.Reset()
	if err := CompressBuffer(&out, &b); err != nil {
		t.Fatal(err)
	}
	if got, err := Decompress(out.Bytes()); err != nil || len(got) != 0 {
		t.Fatalf("empty buffer decompressed to %d bytes, %v", len(got), err)
	}
}

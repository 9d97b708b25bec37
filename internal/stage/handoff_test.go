package stage

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// collect returns the lines fn-style iteration yields, each copied.
func collect(t *testing.T, each func(func([]byte) error) error) []string {
	t.Helper()
	var out []string
	if err := each(func(l []byte) error { out = append(out, string(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBufferLinesMatchesLines: a Buffer's lines, across chunk boundaries,
// blank lines and a missing last newline, are Lines' over the same bytes.
func TestBufferLinesMatchesLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 40 {
		var raw []byte
		for raw = nil; len(raw) < 3*chunkSize; {
			switch n := rng.IntN(20); {
			case n == 0:
				raw = append(raw, '\n') // blank
			case n == 1:
				raw = append(raw, "  \n"...)
			case n == 2: // longer than a chunk
				raw = append(raw, strings.Repeat("L", chunkSize+rng.IntN(1000))...)
				raw = append(raw, '\n')
			default:
				raw = fmt.Appendf(raw, `{"n":%d,"pad":"%s"}`+"\n", len(raw), strings.Repeat("x", rng.IntN(300)))
			}
		}
		if round%2 == 1 {
			raw = append(raw, `{"last":"no newline"}`...)
		}
		var b Buffer
		for p := raw; len(p) > 0; { // in writes of odd sizes
			k := min(len(p), 1+rng.IntN(5000))
			b.Write(p[:k])
			p = p[k:]
		}
		want := collect(t, func(fn func([]byte) error) error { return Lines(raw, fn) })
		got := collect(t, b.Lines)
		if len(got) != len(want) || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("round %d: Buffer.Lines gave %d lines, Lines %d", round, len(got), len(want))
		}
		b.Release()
	}
	// Errors name the line, counting blank ones, as Lines does.
	var b Buffer
	b.Write([]byte("a\n\nb\n"))
	err := b.Lines(func(l []byte) error {
		if string(l) == "b" {
			return fmt.Errorf("bad")
		}
		return nil
	})
	if err == nil || err.Error() != "line 3: bad" {
		t.Fatalf("error %v, want line 3: bad", err)
	}
}

func buffer(s string) *Buffer {
	var b Buffer
	b.Write([]byte(s))
	return &b
}

func TestHandoff(t *testing.T) {
	ctx := context.Background()
	h := NewHandoff(100)
	objA, objB := []byte("compressed A"), []byte("compressed B")
	a := buffer(strings.Repeat("a", 40))
	if !h.Put(ctx, "a", objA, a) || a.Len() != 0 || h.Bytes() != 40 {
		t.Fatalf("Put a: buffer left %d bytes, handoff holds %d", a.Len(), h.Bytes())
	}
	// Bytes read back that are not the object handed off: a miss, and
	// the entry is gone.
	if _, ok := h.Take("a", objB); ok {
		t.Fatal("Take matched other bytes")
	}
	if _, ok := h.Take("a", objA); ok || h.Bytes() != 0 {
		t.Fatalf("Take after a mismatch found the entry (holds %d)", h.Bytes())
	}
	// A match hands over the lines once.
	h.Put(ctx, "a", objA, buffer(strings.Repeat("a", 40)))
	got, ok := h.Take("a", objA)
	if !ok || !bytes.Equal(got.Bytes(), bytes.Repeat([]byte("a"), 40)) {
		t.Fatalf("Take = %q, %v", got.Bytes(), ok)
	}
	got.Release()
	if _, ok := h.Take("a", objA); ok {
		t.Fatal("a second Take found the entry")
	}
	// Past the bound, with no ETL taking entries (no patience left), a
	// new entry is refused while the old ones are young (a lagging ETL
	// reads those next), and takes the place of those older than
	// HandoffMaxAge.
	now := time.Now()
	h.now = func() time.Time { return now }
	h.patience = 0
	h.Put(ctx, "1", []byte("1"), buffer(strings.Repeat("1", 40)))
	h.Put(ctx, "2", []byte("2"), buffer(strings.Repeat("2", 40)))
	three := buffer(strings.Repeat("3", 40))
	if h.Put(ctx, "3", []byte("3"), three) || three.Len() != 40 || h.Bytes() != 80 {
		t.Fatalf("Put past the bound took the entry (holds %d)", h.Bytes())
	}
	now = now.Add(HandoffMaxAge)
	if !h.Put(ctx, "3", []byte("3"), three) || h.Bytes() != 80 {
		t.Fatalf("Put did not replace an entry past its age (holds %d)", h.Bytes())
	}
	if _, ok := h.Take("1", []byte("1")); ok {
		t.Fatal("the oldest entry survived its age")
	}
	if b, ok := h.Take("3", []byte("3")); !ok || b.Len() != 40 {
		t.Fatal("the new entry is missing")
	}
	h.Put(ctx, "3", []byte("3"), buffer(strings.Repeat("3", 40)))
	big := buffer(strings.Repeat("b", 101))
	if h.Put(ctx, "big", []byte("big"), big) || big.Len() != 101 {
		t.Fatal("Put took a buffer over the bound")
	}
	// A rewrite under the same name replaces the entry.
	h.Put(ctx, "2", []byte("2'"), buffer("new"))
	if b, ok := h.Take("2", []byte("2'")); !ok || string(b.Bytes()) != "new" || h.Bytes() != 40 {
		t.Fatalf("Take after a rewrite = %q, %v (holds %d)", b.Bytes(), ok, h.Bytes())
	}
	var nilH *Handoff
	if nilH.Put(ctx, "x", nil, buffer("x")) || nilH.Bytes() != 0 {
		t.Fatal("a nil Handoff took a buffer")
	}
	if _, ok := nilH.Take("x", nil); ok {
		t.Fatal("a nil Handoff had an entry")
	}
}

// TestHandoffOrderStaysBounded: entries taken one by one while an untaken
// one lingers must not grow the handoff's bookkeeping without end.
func TestHandoffOrderStaysBounded(t *testing.T) {
	ctx := context.Background()
	h := NewHandoff(1 << 20)
	h.Put(ctx, "lingers", []byte("l"), buffer("l"))
	for i := range 10_000 {
		k := fmt.Sprint(i)
		h.Put(ctx, k, []byte(k), buffer(k))
		if b, ok := h.Take(k, []byte(k)); !ok {
			t.Fatalf("Take %s missed", k)
		} else {
			b.Release()
		}
	}
	if n := len(h.order); n > 200 {
		t.Fatalf("order holds %d keys for %d entries", n, len(h.items))
	}
	if _, ok := h.Take("lingers", []byte("l")); !ok {
		t.Fatal("the lingering entry was lost")
	}
}

// TestHandoffPutWaitsForTake: a full Handoff's Put waits for the room a
// Take frees while an ETL is taking entries, counting a new Handoff as
// taken from (its ETL's first load comes after ingest has filled it), and
// does not wait when the last Take is older than the patience, or past its
// context.
func TestHandoffPutWaitsForTake(t *testing.T) {
	ctx := context.Background()
	h := NewHandoff(100)
	h.Put(ctx, "1", []byte("1"), buffer(strings.Repeat("1", 60)))
	two := buffer(strings.Repeat("2", 60))
	// putWaitsForTake puts put's lines past the bound and checks that Put
	// waits (and says so through Waiting) until the Take of take frees
	// room, and then takes them.
	putWaitsForTake := func(put, take string, lines *Buffer, when string) {
		t.Helper()
		done := make(chan bool)
		go func() { done <- h.Put(ctx, put, []byte(put), lines) }()
		select {
		case ok := <-done:
			t.Fatalf("Put returned %v with no room, %s", ok, when)
		case <-time.After(50 * time.Millisecond):
		}
		if !h.Waiting() {
			t.Fatalf("Waiting is false while a Put waits, %s", when)
		}
		if b, ok := h.Take(take, []byte(take)); !ok {
			t.Fatalf("Take %s missed", take)
		} else {
			b.Release()
		}
		if !<-done || h.Bytes() != 60 {
			t.Fatalf("Put after the Take of %s freed room: holds %d", take, h.Bytes())
		}
		if h.Waiting() {
			t.Fatal("Waiting is true with no Put waiting")
		}
	}
	// No Take yet, but the Handoff is new: Put waits for the first one.
	putWaitsForTake("2", "1", two, "before a new Handoff's first Take")
	// Later Takes wake a waiting Put the same way.
	putWaitsForTake("1", "2", buffer(strings.Repeat("1", 60)), "with an ETL taking")
	// A stalled ETL (no Take within the patience): Put gives up.
	h.patience = 20 * time.Millisecond
	three := buffer(strings.Repeat("3", 60))
	start := time.Now()
	if h.Put(ctx, "3", []byte("3"), three) || three.Len() != 60 {
		t.Fatal("Put past the bound took the entry from a stalled ETL")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Put waited %v past a 20 ms patience", time.Since(start))
	}
	// A cancelled context ends the wait.
	h.patience = time.Hour
	if b, ok := h.Take("1", []byte("1")); !ok {
		t.Fatal("Take 1 missed")
	} else {
		b.Release()
	}
	h.Put(ctx, "4", []byte("4"), buffer(strings.Repeat("4", 60)))
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if h.Put(cctx, "5", []byte("5"), three) || three.Len() != 60 {
		t.Fatal("Put took the entry after its context ended")
	}
	// Close wakes a waiting Put, and later ones do not wait.
	go func() { time.Sleep(20 * time.Millisecond); h.Close() }()
	if h.Put(ctx, "5", []byte("5"), three) || three.Len() != 60 {
		t.Fatal("Put took the entry with no room after Close")
	}
	if h.Put(ctx, "6", []byte("6"), three) {
		t.Fatal("Put took the entry with no room after Close")
	}
	three.Release()
}

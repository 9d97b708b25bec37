package stage

import (
	"sync"
	"testing"
	"unsafe"
)

// TestChunkPool checks that chunks are distinct, do not overlap, keep what
// is written to them, and are reused after Put rather than made anew.
func TestChunkPool(t *testing.T) {
	var p chunkPool
	n := 2*slabSize/chunkSize + 3 // spans three slabs
	got := make([]*[chunkSize]byte, n)
	starts := map[uintptr]bool{}
	for i := range got {
		got[i] = p.Get()
		c := got[i]
		c[0], c[chunkSize-1] = byte(i), byte(i>>8)
		starts[uintptr(unsafe.Pointer(c))] = true
	}
	if len(starts) != n {
		t.Fatalf("%d distinct chunks out of %d", len(starts), n)
	}
	for a := range starts {
		for b := range starts {
			if a < b && b-a < chunkSize {
				t.Fatalf("chunks at %#x and %#x overlap", a, b)
			}
		}
	}
	for i, c := range got {
		if c[0] != byte(i) || c[chunkSize-1] != byte(i>>8) {
			t.Fatalf("chunk %d lost its bytes", i)
		}
	}
	made := p.n
	if made < n || made > n+slabSize/chunkSize {
		t.Fatalf("%d chunks made for %d", made, n)
	}
	for _, c := range got {
		p.Put(c)
	}
	for range n {
		c := p.Get()
		if !starts[uintptr(unsafe.Pointer(c))] {
			t.Fatal("Get made a chunk while freed ones were pooled")
		}
	}
	if p.n != made {
		t.Fatalf("%d chunks made after reuse, want %d", p.n, made)
	}
}

// TestChunkPoolConcurrent runs Buffers on many goroutines (go test -race):
// each must read back exactly what it wrote.
func TestChunkPoolConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 20 {
				var b Buffer
				want := make([]byte, 0, 3*chunkSize)
				for i := 0; len(want) < 2*chunkSize+100; i++ {
					line := []byte{byte(g), byte(round), byte(i), '\n'}
					b.Write(line)
					want = append(want, line...)
				}
				if got := b.Bytes(); string(got) != string(want) {
					t.Errorf("goroutine %d round %d: buffer does not read back what was written", g, round)
				}
				b.Release()
			}
		})
	}
	wg.Wait()
}

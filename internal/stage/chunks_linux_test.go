package stage

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/streamlake/streamlake/internal/prefault"
)

// resident counts the pages of c that are in memory (mincore).
func resident(t *testing.T, c *[chunkSize]byte) int {
	t.Helper()
	const page = 4096
	vec := make([]byte, chunkSize/page)
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(c)), chunkSize, uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestChunkPoolTrim checks that Trim gives back the memory of the chunks
// no Get took for a whole period, and only theirs, and that a released
// chunk works again when taken.
func TestChunkPoolTrim(t *testing.T) {
	var p chunkPool
	const n = 40
	got := make([]*[chunkSize]byte, n)
	for i := range got {
		got[i] = p.Get()
		for j := 0; j < chunkSize; j += 4096 {
			got[i][j] = 1 // fault every page in
		}
	}
	for _, c := range got {
		p.Put(c)
	}
	all := int64(p.n-p.released) * chunkSize
	p.Trim() // starts the period: nothing is given back yet
	if r := resident(t, got[0]); r != chunkSize/4096 || p.released != 0 {
		t.Fatalf("the first Trim gave memory back: %d pages resident, %d released", r, p.released)
	}
	// In this period 10 chunks are taken and put back: the top 10 of the
	// stack were used, the other 30 (and the slab's unused rest) not.
	busy := make([]*[chunkSize]byte, 10)
	for i := range busy {
		busy[i] = p.Get()
	}
	for _, c := range busy {
		p.Put(c)
	}
	p.Trim()
	idle := len(p.free) - 10
	if p.released != idle {
		t.Fatalf("released %d chunks, want the %d not taken", p.released, idle)
	}
	for i, c := range p.free {
		r := resident(t, c)
		if i < idle && r != 0 || i >= idle && c[0] == 1 && r == 0 {
			t.Fatalf("free chunk %d (of %d idle) has %d pages resident", i, idle, r)
		}
	}
	if got, want := int64(p.n-p.released)*chunkSize, all-int64(idle)*chunkSize; got != want {
		t.Fatalf("pool holds %d bytes after the trim, want %d", got, want)
	}
	// Taking every chunk reaches the released ones: zeroed, writable.
	for len(p.free) > 0 {
		c := p.Get()
		c[0], c[chunkSize-1] = 7, 9
		if c[0] != 7 || c[chunkSize-1] != 9 {
			t.Fatal("a released chunk does not keep what is written")
		}
	}
	if p.released != 0 {
		t.Fatalf("%d chunks still counted released after all were taken", p.released)
	}
}

// TestChunkPrefault checks that Get hands out a chunk whose pages are
// already resident, both from a new slab and after Trim gave its memory
// back.
func TestChunkPrefault(t *testing.T) {
	var p chunkPool
	c := p.Get()
	if !prefault.Supported() {
		// A kernel before 5.14: the pages fault in as they are written.
		c[0], c[chunkSize-1] = 1, 2
		if c[0] != 1 || c[chunkSize-1] != 2 {
			t.Fatal("a chunk does not keep what is written")
		}
		t.Log("MADV_POPULATE_WRITE is not supported: chunks fault in page by page")
		return
	}
	if r := resident(t, c); r != chunkSize/4096 {
		t.Fatalf("a new chunk has %d of %d pages resident before any write", r, chunkSize/4096)
	}
	p.Put(c)
	p.Trim()
	p.Trim() // c was not taken for a whole period: given back
	if r := resident(t, c); r != 0 || p.released == 0 {
		t.Fatalf("after the trims %d pages resident, %d chunks released", r, p.released)
	}
	for len(p.free) > 0 {
		if c := p.Get(); resident(t, c) != chunkSize/4096 {
			t.Fatal("a released chunk taken again is not resident")
		}
	}
}

package stage

import (
	"syscall"
	"unsafe"
)

const (
	// hugePage is the size of a transparent huge page on x86-64 and of
	// the common arm64 configuration.
	hugePage = 2 << 20
	// slabSize is what one mapping adds to the pool: 32 chunks.
	slabSize = 4 * hugePage
)

// newSlab maps slabSize bytes outside the Go heap, aligned to a huge page
// and advised to use huge pages (MADV_HUGEPAGE: honoured when transparent
// huge pages are in "madvise" or "always" mode). Then filling 128 MiB of
// chunks takes 64 page faults instead of 32,768, each of which costs
// microseconds on a virtual machine. If mapping fails the slab comes from
// the heap.
func newSlab() []byte {
	// hugePage of slack to align the start; the slack is never touched, so
	// it costs address space only.
	m, err := syscall.Mmap(-1, 0, slabSize+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, slabSize)
	}
	off := 0
	if r := uintptr(unsafe.Pointer(&m[0])) % hugePage; r != 0 {
		off = int(hugePage - r)
	}
	slab := m[off : off+slabSize : off+slabSize]
	_ = syscall.Madvise(slab, syscall.MADV_HUGEPAGE) // best effort: an old kernel or THP "never" keeps small pages
	return slab
}

package prefault

import (
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// unsupported is set once the kernel refuses MADV_POPULATE_WRITE.
var unsupported atomic.Bool

// Supported reports false once a call found that the kernel does not
// support MADV_POPULATE_WRITE.
func Supported() bool { return !unsupported.Load() }

// Populate makes b's pages resident and writable. It reports false where
// the kernel does not support it (before Linux 5.14); b's pages then fault
// in at their first touch as usual.
func Populate(b []byte) bool {
	if len(b) == 0 || unsupported.Load() {
		return false
	}
	return populate(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

func populate(p, n uintptr) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, p, n, madvPopulateWrite)
	if errno == syscall.EINVAL {
		unsupported.Store(true)
	}
	return errno == 0
}

// Heap grows the Go heap by n bytes of resident pages, so the allocations
// that grow the heap into them do not fault. It allocates n bytes, frees
// them and returns their pages to the operating system (a collection and
// debug.FreeOSMemory, cheap on the small heap of a process starting), then
// populates them. The runtime counts them released, so its scavenger
// leaves them alone; it reuses them for the next allocations before it
// maps more, zeroing them as memory it has used before. Call it once, at
// the start of a process that will grow its heap to n or more: the pages
// stay resident until the heap has used them and the scavenger gives them
// back, so the process's resident size starts near n. It reports false
// where populating is not supported.
func Heap(n int) bool {
	if n <= 0 || unsupported.Load() {
		return false
	}
	p := allocate(n)
	debug.FreeOSMemory()
	return populate(p, uintptr(n))
}

// allocate returns the address of n bytes that nothing references once it
// returns. The Go heap is never unmapped, so the address stays writable
// after the collector frees them.
//
//go:noinline
func allocate(n int) uintptr {
	b := make([]byte, n)
	return uintptr(unsafe.Pointer(&b[0]))
}

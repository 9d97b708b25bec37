package prefault

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const page = 4096

// touch writes one byte of every page of b and returns the page faults
// that took.
func touch(t testing.TB, b []byte) int64 {
	before := minorFaults(t)
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	return minorFaults(t) - before
}

func minorFaults(t testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

func residentBytes(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.Fields(string(b))[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n * int64(os.Getpagesize())
}

func heapReleased() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestHeapMakesNextAllocationsResident checks what Heap promises: the
// pages are resident, the runtime counts them released (so its scavenger
// leaves them alone), and the allocations that follow use them without
// faulting, where the same allocation on fresh heap faults every page.
func TestHeapMakesNextAllocationsResident(t *testing.T) {
	const n, m = 64 << 20, 16 << 20
	fresh := make([]byte, m) // kept alive to the end: not reused below
	if f := touch(t, fresh); f < m/page*9/10 {
		t.Fatalf("touching %d fresh heap pages faulted %d times; the test assumes a fault a page", m/page, f)
	}

	rss := residentBytes(t)
	if !Heap(n) {
		if Supported() {
			t.Fatal("Heap(n) = false on a kernel that populates")
		}
		// A kernel before 5.14: the heap faults in as before.
		t.Log("MADV_POPULATE_WRITE is not supported: Heap does nothing")
		return
	}
	if grew := residentBytes(t) - rss; grew < n*9/10 {
		t.Errorf("resident size grew by %d bytes after Heap(%d), want about %d", grew, n, n)
	}
	if r := heapReleased(); r < n*9/10 {
		t.Errorf("runtime counts %d heap bytes released after Heap(%d), want at least %d", r, n, n*9/10)
	}

	next := make([]byte, m)
	if f := touch(t, next); f > m/page/10 {
		t.Errorf("touching %d pages allocated after Heap faulted %d times, want at most %d", m/page, f, m/page/10)
	}
	runtime.KeepAlive(fresh)
	runtime.KeepAlive(next)
}

func TestPopulate(t *testing.T) {
	const n = 8 << 20
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	m[0] = 7 // a present page keeps its contents
	if !Populate(m) {
		if Supported() {
			t.Fatal("Populate = false on a kernel that populates")
		}
		t.Log("MADV_POPULATE_WRITE is not supported: Populate does nothing")
		return
	}
	if f := touch(t, m[page:]); f > n/page/10 {
		t.Errorf("touching %d populated pages faulted %d times", n/page-1, f)
	}
	if m[0] != 7 || m[page] != 1 || m[page+1] != 0 {
		t.Errorf("populated memory changed: m[0] = %d (want 7), m[%d] = %d (want 1, written by touch), m[%d] = %d (want 0)", m[0], page, m[page], page+1, m[page+1])
	}
	if Populate(nil) {
		t.Error("Populate(nil) = true")
	}
}

// BenchmarkFirstTouch is the cost of fresh memory: a 64 MiB mapping
// touched a byte a page (fault) or populated in one call and then touched
// (populate), in ns per 4 KiB page. On the development VM (a PVM guest):
// fault 9,900, populate 4,500 (the guest's fault handling is spared; the
// hypervisor still maps each page at its first touch, which the guest
// sees as user time).
func BenchmarkFirstTouch(b *testing.B) {
	const n = 64 << 20
	for _, pop := range []bool{false, true} {
		name := map[bool]string{false: "fault", true: "populate"}[pop]
		b.Run(name, func(b *testing.B) {
			for range b.N {
				m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
				if err != nil {
					b.Fatal(err)
				}
				if pop && !Populate(m) {
					b.Fatal("MADV_POPULATE_WRITE not supported")
				}
				for i := 0; i < n; i += page {
					m[i] = 1
				}
				b.StopTimer()
				syscall.Munmap(m)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n/page), "ns/page")
		})
	}
}

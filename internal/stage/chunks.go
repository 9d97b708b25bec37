package stage

import "sync"

// chunkPool hands out the fixed-size chunks Buffers are made of and takes
// them back for reuse. Chunks come from slabs that the platform maps
// outside the Go heap where it can (see chunks_linux.go): the lines an
// ingester buffers and hands off are most of a pipeline's live memory, and
// kept on the heap they would double the collector's heap goal and be
// freed and faulted in again as sync.Pool drops them at every cycle. A
// chunk is never unmapped, only reused, so the pool maps the most chunks
// ever in use at once: the ingest memory budget plus the handoff bound,
// for a pipeline. Trim gives the memory of chunks that stay free back to
// the operating system (where the platform maps them), so a process that
// caught up on a backlog does not keep its peak.
type chunkPool struct {
	mu   sync.Mutex
	free []*[chunkSize]byte // a stack: Get takes the top, so the bottom is what stays unused
	n    int                // chunks ever made
	// free[:released] have had their memory given back; the first touch
	// of one faults in zeroed pages.
	released int
	// minFree is the fewest chunks free since the last Trim: the bottom
	// minFree were not taken in between.
	minFree int
}

var chunks chunkPool

// Get returns a chunk, mapping a new slab when none is free. The chunk's
// pages are made resident in one call (see populateChunk) before it is returned.
func (p *chunkPool) Get() *[chunkSize]byte {
	c := p.get()
	populateChunk(c)
	return c
}

func (p *chunkPool) get() *[chunkSize]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		slab := newSlab()
		for i := 0; i+chunkSize <= len(slab); i += chunkSize {
			p.free = append(p.free, (*[chunkSize]byte)(slab[i:i+chunkSize]))
		}
		p.n += len(slab) / chunkSize
	}
	c := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.released = min(p.released, len(p.free))
	p.minFree = min(p.minFree, len(p.free))
	return c
}

// Put takes c back for reuse; c must not be used after.
func (p *chunkPool) Put(c *[chunkSize]byte) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// Trim gives back the memory of the chunks that no Get took since the last
// Trim (the first call only starts counting). Call it every so often:
// chunks free for a whole period are the ones a steady load does not need.
func (p *chunkPool) Trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	idle := min(p.minFree, len(p.free))
	for _, c := range p.free[min(p.released, idle):idle] {
		releaseChunk(c)
	}
	p.released = max(p.released, idle)
	p.minFree = len(p.free)
}

// TrimChunks trims the buffer pool (see chunkPool.Trim); `run` calls it
// every minute.
func TrimChunks() { chunks.Trim() }

// ChunkBytes is the memory the buffer pool holds, in use or free and not
// given back by Trim: the envelope lines of open batches and of the
// handoff, outside the Go heap.
func ChunkBytes() int64 {
	chunks.mu.Lock()
	defer chunks.mu.Unlock()
	return int64(chunks.n-chunks.released) * chunkSize
}

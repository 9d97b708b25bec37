package stage

import "sync"

// chunkPool hands out the fixed-size chunks Buffers are made of and takes
// them back for reuse. Chunks come from slabs that the platform maps
// outside the Go heap where it can (see chunks_linux.go): the lines an
// ingester buffers and hands off are most of a pipeline's live memory, and
// kept on the heap they would double the collector's heap goal and be
// freed and faulted in again as sync.Pool drops them at every cycle. A
// chunk is never freed, only reused, so the pool holds the most chunks
// ever in use at once: the ingest memory budget plus the handoff bound,
// for a pipeline.
type chunkPool struct {
	mu   sync.Mutex
	free []*[chunkSize]byte
	n    int // chunks ever made
}

var chunks chunkPool

// Get returns a chunk, mapping a new slab when none is free.
func (p *chunkPool) Get() *[chunkSize]byte {
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
	return c
}

// Put takes c back for reuse; c must not be used after.
func (p *chunkPool) Put(c *[chunkSize]byte) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// ChunkBytes is the memory the buffer pool holds, in use or free: the
// envelope lines of open batches and of the handoff, outside the Go heap.
func ChunkBytes() int64 {
	chunks.mu.Lock()
	defer chunks.mu.Unlock()
	return int64(chunks.n) * chunkSize
}

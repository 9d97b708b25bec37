//go:build !linux

package stage

// slabSize is what one allocation adds to the pool: 32 chunks.
const slabSize = 8 << 20

// newSlab allocates on the heap where no mapping outside it is used.
func newSlab() []byte { return make([]byte, slabSize) }

// releaseChunk does nothing where chunks live on the heap.
func releaseChunk(*[chunkSize]byte) {}

// populateChunk does nothing where chunks live on the heap.
func populateChunk(*[chunkSize]byte) {}

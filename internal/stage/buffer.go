package stage

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// chunkSize is the size of the pooled blocks a Buffer is made of: large
// enough that per-chunk overhead vanishes, small enough that a partition
// holding a few records costs little.
const chunkSize = 256 << 10

// Buffer holds the envelope lines of one open batch as a list of pooled
// fixed-size chunks. Unlike one growing slice it never copies what it holds
// when it grows and never asks the runtime for large blocks, so a busy
// ingester reuses the same memory instead of faulting in fresh pages for
// every batch. The zero value is empty and ready; a Buffer is not safe for
// concurrent use. Release returns its chunks to the pool.
type Buffer struct {
	full []*[chunkSize]byte
	cur  *[chunkSize]byte
	off  int // bytes used in cur
	n    int
}

// Len is the number of bytes written.
func (b *Buffer) Len() int { return b.n }

// Write appends p. It never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if b.cur == nil || b.off == chunkSize {
			if b.cur != nil {
				b.full = append(b.full, b.cur)
			}
			b.cur = chunks.Get()
			b.off = 0
		}
		k := copy(b.cur[b.off:], p)
		b.off += k
		p = p[k:]
	}
	b.n += n
	return n, nil
}

// Free returns the room left in the current chunk as an empty slice, for
// an encoder to append the next bytes to in place; Commit takes what it
// appended. Together they spare a copy for all but the records that
// straddle chunks.
func (b *Buffer) Free() []byte {
	if b.cur == nil || b.off == chunkSize {
		if b.cur != nil {
			b.full = append(b.full, b.cur)
		}
		b.cur = chunks.Get()
		b.off = 0
	}
	return b.cur[b.off:b.off:chunkSize]
}

// Commit appends p, the result of appending to the slice Free returned: in
// place when the append fitted, else by copying.
func (b *Buffer) Commit(p []byte) {
	if len(p) == 0 {
		return
	}
	if b.cur != nil && b.off < chunkSize && len(p) <= chunkSize-b.off && &p[0] == &b.cur[b.off] {
		b.off += len(p)
		b.n += len(p)
		return
	}
	b.Write(p)
}

// each calls f with the written bytes in order, a chunk at a time.
func (b *Buffer) each(f func([]byte) error) error {
	for _, c := range b.full {
		if err := f(c[:]); err != nil {
			return err
		}
	}
	if b.cur != nil {
		return f(b.cur[:b.off])
	}
	return nil
}

// Bytes returns a copy of the written bytes (for tests and small batches).
func (b *Buffer) Bytes() []byte {
	out := make([]byte, 0, b.n)
	b.each(func(p []byte) error { out = append(out, p...); return nil })
	return out
}

// Release empties b and returns its chunks to the pool; b must not be read
// after.
func (b *Buffer) Release() {
	for _, c := range b.full {
		chunks.Put(c)
	}
	if b.cur != nil {
		chunks.Put(b.cur)
	}
	*b = Buffer{}
}

var streamEncoders = sync.Pool{New: func() any {
	e, _ := zstd.NewWriter(nil, append(encoderOptions, zstd.WithZeroFrames(true))...)
	return e
}}

// CompressBuffer writes the zstd frame of b's envelope lines to dst; the
// result decompresses with Decompress like Compress's.
func CompressBuffer(dst *bytes.Buffer, b *Buffer) error {
	e := streamEncoders.Get().(*zstd.Encoder)
	defer streamEncoders.Put(e)
	// The frame header carries the size, so Decompress allocates once
	// instead of doubling its way up to a 64 MiB object.
	e.ResetContentSize(dst, int64(b.Len()))
	if err := b.each(func(p []byte) error { _, err := e.Write(p); return err }); err != nil {
		return fmt.Errorf("stage: compress: %w", err)
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("stage: compress: %w", err)
	}
	return nil
}

// Lines calls fn for every non-blank line of b, in order, without its
// newline, like the package's Lines over a decompressed object. A line
// that straddles two chunks is copied into a scratch buffer; the others
// are passed in place, so fn must not keep a line after it returns.
func (b *Buffer) Lines(fn func(line []byte) error) error {
	v := lineVisitor{fn: fn}
	var carry []byte // the start of a line begun in an earlier chunk
	err := b.each(func(p []byte) error {
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				carry = append(carry, p...)
				return nil
			}
			line := p[:i]
			if len(carry) > 0 {
				carry = append(carry, line...)
				line = carry
			}
			p = p[i+1:]
			if err := v.visit(line); err != nil {
				return err
			}
			carry = carry[:0]
		}
		return nil
	})
	if err != nil || len(carry) == 0 {
		return err
	}
	return v.visit(carry)
}

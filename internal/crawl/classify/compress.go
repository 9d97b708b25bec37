package classify

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// Compression of a file's bytes.
type Compression string

// The compressions recognised.
const (
	None   Compression = "none"
	Gzip   Compression = "gzip"
	Zstd   Compression = "zstd"
	Bzip2  Compression = "bzip2"
	Snappy Compression = "snappy"
)

var (
	magicGzip         = []byte{0x1f, 0x8b}
	magicZstd         = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicSnappyFramed = []byte("\xff\x06\x00\x00sNaPpY")
	bzip2Block        = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzip2End          = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

// detectCompression decides the compression of a file from its first
// bytes, and only for snappy without a stream header (Hadoop block
// format or a raw block), which has no magic number, from the extension
// (.snappy, .sz). Extensions never override magic bytes: a "x.gz" that does
// not start with the gzip magic is read as uncompressed.
func detectCompression(name string, head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	case bytes.HasPrefix(head, magicSnappyFramed):
		return Snappy
	case len(head) >= 10 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9' &&
		(bytes.Equal(head[4:10], bzip2Block) || bytes.Equal(head[4:10], bzip2End)):
		return Bzip2
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".snappy", ".sz":
		return Snappy
	}
	return None
}

// readPrefix reads up to limit decompressed bytes of r, and reports whether
// the content goes on beyond them.
func readPrefix(r io.Reader, c Compression, limit int) (data []byte, truncated bool, err error) {
	var dr io.Reader
	switch c {
	case None:
		dr = r
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, false, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		dr = zr
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, false, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		dr = zr
	case Bzip2:
		dr = bzip2.NewReader(r)
	case Snappy:
		return readSnappy(r, limit)
	default:
		return nil, false, fmt.Errorf("unknown compression %q", c)
	}
	data, err = io.ReadAll(io.LimitReader(dr, int64(limit)+1))
	if len(data) > limit {
		return data[:limit], true, nil
	}
	if err != nil {
		return data, false, fmt.Errorf("%s: %w", c, err)
	}
	return data, false, nil
}

// readSnappy reads the framing format ("sNaPpY" stream, also what s2
// writes in snappy mode), the Hadoop block format (4-byte big-endian
// uncompressed length, then chunks of 4-byte big-endian compressed length
// and a raw block) or one raw snappy block, in that order.
func readSnappy(r io.Reader, limit int) ([]byte, bool, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, false, fmt.Errorf("snappy: %w", err)
	}
	var out []byte
	switch {
	case bytes.HasPrefix(raw, magicSnappyFramed):
		out, err = io.ReadAll(io.LimitReader(s2.NewReader(bytes.NewReader(raw)), int64(limit)+1))
	default:
		out, err = HadoopSnappy(raw, limit)
		if err != nil {
			out, err = snappy.Decode(nil, raw)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("snappy: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

var errHadoop = errors.New("not hadoop snappy")

// HadoopSnappy decodes Hadoop's block-framed snappy (a big-endian total
// length, then length-prefixed snappy blocks, repeated), stopping once more
// than limit bytes are out. The error says the input is not in that framing.
func HadoopSnappy(raw []byte, limit int) ([]byte, error) {
	var out []byte
	for len(raw) > 0 && len(out) <= limit {
		if len(raw) < 8 {
			return nil, errHadoop
		}
		total := int(binary.BigEndian.Uint32(raw))
		raw = raw[4:]
		got := 0
		for got < total {
			if len(raw) < 4 {
				return nil, errHadoop
			}
			n := int(binary.BigEndian.Uint32(raw))
			raw = raw[4:]
			if n > len(raw) {
				return nil, errHadoop
			}
			block, err := snappy.Decode(nil, raw[:n])
			if err != nil {
				return nil, errHadoop
			}
			raw = raw[n:]
			got += len(block)
			out = append(out, block...)
		}
		if got != total {
			return nil, errHadoop
		}
	}
	return out, nil
}

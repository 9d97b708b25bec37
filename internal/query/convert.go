package query

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

// tableFormat is how a crawled table's files are written: format and
// compression as the catalog says, and the data columns (for Avro).
type tableFormat struct {
	format, compression string
	columns             []column
}

// readAs is the format and compression DuckDB reads the table's files in
// once the cache has converted those it cannot read: Avro as Parquet,
// bzip2 and snappy text as zstd.
func (t tableFormat) readAs() (format, compression string) {
	format, compression = t.format, t.compression
	if format == "avro" {
		return "parquet", ""
	}
	if compression == "bzip2" || compression == "snappy" {
		compression = "zstd"
	}
	return format, compression
}

// mayConvert says whether some file of the table may need a conversion;
// conversion decides for each.
func (t tableFormat) mayConvert() bool {
	return t.format == "avro" || t.compression == "bzip2" || t.compression == "snappy" || t.compression == "mixed"
}

// conversion converts one file into the cache.
type conversion struct {
	// fingerprint names the conversion in the cache key (with its
	// version and, for Avro, the target columns): a change makes a new
	// entry.
	fingerprint string
	suffix      string
	run         func(ctx context.Context, src io.Reader, w io.Writer) error
}

// conversion returns how the local file at path is converted, or nil if
// DuckDB reads it as it is. Text compression is found from the file's
// first bytes as the crawler finds it (and .snappy/.sz for snappy without
// a stream header).
func (t tableFormat) conversion(path string) (*conversion, error) {
	if t.format == "avro" {
		return avroConversion(t.columns), nil
	}
	if !t.mayConvert() {
		return nil, nil
	}
	head, err := readHead(path, 16)
	if err != nil {
		return nil, err
	}
	switch textCompression(path, head) {
	case "bzip2":
		return &conversion{fingerprint: "bzip2->zstd v1", suffix: ".zst", run: func(ctx context.Context, src io.Reader, w io.Writer) error {
			return recompress(ctx, bzip2.NewReader(bufio.NewReader(src)), w)
		}}, nil
	case "snappy":
		return &conversion{fingerprint: "snappy->zstd v1", suffix: ".zst", run: func(ctx context.Context, src io.Reader, w io.Writer) error {
			r, err := snappyReader(src)
			if err != nil {
				return err
			}
			return recompress(ctx, r, w)
		}}, nil
	}
	return nil, nil
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, n)
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:m], nil
}

var (
	magicSnappyFramed = []byte("\xff\x06\x00\x00sNaPpY")
	bzip2Block        = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzip2End          = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

// textCompression is the crawler's detection (crawl/classify) of the
// compressions DuckDB cannot read: "bzip2", "snappy" or "" for others.
func textCompression(name string, head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}), bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return ""
	case bytes.HasPrefix(head, magicSnappyFramed):
		return "snappy"
	case len(head) >= 10 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9' &&
		(bytes.Equal(head[4:10], bzip2Block) || bytes.Equal(head[4:10], bzip2End)):
		return "bzip2"
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".snappy", ".sz":
		return "snappy"
	}
	return ""
}

// maxSnappyBlock bounds a snappy file without a stream header (Hadoop
// block format or one raw block), which is decoded in memory.
const maxSnappyBlock = 1 << 30

// snappyReader decodes the snappy framing format (what the crawler
// detects by its magic), the Hadoop block format (4-byte big-endian
// uncompressed length, then chunks of 4-byte big-endian compressed length
// and a raw block) or one raw block.
func snappyReader(src io.Reader) (io.Reader, error) {
	br := bufio.NewReader(src)
	head, _ := br.Peek(len(magicSnappyFramed))
	if bytes.Equal(head, magicSnappyFramed) {
		return s2.NewReader(br), nil
	}
	raw, err := io.ReadAll(io.LimitReader(br, maxSnappyBlock+1))
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if len(raw) > maxSnappyBlock {
		return nil, fmt.Errorf("snappy: a file without a stream header is decoded in memory and must be at most %d bytes", maxSnappyBlock)
	}
	if out, err := classify.HadoopSnappy(raw, math.MaxInt); err == nil {
		return bytes.NewReader(out), nil
	}
	out, err := snappy.Decode(nil, raw)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return bytes.NewReader(out), nil
}

// recompress writes r to w as zstd, checking ctx between chunks.
func recompress(ctx context.Context, r io.Reader, w io.Writer) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			zw.Close()
			return err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := zw.Write(buf[:n]); err != nil {
				zw.Close()
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			zw.Close()
			return fmt.Errorf("decompress: %w", rerr)
		}
	}
	return zw.Close()
}

// columnsHash names a list of columns and their types in a fingerprint.
func columnsHash(cols []column) string {
	h := sha256.New()
	for _, c := range cols {
		fmt.Fprintf(h, "%s\x00%s\x00", c.name, c.duck)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

package produce

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	json "github.com/goccy/go-json"
)

// source yields record values and keys until io.EOF. The returned slices
// are owned by the caller (the producer holds them until acknowledged).
type source interface {
	next() (value, key []byte, err error)
}

// arenaChunk is the size of the blocks record values are carved from, so
// generating a record costs no allocation of its own. A chunk is freed when
// the last record in it has been acknowledged and dropped.
const arenaChunk = 1 << 20

type genSource struct {
	gen     *Generator
	left    int
	chunk   []byte
	scratch []byte
}

func (s *genSource) next() (value, key []byte, err error) {
	if s.left <= 0 {
		return nil, nil, io.EOF
	}
	s.left--
	var id []byte
	s.scratch, id = s.gen.Append(s.scratch[:0])
	n := len(s.scratch)
	if cap(s.chunk)-len(s.chunk) < n {
		s.chunk = make([]byte, 0, max(arenaChunk, n))
	}
	off := len(s.chunk)
	s.chunk = append(s.chunk, s.scratch...)
	value = s.chunk[off : off+n : off+n]
	idOff := off + idOffset
	key = s.chunk[idOff : idOff+len(id) : idOff+len(id)]
	return value, key, nil
}

// fileSource replays a file one line per record. Lines are sent verbatim
// without their "\n" or "\r\n" terminator; empty lines are skipped. A line
// that is a JSON object with a top-level string "id" is keyed by it, any
// other line (including non-JSON) has no key.
type fileSource struct {
	f    *os.File
	r    *bufio.Reader
	left int // < 0: no limit
	line int
}

func openFile(path string, limit int) (*fileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("produce: open --file: %w", err)
	}
	if limit == 0 {
		limit = -1
	}
	return &fileSource{f: f, r: bufio.NewReaderSize(f, 1<<20), left: limit}, nil
}

func (s *fileSource) next() (value, key []byte, err error) {
	for s.left != 0 {
		line, err := s.r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil, io.EOF
			}
			return nil, nil, fmt.Errorf("produce: read %s: %w", s.f.Name(), err)
		}
		s.line++
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if s.left > 0 {
			s.left--
		}
		return line, lineKey(line), nil
	}
	return nil, nil, io.EOF
}

func (s *fileSource) Close() error { return s.f.Close() }

// lineKey returns the top-level string "id" of a JSON object line, or nil.
func lineKey(line []byte) []byte {
	if trimmed := bytes.TrimLeft(line, " \t"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var v struct {
		ID *string `json:"id"`
	}
	if json.Unmarshal(line, &v) != nil || v.ID == nil {
		return nil
	}
	return []byte(*v.ID)
}

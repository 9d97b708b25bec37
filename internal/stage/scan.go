package stage

import (
	"time"
	"unsafe"

	"github.com/streamlake/streamlake/internal/schema"
)

// Head is the envelope of one staged record without its key, headers and
// value: what the ETL needs to place a record before decoding its value.
type Head struct {
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// ScanLine reads an envelope line in the exact layout Encoder.Append
// writes, with a JSON value:
//
//	{"topic":T,"partition":P,"offset":O,"timestamp":"2006-01-02T15:04:05.000Z"[,"key":K|,"key_b64":K][,"headers":[...]],"value":V}
//
// It returns the head and V's bytes (not validated: the caller decodes
// them) without allocating. ok is false for any other layout — value_text,
// value_b64, no value, escapes in the topic, another writer's field order —
// and the caller then decodes the line with DecodeLine, which accepts every
// valid envelope and reports the invalid ones. topic must be the object's
// topic; a line of another topic is not ok either.
func ScanLine(line []byte, topic string) (h Head, value []byte, ok bool) {
	var ls LineScanner
	return ls.Scan(line, topic)
}

// LineScanner is ScanLine for the lines of one object in turn: it keeps the
// last timestamp it read, which the next line nearly always repeats (a
// producer's batch shares one), and then skips reading it again. The zero
// value is ready; a LineScanner is not safe for concurrent use.
type LineScanner struct {
	ts   [24]byte // the last timestamp's text, when t is set
	t    time.Time
	have bool
}

// Scan is ScanLine.
func (ls *LineScanner) Scan(line []byte, topic string) (h Head, value []byte, ok bool) {
	s := scanner{b: line, ls: ls}
	if !s.lit(`{"topic":"`) || !s.lit(topic) || !s.lit(`","partition":`) {
		return h, nil, false
	}
	p, ok := s.int()
	if !ok || p < 0 || p > 1<<31-1 || !s.lit(`,"offset":`) {
		return h, nil, false
	}
	h.Partition = int32(p)
	if h.Offset, ok = s.int(); !ok || !s.lit(`,"timestamp":"`) {
		return h, nil, false
	}
	if h.Timestamp, ok = s.millis(); !ok || !s.lit(`"`) {
		return h, nil, false
	}
	if s.lit(`,"key":`) && !s.str() {
		return h, nil, false
	}
	if s.lit(`,"headers":`) && !s.headers() {
		return h, nil, false
	}
	if !s.lit(`,"value":`) {
		return h, nil, false
	}
	// The value runs to the envelope's closing brace, the line's last byte.
	end := len(line) - 1
	for end > s.i && (line[end] == ' ' || line[end] == '\r' || line[end] == '\t') {
		end--
	}
	if end <= s.i || line[end] != '}' {
		return h, nil, false
	}
	return h, line[s.i:end], true
}

type scanner struct {
	b  []byte
	i  int
	ls *LineScanner
}

// lit consumes lit if the input continues with it.
func (s *scanner) lit(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// int reads a JSON integer as Encoder writes it (optional '-', no leading
// zeros, at most 18 digits).
func (s *scanner) int() (int64, bool) {
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	d := s.i - start
	if d == 0 || d > 18 || (d > 1 && s.b[start] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// millis reads 2006-01-02T15:04:05.000Z, the timestamp layout Encoder
// writes, in UTC.
func (s *scanner) millis() (time.Time, bool) {
	const layout = "2006-01-02T15:04:05.000Z"
	if len(s.b)-s.i < len(layout) {
		return time.Time{}, false
	}
	b := s.b[s.i : s.i+len(layout)]
	if s.ls.have && string(b) == string(s.ls.ts[:]) {
		s.i += len(layout)
		return s.ls.t, true
	}
	// The layout is schema.ParseUTC's common form with three fractional
	// digits; it checks the digits and the date.
	if b[19] != '.' {
		return time.Time{}, false
	}
	t, ok := schema.ParseUTC(unsafe.String(unsafe.SliceData(b), len(b)))
	if !ok {
		return time.Time{}, false
	}
	s.i += len(layout)
	copy(s.ls.ts[:], b)
	s.ls.t, s.ls.have = t, true
	return t, true
}

// str skips a JSON string: valid escapes, no control bytes. (Base64
// fields, key_b64 and value_b64, are left to DecodeLine, which checks
// their encoding.)
func (s *scanner) str() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	s.i++
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			if !s.escape() {
				return false
			}
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

// escape skips one valid escape sequence at s.i.
func (s *scanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
		if len(s.b)-s.i < 6 {
			return false
		}
		for _, c := range s.b[s.i+2 : s.i+6] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		s.i += 6
		return true
	}
	return false
}

// headers skips the headers array as Encoder writes it:
// [{"key":S,"value":S|"value_b64":S}, ...], value optional.
func (s *scanner) headers() bool {
	if !s.lit("[") {
		return false
	}
	if s.lit("]") {
		return true
	}
	for {
		if !s.lit(`{"key":`) || !s.str() {
			return false
		}
		if s.lit(`,"value":`) && !s.str() {
			return false
		}
		if !s.lit("}") {
			return false
		}
		if s.lit("]") {
			return true
		}
		if !s.lit(",") {
			return false
		}
	}
}

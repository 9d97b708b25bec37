package stage

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/klauspost/compress/zstd"
)

// AppendEnvelope appends r as one JSON line (with its trailing newline) to dst.
func AppendEnvelope(dst []byte, r *Record) []byte {
	var e Encoder
	return e.Append(dst, r)
}

// Encoder appends envelope lines; it caches the formatted timestamp of the
// last second seen and the quoted topic of the last record, since
// consecutive records mostly share them. The zero value is ready; an
// Encoder is not safe for concurrent use.
type Encoder struct {
	sec    int64
	prefix []byte // "2006-01-02T15:04:05" of sec
	topic  string
	head   []byte // `{"topic":"<topic>","partition":` of topic
}

// Append appends r as one JSON line (with its trailing newline) to dst.
func (e *Encoder) Append(dst []byte, r *Record) []byte {
	if e.head == nil || r.Topic != e.topic {
		e.topic = r.Topic
		e.head = append(e.head[:0], `{"topic":`...)
		e.head = strconv.AppendQuote(e.head, r.Topic)
		e.head = append(e.head, `,"partition":`...)
	}
	dst = append(dst, e.head...)
	dst = strconv.AppendInt(dst, int64(r.Partition), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, r.Offset, 10)
	dst = append(dst, `,"timestamp":"`...)
	dst = e.appendTimestamp(dst, r.Timestamp)
	dst = append(dst, '"')
	if r.Key != nil {
		dst = appendBytesField(dst, "key", "key_b64", r.Key)
	}
	if len(r.Headers) > 0 {
		dst = append(dst, `,"headers":[`...)
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"key":`...)
			dst = appendJSONString(dst, h.Key)
			dst = appendBytesField(dst, "value", "value_b64", h.Value)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if r.Value != nil {
		if json.Valid(r.Value) {
			dst = append(dst, `,"value":`...)
			dst = appendCompactJSON(dst, r.Value)
		} else {
			dst = appendBytesField(dst, "value_text", "value_b64", r.Value)
		}
	}
	return append(dst, '}', '\n')
}

// appendTimestamp appends t in UTC as 2006-01-02T15:04:05.000Z.
func (e *Encoder) appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != e.sec || e.prefix == nil {
		e.sec = sec
		e.prefix = t.AppendFormat(e.prefix[:0], "2006-01-02T15:04:05")
	}
	dst = append(dst, e.prefix...)
	ms := t.Nanosecond() / 1e6
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendBytesField writes b as text under textName, or base64 under b64Name
// when b is not valid UTF-8.
func appendBytesField(dst []byte, textName, b64Name string, b []byte) []byte {
	dst = append(dst, ',', '"')
	if utf8.Valid(b) {
		dst = append(dst, textName...)
		dst = append(dst, '"', ':')
		return appendJSONString(dst, b)
	}
	dst = append(dst, b64Name...)
	dst = append(dst, `":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJSONString appends s, a string or bytes (a record's key, not
// copied to a string first), as a JSON string. s must be valid UTF-8. The
// common case, nothing to escape, is a scan and a copy.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == 0xe2 {
			b, _ := json.Marshal(string(s)) // never fails for a string
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendCompactJSON appends valid JSON without newlines, so one envelope
// stays on one line.
func appendCompactJSON(dst, v []byte) []byte {
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return append(dst, v...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return append(dst, `null`...)
	}
	return append(dst, buf.Bytes()...)
}

// encoderOptions are Compress's zstd settings (the Go encoder): the
// fastest level with a 128 KiB window, on sensors envelope lines about 25%
// faster than the default 4 MiB one and a little smaller (9.9x against
// 9.6x), each pooled encoder holding 128 KiB of history instead of 8 MiB.
// Ingest's objects are written by CompressBuffer with C zstd, faster still
// (BenchmarkCompressBuffer compares the three).
var encoderOptions = []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(128 << 10)}

var (
	encoders = sync.Pool{New: func() any {
		e, _ := zstd.NewWriter(nil, encoderOptions...)
		return e
	}}
	decoders = sync.Pool{New: func() any {
		d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		return d
	}}
)

// Compress returns the zstd frame of the envelope lines in raw.
func Compress(dst, raw []byte) []byte {
	e := encoders.Get().(*zstd.Encoder)
	defer encoders.Put(e)
	return e.EncodeAll(raw, dst)
}

// Decompress returns the envelope lines of a staging object.
func Decompress(obj []byte) ([]byte, error) {
	d := decoders.Get().(*zstd.Decoder)
	defer decoders.Put(d)
	// Frames that carry their size are allocated exactly by DecodeAll;
	// for the others, envelope lines compress about 5-10x: starting there
	// saves most of the copies of growing from nothing.
	var dst []byte
	var h zstd.Header
	if n, ok := frameSize(obj); ok {
		// CompressBuffer's size frame (a corrupt one only misjudges the
		// allocation: the lines are whatever the zstd frames hold).
		dst = make([]byte, 0, min(n, 256<<20))
	} else if h.Decode(obj) == nil && !h.HasFCS {
		dst = make([]byte, 0, min(8*len(obj), 256<<20))
	}
	out, err := d.DecodeAll(obj, dst)
	if err != nil {
		return nil, fmt.Errorf("stage: decompress: %w", err)
	}
	return out, nil
}

type wireRecord struct {
	Topic     string          `json:"topic"`
	Partition int32           `json:"partition"`
	Offset    *int64          `json:"offset"`
	Timestamp string          `json:"timestamp"`
	Key       *string         `json:"key"`
	KeyB64    []byte          `json:"key_b64"`
	Headers   []wireHeader    `json:"headers"`
	Value     json.RawMessage `json:"value"`
	ValueText *string         `json:"value_text"`
	ValueB64  []byte          `json:"value_b64"`
}

type wireHeader struct {
	Key      string  `json:"key"`
	Value    *string `json:"value"`
	ValueB64 []byte  `json:"value_b64"`
}

// ErrCorrupt is wrapped by decoding errors of malformed envelope lines.
var ErrCorrupt = errors.New("corrupt staging envelope")

// DecodeLine decodes one envelope line (without its newline).
func DecodeLine(line []byte) (Record, error) {
	var w wireRecord
	if err := json.Unmarshal(line, &w); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if w.Offset == nil || w.Topic == "" {
		return Record{}, fmt.Errorf("%w: missing topic or offset", ErrCorrupt)
	}
	ts, err := time.Parse(time.RFC3339Nano, w.Timestamp)
	if err != nil {
		return Record{}, fmt.Errorf("%w: timestamp: %v", ErrCorrupt, err)
	}
	r := Record{Topic: w.Topic, Partition: w.Partition, Offset: *w.Offset, Timestamp: ts}
	switch {
	case w.Key != nil:
		r.Key = []byte(*w.Key)
	case w.KeyB64 != nil:
		r.Key = w.KeyB64
	}
	for _, h := range w.Headers {
		hv := h.ValueB64
		if h.Value != nil {
			hv = []byte(*h.Value)
		}
		r.Headers = append(r.Headers, Header{Key: h.Key, Value: hv})
	}
	switch {
	case w.Value != nil:
		r.Value, r.ValueIsJSON = []byte(w.Value), true
	case w.ValueText != nil:
		r.Value = []byte(*w.ValueText)
	case w.ValueB64 != nil:
		r.Value = w.ValueB64
	}
	return r, nil
}

// Decode calls fn for every envelope of a decompressed object, in order.
// It stops at the first error from fn or from a malformed line, naming the
// line number.
func Decode(lines []byte, fn func(Record) error) error {
	return Lines(lines, func(line []byte) error {
		r, err := DecodeLine(line)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// Lines calls fn for every non-blank line of a decompressed object, in
// order, without its newline. An error from fn stops it and is returned
// with the line number.
func Lines(lines []byte, fn func(line []byte) error) error {
	v := lineVisitor{fn: fn}
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		var line []byte
		if i < 0 {
			line, lines = lines, nil
		} else {
			line, lines = lines[:i], lines[i+1:]
		}
		if err := v.visit(line); err != nil {
			return err
		}
	}
	return nil
}

// lineVisitor is what Lines and Buffer.Lines share: it numbers the lines,
// skips blank ones and names the line of fn's error.
type lineVisitor struct {
	n  int
	fn func(line []byte) error
}

func (v *lineVisitor) visit(line []byte) error {
	v.n++
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	if err := v.fn(line); err != nil {
		return fmt.Errorf("line %d: %w", v.n, err)
	}
	return nil
}

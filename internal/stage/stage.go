// Package stage defines the staging object format: zstd-compressed,
// newline-delimited JSON envelopes, one per Kafka record, and the object
// naming scheme.
//
// An object name is a pure function of topic, partition and first offset
// (plus the first record's Kafka timestamp, itself fixed by the offset), so a
// retry after a crash overwrites the same object instead of adding a second
// one. Names sort by offset within a partition:
//
//	<topic>/dt=YYYY-MM-DD/hr=HH/p=<partition>/<first offset, 20 digits>.ndjson.zst
//
// Envelope line fields: topic, partition, offset, timestamp (Kafka timestamp,
// RFC 3339 UTC with milliseconds), key (UTF-8 text) or key_b64, headers
// ([{key, value}]), and the record value: "value" holds it as JSON when it
// is valid JSON; otherwise "value_text" (UTF-8) or "value_b64" holds the
// exact bytes. A nil value (tombstone) has none of the three.
//
// Encoders and decoders are not safe for concurrent use; each goroutine
// uses its own.
package stage

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Extension is the suffix of every staging object.
const Extension = ".ndjson.zst"

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record as staged.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Headers   []Header
	Value     []byte
	// ValueIsJSON reports, after decoding, that Value came from the "value"
	// field (valid JSON) rather than value_text/value_b64.
	ValueIsJSON bool
}

// ObjectName returns the staging object name for a batch whose first record
// is first.
func ObjectName(topic string, partition int32, firstOffset int64, firstTimestamp time.Time) string {
	ts := firstTimestamp.UTC()
	return fmt.Sprintf("%s/dt=%s/hr=%02d/p=%d/%020d%s",
		topic, ts.Format("2006-01-02"), ts.Hour(), partition, firstOffset, Extension)
}

// Object is a parsed staging object name.
type Object struct {
	Key         string
	Topic       string
	Partition   int32
	FirstOffset int64
}

// ParseName parses a name made by ObjectName. ok is false for other keys.
func ParseName(key string) (o Object, ok bool) {
	if !strings.HasSuffix(key, Extension) {
		return o, false
	}
	parts := strings.Split(key, "/")
	if len(parts) != 5 || !strings.HasPrefix(parts[1], "dt=") || !strings.HasPrefix(parts[2], "hr=") ||
		!strings.HasPrefix(parts[3], "p=") {
		return o, false
	}
	p, err := strconv.ParseInt(parts[3][2:], 10, 32)
	if err != nil || p < 0 {
		return o, false
	}
	off, err := strconv.ParseInt(strings.TrimSuffix(parts[4], Extension), 10, 64)
	if err != nil || off < 0 {
		return o, false
	}
	return Object{Key: key, Topic: parts[0], Partition: int32(p), FirstOffset: off}, true
}

// TopicPrefix is the key prefix under which a topic's objects live.
func TopicPrefix(topic string) string { return path.Clean(topic) + "/" }

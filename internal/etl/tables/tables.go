// Package tables turns the `tables:` section of the configuration into
// compiled per-table rules for the ETL: which records of a topic go to which
// Iceberg table, how a record is transformed before it is stored (rename,
// drop, cast, flatten, hash, mask, derive), where its event time comes from,
// how the table is partitioned and when a record is too late.
//
// The package is pure: it does no I/O and keeps no state. A Spec is the
// YAML-facing value, checked by Validate (errors name the full key, e.g.
// `tables[0].transforms[1].cast.type`); Compile turns it into a Table, which
// is read-only and safe for concurrent use by any number of goroutines.
//
// Errors from Apply and EventTime are reasons for the dead-letter table.
// They never quote the value of a field that the table hashes, masks or
// drops, and Scrub removes those fields from a raw value before it is
// stored in the dead-letter table, so a table's PII transforms hold for
// every copy of a record in the lake.
//
// Wiring, per record of a topic: Select picks the table (topics that no
// entry names use Default); Prepare runs Apply, EventTime and Late and
// writes the event time back as an RFC 3339 string; a non-empty reason
// dead-letters the record with Scrub(raw value). IcebergSpec gives the
// partition spec when the table is created.
package tables

import (
	"fmt"
	"strings"
	"time"
)

// Event-time formats.
const (
	FormatAuto    = "auto"    // RFC 3339 strings, or epoch numbers whose unit is guessed by magnitude
	FormatRFC3339 = "rfc3339" // RFC 3339 strings only
	FormatEpochS  = "epoch_s"
	FormatEpochMS = "epoch_ms"
	FormatEpochUS = "epoch_us"
)

// Fallbacks when a record's event time is missing or unparseable.
const (
	FallbackKafka = "kafka" // use the Kafka record timestamp
	FallbackDLQ   = "dlq"   // send the record to the dead-letter table
)

// Policies for a value that cannot be stored in its column's type.
const (
	MismatchDLQ    = "dlq"
	MismatchString = "coerce-to-string"
)

// DefaultTimeField is the event-time field of a Spec that names none; the
// caller normally passes etl.time_field to WithDefaults instead.
const DefaultTimeField = "ts"

// Spec is one entry of the `tables:` list:
//
//	tables:
//	  - topic: sensors
//	    name: sensors             # default: the topic, lower case, [^a-z0-9] -> _
//	    match: {kind: reading}    # optional: only records whose field equals the value
//	    time_field: ts            # default: etl.time_field
//	    time_format: auto         # auto, rfc3339, epoch_s, epoch_ms, epoch_us
//	    time_fallback: kafka      # kafka or dlq
//	    partition: ["day(ts)", "bucket(16, device)"]
//	    on_type_mismatch: dlq     # dlq or coerce-to-string
//	    max_lateness: 24h         # 0: unlimited
//	    maps: [tags, ctx.labels]  # object fields stored as map columns
//	    transforms:
//	      - rename: {from: temperature, to: temp}
//	      - drop: battery
//	      - hash: {field: device, salt: s3cret}
//	      - mask: {field: card, keep_last: 4}
//	      - cast: {field: temp, type: double}
//	      - flatten: location     # location.lat -> location_lat
//	      - derive: {name: temp_f, expr: "temp * 9 / 5 + 32"}
type Spec struct {
	// Name is the Iceberg table name; empty derives it from Topic.
	Name  string `yaml:"name"`
	Topic string `yaml:"topic"`
	// Match routes only records whose fields (dotted paths allowed) equal
	// the given values, compared as text ("3" matches the number 3).
	Match map[string]string `yaml:"match"`
	// TimeField is the event-time field after the transforms ran.
	TimeField    string `yaml:"time_field"`
	TimeFormat   string `yaml:"time_format"`
	TimeFallback string `yaml:"time_fallback"`
	// Partition is the partition spec: day(col), hour(col), identity(col),
	// bucket(N, col). Empty means day(<time field>).
	Partition      []string      `yaml:"partition"`
	OnTypeMismatch string        `yaml:"on_type_mismatch"`
	MaxLateness    time.Duration `yaml:"max_lateness"`
	// Maps are the object fields (dotted paths, after the transforms; a
	// path steps through lists of objects too) the table stores as
	// map<string, T> columns when it creates them, whatever the records
	// of that commit show; other object fields become maps by inference.
	Maps       []string    `yaml:"maps"`
	Transforms []Transform `yaml:"transforms"`
}

// TableName is Name, or the name derived from Topic as the foundation
// derives it: lower case, every character other than a-z and 0-9 replaced
// by '_'. This is catalog.TableName, repeated so that this pure package
// does not depend on the catalog implementation.
func (s *Spec) TableName() string {
	if s.Name != "" {
		return s.Name
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, s.Topic)
}

// WithDefaults returns a copy of s with every empty setting filled in;
// timeField is the configuration's etl.time_field ("" means
// DefaultTimeField).
func (s Spec) WithDefaults(timeField string) Spec {
	if timeField == "" {
		timeField = DefaultTimeField
	}
	if s.Name == "" {
		s.Name = s.TableName()
	}
	if s.TimeField == "" {
		s.TimeField = timeField
	}
	if s.TimeFormat == "" {
		s.TimeFormat = FormatAuto
	}
	if s.TimeFallback == "" {
		s.TimeFallback = FallbackKafka
	}
	if len(s.Partition) == 0 {
		s.Partition = []string{fmt.Sprintf("day(%s)", s.TimeField)}
	}
	if s.OnTypeMismatch == "" {
		s.OnTypeMismatch = MismatchDLQ
	}
	return s
}

// Default is the spec of a topic the configuration does not name: the
// foundation's table, partitioned by day of the time field.
func Default(topic, timeField string) Spec {
	return Spec{Topic: topic}.WithDefaults(timeField)
}

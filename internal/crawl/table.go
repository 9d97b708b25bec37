package crawl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
	"github.com/streamlake/streamlake/internal/stage"
)

// Table properties set by Staging.
const (
	PropClassification = "classification"  // "json"
	PropCompression    = "compressionType" // "zstd"
	// PropRecordCount is exact when PropRecordCountExact is "true" (every
	// object was read); otherwise it is estimated as the average number of
	// records of the objects read times the number of objects.
	PropRecordCount      = "recordCount"
	PropRecordCountExact = "recordCountExact"
	PropObjectCount      = "objectCount"
	PropSizeBytes        = "sizeBytes"      // compressed bytes of all objects
	PropSampledRecords   = "sampledRecords" // envelopes the value schema was inferred from
	PropLastCrawled      = "lastCrawled"    // RFC 3339 UTC
)

// envelopeColumns precede the value columns; see package stage.
var (
	headersType = &schema.Type{Kind: schema.List, Elem: &schema.Type{Kind: schema.Struct, Fields: []schema.Field{
		{Name: "key", Type: schema.Of(schema.String)},
		{Name: "value", Type: schema.Of(schema.String)},
		{Name: "value_b64", Type: schema.Of(schema.String)},
	}}}
	partitionKeys = []catalog.Column{
		{Name: "dt", Type: "date", DuckDB: "DATE"},
		{Name: "hr", Type: "int", DuckDB: "INTEGER"},
		{Name: "p", Type: "int", DuckDB: "INTEGER"},
	}
)

func stringColumn(name string) catalog.Column {
	return catalog.Column{Name: name, Type: "string", DuckDB: "VARCHAR"}
}

// topicTable builds the table of one topic from its objects, reading a
// sample of them (newest first).
func topicTable(ctx context.Context, bucket *blob.Bucket, topic string, objs []object, sampleSize int, log *slog.Logger) (catalog.Table, error) {
	// Staging names sort by dt, hr, partition, offset: newest last.
	slices.SortFunc(objs, func(a, b object) int { return strings.Compare(b.key, a.key) })
	var size int64
	for _, o := range objs {
		size += o.size
	}
	s := sampler{budget: sampleSize, value: schema.Of(schema.Null), log: log.With("topic", topic)}
	for _, o := range objs {
		if s.sampled >= sampleSize {
			break
		}
		if err := ctx.Err(); err != nil {
			return catalog.Table{}, fmt.Errorf("crawl staging: topic %s: %w", topic, err)
		}
		s.object(ctx, bucket, o.key)
	}

	value := catalog.Column{Name: "value", Type: "string", DuckDB: "VARCHAR"}
	if v := foldFields(s.value); v.Kind == schema.Struct && len(v.Fields) > 0 {
		value = catalog.Column{Name: "value", Type: v.Hive(), DuckDB: v.DuckDB()}
	}
	records, exact := s.lines, s.read == len(objs)
	if !exact && s.read > 0 {
		records = int(math.Round(float64(s.lines) / float64(s.read) * float64(len(objs))))
	}
	return catalog.Table{
		Type: catalog.External, Format: "json", Compression: "zstd",
		Columns: []catalog.Column{
			stringColumn("topic"),
			{Name: "partition", Type: "int", DuckDB: "INTEGER"},
			{Name: "offset", Type: "bigint", DuckDB: "BIGINT"},
			{Name: "timestamp", Type: "timestamp", DuckDB: "TIMESTAMPTZ"},
			stringColumn("key"),
			stringColumn("key_b64"),
			{Name: "headers", Type: headersType.Hive(), DuckDB: headersType.DuckDB()},
			value,
			stringColumn("value_text"),
			stringColumn("value_b64"),
		},
		PartitionKeys: slices.Clone(partitionKeys),
		Properties: map[string]string{
			PropClassification:   "json",
			PropCompression:      "zstd",
			PropRecordCount:      strconv.Itoa(records),
			PropRecordCountExact: strconv.FormatBool(exact),
			PropObjectCount:      strconv.Itoa(len(objs)),
			PropSizeBytes:        strconv.FormatInt(size, 10),
			PropSampledRecords:   strconv.Itoa(s.sampled),
			PropLastCrawled:      time.Now().UTC().Format(time.RFC3339),
		},
	}, nil
}

// sampler infers the value schema from envelopes, up to budget of them.
type sampler struct {
	budget  int
	value   *schema.Type
	sampled int // envelopes inferred from
	read    int // objects read
	lines   int // envelopes in the objects read
	log     *slog.Logger
}

var errEnough = errors.New("sample complete")

// object reads one staging object into the sample. A problem with the
// object is logged, not returned: the crawl goes on without it.
func (s *sampler) object(ctx context.Context, bucket *blob.Bucket, key string) {
	data, err := bucket.ReadAll(ctx, key)
	if err != nil {
		s.log.Warn("crawl object unreadable", "stage", "crawl", "key", key, "err", err)
		return
	}
	lines, err := stage.Decompress(data)
	if err != nil {
		s.log.Warn("crawl object unreadable", "stage", "crawl", "key", key, "err", err)
		return
	}
	s.read++
	s.lines += countLines(lines)
	err = stage.Decode(lines, func(r stage.Record) error {
		if s.sampled >= s.budget {
			return errEnough
		}
		s.sampled++
		if r.ValueIsJSON {
			s.infer(key, r)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		s.log.Warn("crawl object corrupt", "stage", "crawl", "key", key, "err", err)
	}
}

func (s *sampler) infer(key string, r stage.Record) {
	dec := json.NewDecoder(bytes.NewReader(r.Value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		s.log.Warn("crawl value undecodable", "stage", "crawl", "key", key, "offset", r.Offset, "err", err)
		return
	}
	if _, ok := v.(map[string]any); !ok {
		return // only objects have columns
	}
	merged, conflict := schema.Merge(s.value, schema.Infer(v))
	if conflict {
		s.log.Debug("crawl type conflict widened to string", "key", key, "offset", r.Offset)
	}
	s.value = merged
}

// countLines counts the non-empty lines of an object.
func countLines(b []byte) int {
	n := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

// foldFields makes struct field names unique case-insensitively, as DuckDB
// requires: a field whose name differs from an earlier one only in case is
// merged into it. Fields with empty names are dropped.
func foldFields(t *schema.Type) *schema.Type {
	switch t.Kind {
	case schema.List:
		if e := foldFields(t.Elem); e != t.Elem {
			return &schema.Type{Kind: schema.List, Elem: e}
		}
		return t
	case schema.Struct:
	default:
		return t
	}
	fields := make([]schema.Field, 0, len(t.Fields))
	index := map[string]int{}
	changed := false
	for _, f := range t.Fields {
		ft := foldFields(f.Type)
		changed = changed || ft != f.Type
		if f.Name == "" {
			changed = true
			continue
		}
		fold := strings.ToLower(f.Name)
		if i, ok := index[fold]; ok {
			fields[i].Type, _ = schema.Merge(fields[i].Type, ft)
			changed = true
			continue
		}
		index[fold] = len(fields)
		fields = append(fields, schema.Field{Name: f.Name, Type: ft})
	}
	if !changed {
		return t
	}
	return &schema.Type{Kind: schema.Struct, Fields: fields}
}

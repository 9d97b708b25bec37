// Package crawl is streamlake's crawler (the Glue crawler stage): it
// classifies stored objects, infers their schema and registers them as
// external tables in the catalog.
//
// Staging registers the staging area as one JSON table per Kafka topic in a
// database (default "raw"). The schema of the record value is inferred from
// a sample of envelopes, newest objects first; everything else about a
// table (envelope columns, partition keys dt/hr/p from the object names,
// format, compression, statistics) follows from the staging format.
//
// Contract:
//   - A crawl only writes the catalog: it never modifies, moves or deletes
//     objects. Re-crawling replaces each topic's table definition (the
//     schema can widen or narrow with the sample); tables of topics that
//     have disappeared are left in place.
//   - Keys that are not staging objects are reported as unclassified, never
//     registered.
//   - A staging object that cannot be read or decoded is logged and left
//     out of the sample; the crawl continues. Errors listing the bucket or
//     writing the catalog end the crawl and name the operation and object.
//   - The value schema is a sample: a value that does not fit it reads as
//     NULL in queries (see package query).
//
// Staging holds no state between calls and is safe for concurrent use with
// distinct databases.
//
// Run is the Glue-style crawler of any files under an include path
// (classify, then layout group them into tables): it diffs the tables it
// finds against the tables it wrote before (property crawler = its name)
// and applies the diff under its policies:
//   - new tables are created with their partitions; a table of the same
//     name that another writer owns is left alone and reported;
//   - a changed schema (columns or partition keys, by name and type) makes
//     a new table version (on-change update; the catalog keeps the old
//     ones) or is only reported (on-change log: table and partitions are
//     left as they were);
//   - partitions are added, removed and updated (location, statistics) to
//     match the folders; they store values, location and statistics only,
//     never columns: every partition is read with the table's schema, so a
//     query cannot meet a partition/table schema mismatch;
//   - tables whose files are all gone are deprecated (still queryable by
//     name; files back undeprecate them), deleted, or only reported
//     (on-delete deprecate, delete, log);
//   - recrawl everything lists every file and reads only new or changed
//     ones (size and mtime against the state of the last run); recrawl
//     new-folders reads only files in folders the last run did not see.
//
// The crawler's state (fingerprints and classifications) and the report of
// every run are files under RunOptions.Dir; a dry run computes the report
// and its catalog diff and writes neither catalog nor state. A failed run
// keeps the previous state, so the next run redoes its work; every catalog
// write is idempotent. Two runs of one crawler must not overlap (the
// caller serialises them); runs of different crawlers may.
package crawl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/stage"
)

// Registrar is where crawled tables and their partitions go;
// *catalog.Store implements it.
type Registrar interface {
	PutTable(ctx context.Context, t catalog.Table) error
	GetPartitions(ctx context.Context, database, table, filter string) ([]catalog.Partition, error)
	BatchCreatePartitions(ctx context.Context, database, table string, parts []catalog.Partition) error
	UpdatePartition(ctx context.Context, database, table string, values []string, p catalog.Partition) error
	DeletePartitions(ctx context.Context, database, table string, values [][]string) error
}

// Options configure a crawl. The zero value is usable.
type Options struct {
	// Database receives the tables; "" is "raw".
	Database string
	// SampleSize is how many envelopes per topic are read to infer the
	// value schema; 0 (or less) is DefaultSampleSize.
	SampleSize int
	// Logger receives progress and problems. Nil discards.
	Logger *slog.Logger
}

// DefaultSampleSize is the sample size of Options{}.
const DefaultSampleSize = 1000

// Report is what a crawl did.
type Report struct {
	// Tables are the registered tables, database.name, sorted.
	Tables []string
	// Objects is how many staging objects were found.
	Objects int
	// Unclassified are keys that are not staging objects, and the prefixes
	// ("topic/") of topics skipped because an earlier topic (in sorted
	// order) has the same table name, sorted.
	Unclassified []string
}

// object is a staging object found by listing.
type object struct {
	key  string
	size int64
}

// Staging crawls the staging area in bucket and registers one external JSON
// table per topic in cat. location is where the bucket's objects are: on
// disk (a local directory or file:// URL, the bucket's root) or in object
// storage (s3://bucket/prefix); each table's Location is the topic's
// directory under it.
func Staging(ctx context.Context, bucket *blob.Bucket, location string, cat Registrar, opts Options) (Report, error) {
	if opts.Database == "" {
		opts.Database = "raw"
	}
	if opts.SampleSize <= 0 {
		opts.SampleSize = DefaultSampleSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if location == "" {
		return Report{}, errors.New("crawl staging: empty location")
	}
	if !strings.Contains(location, "://") {
		abs, err := filepath.Abs(location)
		if err != nil {
			return Report{}, fmt.Errorf("crawl staging: location %s: %w", location, err)
		}
		location = abs
	}
	start := time.Now()

	topics, unclassified, err := list(ctx, bucket)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Unclassified: unclassified}
	names := map[string]string{} // table name -> topic
	for _, topic := range sortedKeys(topics) {
		objs := topics[topic]
		rep.Objects += len(objs)
		name := catalog.TableName(topic)
		if other, ok := names[name]; ok {
			log.Warn("crawl topic skipped: table name taken", "stage", "crawl", "topic", topic, "table", opts.Database+"."+name, "by_topic", other)
			rep.Unclassified = append(rep.Unclassified, stage.TopicPrefix(topic))
			continue
		}
		names[name] = topic
		t, err := topicTable(ctx, bucket, topic, objs, opts.SampleSize, log)
		if err != nil {
			return rep, err
		}
		t.Database, t.Name = opts.Database, name
		t.Location = joinLocation(location, topic)
		if err := cat.PutTable(ctx, t); err != nil {
			return rep, fmt.Errorf("crawl staging: register %s.%s: %w", t.Database, t.Name, err)
		}
		added, removed, err := syncPartitions(ctx, cat, t, stagingPartitions(t.Location, objs))
		if err != nil {
			return rep, fmt.Errorf("crawl staging: partitions of %s.%s: %w", t.Database, t.Name, err)
		}
		log.Info("crawl table registered", "table", t.Database+"."+t.Name, "topic", topic,
			"objects", len(objs), "records", t.Properties[PropRecordCount], "exact", t.Properties[PropRecordCountExact],
			"partitions_added", added, "partitions_removed", removed)
		rep.Tables = append(rep.Tables, t.Database+"."+t.Name)
	}
	slices.Sort(rep.Unclassified)
	log.Info("crawl done", "tables", len(rep.Tables), "objects", rep.Objects,
		"unclassified", len(rep.Unclassified), "elapsed", time.Since(start))
	return rep, nil
}

// list returns the staging objects of bucket by topic, and the other keys.
func list(ctx context.Context, bucket *blob.Bucket) (map[string][]object, []string, error) {
	topics := map[string][]object{}
	var other []string
	listed, err := sblob.ListAll(ctx, bucket, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("crawl staging: list objects: %w", err)
	}
	for _, obj := range listed {
		if obj.IsDir {
			continue
		}
		o, ok := stage.ParseName(obj.Key)
		if !ok || !validPartition(obj.Key) {
			other = append(other, obj.Key)
			continue
		}
		topics[o.Topic] = append(topics[o.Topic], object{key: obj.Key, size: obj.Size})
	}
	return topics, other, nil
}

// validPartition checks the dt= and hr= parts of a staging object name,
// which queries read as a DATE and an INTEGER.
func validPartition(key string) bool {
	parts := strings.Split(key, "/")
	if len(parts) < 3 {
		return false
	}
	if _, err := time.Parse(time.DateOnly, strings.TrimPrefix(parts[1], "dt=")); err != nil {
		return false
	}
	hr, err := strconv.Atoi(strings.TrimPrefix(parts[2], "hr="))
	return err == nil && hr >= 0 && hr < 24
}

// stagingPartitions are the dt/hr/p partitions of a topic's objects under
// its table's location, with their object counts and sizes.
func stagingPartitions(location string, objs []object) []catalog.Partition {
	var parts []catalog.Partition
	index := map[string]int{}
	for _, o := range objs {
		segs := strings.Split(o.key, "/") // topic/dt=D/hr=H/p=P/name
		dir := strings.Join(segs[1:4], "/")
		i, ok := index[dir]
		if !ok {
			hr, _ := strconv.Atoi(strings.TrimPrefix(segs[2], "hr="))
			p, _ := strconv.Atoi(strings.TrimPrefix(segs[3], "p="))
			i = len(parts)
			index[dir] = i
			parts = append(parts, catalog.Partition{
				Values:   []string{strings.TrimPrefix(segs[1], "dt="), strconv.Itoa(hr), strconv.Itoa(p)},
				Location: joinLocation(location, dir),
			})
		}
		parts[i].Stats.ObjectCount++
		parts[i].Stats.SizeBytes += o.size
	}
	return parts
}

// syncPartitions makes t's partitions in cat those of want: new ones are
// created, those whose statistics changed updated, those whose objects are
// all gone (staging retention) removed. Several run processes crawl the
// same staging area: a change another crawl made first (a partition that
// now exists, or no longer does) makes it read the partitions again and
// retry.
func syncPartitions(ctx context.Context, cat Registrar, t catalog.Table, want []catalog.Partition) (added, removed int, err error) {
	for range 3 {
		added, removed, err = syncPartitionsOnce(ctx, cat, t, want)
		if !errors.Is(err, catalog.ErrAlreadyExists) && !errors.Is(err, catalog.ErrNoSuchPartition) {
			break
		}
	}
	return added, removed, err
}

func syncPartitionsOnce(ctx context.Context, cat Registrar, t catalog.Table, want []catalog.Partition) (added, removed int, err error) {
	have, err := cat.GetPartitions(ctx, t.Database, t.Name, "")
	if err != nil {
		return 0, 0, err
	}
	key := func(values []string) string { return strings.Join(values, "/") }
	old := make(map[string]catalog.Partition, len(have))
	for _, p := range have {
		old[key(p.Values)] = p
	}
	var create []catalog.Partition
	for _, p := range want {
		o, ok := old[key(p.Values)]
		delete(old, key(p.Values))
		switch {
		case !ok:
			create = append(create, p)
		case o.Location != p.Location || o.Stats.ObjectCount != p.Stats.ObjectCount || o.Stats.SizeBytes != p.Stats.SizeBytes:
			if err := cat.UpdatePartition(ctx, t.Database, t.Name, p.Values, p); err != nil {
				return 0, 0, err
			}
		}
	}
	if len(create) > 0 {
		if err := cat.BatchCreatePartitions(ctx, t.Database, t.Name, create); err != nil {
			return 0, 0, err
		}
	}
	if len(old) > 0 {
		gone := make([][]string, 0, len(old))
		for _, p := range old {
			gone = append(gone, p.Values)
		}
		if err := cat.DeletePartitions(ctx, t.Database, t.Name, gone); err != nil {
			return 0, 0, err
		}
	}
	return len(create), len(old), nil
}

// joinLocation appends a topic directory to a path or URL.
func joinLocation(location, topic string) string {
	if !strings.Contains(location, "://") {
		return filepath.Join(location, topic)
	}
	return strings.TrimSuffix(location, "/") + "/" + topic
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}

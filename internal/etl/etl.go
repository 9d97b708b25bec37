// Package etl turns staging objects into Apache Iceberg tables, one per
// topic, plus a dead-letter table per topic for records that cannot be
// loaded.
//
// Exactly once: every commit stores, in its Iceberg snapshot summary, the
// staging objects it covers (key and size) and a per-partition bookmark: the
// next Kafka offset not yet in that table. A record is appended to a table
// only if its offset is at or past the table's bookmark, and the bookmark
// advances only in the same atomic commit as the rows. So re-reading an
// object (after a crash, or when ingest rewrote it with a longer range)
// never adds a row twice. The dead-letter table is committed before the
// main table, so a crash between the two commits loses nothing: the
// re-read skips the dead letters by the dead-letter table's own bookmark.
//
// An ETL is used by one goroutine at a time: the caller schedules RunOnce
// (cmd/streamlake runs it every etl.interval) and Pending between runs.
package etl

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/schema"
	"github.com/streamlake/streamlake/internal/stage"
)

// Snapshot summary keys written by every commit.
const (
	SummaryOffsets = "streamlake.offsets"         // {"<topic>/<partition>": next offset}
	SummaryObjects = "streamlake.staging-objects" // ["<key>:<size>", ...]
	// SummaryMainExists marks a dead-letter commit made while the main
	// table existed (see loadTopic).
	SummaryMainExists = "streamlake.main-table-exists"
)

// DLQSuffix names a table's dead-letter table: lake.<table>_dlq.
const DLQSuffix = "_dlq"

// Config configures an ETL.
type Config struct {
	Database  string // Iceberg namespace, e.g. "lake"
	TimeField string // event-time field; tables are partitioned by day of it
	// OnTypeMismatch is what happens to a value that does not fit its
	// column: PolicyDLQ (default) or PolicyCoerceToString. It applies to
	// topics that Tables does not name.
	OnTypeMismatch string
	// Tables are the configured tables (the tables: section), compiled.
	// A topic feeds the tables that name it, each record going to the
	// first whose match it meets; a topic no table names feeds one table
	// with the foundation's defaults (named after the topic, day(ts)).
	Tables []*tables.Table
	// MaxCommitRecords bounds the records read into one commit.
	MaxCommitRecords int
	// MaxColumns bounds a table's fields, nested ones included
	// (DefaultMaxColumns when 0): a record whose new fields would pass it
	// is a dead letter, so that keys that are data (ids, timestamps as
	// field names) cannot grow a table without end.
	MaxColumns int
	// StagingRetention, when positive, deletes staging objects older than
	// this once a lake commit covers them. Objects not yet in the lake are
	// never deleted.
	StagingRetention time.Duration
	// Handoff, when set, holds the lines of objects an ingester in this
	// process just staged; read takes them from there instead of
	// decompressing (see stage.Handoff).
	Handoff *stage.Handoff
	// Values, when set, decodes values in Schema Registry's wire format
	// (a zero byte and a schema id) into JSON objects; without it they
	// are dead letters.
	Values  ValueDecoder
	Logger  *slog.Logger
	Metrics *Metrics

	noFastPath bool // tests: every record through the general path
}

// ValueDecoder decodes a record value in Schema Registry's wire format
// into a JSON object (registry.Decoder). A value it cannot decode has a
// reason, which makes it a dead letter; err is for a registry that cannot
// be asked now, which fails the load until it can.
type ValueDecoder interface {
	Decode(ctx context.Context, value []byte) (json []byte, reason string, err error)
}

// ETL loads staging objects into the lake.
type ETL struct {
	cfg      Config
	staging  *blob.Bucket
	cat      icecat.Catalog
	log      *slog.Logger
	m        *Metrics
	fastRows int64 // rows committed through the columnar fast path
	// done maps staging keys already covered by a commit to their size.
	done     map[string]int64
	seeded   map[string]bool          // topics whose committed objects are in done
	defaults map[string]*tables.Table // compiled default tables, by topic
	hints    map[string]fastHint      // the last fast batch's size, by table
	// partial holds the lines of the object the commit that creates a
	// table read in part, for the next pass, which reads it again (the
	// handoff gives lines up on the first read).
	partial partialLines
}

// DefaultMaxCommitRecords is Config.MaxCommitRecords when unset.
const DefaultMaxCommitRecords = 250_000

// DefaultMaxColumns is Config.MaxColumns when unset.
const DefaultMaxColumns = 2000

// New returns an ETL reading staging and writing tables through cat.
func New(cfg Config, staging *blob.Bucket, cat icecat.Catalog) *ETL {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.MaxCommitRecords <= 0 {
		cfg.MaxCommitRecords = DefaultMaxCommitRecords
	}
	if cfg.MaxColumns <= 0 {
		cfg.MaxColumns = DefaultMaxColumns
	}
	return &ETL{cfg: cfg, staging: staging, cat: cat, log: cfg.Logger, m: cfg.Metrics,
		done: map[string]int64{}, seeded: map[string]bool{}, defaults: map[string]*tables.Table{}, hints: map[string]fastHint{}}
}

// Result counts what a run did.
type Result struct {
	Objects, Rows, DeadLetters, Commits int
}

// Pending returns how many staging objects are not yet covered by a commit.
func (e *ETL) Pending(ctx context.Context) (int, error) {
	objs, err := e.pending(ctx)
	return len(objs), err
}

type object struct {
	stage.Object
	size int64
}

func (e *ETL) pending(ctx context.Context) ([]object, error) {
	var out []object
	var expired []string
	listed, err := sblob.ListAll(ctx, e.staging, nil)
	if err != nil {
		return nil, fmt.Errorf("etl: list staging: %w", err)
	}
	for _, a := range listed {
		o, ok := stage.ParseName(a.Key)
		if !ok {
			continue
		}
		if !e.seeded[o.Topic] {
			if err := e.seed(ctx, o.Topic); err != nil {
				return nil, err
			}
		}
		if size, ok := e.done[a.Key]; ok && size == a.Size {
			if e.cfg.StagingRetention > 0 && time.Since(a.ModTime) > e.cfg.StagingRetention {
				expired = append(expired, a.Key)
			}
			continue
		}
		out = append(out, object{o, a.Size})
	}
	e.expire(ctx, expired)
	return out, nil
}

// expire deletes staging objects that are in the lake and past retention.
// A failure is logged and retried on the next run.
func (e *ETL) expire(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := e.staging.Delete(ctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			e.log.Warn("staging retention: delete failed", "stage", "etl", "object", k, "err", err)
			continue
		}
		delete(e.done, k)
		e.m.expired.Inc()
	}
}

// seed marks the objects that the topic's table histories already cover:
// those every table the topic feeds lists in a commit (a table that has
// not committed them would otherwise never see their records; rereading
// an object costs time, never a duplicate).
func (e *ETL) seed(ctx context.Context, topic string) error {
	var common map[string]int64
	for _, t := range e.targets(topic) {
		tbl, err := e.load(ctx, t.Name())
		if err != nil {
			return err
		}
		covered := map[string]int64{}
		if tbl != nil {
			for _, s := range tbl.Metadata().Snapshots() {
				if s.Summary == nil {
					continue
				}
				var objs []string
				if v, ok := s.Summary.Properties[SummaryObjects]; ok && json.Unmarshal([]byte(v), &objs) == nil {
					for _, o := range objs {
						if i := strings.LastIndexByte(o, ':'); i > 0 {
							var size int64
							fmt.Sscan(o[i+1:], &size)
							covered[o[:i]] = size
						}
					}
				}
			}
		}
		if common == nil {
			common = covered
			continue
		}
		maps.DeleteFunc(common, func(k string, size int64) bool { s, ok := covered[k]; return !ok || s != size })
	}
	maps.Copy(e.done, common)
	e.seeded[topic] = true
	return nil
}

// targets are the tables a topic feeds, in config order.
func (e *ETL) targets(topic string) []*tables.Table {
	var out []*tables.Table
	for _, t := range e.cfg.Tables {
		if t.Topic() == topic {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	return []*tables.Table{e.defaultTable(topic)}
}

// defaultTable is the table of a topic no configured table names: the
// foundation's defaults and etl's type-mismatch policy. Compiled once.
func (e *ETL) defaultTable(topic string) *tables.Table {
	if t, ok := e.defaults[topic]; ok {
		return t
	}
	spec := tables.Default(topic, e.cfg.TimeField)
	spec.OnTypeMismatch = cmp.Or(e.cfg.OnTypeMismatch, PolicyDLQ)
	t, err := tables.Compile(spec)
	if err != nil {
		// The default spec of any topic compiles; a failure is a bug.
		panic(fmt.Sprintf("etl: default table for topic %q: %v", topic, err))
	}
	e.defaults[topic] = t
	return t
}

// table returns the configured or default table named name.
func (e *ETL) table(name string) *tables.Table {
	for _, t := range e.cfg.Tables {
		if t.Name() == name {
			return t
		}
	}
	return e.defaultTable(name) // a topic named like its table
}

// load returns the table, or nil if it does not exist.
func (e *ETL) load(ctx context.Context, name string) (*table.Table, error) {
	tbl, err := e.cat.LoadTable(ctx, table.Identifier{e.cfg.Database, name})
	if errors.Is(err, icecat.ErrNoSuchTable) || errors.Is(err, icecat.ErrNoSuchNamespace) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("etl: load table %s.%s: %w", e.cfg.Database, name, err)
	}
	if tbl.Properties()[table.CommitNumRetriesKey] != "0" {
		// A table from an older streamlake: switch off iceberg-go's
		// rebasing retries (see tableProps) before appending to it.
		tx := tbl.NewTransaction()
		if err := tx.SetProperties(iceberg.Properties{table.CommitNumRetriesKey: "0"}); err != nil {
			return nil, fmt.Errorf("etl: table %s.%s: %w", e.cfg.Database, name, err)
		}
		if tbl, err = tx.Commit(ctx); err != nil {
			return nil, fmt.Errorf("etl: table %s.%s: set %s: %w", e.cfg.Database, name, table.CommitNumRetriesKey, err)
		}
	}
	return tbl, nil
}

// RunOnce commits every pending staging object.
func (e *ETL) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	objs, err := e.pending(ctx)
	if err != nil {
		return res, err
	}
	byTopic := map[string][]object{}
	for _, o := range objs {
		byTopic[o.Topic] = append(byTopic[o.Topic], o)
	}
	topics := make([]string, 0, len(byTopic))
	for t := range byTopic {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, t := range topics {
		r, err := e.loadTopicRetrying(ctx, t, byTopic[t])
		res.Objects += r.Objects
		res.Rows += r.Rows
		res.DeadLetters += r.DeadLetters
		res.Commits += r.Commits
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// loadTopicRetrying loads a topic's objects, starting over when another
// writer committed to the table first: the reload re-reads the bookmarks,
// so what the other writer committed is skipped, not appended twice.
func (e *ETL) loadTopicRetrying(ctx context.Context, topic string, objs []object) (Result, error) {
	var total Result
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		r, err := e.loadTopic(ctx, topic, objs)
		total.Objects += r.Objects
		total.Rows += r.Rows
		total.DeadLetters += r.DeadLetters
		total.Commits += r.Commits
		if err == nil || !isCommitConflict(err) || attempt == 8 {
			return total, err
		}
		e.m.conflicts.Inc()
		e.log.Info("another writer committed first; reloading and retrying", "topic", topic, "attempt", attempt, "err", err)
		// Objects a partial run already committed are now in done.
		objs = slices.DeleteFunc(objs, func(o object) bool { size, ok := e.done[o.Key]; return ok && size == o.size })
		select {
		case <-ctx.Done():
			return total, err
		case <-time.After(backoff + rand.N(backoff)):
		}
		backoff *= 2
	}
}

// isCommitConflict reports an optimistic-concurrency failure: the table
// changed between load and commit.
func isCommitConflict(err error) bool {
	return errors.Is(err, table.ErrCommitFailed) || strings.Contains(err.Error(), "requirement failed")
}

// mainExisted reports whether the main table existed when dlq, its
// dead-letter table, last committed dead letters (the newest snapshot
// with a bookmark, as bookmark finds it).
func mainExisted(dlq *table.Table) bool {
	s := bookmarked(dlq)
	return s != nil && s.Summary.Properties[SummaryMainExists] == "true"
}

// bookmarked is tbl's newest snapshot, walking back from the current one,
// whose summary holds a bookmark; nil if none (or tbl is nil).
func bookmarked(tbl *table.Table) *table.Snapshot {
	if tbl == nil {
		return nil
	}
	meta := tbl.Metadata()
	for s := tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if _, ok := s.Summary.Properties[SummaryOffsets]; ok {
				return s
			}
		}
		if s.ParentSnapshotID == nil {
			return nil
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return nil
}

// bookmark reads a table's per-partition next offsets: those of the
// newest snapshot, walking back from the current one, whose summary holds
// them (commits that move no records — compaction, replays — carry none,
// so a stale copy can never move the bookmark back), advanced by the table
// property of the same name, which a commit of dead letters alone moves
// (see commit).
func bookmark(tbl *table.Table) map[string]int64 {
	bm := map[string]int64{}
	if tbl == nil {
		return bm
	}
	if s := bookmarked(tbl); s != nil {
		_ = json.Unmarshal([]byte(s.Summary.Properties[SummaryOffsets]), &bm)
	}
	if v, ok := tbl.Properties()[SummaryOffsets]; ok {
		var prop map[string]int64
		_ = json.Unmarshal([]byte(v), &prop)
		for k, o := range prop {
			bm[k] = max(bm[k], o)
		}
	}
	return bm
}

func tpKey(topic string, partition int32) string { return fmt.Sprintf("%s/%d", topic, partition) }

// target is one table a topic feeds, while its objects load.
type target struct {
	spec          *tables.Table
	main, dlq     *table.Table
	mainBM, dlqBM map[string]int64
	b             *batch
}

func (e *ETL) loadTopic(ctx context.Context, topic string, objs []object) (Result, error) {
	var res Result
	defer e.partial.release()
	var targets []*target
	for _, t := range e.targets(topic) {
		tg := &target{spec: t}
		var err error
		if tg.main, err = e.load(ctx, t.Name()); err != nil {
			return res, err
		}
		if tg.dlq, err = e.load(ctx, t.Name()+DLQSuffix); err != nil {
			return res, err
		}
		tg.mainBM, tg.dlqBM = bookmark(tg.main), bookmark(tg.dlq)
		if tg.main == nil && !mainExisted(tg.dlq) {
			// A batch with rows creates the table before its dead letters
			// commit, so when the table did not exist at the dead-letter
			// table's last commit, every record it covers was a dead
			// letter: none is for the main table. When it did, the table
			// was dropped since: every staged record that is not a dead
			// letter loads into it again.
			tg.mainBM = maps.Clone(tg.dlqBM)
		}
		targets = append(targets, tg)
	}
	slices.SortFunc(objs, func(a, b object) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.FirstOffset, b.FirstOffset))
	})
	fastPath := len(targets) == 1 && !e.cfg.noFastPath
	for len(objs) > 0 {
		for _, tg := range targets {
			tg.b = newBatch(tg.spec, tg.main)
			if fastPath {
				tg.b.fast = newFastBatch(tg.spec, tg.main)
				tg.b.fast.reserve(e.hints[tg.spec.Name()])
			}
		}
		// The commit that creates the table holds its first createRecords
		// records, so that the rest of a backlog loads through the fast
		// path, which needs the table. An object read in part is not
		// covered by the commit: the next pass reads it again, and the
		// bookmark skips what the commit holds.
		limit := 0
		if fastPath && targets[0].main == nil {
			limit = createRecords
		}
		n, records := 0, 0
		for n < len(objs) && (n == 0 || limit == 0 && records < e.cfg.MaxCommitRecords) {
			c, complete, err := e.read(ctx, objs[n], targets, limit)
			if err != nil {
				return res, err
			}
			records += c
			if !complete {
				break
			}
			n++
		}
		chunk := objs[:n]
		objs = objs[n:]
		for _, tg := range targets {
			if fastPath {
				e.hints[tg.spec.Name()] = tg.b.fast.hint()
			}
			c, err := e.commit(ctx, tg.spec.Name(), tg.b, chunk, &tg.main, &tg.dlq, tg.mainBM, tg.dlqBM)
			res.Rows += c.Rows
			res.DeadLetters += c.DeadLetters
			res.Commits += c.Commits
			if err != nil {
				return res, err
			}
		}
		res.Objects += n
		for _, o := range chunk {
			e.done[o.Key] = o.size
		}
		e.m.objects.Add(float64(n))
	}
	return res, nil
}

// createRecords is how many records the commit that creates a table
// holds (see loadTopic).
const createRecords = 1000

// errEnough stops read's walk over an object at its limit.
var errEnough = errors.New("etl: read limit reached")

// read decodes one staging object and routes each record that a table
// does not hold yet: a value that is not a JSON object to the first
// table's dead letters; an object to the first table whose match it meets
// (or, matching none, to the first table's dead letters), transformed,
// as a row or, when a transform, its event time or lateness rejects it,
// as a dead letter. It advances every table's running bookmarks and
// returns the records read. With a positive limit it stops after routing
// that many records and reports whether it read the whole object.
func (e *ETL) read(ctx context.Context, o object, targets []*target, limit int) (int, bool, error) {
	data, err := readObject(ctx, e.staging, o.Key)
	if err != nil {
		return 0, false, fmt.Errorf("etl: read staging object %s: %w", o.Key, err)
	}
	defer objectBufs.Put(&data) // neither the decompressed lines nor the handoff's alias it
	// eachLine walks the object's lines: in place from the handoff, where
	// the lines live in pooled chunks the ingester will reuse (so a line
	// the general path keeps is copied first), or from the decompressed
	// object.
	var eachLine func(func([]byte) error) error
	owned := true // lines outlive read: the general path may keep them
	complete := true
	buf, ok := e.partial.take(o.Key, data)
	if !ok {
		if buf, ok = e.cfg.Handoff.Take(o.Key, data); ok {
			e.m.handoffObjects.Inc()
		}
	}
	if ok {
		defer func() {
			if complete {
				buf.Release()
			} else {
				e.partial.keep(o.Key, data, buf)
			}
		}()
		eachLine, owned = buf.Lines, false
	} else {
		lines, err := stage.Decompress(data)
		if err != nil {
			return 0, false, fmt.Errorf("etl: staging object %s: %w", o.Key, err)
		}
		e.m.decompressedObjects.Inc()
		eachLine = func(fn func([]byte) error) error { return stage.Lines(lines, fn) }
	}
	specs := make([]*tables.Table, len(targets))
	for i, tg := range targets {
		specs[i] = tg.spec
	}
	home := targets[0]
	fast := home.b.fast
	if len(targets) > 1 {
		fast = nil
	}
	now := time.Now()
	n, routed := 0, 0
	var kp int32 = -1 // the partition of k
	var k string
	var scan stage.LineScanner
	// The fast path keeps k's bookmarks in locals (two map reads and two
	// writes per record were 5% of the ETL's read) and stores them before
	// anything else reads the maps: the general path, a new partition, the
	// end of the object.
	var mbm, dbm int64
	var bmLoaded, bmDirty bool
	storeBM := func() {
		if bmDirty {
			home.mainBM[k], home.dlqBM[k] = mbm, dbm
			bmDirty = false
		}
		bmLoaded = false
	}
	defer storeBM()
	err = eachLine(func(line []byte) error {
		n++
		if limit > 0 && routed == limit {
			return errEnough
		}
		if fast != nil {
			// The columnar fast path takes a record neither table holds.
			if h, value, ok := scan.Scan(line, o.Topic); ok {
				if h.Partition != kp || !bmLoaded {
					storeBM()
					kp, k = h.Partition, tpKey(o.Topic, h.Partition)
					mbm, dbm, bmLoaded = home.mainBM[k], home.dlqBM[k], true
				}
				if h.Offset < mbm && h.Offset < dbm {
					return nil // loaded already
				}
				if h.Offset >= mbm && h.Offset >= dbm && fast.add(value, h.Timestamp, now) {
					mbm, dbm, bmDirty = h.Offset+1, h.Offset+1, true
					routed++
					return nil
				}
			}
		}
		storeBM() // the general path reads and moves the maps
		if !owned {
			line = bytes.Clone(line)
		}
		r, err := stage.DecodeLine(line)
		if err != nil {
			return err
		}
		switch {
		case r.Topic != o.Topic:
			kp, k = -1, tpKey(r.Topic, r.Partition)
		case r.Partition != kp:
			kp, k = r.Partition, tpKey(r.Topic, r.Partition)
		}
		var reason string
		if r.Offset >= home.mainBM[k] || r.Offset >= home.dlqBM[k] {
			routed++
			// Only a record a table takes is decoded: one loaded before
			// needs no registry.
			if r, reason, err = e.decodeWire(ctx, r); err != nil {
				return err
			}
		}
		route(r, reason, k, specs, targets, home, now)
		for _, tg := range targets {
			tg.mainBM[k] = max(tg.mainBM[k], r.Offset+1)
			tg.dlqBM[k] = max(tg.dlqBM[k], r.Offset+1)
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		complete = false
		return n - 1, false, nil
	}
	if err != nil {
		return n, false, fmt.Errorf("etl: staging object %s: %w", o.Key, err)
	}
	return n, true, nil
}

// partialLines keeps the lines of one object read in part, while the
// stored bytes are the ones they were taken for.
type partialLines struct {
	key string
	sum uint64 // maphash of the compressed object
	buf stage.Buffer
}

var partialSeed = maphash.MakeSeed()

// keep holds buf, the lines of obj stored under key, releasing any lines
// held before.
func (p *partialLines) keep(key string, obj []byte, buf stage.Buffer) {
	p.release()
	p.key, p.sum, p.buf = key, maphash.Bytes(partialSeed, obj), buf
}

// take returns the lines held if they are those of obj stored under key;
// any other lines held are released.
func (p *partialLines) take(key string, obj []byte) (stage.Buffer, bool) {
	if p.key == "" {
		return stage.Buffer{}, false
	}
	if p.key != key || maphash.Bytes(partialSeed, obj) != p.sum {
		p.release()
		return stage.Buffer{}, false
	}
	buf := p.buf
	*p = partialLines{}
	return buf, true
}

// release gives the lines held, if any, back to the buffer pool.
func (p *partialLines) release() {
	p.buf.Release()
	*p = partialLines{}
}

// objectBufs recycles the buffers compressed staging objects are read
// into.
var objectBufs = sync.Pool{New: func() any { return new([]byte) }}

// readObject reads a whole object into a buffer from objectBufs, sized
// once from the object's attributes (Bucket.ReadAll grows a slice from
// nothing, copying as it goes).
func readObject(ctx context.Context, b *blob.Bucket, key string) ([]byte, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := *objectBufs.Get().(*[]byte)
	size := int(r.Size())
	if cap(buf) < size+1 {
		buf = make([]byte, size+1)
	}
	// One byte more than the size: a short read is an error, and a read
	// that fills it means the object is longer than it said.
	n, err := io.ReadFull(r, buf[:size+1])
	switch {
	case (err == io.ErrUnexpectedEOF || err == io.EOF) && n == size:
		return buf[:n], nil
	case err == nil:
		return nil, fmt.Errorf("object longer than its size %d", size)
	default:
		return nil, err
	}
}

// unrouted is the dead-letter reason of a record no table's match takes.
func unrouted(topic string) string { return "matches no table configured for topic " + topic }

// decodeWire decodes r's value if it is in Schema Registry's wire format
// and the ETL has a ValueDecoder: r with a JSON value, or a reason it
// cannot be decoded.
func (e *ETL) decodeWire(ctx context.Context, r stage.Record) (stage.Record, string, error) {
	if e.cfg.Values == nil || r.ValueIsJSON || len(r.Value) < 5 || r.Value[0] != 0 {
		return r, "", nil
	}
	v, reason, err := e.cfg.Values.Decode(ctx, r.Value)
	if err != nil || reason != "" {
		return r, reason, err
	}
	r.Value, r.ValueIsJSON = v, true
	return r, "", nil
}

// route adds one record to the batch of the table it goes to. A reason
// makes it a dead letter of the first table (decodeWire's).
func route(r stage.Record, reason, k string, specs []*tables.Table, targets []*target, home *target, now time.Time) {
	var v schema.Object
	if reason == "" {
		v, reason = decodeObject(r)
	}
	if reason != "" {
		if r.Offset >= home.dlqBM[k] {
			home.b.addDead(r, "decode", reason)
		}
		return
	}
	t := tables.Select(specs, r.Topic, v)
	if t == nil {
		if r.Offset >= home.dlqBM[k] {
			home.b.addDead(r, "route", unrouted(r.Topic))
		}
		return
	}
	tg := targets[slices.Index(specs, t)]
	if r.Offset < tg.mainBM[k] && r.Offset < tg.dlqBM[k] {
		return
	}
	row, et, why := t.Prepare(v, r.Timestamp, now)
	if why != "" {
		if r.Offset >= tg.dlqBM[k] {
			tg.b.addDead(r, "transform", why)
		}
		return
	}
	if r.Offset >= tg.mainBM[k] {
		tg.b.addRow(r, row, et, r.Offset >= tg.dlqBM[k])
	}
}

// batch holds the decoded rows and dead letters of one table's commit.
type batch struct {
	spec      *tables.Table
	timeField string
	policy    string // PolicyDLQ or PolicyCoerceToString
	rows      []row
	dead      []deadLetter
	inferred  *schema.Type
	cols      []iceberg.NestedField // the lake table's columns when the batch began
	tsParsed  int
	// fast holds the rows of the columnar fast path (nil when the table
	// cannot take it); rows holds the others.
	fast *fastBatch
}

// fastRows is the number of rows the fast path took.
func (b *batch) fastRows() int {
	if b.fast == nil {
		return 0
	}
	return b.fast.n
}

type row struct {
	rec   stage.Record
	value schema.Object
	event time.Time // the record's event time
	// dlq: the dead-letter table does not hold this record yet, so it
	// may go there if it does not fit its columns.
	dlq bool
}

// newBatch returns an empty batch for the rows of table t, whose lake
// table main (nil before it exists) they go to.
func newBatch(t *tables.Table, main *table.Table) *batch {
	policy := PolicyDLQ
	if t.CoerceToString() {
		policy = PolicyCoerceToString
	}
	b := &batch{spec: t, timeField: t.Spec().TimeField, policy: policy, inferred: &schema.Type{Kind: schema.Struct}}
	if main != nil {
		b.cols = main.Schema().Fields()
		if seed := mapSeed(b.cols); seed != nil {
			b.inferred = seed
		}
	}
	return b
}

// addDead adds a dead letter, its value scrubbed of the fields the table
// hashes, masks or drops, so no personal data reaches the lake that way.
func (b *batch) addDead(r stage.Record, stage, reason string) {
	if r.Value != nil {
		r.Value = b.spec.Scrub(r.Value)
	}
	b.dead = append(b.dead, deadLetter{rec: r, stage: stage, reason: reason})
}

func (b *batch) addRow(r stage.Record, v schema.Object, event time.Time, dlq bool) {
	if len(b.rows) == cap(b.rows) {
		// Double: append grows large slices by a quarter, and rows are
		// big, so a batch of 250,000 would be copied some 20 times.
		b.rows = slices.Grow(b.rows, max(len(b.rows), 1024))
	}
	b.rows = append(b.rows, row{rec: r, value: v, event: event, dlq: dlq})
	// A row whose types conflict with the batch's so far does not widen
	// them to string: the first shape wins, and the row goes to the
	// dead-letter table (or its value to a text column) when it fails the
	// column check. Its new fields still become columns.
	if !schema.Fits(v, b.inferred) { // most rows share a shape: skip inference
		// An object column with very many keys becomes a map as soon as it
		// shows them (mapMaxFields), so that merging a batch of map-like
		// objects does not grow a struct by every key.
		b.inferred = schema.MergeFirst(b.inferred, schema.InferFirst(v))
		if hasWide(b.inferred) {
			b.inferred = inferMaps(b.inferred, b.cols, nil, b.mapRules(nil))
		}
	}
	if s, ok := v.Get(b.timeField).(string); ok {
		if _, ok := schema.ParseTimestamp(s); ok {
			b.tsParsed++
		}
	}
}

// decodeObject parses a record value that must be a JSON object.
func decodeObject(r stage.Record) (schema.Object, string) {
	switch {
	case r.Value == nil:
		return nil, "value is empty (tombstone)"
	case !r.ValueIsJSON && len(r.Value) >= 5 && r.Value[0] == 0:
		// Confluent's wire format: magic byte 0, a 4-byte schema id, then
		// Avro, Protobuf or JSON Schema encoded bytes.
		return nil, fmt.Sprintf("value is not valid JSON: it is in Schema Registry's wire format (schema id %d); "+
			"set kafka.schema_registry to decode Avro, Protobuf and JSON Schema values", binary.BigEndian.Uint32(r.Value[1:5]))
	case !r.ValueIsJSON:
		return nil, "value is not valid JSON"
	}
	v, err := schema.Parse(r.Value)
	if err != nil {
		return nil, "value is not valid JSON: " + err.Error()
	}
	m, ok := v.(schema.Object)
	if !ok {
		return nil, fmt.Sprintf("value is a JSON %s, not an object", jsonKind(v))
	}
	if path, ok := emptyKey(m); ok {
		return nil, "field $" + path + "[\"\"] has an empty name, which a column cannot have"
	}
	return m, ""
}

// emptyKey returns the JSON path below v (".a.b[2]") of the first object,
// at any depth, that has a member named "", and whether there is one. The
// path is built only when there is.
func emptyKey(v any) (string, bool) {
	switch v := v.(type) {
	case schema.Object:
		for _, m := range v {
			if m.Key == "" {
				return "", true
			}
			if p, ok := emptyKey(m.Value); ok {
				return "." + m.Key + p, true
			}
		}
	case []any:
		for i, e := range v {
			if p, ok := emptyKey(e); ok {
				return "[" + strconv.Itoa(i) + "]" + p, true
			}
		}
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "value"
}

// tableSchema is the inferred row type, fields in the order the records
// first showed them, with the time field forced to a timestamp when its
// values parse as one, and object columns that cols (the table's columns;
// nil before it exists) lack typed as maps where their rows show maps or
// the table's maps setting names them (inferMaps).
func (b *batch) tableSchema(cols []iceberg.NestedField) *schema.Type {
	t := inferMaps(b.inferred, cols, nil, b.mapRules(rowStats(b.rows)))
	if b.tsParsed == 0 {
		return t
	}
	fields := slices.Clone(t.Fields)
	for i, f := range fields {
		if f.Name == b.timeField && f.Type.Kind == schema.String {
			fields[i].Type = schema.Of(schema.Timestamp)
		}
	}
	return &schema.Type{Kind: schema.Struct, Fields: fields}
}

// Package ingest consumes Kafka topics with a consumer group and writes
// staging objects.
//
// Delivery contract: never drops, may redo work, never duplicates in the
// lake. Records are batched per topic-partition; a batch becomes one staging
// object whose name is a pure function of topic, partition and first offset
// (see package stage), so redoing a batch overwrites the same object. A
// partition's offset is committed only after the object covering it is
// durable in the bucket. On a revoke, unflushed batches are abandoned
// (uncommitted), and the next owner starts where the last durable object
// ended. Downstream, the ETL skips offsets it already committed, so an
// object rewritten with a longer range after a crash adds no duplicates.
//
// An Ingester runs one poll loop (Run); Lag and Idle are safe to call
// concurrently with it.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"

	"github.com/streamlake/streamlake/internal/stage"
)

// Config configures an Ingester.
type Config struct {
	Brokers []string
	// Topics to consume; empty means every topic whose name does not start
	// with "_" (a regex subscription that picks up new topics).
	Topics []string
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a crashed process) before giving its partitions away.
	SessionTimeout time.Duration
	// InstanceID, when set, makes this a static group member: a process
	// restarted with the same ID (after a crash) takes its partitions back
	// at once instead of waiting for a rebalance.
	InstanceID    string
	Group         string
	Start         string // earliest or latest
	FlushRecords  int
	FlushBytes    int
	FlushInterval time.Duration
	// MemoryBudget bounds the envelope bytes held in open and sealed
	// batches across all partitions (0: 64 MiB). Past it, the largest
	// batches are flushed early, mid-fetch if need be; fetches are sized to
	// a sixteenth of it. While uploads are slow, polling waits for them, so
	// fetching pauses instead of buffering. See SoftMemoryLimit for the
	// process as a whole.
	MemoryBudget int
	// LagInterval is how often the consumer lag gauge is refreshed and a
	// stall checked for (0: 5s).
	LagInterval time.Duration
	// StallAfter: lag that grows while no staging object has been written
	// for this long is logged as an error (0: 1m).
	StallAfter time.Duration
	// Handoff, when set, receives the lines of every object staged, for an
	// ETL in the same process (see stage.Handoff).
	Handoff *stage.Handoff
	// ClientOpts are extra franz-go options, e.g. TLS and SASL.
	ClientOpts []kgo.Opt
	Logger     *slog.Logger
	Metrics    *Metrics
}

// Ingester moves records from Kafka to staging objects.
type Ingester struct {
	cfg    Config
	bucket *blob.Bucket
	log    *slog.Logger
	m      *Metrics
	client *kgo.Client
	adm    *kadm.Client

	mu      sync.Mutex
	batches map[tp]*batch
	enc     encoder // used under mu

	lastWrite atomic.Int64 // unix nanoseconds of the last staging object written
	// lastSeen is the Kafka timestamp of the newest record fetched per
	// partition, for the time lag; guarded by mu.
	lastSeen map[tp]time.Time
	missing  map[string]bool // configured topics found missing and logged; guarded by mu
}

type tp struct {
	topic     string
	partition int32
}

type batch struct {
	first, last *kgo.Record
	records     int
	buf         stage.Buffer
	startedAt   time.Time
}

// allTopics subscribes to every topic not starting with "_" (internal topics).
const allTopics = `^[^_].*`

// newTopicDiscovery is how often a consumer of every topic (no topics
// configured) refreshes the cluster's metadata, where it finds topics
// created after it started. kgo's default, like Kafka's
// metadata.max.age.ms, is five minutes: a new topic's records waited that
// long before they were consumed (TestNewTopicIsConsumed).
const newTopicDiscovery = 5 * time.Second

// New connects a consumer-group client. It does not consume until Run.
func New(cfg Config, bucket *blob.Bucket) (*Ingester, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	in := &Ingester{cfg: cfg, bucket: bucket, log: cfg.Logger, m: cfg.Metrics, batches: map[tp]*batch{}, lastSeen: map[tp]time.Time{}}
	in.lastWrite.Store(time.Now().UnixNano())
	reset := kgo.NewOffset().AtStart()
	if cfg.Start == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers come through so that the committed offset
		// can pass them: otherwise a log ending in a marker would show a
		// lag of one forever.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(reset),
		kgo.OnPartitionsRevoked(in.onRevoked),
		kgo.OnPartitionsLost(in.onRevoked),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.FetchMaxBytes(int32(min(in.budget()/16, 50<<20))),
		kgo.SessionTimeout(cmp.Or(cfg.SessionTimeout, 45*time.Second)),
		// Revocation only abandons buffers, so a rebalance need not wait
		// longer for a member than its session allows.
		kgo.RebalanceTimeout(cmp.Or(cfg.SessionTimeout, 45*time.Second)),
		kgo.MetadataMinAge(time.Second),
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	if len(cfg.Topics) == 0 {
		opts = append(opts, kgo.MetadataMaxAge(newTopicDiscovery))
	}
	opts = append(opts, cfg.ClientOpts...)
	if len(cfg.Topics) == 0 {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(allTopics))
	} else {
		opts = append(opts, kgo.ConsumeTopics(cfg.Topics...))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("ingest: kafka client: %w", err)
	}
	in.client = cl
	in.adm = kadm.NewClient(cl)
	return in, nil
}

// Ping checks that the brokers answer within ctx.
func (in *Ingester) Ping(ctx context.Context) error {
	if err := in.client.Ping(ctx); err != nil {
		return fmt.Errorf("kafka brokers %s unreachable: %w", strings.Join(in.cfg.Brokers, ","), err)
	}
	return nil
}

// onRevoked abandons unflushed batches of partitions this member lost: they
// were never committed, so the next owner re-reads them.
func (in *Ingester) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for topic, parts := range revoked {
		for _, p := range parts {
			if b := in.batches[tp{topic, p}]; b != nil && b.records > 0 {
				in.log.Info("partition revoked, abandoning unflushed batch",
					"topic", topic, "partition", p, "first_offset", b.first.Offset, "records", b.records)
			}
			delete(in.batches, tp{topic, p})
		}
	}
	in.m.rebalances.Inc()
}

// Run consumes until ctx is done, then flushes and commits what it holds
// (within a 30 s grace period) and leaves the group.
func (in *Ingester) Run(ctx context.Context) error {
	defer in.client.Close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go in.watchLag(watchCtx)
	for {
		if ctx.Err() != nil {
			return in.shutdown()
		}
		pollCtx, cancel := context.WithTimeout(ctx, in.pollWait())
		fetches := in.client.PollRecords(pollCtx, 10_000)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				in.log.Warn("fetch error", "stage", "ingest", "topic", t, "partition", p, "err", err)
			}
		})
		if err := in.process(ctx, fetches); err != nil {
			in.client.AllowRebalance()
			if ctx.Err() != nil {
				return in.shutdown()
			}
			return err
		}
		in.client.AllowRebalance()
	}
}

func (in *Ingester) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in.mu.Lock()
	var due []*batch
	for k, b := range in.batches {
		if b.records > 0 {
			due = append(due, b)
			delete(in.batches, k)
		}
	}
	in.mu.Unlock()
	if err := in.flush(ctx, due, nil); err != nil {
		return fmt.Errorf("ingest: final flush: %w", err)
	}
	return nil
}

// pollWait is how long a poll may block: until the oldest batch is due.
func (in *Ingester) pollWait() time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	wait := in.cfg.FlushInterval
	now := time.Now()
	for _, b := range in.batches {
		if d := b.startedAt.Add(in.cfg.FlushInterval).Sub(now); d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	return wait
}

// process appends fetched records to their partitions' batches, sealing a
// batch as soon as it reaches the record or byte limit, then flushes the
// sealed batches and those older than the flush interval.
//
// Memory: open batches plus sealed ones not yet flushed stay within the
// budget. When they exceed it, the largest open batches are sealed; once
// half the budget is sealed it is flushed before the next record, even in
// the middle of a fetch.
func (in *Ingester) process(ctx context.Context, fetches kgo.Fetches) error {
	var parts []kgo.FetchTopicPartition
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) > 0 {
			parts = append(parts, fp)
		}
	})
	var due []*batch
	var markers []*kgo.Record // transaction markers outside any batch
	in.mu.Lock()
	open, sealed := 0, 0 // bytes in open batches, in due
	for _, b := range in.batches {
		open += b.buf.Len()
	}
	// cur is the open batch of the partition being read, looked up once per
	// partition rather than per record, and again after anything that may
	// have sealed it.
	var cur *batch
	curOK := false
	seal := func(k tp, b *batch) {
		due = append(due, b)
		delete(in.batches, k)
		open -= b.buf.Len()
		sealed += b.buf.Len()
		curOK = false
	}
	for _, fp := range parts {
		var size, n int
		k := tp{fp.Topic, fp.Partition}
		curOK = false
		for _, r := range fp.Records {
			if !curOK {
				cur, curOK = in.batches[k], true
			}
			b := cur
			if r.Attrs.IsControl() {
				// Not data: an open batch's commit covers it; with no open
				// batch everything before it is durable or flushed below.
				if b != nil {
					b.last = r
				} else {
					markers = append(markers, r)
				}
				continue
			}
			n++
			size += len(r.Value) + len(r.Key)
			if b == nil {
				b = &batch{first: r, startedAt: time.Now()}
				in.batches[k] = b
				cur = b
			}
			b.last = r
			b.records++
			line := in.enc.Append(b.buf.Free(), r)
			b.buf.Commit(line)
			open += len(line)
			if b.records >= in.cfg.FlushRecords || b.buf.Len() >= in.cfg.FlushBytes {
				seal(k, b)
			}
			if open+sealed > in.budget() {
				lbs := in.largest(open + sealed - in.budget()/2)
				for _, lb := range lbs {
					seal(tp{lb.first.Topic, lb.first.Partition}, lb)
				}
				in.m.budgetFlushes.Add(float64(len(lbs)))
			}
			if sealed >= in.budget()/2 {
				in.m.buffered.Set(float64(open + sealed))
				in.mu.Unlock()
				err := in.flush(ctx, due, markers)
				in.mu.Lock()
				curOK = false // other goroutines may have sealed it meanwhile
				if err != nil {
					in.mu.Unlock()
					return err
				}
				due, markers, sealed = nil, nil, 0
			}
		}
		last := fp.Records[len(fp.Records)-1]
		in.lastSeen[tp{last.Topic, last.Partition}] = last.Timestamp
		in.m.records.WithLabelValues(fp.Topic).Add(float64(n))
		in.m.bytes.WithLabelValues(fp.Topic).Add(float64(size))
	}
	now := time.Now()
	for k, b := range in.batches {
		if now.Sub(b.startedAt) >= in.cfg.FlushInterval {
			seal(k, b)
		}
	}
	in.m.buffered.Set(float64(open + sealed))
	in.mu.Unlock()
	return in.flush(ctx, due, markers)
}

func (in *Ingester) budget() int { return cmp.Or(in.cfg.MemoryBudget, 64<<20) }

// SoftMemoryLimit is the Go runtime memory limit (debug.SetMemoryLimit)
// that keeps a process ingesting with the given budget near three times
// it: the budget, the fetched records being encoded, and the garbage
// collector's headroom. Without a limit the collector lets the heap grow
// to twice its live size; with it, a 64 MiB budget stays under 256 MiB of
// RSS with 64 busy partitions (TestMemoryBounded64Partitions).
func SoftMemoryLimit(budget int) int64 { return 3 * int64(cmp.Or(budget, 64<<20)) }

// largest returns open batches, largest first, holding at least free
// bytes (or all of them). Called with mu held.
func (in *Ingester) largest(free int) []*batch {
	open := make([]*batch, 0, len(in.batches))
	for _, b := range in.batches {
		open = append(open, b)
	}
	slices.SortFunc(open, func(a, b *batch) int { return b.buf.Len() - a.buf.Len() })
	for i, b := range open {
		if free <= 0 {
			return open[:i]
		}
		free -= b.buf.Len()
	}
	return open
}

// compressed holds the output buffers of uploads in flight.
var compressed = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encoder turns kgo records into envelope lines, reusing its scratch record.
type encoder struct {
	rec stage.Record
	enc stage.Encoder
}

func (e *encoder) Append(dst []byte, r *kgo.Record) []byte {
	e.rec = stage.Record{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Timestamp: r.Timestamp, Key: r.Key, Value: r.Value, Headers: e.rec.Headers[:0],
	}
	for _, h := range r.Headers {
		e.rec.Headers = append(e.rec.Headers, stage.Header{Key: h.Key, Value: h.Value})
	}
	return e.enc.Append(dst, &e.rec)
}

// flush uploads sealed batches in parallel, then commits, per partition, the
// offset after the last record of its batches (or after a later transaction
// marker), in one request. Nothing is committed unless every upload
// succeeded.
func (in *Ingester) flush(ctx context.Context, batches []*batch, markers []*kgo.Record) error {
	if len(batches) == 0 && len(markers) == 0 {
		return nil
	}
	// Batches of one partition are written in offset order, one after the
	// other: an object becomes visible only after every earlier object of
	// its partition, so the ETL never sees a later range before an earlier
	// one (which its offset bookmark would then skip). Partitions upload
	// in parallel.
	byPartition := map[tp][]*batch{}
	for _, b := range batches {
		k := tp{b.first.Topic, b.first.Partition}
		byPartition[k] = append(byPartition[k], b)
	}
	defer func() {
		for _, b := range batches {
			b.buf.Release()
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, seq := range byPartition {
		g.Go(func() error {
			for _, b := range seq {
				if err := in.upload(gctx, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	commitAfter := func(r *kgo.Record) {
		if offsets[r.Topic] == nil {
			offsets[r.Topic] = map[int32]kgo.EpochOffset{}
		}
		if cur, ok := offsets[r.Topic][r.Partition]; !ok || r.Offset+1 > cur.Offset {
			offsets[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		}
	}
	for _, b := range batches {
		commitAfter(b.last)
	}
	for _, r := range markers {
		commitAfter(r)
	}
	var commitErr error
	in.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && commitErr == nil {
					commitErr = fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, e)
				}
			}
		}
	})
	if commitErr != nil {
		// The objects are durable; a redo after restart rewrites them under
		// the same names and the ETL skips offsets it holds, so no loss and
		// no duplicate: surface it and go on.
		in.log.Warn("offset commit failed; records will be re-read", "stage", "ingest", "group", in.cfg.Group, "err", commitErr)
		in.m.commitErrors.Inc()
	}
	return nil
}

// upload writes one batch as a staging object, retrying with backoff until
// it succeeds or ctx is done.
func (in *Ingester) upload(ctx context.Context, b *batch) error {
	name := stage.ObjectName(b.first.Topic, b.first.Partition, b.first.Offset, b.first.Timestamp)
	out := compressed.Get().(*bytes.Buffer)
	defer compressed.Put(out)
	out.Reset()
	if err := stage.CompressBuffer(out, &b.buf); err != nil {
		return fmt.Errorf("ingest: upload %s: %w", name, err)
	}
	data := out.Bytes()
	start := time.Now()
	// The lines go to the handoff before the object is written, so an ETL
	// that lists the object finds them there. Put may wait for the ETL to
	// take older entries: that wait is ingest's backpressure, and it comes
	// before the object exists. Were the object written first, an ETL
	// could list it while Put still waited for room, miss, and decompress
	// it from storage, and the lines Put at last would sit unused.
	in.cfg.Handoff.Put(ctx, name, data, &b.buf) // takes the chunks (flush's Release is then a no-op)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := in.write(ctx, name, data)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			in.cfg.Handoff.Drop(name)
			return fmt.Errorf("ingest: upload %s: %w", name, ctx.Err())
		}
		in.m.uploadRetries.Inc()
		in.log.Warn("staging upload failed; retrying", "stage", "ingest", "object", name, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			in.cfg.Handoff.Drop(name)
			return fmt.Errorf("ingest: upload %s: %w", name, ctx.Err())
		case <-time.After(backoff + rand.N(backoff/2)):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	in.lastWrite.Store(time.Now().UnixNano())
	in.m.objects.WithLabelValues(b.first.Topic).Inc()
	in.m.objectBytes.WithLabelValues(b.first.Topic).Add(float64(len(data)))
	in.m.flushSeconds.Observe(time.Since(start).Seconds())
	in.log.Debug("staged", "object", name, "records", b.records, "bytes", len(data))
	return nil
}

// write stores one staging object. Unlike WriteAll it leaves checksums to
// the store (S3 checks its own; a file is renamed into place whole): WriteAll
// would hash every object once more with MD5.
func (in *Ingester) write(ctx context.Context, name string, data []byte) error {
	// Cancelling the writer's context is how gocloud aborts a write: a
	// failed one must leave no partial object behind.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := in.bucket.NewWriter(wctx, name, &blob.WriterOptions{ContentType: "application/x-ndjson"})
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		w.Close()
		return err
	}
	return w.Close()
}

// watchLag refreshes the lag gauge and reports a stall: lag growing while
// no staging object was written for StallAfter.
func (in *Ingester) watchLag(ctx context.Context) {
	every := cmp.Or(in.cfg.LagInterval, 5*time.Second)
	stallAfter := cmp.Or(in.cfg.StallAfter, time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	prev := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lag, err := in.Lag(ctx)
		if err != nil {
			if ctx.Err() == nil {
				in.log.Warn("consumer lag unavailable", "stage", "ingest", "group", in.cfg.Group, "err", err)
			}
			continue
		}
		idleFor := time.Since(time.Unix(0, in.lastWrite.Load()))
		if prev >= 0 && lag > prev && idleFor > stallAfter {
			in.m.stalls.Inc()
			in.log.Error("ingest stalled: lag is growing and no staging object was written",
				"stage", "ingest", "group", in.cfg.Group, "lag", lag, "previous_lag", prev, "since_last_object", idleFor.Round(time.Second))
		}
		prev = lag
	}
}

// Idle reports whether no records are held in memory.
func (in *Ingester) Idle() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.batches) == 0
}

// Lag returns the group's total consumer lag: for every partition of the
// consumed topics, the last stable offset minus the committed offset (or
// minus the log start when nothing is committed and start is earliest).
func (in *Ingester) Lag(ctx context.Context) (int64, error) {
	topics := in.cfg.Topics
	if len(topics) == 0 {
		td, err := in.adm.ListTopics(ctx)
		if err != nil {
			return 0, fmt.Errorf("ingest: lag: list topics: %w", err)
		}
		for _, t := range td.Names() {
			if !strings.HasPrefix(t, "_") {
				topics = append(topics, t)
			}
		}
	}
	if len(topics) == 0 {
		return 0, nil
	}
	ends, err := in.adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("ingest: lag: end offsets: %w", err)
	}
	committed, err := in.adm.FetchOffsets(ctx, in.cfg.Group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		// A group that never joined (none of its topics exists yet, on
		// brokers that answer so) has committed nothing.
		committed, err = nil, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ingest: lag: committed offsets: %w", err)
	}
	hasCommit := func(o kadm.ListedOffset) bool {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		return ok && c.Err == nil && c.At >= 0
	}
	// Log start offsets matter only for partitions the group never
	// committed; in the steady state this request is skipped.
	var starts kadm.ListedOffsets
	needStarts := false
	ends.Each(func(o kadm.ListedOffset) { needStarts = needStarts || (o.Err == nil && !hasCommit(o)) })
	if needStarts && in.cfg.Start != "latest" {
		if starts, err = in.adm.ListStartOffsets(ctx, topics...); err != nil {
			return 0, fmt.Errorf("ingest: lag: start offsets: %w", err)
		}
	}
	var total int64
	var lerr error
	ends.Each(func(o kadm.ListedOffset) {
		if errors.Is(o.Err, kerr.UnknownTopicOrPartition) && o.Partition < 0 {
			// A configured topic that does not exist has nothing to
			// consume: say so once, and consume it once it is created.
			in.warnMissing(o.Topic)
			return
		}
		if o.Err != nil {
			if lerr == nil {
				lerr = fmt.Errorf("ingest: lag: %s[%d]: %w", o.Topic, o.Partition, o.Err)
			}
			return
		}
		from := int64(-1)
		if c, _ := committed.Lookup(o.Topic, o.Partition); hasCommit(o) {
			from = c.At
		} else if in.cfg.Start == "latest" {
			from = o.Offset
		} else if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			from = s.Offset
		}
		lag := max(o.Offset-from, 0)
		part := fmt.Sprint(o.Partition)
		in.m.lag.WithLabelValues(o.Topic, part).Set(float64(lag))
		// Time lag: how old the oldest unconsumed record is at most — the
		// age of the newest record fetched, while records remain behind it.
		age := 0.0
		if lag > 0 {
			in.mu.Lock()
			seen, ok := in.lastSeen[tp{o.Topic, o.Partition}]
			in.mu.Unlock()
			if ok {
				age = max(time.Since(seen).Seconds(), 0)
			}
		}
		in.m.timeLag.WithLabelValues(o.Topic, part).Set(age)
		total += lag
	})
	return total, lerr
}

// warnMissing logs, once per topic, that a configured topic does not exist.
func (in *Ingester) warnMissing(topic string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.missing[topic] {
		return
	}
	if in.missing == nil {
		in.missing = map[string]bool{}
	}
	in.missing[topic] = true
	in.log.Warn("topic does not exist; it is consumed once it is created (lag counts it as empty)", "stage", "ingest", "topic", topic)
}

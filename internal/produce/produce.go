// Package produce writes records to a Kafka topic: synthetic datasets
// (sensors, orders) or the lines of a file, at an optional rate.
//
// Contract:
//   - Every synthetic record is one JSON object with a unique string "id"
//     (a random per-run prefix plus a sequence number, so ids are unique
//     across runs too) and "ts", an RFC 3339 UTC timestamp with exactly
//     milliseconds within the 48 hours before the run started. Field values
//     are deterministic given Config.Seed; ids and timestamps also depend on
//     the run. The record key is its id.
//   - File replay sends each non-empty line verbatim (non-JSON included),
//     keyed by its top-level string "id" when it has one.
//   - Run returns only after every record it sent was acknowledged or
//     failed; Summary.Records counts acknowledged records. The producer is
//     idempotent, so broker-side retries do not duplicate records.
//   - Run first checks the brokers answer, and fails within about
//     PingTimeout with an error naming them if they do not.
//   - When ctx is done, Run stops sending, waits up to DrainTimeout for the
//     records already sent, and returns an error wrapping ctx's error.
//   - Errors name the operation; Config.Validate errors name the flag.
//
// Run may be called concurrently with different Configs.
package produce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// PingTimeout bounds the initial reachability check of the brokers.
	PingTimeout = 10 * time.Second
	// DrainTimeout bounds how long Run waits for in-flight records after
	// ctx is done.
	DrainTimeout = 10 * time.Second
)

// Config says what to produce where. Field comments name the CLI flags
// that Validate's errors refer to.
type Config struct {
	Brokers []string // --brokers: seed broker host:port addresses
	Topic   string   // --topic
	// Dataset is sensors or orders (--dataset). Exactly one of Dataset and
	// File must be set.
	Dataset string
	// File is a .jsonl file to replay, one record per line (--file).
	File string
	// Records is how many records to send (--records). It must be > 0 for
	// a dataset; with File, 0 means the whole file and N > 0 the first N
	// records of it.
	Records int
	// Rate caps records per second (--rate); 0 is unlimited.
	Rate float64
	// Seed seeds the synthetic field values (--seed).
	Seed int64
	// ValueFormat is FormatJSON ("" too), FormatAvro or FormatProtobuf
	// (--value-format): a dataset's records as Avro or Protobuf in Schema
	// Registry's wire format, with the dataset's schema registered under
	// <topic>-value in Registry.
	ValueFormat string
	// Registry is the schema registry's URL (--registry), for FormatAvro
	// and FormatProtobuf.
	Registry string
	// Progress, when it is a terminal, shows a progress bar.
	Progress io.Writer
	// Logger receives progress logs and the Kafka client's warnings; nil
	// discards them.
	Logger *slog.Logger
	// ClientOpts are extra franz-go options, e.g. TLS and SASL.
	ClientOpts []kgo.Opt
}

// Validate reports the first problem with cfg as one line naming the flag.
func (cfg Config) Validate() error {
	if len(cfg.Brokers) == 0 {
		return errors.New("--brokers: at least one broker address is required")
	}
	for _, b := range cfg.Brokers {
		if strings.TrimSpace(b) == "" {
			return errors.New("--brokers: empty broker address")
		}
	}
	if err := validateTopic(cfg.Topic); err != nil {
		return err
	}
	switch {
	case cfg.File != "" && cfg.Dataset != "":
		return errors.New("--file and --dataset are mutually exclusive")
	case cfg.File == "" && cfg.Dataset == "":
		return fmt.Errorf("--dataset: required (one of %s) unless --file is given", strings.Join(datasets, ", "))
	case cfg.File == "":
		if err := datasetError(cfg.Dataset); err != nil {
			return err
		}
		if cfg.Records <= 0 {
			return errors.New("--records: must be > 0")
		}
	case cfg.Records < 0:
		return errors.New("--records: must be >= 0 with --file (0 = whole file)")
	}
	switch cfg.ValueFormat {
	case "", FormatJSON:
	case FormatAvro, FormatProtobuf:
		if cfg.File != "" {
			return fmt.Errorf("--value-format %s: needs --dataset (a --file's records are sent as they are)", cfg.ValueFormat)
		}
		if cfg.Registry == "" {
			return fmt.Errorf("--registry: required with --value-format %s (or kafka.schema_registry / kafka.registry_listen in the config)", cfg.ValueFormat)
		}
	default:
		return fmt.Errorf("--value-format: %q is not json, avro or protobuf", cfg.ValueFormat)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return fmt.Errorf("--rate: %v: must be a number >= 0 (0 = unlimited)", cfg.Rate)
	}
	return nil
}

func datasetError(name string) error {
	for _, d := range datasets {
		if name == d {
			return nil
		}
	}
	return fmt.Errorf("--dataset: %q is not one of %s", name, strings.Join(datasets, ", "))
}

func validateTopic(t string) error {
	switch {
	case t == "":
		return errors.New("--topic: required")
	case t == "." || t == "..":
		return fmt.Errorf("--topic: %q is not a valid topic name", t)
	case len(t) > 249:
		return fmt.Errorf("--topic: %d characters, at most 249 allowed", len(t))
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("--topic: %q: only letters, digits, '.', '_' and '-' are allowed", t)
		}
	}
	return nil
}

// Summary is what a Run did.
type Summary struct {
	Topic   string
	Records int           // acknowledged records
	Bytes   int64         // value bytes of acknowledged records
	Elapsed time.Duration // from the first send to the last acknowledgement
	Errors  int           // records sent but not acknowledged
}

// String is one line for humans:
// produced 100000 records (19.5 MB) to sensors in 1.2s (83,000 rec/s).
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "produced %d records (%s) to %s in %s", s.Records, formatBytes(s.Bytes), s.Topic, formatElapsed(s.Elapsed))
	if secs := s.Elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, " (%s rec/s)", formatThousands(int64(math.Round(float64(s.Records)/secs))))
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, ", %d failed", s.Errors)
	}
	return b.String()
}

// Run produces cfg's records and waits for their acknowledgements. The
// Summary is valid even when err is not nil.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	sum := Summary{Topic: cfg.Topic}
	if err := cfg.Validate(); err != nil {
		return sum, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	src, total, closeSrc, err := openSource(cfg)
	if err != nil {
		return sum, err
	}
	defer closeSrc()
	switch cfg.ValueFormat {
	case FormatAvro:
		src, err = newAvroSource(ctx, src, cfg.Dataset, cfg.Topic, cfg.Registry)
	case FormatProtobuf:
		src, err = newProtoSource(ctx, src, cfg.Dataset, cfg.Topic, cfg.Registry)
	}
	if err != nil {
		return sum, err
	}
	cl, err := newClient(cfg, log)
	if err != nil {
		return sum, err
	}
	closeClient := sync.OnceFunc(cl.Close)
	defer closeClient()

	if err := ping(ctx, cl, cfg.Brokers); err != nil {
		return sum, err
	}
	from := cfg.Dataset
	if cfg.File != "" {
		from = cfg.File
	}
	log.Info("producing", "topic", cfg.Topic, "source", from, "records", cfg.Records, "rate", cfg.Rate)

	p := &producer{cl: cl, closeClient: closeClient, topic: cfg.Topic, src: src, pace: newPacer(cfg.Rate, time.Now, sleepCtx)}
	stop := startProgress(cfg.Progress, cfg.Topic, total, &p.acked)
	err = p.run(ctx)
	stop()

	sum.Records = int(p.acked.Load())
	sum.Bytes = p.bytes.Load()
	sum.Elapsed = p.elapsed
	sum.Errors = p.sent - sum.Records
	log.Debug("produced", "topic", cfg.Topic, "records", sum.Records, "bytes", sum.Bytes, "elapsed", sum.Elapsed, "errors", sum.Errors)
	return sum, err
}

// openSource returns the record source of cfg, its record count for the
// progress bar (-1 if unknown) and a function that releases it.
func openSource(cfg Config) (src source, total int64, closeSrc func(), err error) {
	if cfg.File != "" {
		fs, err := openFile(cfg.File, cfg.Records)
		if err != nil {
			return nil, 0, nil, err
		}
		total = int64(cfg.Records)
		if total == 0 {
			total = -1
		}
		return fs, total, func() { fs.Close() }, nil
	}
	runID, err := newRunID()
	if err != nil {
		return nil, 0, nil, err
	}
	gen, err := NewGenerator(cfg.Dataset, cfg.Seed, runID, time.Now())
	if err != nil {
		return nil, 0, nil, err
	}
	return &genSource{gen: gen, left: cfg.Records}, int64(cfg.Records), func() {}, nil
}

func newClient(cfg Config, log *slog.Logger) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("streamlake-produce"),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.ProducerBatchCompression(kgo.ZstdCompression(), kgo.SnappyCompression(), kgo.NoCompression()),
		kgo.MaxBufferedRecords(50_000),
		// A broker that dies mid-run fails records instead of hanging Run.
		kgo.RecordDeliveryTimeout(2 * time.Minute),
		kgo.WithLogger(kgoLogger{log.With("component", "kafka-client")}),
	}, cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("produce: kafka client: %w", err)
	}
	return cl, nil
}

func ping(ctx context.Context, cl *kgo.Client, brokers []string) error {
	pctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	err := cl.Ping(pctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("produce: connect to brokers %s: %w", strings.Join(brokers, ","), context.Cause(ctx))
	}
	if pctx.Err() != nil {
		err = fmt.Errorf("no answer within %s: %w", PingTimeout, err)
	}
	return fmt.Errorf("produce: brokers %s unreachable: %w", strings.Join(brokers, ","), err)
}

type producer struct {
	cl          *kgo.Client
	closeClient func()
	topic       string
	src         source
	pace        *pacer

	sent    int
	elapsed time.Duration
	acked   atomic.Int64
	bytes   atomic.Int64

	mu       sync.Mutex
	firstErr error
}

func (p *producer) promise(r *kgo.Record, err error) {
	if err != nil {
		p.mu.Lock()
		if p.firstErr == nil {
			p.firstErr = err
		}
		p.mu.Unlock()
		return
	}
	p.acked.Add(1)
	p.bytes.Add(int64(len(r.Value)))
}

func (p *producer) run(ctx context.Context) error {
	// Records live in recCtx, which outlives ctx by up to DrainTimeout so
	// that a cancelled run still delivers what it already sent.
	recCtx, cancelRec := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRec()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		t := time.NewTimer(DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancelRec()
		case <-done:
		}
	}()

	promise := p.promise // one method value, not one per record
	start := time.Now()
	var srcErr error
	for ctx.Err() == nil {
		if p.pace.wait(ctx) != nil {
			break
		}
		value, key, err := p.src.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				srcErr = err
			}
			break
		}
		p.cl.Produce(recCtx, &kgo.Record{Topic: p.topic, Key: key, Value: value}, promise)
		p.sent++
	}
	flushErr := p.cl.Flush(recCtx)
	if flushErr != nil {
		// Drain deadline passed: fail what is left so every promise has
		// run before the counters are read.
		p.closeClient()
	}
	p.elapsed = time.Since(start)

	switch failed := p.sent - int(p.acked.Load()); {
	case srcErr != nil:
		return srcErr
	case ctx.Err() != nil:
		return fmt.Errorf("produce: interrupted after sending %d records: %w", p.sent, context.Cause(ctx))
	case failed > 0:
		p.mu.Lock()
		err := p.firstErr
		p.mu.Unlock()
		if err == nil {
			err = flushErr
		}
		return fmt.Errorf("produce: %d of %d records to %s failed: %w", failed, p.sent, p.topic, err)
	}
	return nil
}

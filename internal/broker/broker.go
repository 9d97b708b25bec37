// Package broker runs streamlake's embedded Kafka-compatible broker: one
// franz-go kfake node that real Kafka clients (franz-go, librdkafka/kcat,
// the Java client) talk to over the Kafka protocol.
//
// Contract:
//   - Start binds exactly Config.Listen (port 0 picks a free port) before it
//     returns, so Addr is immediately usable by clients. A bind failure is an
//     error naming the address, e.g. "broker: listen 127.0.0.1:9092: address
//     already in use".
//   - Topics are created on first use (a metadata request that allows
//     auto-creation, as every producer sends) with Config.Partitions
//     partitions, and the topic is on disk before the client hears of it.
//   - With Config.DataDir set, topics, records and consumer group offsets
//     are written to that directory as they change, and reloaded by the
//     next Start on the same directory (Close also saves producer-id state
//     and partition snapshots that make the reload fast). Records are written to the OS as they are
//     acknowledged (not fsynced per batch); Close writes the remaining state
//     and syncs. A process crash loses no acknowledged record; a machine
//     crash may lose the records not yet flushed by the OS. Only one Broker
//     may use a DataDir at a time: Start on a directory another Broker (in
//     this process or another) holds fails with an error naming the
//     holder's pid, wrapping dirlock.ErrHeld.
//   - Without DataDir everything is in memory and gone after Close.
//   - A Broker is safe for concurrent use; Close is idempotent.
//
// It is meant for one machine. Real deployments point clients at a real
// Kafka cluster instead.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamlake/streamlake/internal/dirlock"
)

// DefaultListen is the address used when Config.Listen is empty.
const DefaultListen = "127.0.0.1:0"

// Config configures the embedded broker. The zero value is an in-memory
// broker on a free loopback port with single-partition topics.
type Config struct {
	// Listen is host:port to bind, e.g. 127.0.0.1:9092. Port 0 picks a
	// free port; empty means DefaultListen. If the host is unspecified
	// (0.0.0.0, ::), the broker advertises the loopback address, so only
	// local clients can follow its metadata.
	Listen string
	// DataDir persists the broker's log and state; empty keeps everything
	// in memory. The directory is created if missing.
	DataDir string
	// Partitions is the partition count of auto-created topics; 0 means 1.
	Partitions int
	// Logger receives kfake's warnings and errors (its per-request logs at
	// debug level). Nil discards.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	dataDir string
	lock    *dirlock.Lock // of dataDir, released by Close
	log     *kfakeLogger

	closeOnce sync.Once
	closeErr  error
}

// Start binds the listener, loads DataDir if it holds state, and starts
// serving. The caller must Close the Broker (or Run it).
func Start(cfg Config) (*Broker, error) {
	listen := cfg.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, port, err := splitListen(listen)
	if err != nil {
		return nil, err
	}
	if cfg.Partitions < 0 {
		return nil, fmt.Errorf("broker: partitions %d: must be >= 0", cfg.Partitions)
	}
	parts := cfg.Partitions
	if parts == 0 {
		parts = 1
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var lock *dirlock.Lock
	if cfg.DataDir != "" {
		if lock, err = dirlock.Acquire(cfg.DataDir, "broker.lock"); err != nil {
			if errors.Is(err, dirlock.ErrHeld) {
				return nil, fmt.Errorf("broker: data dir %s is in use by another broker: %w", cfg.DataDir, err)
			}
			return nil, fmt.Errorf("broker: data dir %s: %w", cfg.DataDir, err)
		}
	}
	started := false
	defer func() {
		if !started {
			lock.Release()
		}
	}()

	// Bind ourselves, so the host is exactly the configured one (kfake
	// always asks for 127.0.0.1) and the error names the address.
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", listen, listenCause(err))
	}
	adv := advertised(ln)
	used := false
	listenFn := func(string, string) (net.Listener, error) {
		if used {
			return nil, errors.New("broker: kfake asked for a second listener")
		}
		used = true
		return adv, nil
	}

	logger = logger.With("component", "broker")
	klog := &kfakeLogger{l: logger}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(listenFn),
		// No kfake.AllowAutoTopicCreation: kfake's own auto-creation does
		// not write topics.json, so a crash would forget every
		// auto-created topic and orphan its data. autoCreate does it
		// through CreateTopic, which persists.
		kfake.DefaultNumPartitions(parts),
		kfake.ClusterID("streamlake"),
		kfake.WithLogger(klog),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		if cfg.DataDir != "" {
			return nil, fmt.Errorf("broker: start with data dir %s: %w", cfg.DataDir, err)
		}
		return nil, fmt.Errorf("broker: start: %w", err)
	}
	cluster.ControlKey(int16(kmsg.Metadata), autoCreate(cluster, int32(parts), logger))
	b := &Broker{
		cluster: cluster,
		addr:    adv.Addr().String(),
		dataDir: cfg.DataDir,
		lock:    lock,
		log:     klog,
	}
	started = true
	logger.Info("broker started", "addr", b.addr, "data_dir", cfg.DataDir, "partitions", parts)
	return b, nil
}

// Addr returns the host:port clients use as their seed broker.
func (b *Broker) Addr() string { return b.addr }

// Close stops accepting connections, writes the remaining state to DataDir
// and releases the port. In-flight requests fail; clients see their
// connections closed. It returns an error if persisting state failed.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.log.startCapture()
		b.cluster.Close()
		if msgs := b.log.stopCapture(); len(msgs) > 0 {
			errs := make([]error, len(msgs))
			for i, m := range msgs {
				errs[i] = errors.New(m)
			}
			b.closeErr = fmt.Errorf("broker: close %s: %w", b.dataDir, errors.Join(errs...))
		}
		b.lock.Release()
	})
	return b.closeErr
}

// Run serves until ctx is done, then closes the broker and returns the
// Close error (nil after a clean shutdown; a cancelled ctx is not an error).
func (b *Broker) Run(ctx context.Context) error {
	<-ctx.Done()
	return b.Close()
}

func splitListen(listen string) (host string, port int, err error) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("broker: listen %q: want host:port: %w", listen, err)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("broker: listen %q: port %q is not a number in 0-65535", listen, p)
	}
	return host, port, nil
}

// listenCause strips net.OpError and os.SyscallError so the message reads
// "address already in use" instead of repeating the address; errors.Is
// still matches the errno.
func listenCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		err = sys.Err
	}
	return err
}

// advertised wraps ln so that kfake, which advertises ln.Addr() in
// metadata, hands out a dialable address when bound to 0.0.0.0 or ::.
func advertised(ln net.Listener) net.Listener {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return ln
	}
	loop := net.IPv6loopback
	if tcp.IP.To4() != nil {
		loop = net.IPv4(127, 0, 0, 1)
	}
	return advListener{ln, &net.TCPAddr{IP: loop, Port: tcp.Port}}
}

type advListener struct {
	net.Listener
	addr net.Addr
}

func (l advListener) Addr() net.Addr { return l.addr }

// autoCreate returns a kfake control function for Metadata requests that
// creates the requested missing topics when the client allows
// auto-creation, as a Kafka broker with auto.create.topics.enable does, and
// then lets kfake answer the request. Control functions run while kfake's
// loop still serves admin calls, so CreateTopic may be called here.
func autoCreate(c *kfake.Cluster, parts int32, log *slog.Logger) func(kmsg.Request) (kmsg.Response, error, bool) {
	var refused sync.Map // topic -> struct{}: refusals logged at warn once
	return func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		m, ok := req.(*kmsg.MetadataRequest)
		if !ok || !m.AllowAutoTopicCreation {
			return nil, nil, false
		}
		for _, t := range m.Topics {
			if t.Topic == nil || *t.Topic == "" || t.TopicID != [16]byte{} {
				continue
			}
			err := c.CreateTopic(*t.Topic, parts, nil)
			switch {
			case err == nil:
				log.Info("topic created", "topic", *t.Topic, "partitions", parts)
			case errors.Is(err, kerr.InvalidTopicException):
				// The client only hears UNKNOWN_TOPIC_OR_PARTITION: say why,
				// once per topic.
				if _, seen := refused.LoadOrStore(*t.Topic, struct{}{}); !seen {
					log.Warn("topic not created: not a legal Kafka topic name, or one that collides with an existing topic ('.' and '_' count as the same)",
						"stage", "broker", "topic", *t.Topic, "err", err)
				}
			case !errors.Is(err, kerr.TopicAlreadyExists):
				// kfake answers the metadata request with the error.
				log.Debug("auto-create topic", "topic", *t.Topic, "err", err)
			}
		}
		return nil, nil, false
	}
}

package stage

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// DefaultHandoffBytes bounds a Handoff when NewHandoff is given 0.
const DefaultHandoffBytes = 128 << 20

// HandoffMaxAge is how long a Handoff keeps an entry no ETL has taken
// once it needs the room.
const HandoffMaxAge = time.Minute

// HandoffPatience is how long a full Handoff's Put waits for room after an
// ETL last took an entry.
const HandoffPatience = 5 * time.Second

// Handoff passes the envelope lines of staging objects from an ingester to
// an ETL in the same process, so the ETL need not decompress what was just
// compressed. It is a read-through shortcut, not a source of truth: the
// ETL still reads every object from storage and takes the lines from the
// Handoff only when the stored bytes are the very bytes Put was given (a
// hash of the compressed object), so an object rewritten under the same
// name by another process, or after a rebalance, is read from storage. On a
// miss the ETL decompresses as before.
//
// The lines held are bounded. When an object does not fit and an ETL is
// taking entries (one in the last HandoffPatience), Put waits for the room
// its next Take frees: an ingester catching up on a backlog then runs at
// most the Handoff's size ahead of the lake, as the ETL gates freshness
// anyway, instead of leaving the ETL to decompress every object past the
// bound (a fifth of the pipeline's CPU over a long backlog). A new Handoff
// counts as just taken from: it is made for an ETL, which then has
// HandoffPatience for its first Take (a process starting on a backlog
// fills the Handoff before its ETL's first load). With no ETL taking, or
// one stalled for HandoffPatience, ingest does not wait:
// entries older than HandoffMaxAge (objects no ETL here reads) are
// dropped, and if the object still does not fit it is refused, rather than
// the oldest dropped: an ETL that lags reads the oldest next, so dropping
// them would make every read a miss. A Handoff is safe for concurrent use.
type Handoff struct {
	seed maphash.Seed

	now      func() time.Time // time.Now; tests set it
	patience time.Duration    // HandoffPatience; tests set it

	mu       sync.Mutex
	max      int
	bytes    int
	order    []string // keys, oldest first (may hold keys already taken; Put prunes them)
	items    map[string]handoffItem
	lastTake time.Time     // when an entry was last taken
	taken    chan struct{} // closed (and replaced) by every Take and by Close
	closed   bool          // Close was called: Put no longer waits
	waiting  int           // Puts waiting for room
}

type handoffItem struct {
	hash uint64
	at   time.Time
	buf  Buffer
}

// NewHandoff returns a Handoff holding at most maxBytes of lines
// (0: DefaultHandoffBytes), counted as taken from now.
func NewHandoff(maxBytes int) *Handoff {
	if maxBytes <= 0 {
		maxBytes = DefaultHandoffBytes
	}
	return &Handoff{seed: maphash.MakeSeed(), now: time.Now, patience: HandoffPatience, max: maxBytes,
		items: map[string]handoffItem{}, taken: make(chan struct{}), lastTake: time.Now()}
}

// Put offers the lines of the object to be stored under key as the
// compressed bytes obj (before it is stored: see Ingester.upload), waiting
// for room while an ETL is taking entries (see Handoff) or until ctx is
// done. On success it takes buf's chunks (buf is left
// empty, and Release on it is a no-op); when the lines do not fit, buf is
// left as it was and Put reports false.
func (h *Handoff) Put(ctx context.Context, key string, obj []byte, buf *Buffer) bool {
	if h == nil || buf.Len() > h.max {
		return false
	}
	sum := maphash.Bytes(h.seed, obj)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(key) // a rewrite under the same name replaces the entry
	for h.bytes+buf.Len() > h.max && !h.lastTake.IsZero() && !h.closed {
		wait := h.patience - h.now().Sub(h.lastTake)
		if wait <= 0 {
			break
		}
		taken := h.taken
		h.waiting++
		h.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-taken:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		h.mu.Lock()
		h.waiting--
		if ctx.Err() != nil {
			return false
		}
	}
	now := h.now()
	for h.bytes+buf.Len() > h.max && len(h.order) > 0 {
		it, ok := h.items[h.order[0]]
		if ok && now.Sub(it.at) < HandoffMaxAge {
			return false
		}
		h.drop(h.order[0])
		h.order = h.order[1:]
	}
	if len(h.order) > 2*len(h.items)+64 { // drop the keys already taken
		h.order = slices.DeleteFunc(h.order, func(k string) bool { _, ok := h.items[k]; return !ok })
	}
	h.items[key] = handoffItem{hash: sum, at: now, buf: *buf}
	h.order = append(h.order, key)
	h.bytes += buf.Len()
	*buf = Buffer{}
	return true
}

// Waiting reports whether a Put is waiting for room: the ETL, not
// ingest, is what holds the pipeline back, and should load again without
// pausing.
func (h *Handoff) Waiting() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting > 0
}

// Close ends Put's waiting for good, waking any Put that waits: called
// when no ETL will take entries any more (a pipeline shutting down, whose
// ingester flushes what it holds before the last ETL run).
func (h *Handoff) Close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.taken)
	}
}

// Drop releases the entry of key, if any: the object Put was given was
// never stored.
func (h *Handoff) Drop(key string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(key)
}

// drop releases the entry of key, if any; h.mu is held.
func (h *Handoff) drop(key string) {
	if it, ok := h.items[key]; ok {
		h.bytes -= it.buf.Len()
		it.buf.Release()
		delete(h.items, key)
	}
}

// Take removes the entry of key and returns its lines if obj, the object
// as read from storage, is the object Put was given. The caller owns the
// returned Buffer and should Release it when done. A Take that does not
// match drops the entry.
func (h *Handoff) Take(key string, obj []byte) (Buffer, bool) {
	if h == nil {
		return Buffer{}, false
	}
	h.mu.Lock()
	it, ok := h.items[key]
	if ok {
		delete(h.items, key)
		h.bytes -= it.buf.Len()
		h.lastTake = h.now()
		if !h.closed {
			close(h.taken)
			h.taken = make(chan struct{})
		}
	}
	h.mu.Unlock()
	if !ok {
		return Buffer{}, false
	}
	if maphash.Bytes(h.seed, obj) != it.hash {
		it.buf.Release()
		return Buffer{}, false
	}
	return it.buf, true
}

// Bytes is the size of the lines held.
func (h *Handoff) Bytes() int {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bytes
}

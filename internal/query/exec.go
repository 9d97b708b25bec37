package query

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamlake/streamlake/internal/catalog"
)

// State is the state of an execution. QUEUED covers waiting for one of the
// workgroup's slots and planning (resolving tables, planning their files,
// the bytes-scanned check); RUNNING is DuckDB executing the SQL and the
// results being saved. The other three are terminal.
type State string

// Execution states.
const (
	Queued    State = "QUEUED"
	Running   State = "RUNNING"
	Succeeded State = "SUCCEEDED"
	Failed    State = "FAILED"
	Cancelled State = "CANCELLED"
)

// Terminal reports whether s is a final state.
func (s State) Terminal() bool { return s == Succeeded || s == Failed || s == Cancelled }

// ParseState checks a state name (case-insensitive).
func ParseState(s string) (State, error) {
	st := State(strings.ToUpper(s))
	switch st {
	case Queued, Running, Succeeded, Failed, Cancelled:
		return st, nil
	}
	return "", fmt.Errorf("%w: state %q is not one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED", ErrInvalidRequest, s)
}

// Statistics of an execution.
type Statistics struct {
	// BytesScanned is the total size of the data files that the views of
	// the referenced tables read, as planned: an Iceberg table's files of
	// the current snapshot, an external table's files under its location.
	// Whole files are counted; DuckDB may read less of them (only the
	// needed columns and row groups), so this is an upper bound of the
	// bytes read. It is 0 for a query that did not reach RUNNING, and for
	// DESCRIBE and EXPLAIN (without ANALYZE), which read no data.
	BytesScanned int64 `json:"bytes_scanned"`
	// FilesScanned is the number of those files.
	FilesScanned int64 `json:"files_scanned"`
	// RowsReturned is the number of result rows saved.
	RowsReturned int64 `json:"rows_returned"`
	// RowsWritten is the number of rows a CREATE TABLE AS or INSERT
	// appended to its table (its result is one row, rows_written).
	RowsWritten int64 `json:"rows_written,omitempty"`
	QueueMs     int64 `json:"queue_ms"`
	PlanningMs  int64 `json:"planning_ms"`
	ExecutionMs int64 `json:"execution_ms"`
}

// Execution is one query execution (Athena's QueryExecution).
type Execution struct {
	ID        string    `json:"id"`
	SQL       string    `json:"sql"`
	Workgroup string    `json:"workgroup"`
	State     State     `json:"state"`
	Submitted time.Time `json:"submitted"`
	// Started is when it became RUNNING; zero if it never did.
	Started    time.Time  `json:"started,omitzero"`
	Finished   time.Time  `json:"finished,omitzero"`
	Statistics Statistics `json:"statistics"`
	// Error says why a FAILED execution failed.
	Error *ExecError `json:"error,omitempty"`
	// StateReason says why a CANCELLED execution was cancelled.
	StateReason string `json:"state_reason,omitempty"`
	// Output is the saved CSV of a SUCCEEDED execution.
	Output string `json:"output,omitempty"`
	// Heartbeat is when the process running a QUEUED or RUNNING execution
	// last saved that it still does (every ServiceConfig.HeartbeatInterval).
	Heartbeat time.Time `json:"heartbeat,omitzero"`
}

// StartInput is a query to start.
type StartInput struct {
	SQL string `json:"sql"`
	// Workgroup is "" for PrimaryWorkgroup.
	Workgroup string `json:"workgroup,omitempty"`
	// Params are bound to the SQL's ? or $n placeholders.
	Params []any `json:"params,omitempty"`
}

// History stores executions; *catalog.Store implements it.
type History interface {
	PutExecution(ctx context.Context, e catalog.Execution) error
	// Execution returns one; errors wrap catalog.ErrNoSuchExecution.
	Execution(ctx context.Context, id string) (catalog.Execution, error)
	// Executions lists those a filter selects, newest first.
	Executions(ctx context.Context, f catalog.ExecutionFilter) ([]catalog.Execution, error)
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	// Workgroups; PrimaryWorkgroup is added with defaults if missing.
	Workgroups []Workgroup
	// ResultsDir holds the results of workgroups without a
	// ResultsLocation, in ResultsDir/<workgroup>.
	ResultsDir string
	// Logger; nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil does not register them.
	Registerer prometheus.Registerer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HeartbeatInterval is how often the service saves a heartbeat of its
	// QUEUED and RUNNING executions; 0 is 10 s. An unfinished execution
	// with no sign of life for staleBeats intervals was left by a process
	// that stopped (killed, crashed): Get, Wait and List report it FAILED
	// (SYSTEM) and save it so.
	HeartbeatInterval time.Duration
}

// staleBeats is how many heartbeat intervals an unfinished execution may
// go without one before it counts as abandoned.
const staleBeats = 6

// Service runs queries as executions, Athena-style: Start returns an id at
// once and the query runs in the background, at most Concurrency at a time
// per workgroup (the others wait QUEUED). Every state change is saved in the
// History, so executions outlive the process; results are saved in the
// workgroup's results location as <id>.csv and <id>.metadata.json.
//
// A query whose planned data files exceed its workgroup's bytes-scanned
// limit is refused after planning and before it runs: it ends FAILED with a
// USER error and never becomes RUNNING. A query running longer than its
// workgroup's timeout ends FAILED (USER); Cancel ends it CANCELLED; DuckDB
// is interrupted in both cases.
//
// A Service is safe for concurrent use. Close stops it.
type Service struct {
	engine  *Engine
	hist    History
	log     *slog.Logger
	now     func() time.Time
	wgs     map[string]*workgroup
	metrics *execMetrics

	base      context.Context
	stop      context.CancelCauseFunc
	wg        sync.WaitGroup
	heartbeat time.Duration

	mu     sync.Mutex
	closed bool
	active map[string]*active // executions of this process not yet saved in a final state
}

type workgroup struct {
	Workgroup
	slots chan struct{}
}

// active is an execution this process runs.
type active struct {
	exec   Execution // guarded by Service.mu
	cancel context.CancelCauseFunc
	done   chan struct{}
	// saveMu orders the saves of the execution once it is active: a
	// state is saved and then published under it (publish), and a
	// heartbeat, saved under it, saves the state published last and skips
	// an execution published as finished, so it never overwrites a later
	// state.
	saveMu sync.Mutex
}

var (
	errCancelled = errors.New("cancelled by request")
	errStopped   = errors.New("the query service stopped")
)

// timeoutError is the cause of a context that hit its workgroup's timeout.
type timeoutError struct {
	wg string
	d  time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("query: timed out after %s (the timeout of workgroup %s)", e.d, e.wg)
}

// NewService returns a service running queries on e and saving their
// history in h.
func NewService(e *Engine, h History, cfg ServiceConfig) (*Service, error) {
	wgs := cfg.Workgroups
	if !hasWorkgroup(wgs, PrimaryWorkgroup) {
		wgs = append(DefaultWorkgroups(), wgs...)
	}
	if err := ValidateWorkgroups(wgs); err != nil {
		return nil, fmt.Errorf("query service: %w", err)
	}
	s := &Service{engine: e, hist: h, log: cfg.Logger, now: cfg.Now,
		wgs: map[string]*workgroup{}, active: map[string]*active{}, heartbeat: cmp.Or(cfg.HeartbeatInterval, 10*time.Second)}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, w := range wgs {
		w, err := w.withDefaults(cfg.ResultsDir)
		if err != nil {
			return nil, fmt.Errorf("query service: %w", err)
		}
		s.wgs[w.Name] = &workgroup{Workgroup: w, slots: make(chan struct{}, w.Concurrency)}
	}
	m, err := newExecMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("query service: %w", err)
	}
	s.metrics = m
	s.base, s.stop = context.WithCancelCause(context.Background())
	go s.heartbeats()
	return s, nil
}

// heartbeats saves a heartbeat of every unfinished execution of this
// process each interval, until the service is closed.
func (s *Service) heartbeats() {
	t := time.NewTicker(s.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		as := make([]*active, 0, len(s.active))
		for _, a := range s.active {
			as = append(as, a)
		}
		s.mu.Unlock()
		for _, a := range as {
			s.beat(a)
		}
	}
}

// beat saves a's execution with a fresh heartbeat, unless it finished.
func (s *Service) beat(a *active) {
	a.saveMu.Lock()
	defer a.saveMu.Unlock()
	s.mu.Lock()
	x := a.exec
	s.mu.Unlock()
	if x.State.Terminal() {
		return
	}
	x.Heartbeat = s.now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), s.heartbeat)
	defer cancel()
	if err := s.save(ctx, x); err != nil {
		s.log.Warn("query heartbeat", "stage", "query", "id", x.ID, "err", err)
	}
}

// abandoned returns x as FAILED if it is unfinished and has shown no sign
// of life (submitted, started, heartbeat) for staleBeats heartbeat
// intervals: the process running it stopped. The new state is saved (a
// failed save is logged; the next read tries again).
func (s *Service) abandoned(ctx context.Context, x Execution) Execution {
	if x.State.Terminal() {
		return x
	}
	last := x.Submitted
	for _, t := range []time.Time{x.Started, x.Heartbeat} {
		if t.After(last) {
			last = t
		}
	}
	now := s.now().UTC()
	if now.Sub(last) <= staleBeats*s.heartbeat {
		return x
	}
	x.State, x.Finished, x.Output = Failed, now, ""
	x.Error = &ExecError{Category: CategorySystem,
		Message: fmt.Sprintf("query: the process running it stopped (no sign of life since %s)", last.Format(time.RFC3339))}
	if err := s.save(ctx, x); err != nil {
		s.log.Warn("query history", "stage", "query", "id", x.ID, "err", err)
	}
	return x
}

func hasWorkgroup(wgs []Workgroup, name string) bool {
	for _, w := range wgs {
		if w.Name == name {
			return true
		}
	}
	return false
}

// Workgroup returns the named workgroup with its defaults filled in.
func (s *Service) Workgroup(name string) (Workgroup, bool) {
	w, ok := s.wgs[name]
	if !ok {
		return Workgroup{}, false
	}
	return w.Workgroup, true
}

// Start submits a query and returns its execution id. The execution is
// saved QUEUED before Start returns; ctx bounds only that, not the query.
func (s *Service) Start(ctx context.Context, in StartInput) (string, error) {
	if strings.TrimSpace(in.SQL) == "" {
		return "", fmt.Errorf("query: %w: sql is empty", ErrInvalidRequest)
	}
	name := in.Workgroup
	if name == "" {
		name = PrimaryWorkgroup
	}
	wg, ok := s.wgs[name]
	if !ok {
		return "", fmt.Errorf("query: %w: workgroup %q does not exist", ErrInvalidRequest, name)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", fmt.Errorf("query: %w", errStopped)
	}
	s.wg.Add(1) // Close waits for this execution from here on
	s.mu.Unlock()
	x := Execution{ID: newID(), SQL: in.SQL, Workgroup: name, State: Queued, Submitted: s.now().UTC()}
	if err := s.save(ctx, x); err != nil {
		s.wg.Done()
		return "", err
	}
	// After Close, base is done and the execution ends at once.
	runCtx, cancel := context.WithCancelCause(s.base)
	a := &active{exec: x, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.active[x.ID] = a
	s.mu.Unlock()
	s.log.Info("query submitted", "id", x.ID, "workgroup", name)
	go s.execute(runCtx, a, wg, in.Params)
	return x.ID, nil
}

// Get returns an execution, from this process if it runs it, else from the
// history. A missing one is an error wrapping ErrNoSuchExecution.
func (s *Service) Get(ctx context.Context, id string) (Execution, error) {
	s.mu.Lock()
	a, ok := s.active[id]
	var x Execution
	if ok {
		x = a.exec
	}
	s.mu.Unlock()
	if ok {
		return x, nil
	}
	rec, err := s.hist.Execution(ctx, id)
	if err != nil {
		return Execution{}, fmt.Errorf("query: %w", err) // the catalog's error names the execution
	}
	x, err = decodeExecution(rec)
	if err != nil {
		return Execution{}, err
	}
	return s.abandoned(ctx, x), nil
}

// Wait waits until the execution is in a final state (or ctx is done) and
// returns it. Executions of other processes are polled in the history.
func (s *Service) Wait(ctx context.Context, id string) (Execution, error) {
	for {
		s.mu.Lock()
		a, ok := s.active[id]
		s.mu.Unlock()
		if ok {
			select {
			case <-a.done:
			case <-ctx.Done():
				return Execution{}, fmt.Errorf("query: wait for %s: %w", id, ctx.Err())
			}
		}
		x, err := s.Get(ctx, id)
		if err != nil || x.State.Terminal() {
			return x, err
		}
		if ok {
			continue
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return Execution{}, fmt.Errorf("query: wait for %s: %w", id, ctx.Err())
		}
	}
}

// ListFilter selects executions for List; zero fields select everything.
type ListFilter struct {
	Workgroup string
	State     State
	// Before selects those submitted strictly before it (paging).
	Before time.Time
	// Limit caps the number; 0 is 100.
	Limit int
}

// List returns executions from the history, newest first. An abandoned
// one (see ServiceConfig.HeartbeatInterval) is FAILED, and left out when
// f selects another state.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Execution, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("query: %w: limit %d is negative", ErrInvalidRequest, f.Limit)
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	recs, err := s.hist.Executions(ctx, catalog.ExecutionFilter{Workgroup: f.Workgroup, State: string(f.State), Before: f.Before, Limit: f.Limit})
	if err != nil {
		return nil, fmt.Errorf("query: list executions: %w", err)
	}
	out := make([]Execution, 0, len(recs))
	for _, rec := range recs {
		x, err := decodeExecution(rec)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		_, mine := s.active[x.ID]
		s.mu.Unlock()
		if !mine {
			x = s.abandoned(ctx, x)
		}
		if f.State != "" && x.State != f.State {
			continue
		}
		out = append(out, x)
	}
	return out, nil
}

// Cancel cancels a QUEUED or RUNNING execution and waits until it has
// stopped (or ctx is done). Cancelling a finished execution does nothing;
// one that another process runs is an error wrapping ErrNotOwned.
func (s *Service) Cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	a, ok := s.active[id]
	s.mu.Unlock()
	if !ok {
		x, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if x.State.Terminal() {
			return nil
		}
		return fmt.Errorf("query: cancel %s: %w", id, ErrNotOwned)
	}
	a.cancel(errCancelled)
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("query: cancel %s: %w", id, ctx.Err())
	}
}

// Close stops the service: queued and running executions end FAILED
// (SYSTEM, "the query service stopped"). It waits for them to be saved
// until ctx is done.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop(errStopped)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("query service: close: %w", ctx.Err())
	}
}

// save stores x in the history.
func (s *Service) save(ctx context.Context, x Execution) error {
	doc, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("query: save execution %s: %w", x.ID, err)
	}
	rec := catalog.Execution{ID: x.ID, Workgroup: x.Workgroup, State: string(x.State), Submitted: x.Submitted, Document: doc}
	if err := s.hist.PutExecution(ctx, rec); err != nil {
		return fmt.Errorf("query: save execution %s: %w", x.ID, err)
	}
	return nil
}

func decodeExecution(rec catalog.Execution) (Execution, error) {
	var x Execution
	if err := json.Unmarshal(rec.Document, &x); err != nil {
		return Execution{}, fmt.Errorf("query: execution %s: corrupt history record: %w", rec.ID, err)
	}
	return x, nil
}

// newID is a random (version 4) UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// resultPaths are the CSV and metadata files of an execution.
func resultPaths(dir, id string) (csvPath, metaPath string) {
	return filepath.Join(dir, id+".csv"), filepath.Join(dir, id+".metadata.json")
}

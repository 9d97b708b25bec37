package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// execute runs one execution to a final state: wait for a slot, plan,
// check the bytes-scanned limit, run and save the results.
func (s *Service) execute(ctx context.Context, a *active, wg *workgroup, params []any) {
	defer s.wg.Done()
	defer close(a.done)
	defer a.cancel(nil)
	x := a.exec // owned by this goroutine; published with publish

	select {
	case wg.slots <- struct{}{}:
		defer func() { <-wg.slots }()
	case <-ctx.Done():
		s.finish(ctx, a, x, ctx.Err(), nil)
		return
	}
	if wg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, wg.Timeout, &timeoutError{wg: wg.Name, d: wg.Timeout})
		defer cancel()
	}
	if err := checkParams(x.SQL, params); err != nil {
		s.finish(ctx, a, x, err, nil)
		return
	}
	planStart := s.now()
	x.Statistics.QueueMs = planStart.Sub(x.Submitted).Milliseconds()
	memory := wg.MemoryLimit
	if memory == "" {
		memory = s.engine.opts.MemoryLimit
	}
	sess, err := s.engine.open(ctx, x.SQL, memory)
	x.Statistics.PlanningMs = s.now().Sub(planStart).Milliseconds()
	if err != nil {
		s.finish(ctx, a, x, err, nil)
		return
	}
	defer sess.close()
	if wg.BytesScannedLimit > 0 && sess.scan.bytes > wg.BytesScannedLimit {
		s.finish(ctx, a, x, limitError(wg.Workgroup, sess.scan), nil)
		return
	}

	x.State = Running
	x.Started = s.now().UTC()
	x.Statistics.BytesScanned = sess.scan.bytes
	x.Statistics.FilesScanned = int64(sess.scan.files)
	if err := s.publish(ctx, a, x); err != nil {
		s.log.Warn("query history", "stage", "query", "id", x.ID, "err", err)
	}
	s.log.Info("query running", "id", x.ID, "workgroup", wg.Name, "bytes_scanned", sess.scan.bytes, "files", sess.scan.files)

	csvPath, _ := resultPaths(wg.ResultsLocation, x.ID)
	query := sess.sql
	if sess.write != nil {
		n, err := s.engine.write(ctx, sess, params)
		if err != nil {
			x.Statistics.ExecutionMs = s.now().Sub(x.Started).Milliseconds()
			s.finish(ctx, a, x, err, nil)
			return
		}
		x.Statistics.RowsWritten = n
		query, params = rowsWritten(n), nil
	}
	cols, rows, err := saveCSV(ctx, sess, query, params, s.engine.resultNames(ctx, sess), csvPath)
	x.Statistics.ExecutionMs = s.now().Sub(x.Started).Milliseconds()
	x.Statistics.RowsReturned = rows
	if err == nil {
		x.Output = csvPath
		sess.ok = true
	}
	s.finish(ctx, a, x, err, cols)
}

// finish sets x's final state from err (nil is success), saves it with its
// metadata file, and counts it.
func (s *Service) finish(ctx context.Context, a *active, x Execution, err error, cols []ResultColumn) {
	x.Finished = s.now().UTC()
	switch cause := context.Cause(ctx); {
	case err == nil:
		x.State = Succeeded
	case ctx.Err() != nil && errors.Is(cause, errCancelled):
		x.State = Cancelled
		x.StateReason = errCancelled.Error()
	case ctx.Err() != nil:
		var te *timeoutError
		cat := CategorySystem
		if errors.As(cause, &te) {
			cat = CategoryUser
		}
		x.State = Failed
		x.Error = &ExecError{Category: cat, Message: causeMessage(cause)}
	default:
		x.State = Failed
		x.Error = &ExecError{Category: category(err), Message: err.Error()}
		if limit := cmp.Or(s.wgs[x.Workgroup].MemoryLimit, s.engine.opts.MemoryLimit); limit != "" && outOfMemory(err) {
			// The query needs more than its workgroup allows, as a query
			// over the timeout or the bytes-scanned limit does: DuckDB's
			// advice (SET threads, ...) is for settings queries cannot
			// change.
			x.Error = &ExecError{Category: CategoryUser, Message: fmt.Sprintf(
				"query: the query needs more memory than the memory limit of workgroup %s (%s): %s",
				x.Workgroup, limit, firstSentence(err))}
		}
	}
	if x.State != Succeeded {
		x.Output = ""
	}
	wg := s.wgs[x.Workgroup]
	if merr := saveMetadata(wg.ResultsLocation, x, cols); merr != nil {
		s.log.Warn("query metadata", "stage", "query", "id", x.ID, "err", merr)
	}
	s.metrics.observe(x)
	// The final state is saved even when ctx is done.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.publish(saveCtx, a, x); err != nil {
		// Keep it in memory so Get still finds it.
		s.log.Error("query history", "stage", "query", "id", x.ID, "err", err)
	} else {
		s.mu.Lock()
		delete(s.active, x.ID)
		s.mu.Unlock()
	}
	attrs := []any{"id", x.ID, "workgroup", x.Workgroup, "state", x.State, "rows", x.Statistics.RowsReturned,
		"bytes_scanned", x.Statistics.BytesScanned, "elapsed", x.Finished.Sub(x.Submitted)}
	if x.Error != nil {
		attrs = append(attrs, "category", x.Error.Category, "err", x.Error.Message)
	}
	s.log.Info("query finished", attrs...)
}

func causeMessage(cause error) string {
	var te *timeoutError
	if errors.As(cause, &te) {
		return te.Error()
	}
	return fmt.Sprintf("query: %v", cause)
}

// publish saves x, a's new state, in the history, then makes it the state
// this process reports (even when the save failed), in turn with a's
// heartbeats (see active.saveMu). Saving first means no process reads
// the history behind what this one has reported: a client told RUNNING
// by this process and asking another must not read QUEUED.
func (s *Service) publish(ctx context.Context, a *active, x Execution) error {
	a.saveMu.Lock()
	defer a.saveMu.Unlock()
	err := s.save(ctx, x)
	s.mu.Lock()
	a.exec = x
	s.mu.Unlock()
	return err
}

type execMetrics struct {
	executions *prometheus.CounterVec
	bytes      *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newExecMetrics(reg prometheus.Registerer) (*execMetrics, error) {
	m := &execMetrics{
		executions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_query_executions_total",
			Help: "Query executions that reached a final state, by workgroup and state.",
		}, []string{"workgroup", "state"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamlake_query_bytes_scanned_total",
			Help: "Bytes of data files planned for the query executions that ran (an upper bound of the bytes read).",
		}, []string{"workgroup"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamlake_query_duration_seconds",
			Help:    "Time from submission to final state of query executions.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"workgroup"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.executions, m.bytes, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *execMetrics) observe(x Execution) {
	m.executions.WithLabelValues(x.Workgroup, string(x.State)).Inc()
	m.bytes.WithLabelValues(x.Workgroup).Add(float64(x.Statistics.BytesScanned))
	m.duration.WithLabelValues(x.Workgroup).Observe(x.Finished.Sub(x.Submitted).Seconds())
}

// checkParams refuses values that do not match the query's ? placeholders
// one for one: the driver refuses too few, but binds the first of too
// many and ignores the rest. A query with $1-style parameters is left to
// DuckDB.
func checkParams(query string, params []any) error {
	n := 0
	for _, t := range tokens(query) {
		switch {
		case t.kind == tokOther && t.text == "?":
			n++
		case t.kind == tokOther && t.end == t.pos+1 && query[t.pos] == '$':
			return nil
		}
	}
	if n == len(params) {
		return nil
	}
	return fmt.Errorf("query: %w: the query has %d ? placeholders and %d values were given", ErrParameters, n, len(params))
}

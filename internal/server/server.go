// Package server is streamlake's HTTP JSON API over query executions (the
// Athena API shape):
//
//	POST /v1/queries                    {"sql", "workgroup", "params"} -> 202 {"id"}
//	GET  /v1/queries/{id}               -> the execution
//	GET  /v1/queries/{id}/results       ?offset=&limit= -> a page of the saved result
//	GET  /v1/queries                    ?state=&workgroup=&before=&limit= -> {"executions": [...]}, newest first
//	POST /v1/queries/{id}/cancel        -> the execution once stopped
//	GET  /healthz                       -> {"status": "ok"}
//
// and, when the service keeps named queries (saved SQL, Athena's
// NamedQuery; see NamedQueries), where REF is a named query's name in the
// workgroup of ?workgroup= (default primary) or its id:
//
//	POST   /v1/named-queries            {"name", "sql", "workgroup", "database", "description"} -> 201 the named query
//	GET    /v1/named-queries            ?workgroup= -> {"named_queries": [...]}, by workgroup and name
//	GET    /v1/named-queries/REF        ?workgroup= -> the named query
//	DELETE /v1/named-queries/REF        ?workgroup= -> the deleted named query
//	POST   /v1/named-queries/REF/start  ?workgroup= {"params"} (body optional) -> 202 {"id"} of the execution
//
// Errors are {"error": "...", "category": "USER"|"SYSTEM"}: 400 for a bad
// request, 404 for an unknown execution, named query or path, 405 for a
// wrong method, 409 for results of an execution that has not succeeded, a
// cancel of one another process runs or a named query whose name the
// workgroup has, 500 (SYSTEM) for the rest. A Server is safe for
// concurrent use.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/streamlake/streamlake/internal/query"
)

// Queries is what the API needs of the query service; *query.Service
// implements it.
type Queries interface {
	Start(ctx context.Context, in query.StartInput) (string, error)
	Get(ctx context.Context, id string) (query.Execution, error)
	Results(ctx context.Context, id string, offset, limit int) (*query.ResultPage, error)
	List(ctx context.Context, f query.ListFilter) ([]query.Execution, error)
	Cancel(ctx context.Context, id string) error
}

// maxBody caps a request body.
const maxBody = 1 << 20

// Server is the HTTP API; it is an http.Handler.
type Server struct {
	q   Queries
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the API over q. A nil log discards.
func New(q Queries, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{q: q, log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/queries", s.start)
	s.mux.HandleFunc("GET /v1/queries", s.list)
	s.mux.HandleFunc("GET /v1/queries/{id}", s.get)
	s.mux.HandleFunc("GET /v1/queries/{id}/results", s.results)
	s.mux.HandleFunc("POST /v1/queries/{id}/cancel", s.cancel)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	paths := map[string]string{
		"/v1/queries": "GET, POST", "/v1/queries/{id}": "GET", "/v1/queries/{id}/results": "GET",
		"/v1/queries/{id}/cancel": "POST", "/healthz": "GET",
	}
	if n, ok := q.(NamedQueries); ok {
		s.handleNamed(n)
		maps.Copy(paths, namedPaths)
	}
	for path, allow := range paths {
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " " + r.URL.Path + " is not allowed; use " + allow, Category: query.CategoryUser})
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such path: " + r.Method + " " + r.URL.Path, Category: query.CategoryUser})
	})
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ListenAndServe serves the API on addr until ctx is done, then shuts down,
// letting requests in flight finish for up to 10 seconds.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// startRequest is the body of POST /v1/queries.
type startRequest struct {
	SQL       string `json:"sql"`
	Workgroup string `json:"workgroup"`
	Params    []any  `json:"params"`
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, r, fmt.Errorf("%w: body: %v", query.ErrInvalidRequest, err))
		return
	}
	params, err := jsonParams(req.Params)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.q.Start(r.Context(), query.StartInput{SQL: req.SQL, Workgroup: req.Workgroup, Params: params})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/queries/"+id)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

// jsonParams turns JSON numbers into int64 or float64 for binding; strings,
// booleans and null pass as they are. Arrays and objects are refused.
func jsonParams(in []any) ([]any, error) {
	out := make([]any, len(in))
	for i, p := range in {
		switch v := p.(type) {
		case json.Number:
			if n, err := v.Int64(); err == nil {
				out[i] = n
			} else if f, err := v.Float64(); err == nil {
				out[i] = f
			} else {
				return nil, fmt.Errorf("%w: params[%d]: %v", query.ErrInvalidRequest, i, err)
			}
		case string, bool, nil:
			out[i] = v
		default:
			return nil, fmt.Errorf("%w: params[%d]: only strings, numbers, booleans and null can be bound", query.ErrInvalidRequest, i)
		}
	}
	return out, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	x, err := s.q.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	offset, err := intParam(r, "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := intParam(r, "limit")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.q.Results(r.Context(), r.PathValue("id"), offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	var f query.ListFilter
	q := r.URL.Query()
	if st := q.Get("state"); st != "" {
		state, err := query.ParseState(st)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.State = state
	}
	f.Workgroup = q.Get("workgroup")
	if b := q.Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: before: %q is not an RFC 3339 time", query.ErrInvalidRequest, b))
			return
		}
		f.Before = t
	}
	limit, err := intParam(r, "limit")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Limit = limit
	list, err := s.q.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]query.Execution{"executions": list})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.q.Cancel(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.q.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// intParam is a non-negative integer query parameter; absent is 0.
func intParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s: %q is not a non-negative integer", query.ErrInvalidRequest, name, v)
	}
	return n, nil
}

type errorBody struct {
	Error    string `json:"error"`
	Category string `json:"category"`
}

// fail writes err with the status its kind calls for.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, query.ErrInvalidRequest):
		status = http.StatusBadRequest
	case errors.Is(err, query.ErrNoSuchExecution), errors.Is(err, query.ErrNoSuchNamedQuery):
		status = http.StatusNotFound
	case errors.Is(err, query.ErrNotFinished), errors.Is(err, query.ErrNotOwned), errors.Is(err, query.ErrNamedQueryExists):
		status = http.StatusConflict
	}
	cat := query.CategoryUser
	if status >= 500 {
		cat = query.CategorySystem
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: err.Error(), Category: cat})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error(), Category: query.CategorySystem})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

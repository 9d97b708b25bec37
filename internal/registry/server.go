package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"

	"github.com/goccy/go-json"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Server is an embedded Confluent-compatible schema registry, for the
// embedded broker: franz-go's srfake registry (subjects, versions, ids,
// compatibility, modes), made durable by a log of the requests that
// changed it. On start the log is replayed in order, and since the
// registry assigns ids deterministically the schemas get their ids back:
// a value's schema id means the same schema after a restart.
type Server struct {
	h   http.Handler
	mu  sync.Mutex // orders changes: the log's order is the order applied
	log *os.File
}

// change is one logged request that changed the registry.
type change struct {
	Method string `json:"method"`
	URI    string `json:"uri"`
	Body   []byte `json:"body,omitempty"`
}

// NewServer returns a registry whose changes are logged to path, after
// replaying the changes logged there before.
func NewServer(path string) (*Server, error) {
	s := &Server{h: srfake.NewRegistry().Handler()}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("schema registry log: %w", err)
	}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		var c change
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("schema registry log %s: line %d: %w", path, n, err)
		}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, httptest.NewRequest(c.Method, c.URI, bytes.NewReader(c.Body)))
		if rec.Code >= 300 {
			return nil, fmt.Errorf("schema registry log %s: line %d: %s %s replays as %d: %s", path, n, c.Method, c.URI, rec.Code, rec.Body)
		}
	}
	if s.log, err = os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return nil, fmt.Errorf("schema registry log: %w", err)
	}
	return s, nil
}

// Close closes the log.
func (s *Server) Close() error { return s.log.Close() }

// ServeHTTP serves the registry's REST API. A request that changes it
// (any but GET and HEAD) is logged, and synced, before its answer is
// sent, if it succeeded.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		s.h.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, 400, "request body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := httptest.NewRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.h.ServeHTTP(rec, r)
	if rec.Code < 300 {
		line, err := json.Marshal(change{Method: r.Method, URI: r.URL.RequestURI(), Body: body})
		if err == nil {
			_, err = s.log.Write(append(line, '\n'))
		}
		if err == nil {
			err = s.log.Sync()
		}
		if err != nil {
			// The registry has the change, the log does not: a restart
			// would lose it, so the client is told it failed.
			writeError(w, http.StatusInternalServerError, 50001, "schema registry log: "+err.Error())
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// writeError answers with the registry API's error body.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	body, _ := json.Marshal(map[string]any{"error_code": code, "message": msg})
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	w.Write(body)
}

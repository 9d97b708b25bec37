package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/streamlake/streamlake/internal/query"
)

// NamedQueries is what the named-query endpoints need; *query.Service
// implements it. New serves them when its Queries implements it too.
type NamedQueries interface {
	CreateNamedQuery(ctx context.Context, in query.NamedQueryInput) (query.NamedQuery, error)
	NamedQuery(ctx context.Context, workgroup, ref string) (query.NamedQuery, error)
	NamedQueries(ctx context.Context, workgroup string) ([]query.NamedQuery, error)
	DeleteNamedQuery(ctx context.Context, workgroup, ref string) (query.NamedQuery, error)
	StartNamed(ctx context.Context, in query.StartNamedInput) (string, error)
}

// namedPaths are the named-query paths and the methods they allow.
var namedPaths = map[string]string{
	"/v1/named-queries":             "GET, POST",
	"/v1/named-queries/{ref}":       "GET, DELETE",
	"/v1/named-queries/{ref}/start": "POST",
}

// handleNamed adds the named-query endpoints. {ref} is a name, looked up
// in the workgroup of ?workgroup= (default primary), or an id.
func (s *Server) handleNamed(n NamedQueries) {
	s.mux.HandleFunc("POST /v1/named-queries", func(w http.ResponseWriter, r *http.Request) {
		var in query.NamedQueryInput
		if err := decodeBody(w, r, &in, false); err != nil {
			s.fail(w, r, err)
			return
		}
		q, err := n.CreateNamedQuery(r.Context(), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/named-queries/"+url.PathEscape(q.ID))
		writeJSON(w, http.StatusCreated, q)
	})
	s.mux.HandleFunc("GET /v1/named-queries", func(w http.ResponseWriter, r *http.Request) {
		list, err := n.NamedQueries(r.Context(), r.URL.Query().Get("workgroup"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]query.NamedQuery{"named_queries": list})
	})
	s.mux.HandleFunc("GET /v1/named-queries/{ref}", func(w http.ResponseWriter, r *http.Request) {
		q, err := n.NamedQuery(r.Context(), r.URL.Query().Get("workgroup"), r.PathValue("ref"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, q)
	})
	s.mux.HandleFunc("DELETE /v1/named-queries/{ref}", func(w http.ResponseWriter, r *http.Request) {
		q, err := n.DeleteNamedQuery(r.Context(), r.URL.Query().Get("workgroup"), r.PathValue("ref"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, q)
	})
	s.mux.HandleFunc("POST /v1/named-queries/{ref}/start", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Params []any `json:"params"`
		}
		if err := decodeBody(w, r, &req, true); err != nil {
			s.fail(w, r, err)
			return
		}
		params, err := jsonParams(req.Params)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id, err := n.StartNamed(r.Context(), query.StartNamedInput{Ref: r.PathValue("ref"),
			Workgroup: r.URL.Query().Get("workgroup"), Params: params})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/queries/"+id)
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
	})
}

// decodeBody decodes a JSON request body into v, strictly (unknown fields
// are errors), with numbers as json.Number. An empty body is allowed only
// if emptyOK.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && emptyOK {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: body: %v", query.ErrInvalidRequest, err)
	}
	return nil
}

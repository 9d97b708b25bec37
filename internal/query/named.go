package query

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
)

// Named queries (Athena's NamedQuery): SQL saved under a name, unique
// within a workgroup, with an optional description and database. Running
// one starts an execution of its SQL in its workgroup, with parameters
// bound to its ? placeholders.

// NamedQuery is saved SQL.
type NamedQuery = catalog.NamedQuery

// Sentinel errors of named queries.
var (
	// ErrNoSuchNamedQuery: no named query of that name or id.
	ErrNoSuchNamedQuery = catalog.ErrNoSuchNamedQuery
	// ErrNamedQueryExists: the workgroup has a named query of that name.
	ErrNamedQueryExists = catalog.ErrAlreadyExists
)

// NamedStore keeps named queries; *catalog.Store implements it. A Service
// serves named queries when its History also implements NamedStore.
type NamedStore interface {
	CreateNamedQuery(ctx context.Context, q catalog.NamedQuery) error
	NamedQuery(ctx context.Context, id string) (catalog.NamedQuery, error)
	NamedQueryByName(ctx context.Context, workgroup, name string) (catalog.NamedQuery, error)
	NamedQueries(ctx context.Context, workgroup string) ([]catalog.NamedQuery, error)
	DeleteNamedQuery(ctx context.Context, id string) error
}

// NamedQueryInput is a named query to create.
type NamedQueryInput struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
	// Workgroup is "" for PrimaryWorkgroup.
	Workgroup   string `json:"workgroup,omitempty"`
	Database    string `json:"database,omitempty"`
	Description string `json:"description,omitempty"`
}

// StartNamedInput starts a named query.
type StartNamedInput struct {
	// Ref is the named query's name (in Workgroup) or id.
	Ref string `json:"ref"`
	// Workgroup is "" for PrimaryWorkgroup.
	Workgroup string `json:"workgroup,omitempty"`
	// Params are bound to the SQL's ? or $n placeholders.
	Params []any `json:"params,omitempty"`
}

// namedQueryName is what a name may be: it is used in CLI arguments and
// URL paths as it is.
var namedQueryName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Limits of named queries' text fields (Athena's).
const (
	maxNamedSQL         = 262144
	maxNamedDescription = 1024
)

func (s *Service) namedStore() (NamedStore, error) {
	n, ok := s.hist.(NamedStore)
	if !ok {
		return nil, fmt.Errorf("query: %w: this history keeps no named queries", ErrInvalidRequest)
	}
	return n, nil
}

// workgroupName is name, or PrimaryWorkgroup for "", if it exists.
func (s *Service) workgroupName(name string) (string, error) {
	if name == "" {
		name = PrimaryWorkgroup
	}
	if _, ok := s.wgs[name]; !ok {
		return "", fmt.Errorf("query: %w: workgroup %q does not exist", ErrInvalidRequest, name)
	}
	return name, nil
}

// CreateNamedQuery saves SQL under a name in a workgroup. The name is 1 to
// 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'; one
// the workgroup has already is an error wrapping ErrNamedQueryExists.
func (s *Service) CreateNamedQuery(ctx context.Context, in NamedQueryInput) (NamedQuery, error) {
	st, err := s.namedStore()
	if err != nil {
		return NamedQuery{}, err
	}
	wg, err := s.workgroupName(in.Workgroup)
	if err != nil {
		return NamedQuery{}, err
	}
	switch {
	case !namedQueryName.MatchString(in.Name):
		return NamedQuery{}, fmt.Errorf("query: %w: named query name %q must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
			ErrInvalidRequest, in.Name)
	case strings.TrimSpace(in.SQL) == "":
		return NamedQuery{}, fmt.Errorf("query: %w: named query %s: sql is empty", ErrInvalidRequest, in.Name)
	case len(in.SQL) > maxNamedSQL:
		return NamedQuery{}, fmt.Errorf("query: %w: named query %s: sql is longer than %d bytes", ErrInvalidRequest, in.Name, maxNamedSQL)
	case len(in.Description) > maxNamedDescription:
		return NamedQuery{}, fmt.Errorf("query: %w: named query %s: description is longer than %d bytes", ErrInvalidRequest, in.Name, maxNamedDescription)
	}
	q := NamedQuery{ID: newID(), Name: in.Name, Workgroup: wg, Database: in.Database, Description: in.Description,
		SQL: in.SQL, Created: s.now().UTC()}
	if err := st.CreateNamedQuery(ctx, q); err != nil {
		return NamedQuery{}, fmt.Errorf("query: %w", err)
	}
	s.log.Info("named query created", "id", q.ID, "name", q.Name, "workgroup", wg)
	return q, nil
}

// NamedQuery returns a named query by its name in a workgroup ("" is
// PrimaryWorkgroup) or by its id. A missing one is an error wrapping
// ErrNoSuchNamedQuery.
func (s *Service) NamedQuery(ctx context.Context, workgroup, ref string) (NamedQuery, error) {
	st, err := s.namedStore()
	if err != nil {
		return NamedQuery{}, err
	}
	wg, err := s.workgroupName(workgroup)
	if err != nil {
		return NamedQuery{}, err
	}
	q, err := st.NamedQueryByName(ctx, wg, ref)
	if errors.Is(err, catalog.ErrNoSuchNamedQuery) {
		q, err = st.NamedQuery(ctx, ref)
	}
	if errors.Is(err, catalog.ErrNoSuchNamedQuery) {
		return NamedQuery{}, fmt.Errorf("query: %w: workgroup %s has no named query %q, and no named query has that id",
			ErrNoSuchNamedQuery, wg, ref)
	}
	if err != nil {
		return NamedQuery{}, fmt.Errorf("query: %w", err)
	}
	return q, nil
}

// NamedQueries lists the named queries of a workgroup ("" for every
// workgroup), by workgroup and name.
func (s *Service) NamedQueries(ctx context.Context, workgroup string) ([]NamedQuery, error) {
	st, err := s.namedStore()
	if err != nil {
		return nil, err
	}
	if workgroup != "" {
		if _, err := s.workgroupName(workgroup); err != nil {
			return nil, err
		}
	}
	list, err := st.NamedQueries(ctx, workgroup)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return list, nil
}

// DeleteNamedQuery deletes a named query (found as by NamedQuery) and
// returns it.
func (s *Service) DeleteNamedQuery(ctx context.Context, workgroup, ref string) (NamedQuery, error) {
	q, err := s.NamedQuery(ctx, workgroup, ref)
	if err != nil {
		return NamedQuery{}, err
	}
	st, err := s.namedStore()
	if err != nil {
		return NamedQuery{}, err
	}
	if err := st.DeleteNamedQuery(ctx, q.ID); err != nil {
		return NamedQuery{}, fmt.Errorf("query: %w", err)
	}
	s.log.Info("named query deleted", "id", q.ID, "name", q.Name, "workgroup", q.Workgroup)
	return q, nil
}

// StartNamed starts an execution of a named query's SQL (found as by
// NamedQuery) in the named query's workgroup, with in.Params bound to its
// placeholders, and returns its id as Start does.
func (s *Service) StartNamed(ctx context.Context, in StartNamedInput) (string, error) {
	q, err := s.NamedQuery(ctx, in.Workgroup, in.Ref)
	if err != nil {
		return "", err
	}
	return s.Start(ctx, StartInput{SQL: q.SQL, Workgroup: q.Workgroup, Params: in.Params})
}

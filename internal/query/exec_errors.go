package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/streamlake/streamlake/internal/catalog"
)

// Error categories of a failed execution (Athena's ErrorCategory).
const (
	// CategoryUser is an error the query's author can fix: a syntax, binder
	// or catalog error, a missing table, a refused file access or setting,
	// a query over its workgroup's bytes-scanned limit, timeout or memory
	// limit.
	CategoryUser = "USER"
	// CategorySystem is anything else: I/O, corrupt or unsupported data
	// files, DuckDB internal errors, running out of memory without a
	// memory limit (over a workgroup's memory limit is a USER error).
	CategorySystem = "SYSTEM"
)

// Sentinel errors of the Service, for callers (such as the HTTP API) to
// branch on with errors.Is.
var (
	// ErrNoSuchExecution: the id is not in the history.
	ErrNoSuchExecution = catalog.ErrNoSuchExecution
	// ErrInvalidRequest: a request that cannot start or be served (empty
	// SQL, unknown workgroup, bad paging).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNotFinished: results asked for before the execution succeeded.
	ErrNotFinished = errors.New("execution has no results")
	// ErrNotOwned: cancel of an execution that another process runs.
	ErrNotOwned = errors.New("execution is run by another process")
	// ErrBytesScannedLimit: refused because its planned data files exceed
	// the workgroup's bytes-scanned limit.
	ErrBytesScannedLimit = errors.New("bytes-scanned limit exceeded")
	// ErrParameters: the values given do not match the query's ?
	// placeholders.
	ErrParameters = errors.New("wrong number of parameters")
)

// ExecError is why an execution failed.
type ExecError struct {
	Category string `json:"category"` // CategoryUser or CategorySystem
	Message  string `json:"message"`
}

// userTypes are DuckDB error types that the SQL's author causes.
var userTypes = map[duckdb.ErrorType]bool{
	duckdb.ErrorTypeParser: true, duckdb.ErrorTypeSyntax: true, duckdb.ErrorTypeBinder: true,
	duckdb.ErrorTypeCatalog: true, duckdb.ErrorTypePermission: true, duckdb.ErrorTypeInvalidInput: true,
	duckdb.ErrorTypeConversion: true, duckdb.ErrorTypeOutOfRange: true, duckdb.ErrorTypeDivideByZero: true,
	duckdb.ErrorTypeMismatchType: true, duckdb.ErrorTypeInvalidType: true, duckdb.ErrorTypeNotImplemented: true,
	duckdb.ErrorTypeParameterNotResolved: true, duckdb.ErrorTypeParameterNotAllowed: true,
	duckdb.ErrorTypeSettings: true, duckdb.ErrorTypeConstraint: true, duckdb.ErrorTypeDependency: true,
	duckdb.ErrorTypeMissingExtension: true, duckdb.ErrorTypeAutoLoad: true, duckdb.ErrorTypeExpression: true,
	duckdb.ErrorTypeDecimal: true, duckdb.ErrorTypeSequence: true, duckdb.ErrorTypeUnknownType: true,
}

// category classifies err, an error of planning or running a query.
func category(err error) string {
	var nf *NotFoundError
	var de *duckdb.Error
	switch {
	case errors.As(err, &nf), errors.Is(err, catalog.ErrNoSuchTable), errors.Is(err, catalog.ErrNoSuchDatabase),
		errors.Is(err, ErrBytesScannedLimit), errors.Is(err, ErrNotAllowed), errors.Is(err, ErrParameters),
		errors.Is(err, ErrNoSuchSnapshot), errors.Is(err, ErrUnsupported), errors.Is(err, catalog.ErrAlreadyExists), errors.Is(err, ErrInvalidView), errors.Is(err, ErrInvalidChange),
		errors.Is(err, context.DeadlineExceeded):
		return CategoryUser
	case errors.As(err, &de):
		if userTypes[de.Type] {
			return CategoryUser
		}
	case strings.Contains(err.Error(), paramCountError):
		return CategoryUser
	}
	return CategorySystem
}

// outOfMemory reports whether err is DuckDB running out of the memory its
// limit allows.
func outOfMemory(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeOutOfMemory
}

// firstSentence is err's message without the "Possible solutions" DuckDB
// appends to it, and without its final period.
func firstSentence(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " Possible solutions"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSuffix(strings.TrimSpace(msg), ".")
}

// paramCountError is how the duckdb-go driver (statement.go) refuses
// parameters that do not match the statement's placeholders; it is a
// plain error, not a *duckdb.Error.
const paramCountError = "incorrect argument count for command"

// limitError refuses a query whose planned files exceed the limit.
func limitError(wg Workgroup, sc scan) error {
	return fmt.Errorf("query: %w: the query would scan %d bytes in %d data files, over the %d-byte limit of workgroup %s",
		ErrBytesScannedLimit, sc.bytes, sc.files, wg.BytesScannedLimit, wg.Name)
}

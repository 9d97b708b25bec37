package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // s3:// warehouses
	_ "github.com/jackc/pgx/v5/stdlib"             // database/sql driver "pgx"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/streamlake/streamlake/internal/blob"
)

// Open opens (creating and migrating if needed) the catalog at pathOrURI,
// with Iceberg tables placed under warehouse (a URL such as file:///abs/lake).
//
// pathOrURI is one of
//
//	/abs/or/relative/catalog.db          SQLite file
//	sqlite:///abs/catalog.db             SQLite file
//	file:/abs/catalog.db, file:rel.db    SQLite file
//	postgres://user:pass@host:port/db?sslmode=disable   PostgreSQL (also postgresql://)
//
// Iceberg's SQL catalog (iceberg-go) lives in the same database, so both
// kinds of table are in one catalog on either backend.
func Open(ctx context.Context, pathOrURI, warehouse string) (*Store, error) {
	target, err := parseTarget(pathOrURI)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", redactURI(pathOrURI), err)
	}
	var s *Store
	if target.postgres {
		s, err = openPostgres(ctx, target, warehouse)
	} else {
		s, err = openSQLite(ctx, target, warehouse)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", target.name, err)
	}
	return s, nil
}

// target is a parsed catalog location.
type target struct {
	postgres bool
	dsn      string // SQLite path or PostgreSQL URI
	name     string // for messages: the path, or the URI without password
}

func parseTarget(s string) (target, error) {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return target{}, fmt.Errorf("empty catalog path")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return target{}, fmt.Errorf("bad PostgreSQL URI: %w", urlError(err))
		}
		return target{postgres: true, dsn: s, name: redactURI(u.Redacted())}, nil
	case strings.HasPrefix(lower, "sqlite://"):
		u, err := url.Parse(s)
		if err != nil {
			return target{}, fmt.Errorf("bad SQLite URI: %w", err)
		}
		p := u.Path
		if u.Host != "" { // sqlite://rel/path.db
			p = u.Host + p
		}
		if p == "" {
			return target{}, fmt.Errorf("SQLite URI %q has no path", s)
		}
		return target{dsn: p, name: p}, nil
	case strings.HasPrefix(lower, "file:"):
		u, err := url.Parse(s)
		if err != nil {
			return target{}, fmt.Errorf("bad file URI: %w", err)
		}
		p := u.Path
		if u.Opaque != "" { // file:rel/path.db
			p = u.Opaque
		}
		if p == "" {
			return target{}, fmt.Errorf("file URI %q has no path", s)
		}
		return target{dsn: p, name: p}, nil
	case strings.Contains(s, "://"):
		return target{}, fmt.Errorf("unsupported catalog URI scheme (want a path, sqlite://, file: or postgres://)")
	}
	return target{dsn: s, name: s}, nil
}

func openSQLite(ctx context.Context, t target, warehouse string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(t.dsn), 0o755); err != nil {
		return nil, err
	}
	// _txlock=immediate: a write transaction takes the write lock when it
	// begins, so concurrent writers wait (busy timeout) instead of failing
	// when a read turns into a write.
	dsn := "file:" + t.dsn + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	s := &Store{db: &sqlDB{DB: db}}
	if err := s.init(ctx, sqlcat.SQLite, warehouse); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// icebergCatalogName is the name of the Iceberg SQL catalog in the
// database (its rows' catalog_name).
const icebergCatalogName = "streamlake"

// pgMigrationLock is the advisory lock key that serializes schema creation
// by processes opening the same PostgreSQL database at once.
const pgMigrationLock = 0x5354524d4c4b // "STRMLK"

func openPostgres(ctx context.Context, t target, warehouse string) (*Store, error) {
	db, err := sql.Open("pgx", t.dsn)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	s := &Store{db: &sqlDB{DB: db, pg: true}}
	if err := s.init(ctx, sqlcat.Postgres, warehouse); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init connects, migrates the schema and opens the Iceberg catalog. On
// PostgreSQL it holds an advisory lock meanwhile: CREATE TABLE IF NOT
// EXISTS is not safe against a concurrent CREATE there.
func (s *Store) init(ctx context.Context, dialect sqlcat.SupportedDialect, warehouse string) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if s.db.pg {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+strconv.Itoa(pgMigrationLock)+")"); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+strconv.Itoa(pgMigrationLock)+")")
	}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// An s3:// warehouse carries its endpoint, region and path style in
	// its query (as every bucket URL here); Iceberg's S3 FileIO takes them
	// as properties.
	loc, props, err := blob.IcebergLocation(warehouse)
	if err != nil {
		return err
	}
	iprops := iceberg.Properties{"warehouse": loc}
	maps.Copy(iprops, props)
	ice, err := sqlcat.NewCatalog(icebergCatalogName, s.db.DB, dialect, iprops)
	if err != nil {
		return fmt.Errorf("iceberg catalog: %w", err)
	}
	s.ice = ice
	return nil
}

// sqlDB is the database, with statements written with ? placeholders and
// rebound to $1, $2, ... on PostgreSQL. Statements are otherwise written in
// the SQL both backends share.
type sqlDB struct {
	*sql.DB
	pg bool
}

func (d *sqlDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, rebind(d.pg, q), args...)
}

func (d *sqlDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, rebind(d.pg, q), args...)
}

func (d *sqlDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, rebind(d.pg, q), args...)
}

// forUpdate is the suffix of a SELECT that locks the rows it reads until
// the transaction ends. SQLite needs none: its write transactions are
// serialized (_txlock=immediate).
func (d *sqlDB) forUpdate() string {
	if d.pg {
		return " FOR UPDATE"
	}
	return ""
}

// inTx runs fn in a transaction, committing if it returns nil.
func (d *sqlDB) inTx(ctx context.Context, fn func(tx *sqlTx) error) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&sqlTx{Tx: tx, pg: d.pg}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// sqlTx is a transaction of a sqlDB, rebinding the same way.
type sqlTx struct {
	*sql.Tx
	pg bool
}

func (t *sqlTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, rebind(t.pg, q), args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, rebind(t.pg, q), args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, rebind(t.pg, q), args...)
}

// querier is what sqlDB and sqlTx share.
type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// rebind turns the ? placeholders of q into $1, $2, ... for PostgreSQL,
// leaving ? inside quoted strings and identifiers alone.
func rebind(pg bool, q string) string {
	if !pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

var (
	// uriPassword is the password of scheme://user:password@host.
	uriPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/?#@\s:]*:)[^/?#@\s]*@`)
	// passwordParam is a password=... parameter of a PostgreSQL URI.
	passwordParam = regexp.MustCompile(`(?i)\b(password=)[^&\s]*`)
)

// redactURI is s, a path or URI, for messages: the password of its user
// info and any password= parameter read xxxxx (as url.URL.Redacted).
func redactURI(s string) string {
	s = uriPassword.ReplaceAllString(s, "${1}xxxxx@")
	return passwordParam.ReplaceAllString(s, "${1}xxxxx")
}

// urlError is what url.Parse reports without the URL, which holds the
// password the message must not show.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IcebergMetadataLocation returns where the current metadata file of an
// Iceberg table is, as the SQL catalog records it: one indexed read, where
// LoadIceberg also reads and parses the file. A metadata file never
// changes (a commit writes a new one), so readers can cache what they
// parsed from it under its location. A table it does not find (also one
// in a namespace whose key the SQL catalog escapes) is an error wrapping
// ErrNoSuchTable; LoadIceberg is the authority.
func (s *Store) IcebergMetadataLocation(ctx context.Context, database, name string) (string, error) {
	var loc sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT metadata_location FROM iceberg_tables
		WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?`, icebergCatalogName, database, name).Scan(&loc)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && !loc.Valid:
		return "", fmt.Errorf("catalog: table %s.%s: %w", database, name, ErrNoSuchTable)
	case err != nil:
		return "", fmt.Errorf("catalog: table %s.%s: metadata location: %w", database, name, err)
	}
	return loc.String, nil
}

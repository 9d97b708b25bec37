package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Partition is one partition of an external table: a value per partition
// key, in key order, and where its files are.
type Partition struct {
	Database string   `json:"database"`
	Table    string   `json:"table"`
	Values   []string `json:"values"`
	Location string   `json:"location,omitempty"`
	Stats    Stats    `json:"stats"`
	// Parameters are free-form properties (Glue's Parameters).
	Parameters map[string]string `json:"parameters,omitempty"`
	CreatedAt  time.Time         `json:"created_at,omitzero"`
	UpdatedAt  time.Time         `json:"updated_at,omitzero"`
}

// Stats are a partition's statistics, as the crawler measured them.
type Stats struct {
	RecordCount  int64     `json:"recordCount"`
	SizeBytes    int64     `json:"sizeBytes"`
	ObjectCount  int64     `json:"objectCount"`
	LastModified time.Time `json:"lastModified,omitzero"`
}

// BatchCreatePartitions creates partitions of an external table, all or
// none. Each needs one value per partition key, of the key's type (an
// integer for int keys, a number for floating and decimal keys, YYYY-MM-DD
// for date keys). A partition that exists, also twice in parts, is an
// error wrapping ErrAlreadyExists; a missing table one wrapping
// ErrNoSuchTable.
func (s *Store) BatchCreatePartitions(ctx context.Context, database, table string, parts []Partition) error {
	now := time.Now().UTC()
	err := s.db.inTx(ctx, func(tx *sqlTx) error {
		t, err := s.partitionedTable(ctx, tx, database, table)
		if err != nil {
			return err
		}
		for _, p := range parts {
			p.Database, p.Table = database, table
			if err := checkValues(t, p.Values); err != nil {
				return err
			}
			p.CreatedAt, p.UpdatedAt = now, now
			created, err := insertPartition(ctx, tx, p)
			if err != nil {
				return err
			}
			if !created {
				return fmt.Errorf("partition %s: %w", valuesString(p.Values), ErrAlreadyExists)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: create partitions of %s.%s: %w", database, table, err)
	}
	return nil
}

// UpdatePartition replaces the partition with values by p, whose Values
// may differ (to move it); nil p.Values keeps them. A missing partition is
// an error wrapping ErrNoSuchPartition; new values that another partition
// has, one wrapping ErrAlreadyExists.
func (s *Store) UpdatePartition(ctx context.Context, database, table string, values []string, p Partition) error {
	err := s.db.inTx(ctx, func(tx *sqlTx) error {
		t, err := s.partitionedTable(ctx, tx, database, table)
		if err != nil {
			return err
		}
		old, err := readPartition(ctx, tx, database, table, values, s.db.forUpdate())
		if err != nil {
			return err
		}
		p.Database, p.Table = database, table
		if p.Values == nil {
			p.Values = old.Values
		}
		if err := checkValues(t, p.Values); err != nil {
			return err
		}
		p.CreatedAt, p.UpdatedAt = old.CreatedAt, time.Now().UTC()
		if valuesKey(p.Values) == valuesKey(old.Values) {
			return writePartition(ctx, tx, p)
		}
		if err := deletePartition(ctx, tx, database, table, old.Values); err != nil {
			return err
		}
		created, err := insertPartition(ctx, tx, p)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("partition %s: %w", valuesString(p.Values), ErrAlreadyExists)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: update partition %s of %s.%s: %w", valuesString(values), database, table, err)
	}
	return nil
}

// DeletePartitions deletes partitions, all or none: a missing one is an
// error wrapping ErrNoSuchPartition, and then none is deleted.
func (s *Store) DeletePartitions(ctx context.Context, database, table string, values [][]string) error {
	err := s.db.inTx(ctx, func(tx *sqlTx) error {
		if _, err := s.partitionedTable(ctx, tx, database, table); err != nil {
			return err
		}
		for _, v := range values {
			if err := deletePartition(ctx, tx, database, table, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: delete partitions of %s.%s: %w", database, table, err)
	}
	return nil
}

// GetPartition returns one partition; a missing one is an error wrapping
// ErrNoSuchPartition.
func (s *Store) GetPartition(ctx context.Context, database, table string, values []string) (Partition, error) {
	if _, err := s.tableKeys(ctx, database, table); err != nil {
		return Partition{}, fmt.Errorf("catalog: partition %s of %s.%s: %w", valuesString(values), database, table, err)
	}
	p, err := readPartition(ctx, s.db, database, table, values, "")
	if err != nil {
		return Partition{}, fmt.Errorf("catalog: partition %s of %s.%s: %w", valuesString(values), database, table, err)
	}
	return p, nil
}

// GetPartitions returns the partitions of an external table that filter
// selects (every one for ""), sorted by their values as typed by the keys.
// A filter that does not parse or fit the keys is a *FilterError; a
// missing table an error wrapping ErrNoSuchTable.
//
// The filter is an expression over the table's partition keys:
//
//	filter  = [ or ]
//	or      = and { OR and }
//	and     = not { AND not }
//	not     = NOT not | "(" or ")" | key pred
//	pred    = cmp literal
//	        | [NOT] IN "(" literal { "," literal } ")"
//	        | [NOT] BETWEEN literal AND literal
//	        | [NOT] LIKE string
//	cmp     = "=" | "<>" | "!=" | "<" | "<=" | ">" | ">="
//	literal = string | number
//	string  = "'" { char | "''" } "'"
//	key     = name | "`" name "`" | `"` name `"`
//
// Keywords are case-insensitive, key names too. AND binds tighter than OR.
// Comparisons are typed by the key: integer keys (tinyint, smallint, int,
// integer, bigint, long) compare as integers and floating and decimal keys
// as numbers, so a literal for them must be a number; every other type
// (string, varchar, char, date, timestamp) compares as text, which orders
// ISO dates and times correctly. LIKE matches the value as text, % any run
// of characters, _ exactly one, \ escaping the next character.
//
// The filter is parsed and type-checked against the keys in full before
// anything is read, then evaluated in Go over the table's partitions (one
// indexed range read), so both backends give the same answers with the
// same types; it is not pushed down as SQL.
//
// An Iceberg table's partitions come from its current snapshot's manifests
// (see icebergPartitions).
func (s *Store) GetPartitions(ctx context.Context, database, table, filter string) ([]Partition, error) {
	t, found, err := readTable(ctx, s.db, database, table, "")
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
	}
	if !found {
		return s.icebergPartitions(ctx, database, table, filter)
	}
	pred, err := parseFilter(filter, t.PartitionKeys)
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT definition FROM streamlake_partitions
		WHERE database_name = ? AND table_name = ?`, database, table)
	if err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
	}
	defer rows.Close()
	out := []Partition{}
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
		}
		p, err := decodeDef[Partition]("partition", def)
		if err != nil {
			return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
		}
		if pred.match(p.Values) {
			out = append(out, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: partitions of %s.%s: %w", database, table, err)
	}
	sortPartitions(t, out)
	return out, nil
}

// sortPartitions orders ps by their values, typed by t's partition keys.
func sortPartitions(t Table, ps []Partition) {
	kinds := make([]keyKind, len(t.PartitionKeys))
	for i, k := range t.PartitionKeys {
		kinds[i] = kindOf(k.Type)
	}
	slices.SortFunc(ps, func(a, b Partition) int { return compareTuples(kinds, a.Values, b.Values) })
}

// compareTuples orders value tuples key by key, typed by kinds; a value
// that is not of its kind sorts as text after those that are.
func compareTuples(kinds []keyKind, a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		k := kindText
		if i < len(kinds) {
			k = kinds[i]
		}
		c, ok := compareValues(k, a[i], b[i])
		if !ok {
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// tableKeys returns the external table whose partitions are asked for. An
// Iceberg table has its partitions in its own metadata, not here.
func (s *Store) tableKeys(ctx context.Context, database, table string) (Table, error) {
	t, found, err := readTable(ctx, s.db, database, table, "")
	if err != nil {
		return Table{}, err
	}
	if !found {
		return Table{}, s.noExternalTable(ctx, database, table)
	}
	return t, nil
}

// partitionedTable is tableKeys in a write transaction: it keeps the table
// from changing until tx ends.
func (s *Store) partitionedTable(ctx context.Context, tx *sqlTx, database, table string) (Table, error) {
	lock := ""
	if s.db.pg {
		lock = " FOR SHARE"
	}
	t, found, err := readTable(ctx, tx, database, table, lock)
	if err != nil {
		return Table{}, err
	}
	if !found {
		return Table{}, s.noExternalTable(ctx, database, table)
	}
	return t, nil
}

func (s *Store) noExternalTable(ctx context.Context, database, table string) error {
	if _, err := s.LoadIceberg(ctx, database, table); err == nil {
		return fmt.Errorf("%s.%s is an Iceberg table, whose partitions are in its metadata: %w", database, table, ErrNoSuchTable)
	}
	return fmt.Errorf("table %s.%s: %w", database, table, ErrNoSuchTable)
}

// checkValues checks that values fit t's partition keys.
func checkValues(t Table, values []string) error {
	if len(values) != len(t.PartitionKeys) {
		return fmt.Errorf("partition %s: %d values for %d partition keys", valuesString(values), len(values), len(t.PartitionKeys))
	}
	for i, k := range t.PartitionKeys {
		v := values[i]
		kind := kindOf(k.Type)
		if _, ok := compareValues(kind, v, v); !ok {
			return fmt.Errorf("partition %s: value %q of key %s is not of type %s", valuesString(values), v, k.Name, k.Type)
		}
		if strings.EqualFold(strings.TrimSpace(k.Type), "date") {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return fmt.Errorf("partition %s: value %q of key %s is not a date (YYYY-MM-DD)", valuesString(values), v, k.Name)
			}
		}
	}
	return nil
}

// valuesKey is the stored key of a partition: its values as a JSON array.
func valuesKey(values []string) string {
	if values == nil {
		values = []string{}
	}
	b, _ := json.Marshal(values)
	return string(b)
}

func valuesString(values []string) string { return "[" + strings.Join(values, ", ") + "]" }

func insertPartition(ctx context.Context, q querier, p Partition) (bool, error) {
	def, err := json.Marshal(p)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO streamlake_partitions (database_name, table_name, partition_values, definition, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (database_name, table_name, partition_values) DO NOTHING`,
		p.Database, p.Table, valuesKey(p.Values), string(def), formatTime(p.UpdatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func writePartition(ctx context.Context, q querier, p Partition) error {
	def, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE streamlake_partitions SET definition = ?, updated_at = ?
		WHERE database_name = ? AND table_name = ? AND partition_values = ?`,
		string(def), formatTime(p.UpdatedAt), p.Database, p.Table, valuesKey(p.Values))
	return err
}

func readPartition(ctx context.Context, q querier, database, table string, values []string, suffix string) (Partition, error) {
	var def string
	err := q.QueryRowContext(ctx, `SELECT definition FROM streamlake_partitions
		WHERE database_name = ? AND table_name = ? AND partition_values = ?`+suffix,
		database, table, valuesKey(values)).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return Partition{}, fmt.Errorf("partition %s: %w", valuesString(values), ErrNoSuchPartition)
	}
	if err != nil {
		return Partition{}, err
	}
	return decodeDef[Partition]("partition", def)
}

func deletePartition(ctx context.Context, q querier, database, table string, values []string) error {
	res, err := q.ExecContext(ctx, `DELETE FROM streamlake_partitions
		WHERE database_name = ? AND table_name = ? AND partition_values = ?`, database, table, valuesKey(values))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("partition %s: %w", valuesString(values), ErrNoSuchPartition)
	}
	return nil
}

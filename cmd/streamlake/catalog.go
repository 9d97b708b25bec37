package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) catalogCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Show the data catalog: databases, tables, columns, partitions and table versions",
	}
	cmd.PersistentFlags().StringVar(&format, "format", "table", "output format: table, csv, json")
	// with opens the catalog for a subcommand.
	with := func(fn func(ctx context.Context, store *catalog.Store, w io.Writer, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			a.quiet = true
			if _, err := a.loadFormat(cmd, nil, format); err != nil {
				return err
			}
			store, err := a.openCatalog(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			return fn(cmd.Context(), store, cmd.OutOrStdout(), args)
		}
	}
	var filter string
	partitions := &cobra.Command{
		Use:   "partitions DB.TABLE",
		Short: "List a table's partitions (values, location, statistics), optionally filtered",
		Long: `Lists the partitions of a table, sorted by their values: an external table's
as the catalog holds them, an Iceberg table's from its current snapshot's
manifests (values, data files, bytes, records; no location). --filter
selects by partition keys: =, <>, <, <=, >, >=, AND, OR, NOT, IN (...),
BETWEEN ... AND ..., LIKE; strings in single quotes; integer keys compare as
numbers.`,
		Example: `  streamlake catalog partitions ext.sales --filter "year >= 2018"
  streamlake catalog partitions ext.logs --filter "dt BETWEEN '2026-01-01' AND '2026-01-31' AND region IN ('eu', 'us')"`,
		Args: cobra.ExactArgs(1),
		RunE: with(func(ctx context.Context, store *catalog.Store, w io.Writer, args []string) error {
			db, name, err := splitTable(args[0])
			if err != nil {
				return err
			}
			t, err := store.GetTable(ctx, db, name)
			if err != nil {
				return err
			}
			ps, err := store.GetPartitions(ctx, db, name, filter)
			if err != nil {
				return err
			}
			if format == "json" {
				return encodeJSON(w, ps)
			}
			return query.Write(w, partitionsResult(t, ps), format)
		}),
	}
	partitions.Flags().StringVar(&filter, "filter", "", "expression on partition keys, e.g. \"year >= 2018 AND month IN (1, 2)\"")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "databases",
			Short: "List databases",
			Args:  cobra.NoArgs,
			RunE: with(func(ctx context.Context, store *catalog.Store, w io.Writer, _ []string) error {
				dbs, err := store.Databases(ctx)
				if err != nil {
					return err
				}
				if format == "json" {
					return encodeJSON(w, orEmpty(dbs))
				}
				r := result([]string{"name", "description", "location", "created_at"}, "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMPTZ")
				for _, d := range dbs {
					r.Rows = append(r.Rows, []any{d.Name, d.Description, d.Location, timeOrNil(d.CreatedAt)})
				}
				return query.Write(w, r, format)
			}),
		},
		&cobra.Command{
			Use:   "tables DB",
			Short: "List a database's tables",
			Args:  cobra.ExactArgs(1),
			RunE: with(func(ctx context.Context, store *catalog.Store, w io.Writer, args []string) error {
				if _, err := store.GetDatabase(ctx, args[0]); err != nil {
					return err
				}
				ts, err := store.Tables(ctx, args[0])
				if err != nil {
					return err
				}
				// The listing names Iceberg tables only; their columns,
				// location and version are in each one's metadata. A table
				// whose metadata cannot be read keeps its name-only row.
				for i, t := range ts {
					if t.Type == catalog.Iceberg {
						if full, err := store.GetTable(ctx, t.Database, t.Name); err == nil {
							ts[i] = full
						}
					}
				}
				if format == "json" {
					return encodeJSON(w, orEmpty(ts))
				}
				r := result([]string{"name", "type", "format", "compression", "columns", "partition_keys", "version",
					"deprecated", "crawler", "location", "updated"},
					"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "BIGINT", "BOOLEAN", "VARCHAR", "VARCHAR", "TIMESTAMPTZ")
				for _, t := range ts {
					r.Rows = append(r.Rows, []any{t.Name, t.Type, t.Format, t.Compression, int64(len(t.Columns)),
						columnList(t.PartitionKeys), int64(t.Version), t.Deprecated, t.Properties[catalog.PropCrawler],
						t.Location, timeOrNil(t.Updated)})
				}
				return query.Write(w, r, format)
			}),
		},
		&cobra.Command{
			Use:   "describe DB.TABLE",
			Short: "Show a table: columns, partition keys, properties",
			Args:  cobra.ExactArgs(1),
			RunE: with(func(ctx context.Context, store *catalog.Store, w io.Writer, args []string) error {
				db, name, err := splitTable(args[0])
				if err != nil {
					return err
				}
				t, err := store.GetTable(ctx, db, name)
				if err != nil {
					return err
				}
				if format == "json" {
					return encodeJSON(w, t)
				}
				return query.Write(w, describeResult(t), format)
			}),
		},
		partitions,
		&cobra.Command{
			Use:   "versions DB.TABLE",
			Short: "List a table's versions (one per schema change), oldest first",
			Args:  cobra.ExactArgs(1),
			RunE: with(func(ctx context.Context, store *catalog.Store, w io.Writer, args []string) error {
				db, name, err := splitTable(args[0])
				if err != nil {
					return err
				}
				vs, err := store.TableVersions(ctx, db, name)
				if err != nil {
					return err
				}
				if format == "json" {
					return encodeJSON(w, orEmpty(vs))
				}
				r := result([]string{"version", "updated", "columns", "partition_keys"}, "BIGINT", "TIMESTAMPTZ", "VARCHAR", "VARCHAR")
				for _, v := range vs {
					r.Rows = append(r.Rows, []any{int64(v.Version), timeOrNil(v.Updated), columnList(v.Columns), columnList(v.PartitionKeys)})
				}
				return query.Write(w, r, format)
			}),
		},
	)
	return cmd
}

// splitTable splits DB.TABLE.
func splitTable(s string) (string, string, error) {
	db, name, ok := strings.Cut(s, ".")
	if !ok || db == "" || name == "" {
		return "", "", fmt.Errorf("%q is not DB.TABLE", s)
	}
	return db, name, nil
}

func result(cols []string, types ...string) *query.Result {
	return &query.Result{Columns: cols, Types: types, Rows: [][]any{}}
}

func describeResult(t catalog.Table) *query.Result {
	r := result([]string{"kind", "name", "type", "comment"}, "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR")
	for _, c := range t.Columns {
		r.Rows = append(r.Rows, []any{"column", c.Name, c.Type, c.Comment})
	}
	for _, c := range t.PartitionKeys {
		r.Rows = append(r.Rows, []any{"partition key", c.Name, c.Type, c.Comment})
	}
	info := [][2]string{
		{"type", t.Type}, {"format", t.Format}, {"classification", t.Classification}, {"compression", t.Compression},
		{"location", t.Location}, {"view_text", t.ViewText}, {"version", fmt.Sprint(t.Version)}, {"deprecated", fmt.Sprint(t.Deprecated)},
	}
	for _, kv := range info {
		if kv[1] != "" {
			r.Rows = append(r.Rows, []any{"table", kv[0], kv[1], ""})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Properties)) {
		r.Rows = append(r.Rows, []any{"property", k, t.Properties[k], ""})
	}
	return r
}

func partitionsResult(t catalog.Table, ps []catalog.Partition) *query.Result {
	var cols, types []string
	for _, k := range t.PartitionKeys {
		cols, types = append(cols, k.Name), append(types, "VARCHAR")
	}
	cols = append(cols, "location", "objects", "bytes", "records", "last_modified")
	types = append(types, "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "TIMESTAMPTZ")
	r := result(cols, types...)
	for _, p := range ps {
		row := make([]any, 0, len(cols))
		for i := range t.PartitionKeys {
			var v any
			if i < len(p.Values) {
				v = p.Values[i]
			}
			row = append(row, v)
		}
		row = append(row, p.Location, p.Stats.ObjectCount, p.Stats.SizeBytes, p.Stats.RecordCount, timeOrNil(p.Stats.LastModified))
		r.Rows = append(r.Rows, row)
	}
	return r
}

func columnList(cs []catalog.Column) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.Name + " " + c.Type
	}
	return strings.Join(s, ", ")
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

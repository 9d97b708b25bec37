package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/query"
	"github.com/streamlake/streamlake/internal/schema"
)

func (a *app) dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Work with dead-letter tables (lake.<table>_dlq)",
	}
	cmd.AddCommand(a.dlqListCmd(), a.dlqShowCmd(), a.dlqReplayCmd())
	return cmd
}

func (a *app) dlqListCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dead-letter tables: how many records each holds, by stage, and the commonest reason",
		Long: `Lists every dead-letter table of the lake database (lake.<table>_dlq)
with its dead letters, their count per stage (decode, route, transform,
convert), the first and last time a record failed, and the commonest
reason with its count (reasons name the field and often its value).
'streamlake dlq show TABLE' lists the records.`,
		Example: `  streamlake dlq list
  streamlake dlq list --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := a.openForFormat(cmd, nil, format)
			if err != nil {
				return err
			}
			defer store.Close()
			db := a.cfg.ETL.Database
			tables, err := store.Tables(cmd.Context(), db)
			if err != nil {
				return err
			}
			// One query over every dead-letter table: one DuckDB.
			var parts []string
			for _, t := range tables {
				if !strings.HasSuffix(t.Name, etl.DLQSuffix) || t.Type != catalog.Iceberg {
					continue
				}
				name := schema.QuoteIdent(db) + "." + schema.QuoteIdent(t.Name)
				parts = append(parts, `SELECT `+schema.QuoteString(db+"."+t.Name)+` AS "table", count(*) AS dead_letters,
	(SELECT string_agg(error_stage || ' ' || n, ', ' ORDER BY n DESC, error_stage) FROM (SELECT error_stage, count(*) AS n FROM `+name+` GROUP BY 1)) AS by_stage,
	min(failed_at) AS first_failed, max(failed_at) AS last_failed,
	(SELECT error || ' (' || n || ')' FROM (SELECT error, count(*) AS n FROM `+name+` GROUP BY 1) ORDER BY n DESC, error LIMIT 1) AS commonest_reason
FROM `+name)
			}
			out := &query.Result{Columns: []string{"table", "dead_letters", "by_stage", "first_failed", "last_failed", "commonest_reason"},
				Types: []string{"VARCHAR", "BIGINT", "VARCHAR", "TIMESTAMPTZ", "TIMESTAMPTZ", "VARCHAR"}, Rows: [][]any{}}
			if len(parts) > 0 {
				eng := query.New(store, a.queryOptions())
				defer eng.Close()
				if out, err = eng.Query(cmd.Context(), strings.Join(parts, "\nUNION ALL\n")+"\nORDER BY 1"); err != nil {
					return fmt.Errorf("dlq list: %w", err)
				}
			}
			return query.Write(cmd.OutOrStdout(), out, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	return cmd
}

func (a *app) dlqShowCmd() *cobra.Command {
	var (
		format string
		limit  int
		stage  string
	)
	cmd := &cobra.Command{
		Use:   "show TABLE",
		Short: "List a table's dead letters, newest first: where each came from, why it failed, and the record",
		Long: `Lists the records of lake.TABLE_dlq, newest failure first: the Kafka
topic, partition and offset, when it failed, the stage and the reason, and
the record's value (shortened in table output; csv and json give it whole).`,
		Example: `  streamlake dlq show sensors
  streamlake dlq show sensors --stage convert --limit 5 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit: %d must be at least 1", limit)
			}
			switch stage {
			case "", "decode", "route", "transform", "convert":
			default:
				return fmt.Errorf("--stage: %q is not one of decode, route, transform, convert", stage)
			}
			store, err := a.openForFormat(cmd, nil, format)
			if err != nil {
				return err
			}
			defer store.Close()
			eng := query.New(store, a.queryOptions())
			defer eng.Close()
			value := "raw_value"
			if format == "table" {
				value = "CASE WHEN length(raw_value) > 120 THEN left(raw_value, 117) || '...' ELSE raw_value END"
			}
			where := ""
			if stage != "" {
				where = " WHERE error_stage = " + schema.QuoteString(stage)
			}
			res, err := eng.Query(cmd.Context(), `SELECT topic, "partition", "offset", failed_at, error_stage, error, `+value+` AS raw_value FROM `+
				schema.QuoteIdent(a.cfg.ETL.Database)+"."+schema.QuoteIdent(args[0]+etl.DLQSuffix)+where+
				` ORDER BY failed_at DESC, topic, "partition", "offset" DESC LIMIT `+strconv.Itoa(limit))
			if err != nil {
				return fmt.Errorf("dlq show: %w", err)
			}
			return query.Write(cmd.OutOrStdout(), res, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	cmd.Flags().IntVar(&limit, "limit", 20, "at most this many dead letters")
	cmd.Flags().StringVar(&stage, "stage", "", "only dead letters of this stage: decode, route, transform, convert")
	return cmd
}

func (a *app) dlqReplayCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "replay TABLE",
		Short: "Re-process a table's dead letters with the current config, exactly once",
		Long: `Reads the rows of lake.TABLE_dlq and loads them again with the current
settings (for instance after etl.on_type_mismatch became coerce-to-string).
Records that now load are appended to lake.TABLE in one commit that also
records which dead letters it brought in, so replaying again never adds a
record twice. Records are routed as 'streamlake run' routes them now: one
that another table's match takes (a record no table took, then a table
configured for it) goes into that table, in a commit of its own. Records that still fail stay in the dead-letter table; the
output counts them by reason. Safe while 'streamlake run' is writing.`,
		Example: `  streamlake dlq replay sensors
  streamlake dlq replay sensors --on-type-mismatch coerce-to-string --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := a.openForFormat(cmd, map[string]string{"on-type-mismatch": "etl.on_type_mismatch"}, format)
			if err != nil {
				return err
			}
			defer store.Close()
			values, err := a.valueDecoder()
			if err != nil {
				return err
			}
			e := etl.New(etl.Config{Database: a.cfg.ETL.Database, TimeField: a.cfg.ETL.TimeField, Tables: a.tables,
				OnTypeMismatch: a.cfg.ETL.OnTypeMismatch, MaxColumns: a.cfg.ETL.MaxColumns, Values: values, Logger: a.log}, nil, store.Iceberg())
			res, err := e.Replay(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := &query.Result{Columns: []string{"outcome", "reason", "records"},
				Types: []string{"VARCHAR", "VARCHAR", "BIGINT"}}
			out.Rows = append(out.Rows, []any{"replayed", nil, int64(res.Replayed)},
				[]any{"replayed before", nil, int64(res.Skipped)})
			db := a.cfg.ETL.Database
			var into []string
			for _, t := range slices.Sorted(maps.Keys(res.Into)) {
				// Records a table's match takes now go into it.
				out.Rows = append(out.Rows, []any{"replayed into " + db + "." + t, nil, int64(res.Into[t])})
				into = append(into, fmt.Sprintf("%d into %s.%s", res.Into[t], db, t))
			}
			for _, reason := range slices.Sorted(maps.Keys(res.StillFailing)) {
				out.Rows = append(out.Rows, []any{"still failing", reason, int64(res.StillFailing[reason])})
			}
			if format == "table" {
				if len(into) == 0 {
					into = []string{"none"}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s.%s_dlq: %d dead letters; replayed %s\n", db, args[0], res.DeadLetters, strings.Join(into, ", "))
			}
			return query.Write(cmd.OutOrStdout(), out, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	cmd.Flags().String("on-type-mismatch", "", "override etl.on_type_mismatch: dlq, coerce-to-string")
	return cmd
}

package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Work with dead-letter tables (lake.<table>_dlq)",
	}
	cmd.AddCommand(a.dlqReplayCmd())
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
record twice. Records that still fail stay in the dead-letter table; the
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
			e := etl.New(etl.Config{Database: a.cfg.ETL.Database, TimeField: a.cfg.ETL.TimeField, Tables: a.tables,
				OnTypeMismatch: a.cfg.ETL.OnTypeMismatch, MaxColumns: a.cfg.ETL.MaxColumns, Logger: a.log}, nil, store.Iceberg())
			res, err := e.Replay(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := &query.Result{Columns: []string{"outcome", "reason", "records"},
				Types: []string{"VARCHAR", "VARCHAR", "BIGINT"}}
			out.Rows = append(out.Rows, []any{"replayed", nil, int64(res.Replayed)},
				[]any{"replayed before", nil, int64(res.Skipped)})
			for _, reason := range slices.Sorted(maps.Keys(res.StillFailing)) {
				out.Rows = append(out.Rows, []any{"still failing", reason, int64(res.StillFailing[reason])})
			}
			if format == "table" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s.%s_dlq: %d dead letters; %d replayed into %s.%s\n",
					a.cfg.ETL.Database, args[0], res.DeadLetters, res.Replayed, a.cfg.ETL.Database, args[0])
			}
			return query.Write(cmd.OutOrStdout(), out, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	cmd.Flags().String("on-type-mismatch", "", "override etl.on_type_mismatch: dlq, coerce-to-string")
	return cmd
}

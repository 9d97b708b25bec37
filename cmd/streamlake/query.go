package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) queryCmd() *cobra.Command {
	var format, workgroup string
	var stats bool
	cmd := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run SQL over lake and raw tables on embedded DuckDB",
		Long: `Runs one SQL statement on embedded DuckDB. Qualified names db.table resolve
through the catalog: Iceberg tables (database lake) to the data files of
their current snapshot, external tables (database raw) to their files.

The statement runs as a query execution of the workgroup (default primary):
it gets an id, is kept in the execution history with its statistics, and its
result is saved (CSV and metadata) in the workgroup's results location; see
'streamlake queries'. The workgroup's limits apply: a query over its
bytes-scanned limit is refused before it runs. CREATE TABLE db.t AS SELECT and
INSERT INTO db.t write Iceberg tables and print rows_written; FOR VERSION AS OF
and FOR TIMESTAMP AS OF read an Iceberg table's older snapshot (see README,
"Query SQL"). A failed query prints one line,
"query ID FAILED (USER|SYSTEM): message", and exits 1. On a terminal, a query
running longer than a second shows a progress line, and a finished one its id,
time and bytes scanned (also with --stats); Ctrl-C cancels it.`,
		Example: `  streamlake query "SELECT count(*), count(DISTINCT id) FROM lake.sensors"
  streamlake query --format csv "SELECT site, avg(temperature) FROM lake.sensors GROUP BY site"
  streamlake query --workgroup adhoc --stats "SELECT * FROM raw.sensors LIMIT 10"
  streamlake query "CREATE TABLE lake.daily WITH (partitioning = ARRAY['day(ts)']) AS SELECT * FROM lake.sensors"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.quiet = true
			f, err := a.loadFormat(cmd, nil, format)
			if err != nil {
				return err
			}
			store, err := a.openCatalog(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			svc, err := newQueryService(a.cfg, store, a.log, nil)
			if err != nil {
				return err
			}
			defer closeService(svc, a.log)
			x, err := execute(cmd.Context(), svc, query.StartInput{SQL: args[0], Workgroup: workgroup}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printExecution(cmd.Context(), svc, x, f, cmd.OutOrStdout(), cmd.ErrOrStderr(), stats)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	cmd.Flags().StringVar(&workgroup, "workgroup", query.PrimaryWorkgroup, "workgroup whose limits and results location apply")
	cmd.Flags().BoolVar(&stats, "stats", false, "print the execution id, time and bytes scanned on stderr (always on a terminal)")
	return cmd
}

// execute starts in on svc and waits until it is in a final state, showing
// a progress line on errw if it is a terminal. If ctx is done first, the
// execution is cancelled and ctx's error returned.
func execute(ctx context.Context, svc *query.Service, in query.StartInput, errw io.Writer) (query.Execution, error) {
	id, err := svc.Start(ctx, in)
	if err != nil {
		return query.Execution{}, err
	}
	return await(ctx, svc, id, errw)
}

// await is execute's wait for execution id, which has started.
func await(ctx context.Context, svc *query.Service, id string, errw io.Writer) (query.Execution, error) {
	stop := startSpinner(errw, svc, id)
	x, err := svc.Wait(ctx, id)
	stop()
	if err == nil {
		return x, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cerr := svc.Cancel(cctx, id); cerr != nil {
		return query.Execution{}, errors.Join(err, cerr)
	}
	if x, gerr := svc.Get(cctx, id); gerr == nil {
		return x, err
	}
	return query.Execution{}, err
}

// printExecution writes the full result of a SUCCEEDED execution to out in
// format, and its statistics line to errw when stats is set or errw is a
// terminal. Any other state is an error (see failure).
func printExecution(ctx context.Context, svc *query.Service, x query.Execution, format string, out, errw io.Writer, stats bool) error {
	if x.State != query.Succeeded {
		return failure(x)
	}
	res, err := fullResult(ctx, svc, x.ID, format)
	if err != nil {
		return err
	}
	if err := query.Write(out, res, format); err != nil {
		return err
	}
	if stats || isTerminal(errw) {
		fmt.Fprintln(errw, statsLine(x))
	}
	return nil
}

// queryOptions makes the configured databases known to the engine.
func (a *app) queryOptions() query.Options {
	return engineOptions(a.cfg, a.log, nil)
}

// workgroups converts the configured workgroups for the query service.
func workgroups(c config.Config) []query.Workgroup {
	out := make([]query.Workgroup, 0, len(c.Workgroups))
	for _, w := range c.Workgroups {
		out = append(out, query.Workgroup(w))
	}
	return out
}

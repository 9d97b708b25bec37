package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/query"
)

// Named queries: streamlake queries save | named | run | delete.

func (a *app) queriesSaveCmd() *cobra.Command {
	var in query.NamedQueryInput
	cmd := &cobra.Command{
		Use:   `save NAME "SQL"`,
		Short: "Save SQL as a named query of a workgroup",
		Long: `Saves SQL under NAME in the workgroup (default primary), as Athena's named
queries, in the catalog: 'streamlake queries run NAME' runs it, and the HTTP
API of streamlake run and serve serves it (/v1/named-queries). NAME is 1 to
128 letters, digits, '_', '.' and '-', unique within the workgroup: saving a
name the workgroup has is an error (delete it first). The SQL may have ?
placeholders, bound by 'queries run --param'. It prints the new query's id.`,
		Example: `  streamlake queries save daily_counts "SELECT date_trunc('day', ts) AS day, count(*) FROM lake.sensors GROUP BY day ORDER BY day"
  streamlake queries save by_site --description "readings of one site" "SELECT * FROM lake.sensors WHERE site = ? LIMIT 100"`,
		Args: cobra.ExactArgs(2),
		RunE: a.withService(nil, func(cmd *cobra.Command, svc *query.Service, _ string, args []string) error {
			in.Name, in.SQL = args[0], args[1]
			q, err := svc.CreateNamedQuery(cmd.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved named query %s in workgroup %s: %s\n", q.Name, q.Workgroup, q.ID)
			return nil
		}),
	}
	cmd.Flags().StringVar(&in.Workgroup, "workgroup", query.PrimaryWorkgroup, "workgroup of the named query")
	cmd.Flags().StringVar(&in.Description, "description", "", "what the query is for (up to 1024 bytes)")
	cmd.Flags().StringVar(&in.Database, "database", "", "database the query is about (informational: the SQL names tables as db.table)")
	return cmd
}

func (a *app) queriesNamedCmd(format *string) *cobra.Command {
	var workgroup string
	cmd := &cobra.Command{
		Use:   "named",
		Short: "List the named queries, by workgroup and name",
		Example: `  streamlake queries named
  streamlake queries named --workgroup adhoc --format json`,
		Args: cobra.NoArgs,
		RunE: a.withService(format, func(cmd *cobra.Command, svc *query.Service, f string, _ []string) error {
			list, err := svc.NamedQueries(cmd.Context(), workgroup)
			if err != nil {
				return err
			}
			if f == query.FormatJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), list)
			}
			return query.Write(cmd.OutOrStdout(), namedResult(list, f == query.FormatTable), f)
		}),
	}
	cmd.Flags().StringVar(&workgroup, "workgroup", "", "only the named queries of this workgroup (default: every workgroup)")
	return cmd
}

// namedResult is named queries as rows; short shortens the SQL to a line.
func namedResult(list []query.NamedQuery, short bool) *query.Result {
	out := &query.Result{
		Columns: []string{"name", "workgroup", "id", "created", "database", "description", "sql"},
		Types:   []string{"VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMPTZ", "VARCHAR", "VARCHAR", "VARCHAR"},
		Rows:    [][]any{},
	}
	for _, q := range list {
		sql := q.SQL
		if short {
			sql = strings.Join(strings.Fields(sql), " ")
			if r := []rune(sql); len(r) > 60 {
				sql = string(r[:59]) + "…"
			}
		}
		out.Rows = append(out.Rows, []any{q.Name, q.Workgroup, q.ID, q.Created.UTC(), q.Database, q.Description, sql})
	}
	return out
}

func (a *app) queriesRunCmd(format *string) *cobra.Command {
	var (
		workgroup string
		params    []string
		stats     bool
	)
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a named query, binding --param values to its ? placeholders",
		Long: `Runs the named query NAME of the workgroup (default primary; NAME may also be
the query's id) as 'streamlake query' runs SQL: an execution of the named
query's workgroup, printed in --format, with the same statistics line and
failure line ("query ID FAILED (USER|SYSTEM): message", exit status 1).

Each --param binds the next ? placeholder, in order. Values are bound as text
and DuckDB casts them to the type the placeholder needs (id = ? reads "5" as
5); where the SQL gives no type, write CAST(? AS type). A query with more or
fewer placeholders than --param values fails as the user's error.`,
		Example: `  streamlake queries run daily_counts
  streamlake queries run by_site --param north --format csv
  streamlake queries run --workgroup adhoc between --param 2026-11-01 --param 2026-11-02`,
		Args: cobra.ExactArgs(1),
		RunE: a.withService(format, func(cmd *cobra.Command, svc *query.Service, f string, args []string) error {
			bind := make([]any, len(params))
			for i, p := range params {
				bind[i] = p
			}
			id, err := svc.StartNamed(cmd.Context(), query.StartNamedInput{Ref: args[0], Workgroup: workgroup, Params: bind})
			if err != nil {
				return err
			}
			x, err := await(cmd.Context(), svc, id, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printExecution(cmd.Context(), svc, x, f, cmd.OutOrStdout(), cmd.ErrOrStderr(), stats)
		}),
	}
	cmd.Flags().StringVar(&workgroup, "workgroup", query.PrimaryWorkgroup, "workgroup whose named query NAME is")
	cmd.Flags().StringArrayVar(&params, "param", nil, "value of the next ? placeholder (repeat for each)")
	cmd.Flags().BoolVar(&stats, "stats", false, "print the execution id, time and bytes scanned on stderr (always on a terminal)")
	return cmd
}

func (a *app) queriesDeleteCmd() *cobra.Command {
	var workgroup string
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a named query",
		Long:    `Deletes the named query NAME of the workgroup (default primary; NAME may also be the query's id).`,
		Example: `  streamlake queries delete daily_counts`,
		Args:    cobra.ExactArgs(1),
		RunE: a.withService(nil, func(cmd *cobra.Command, svc *query.Service, _ string, args []string) error {
			q, err := svc.DeleteNamedQuery(cmd.Context(), workgroup, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted named query %s of workgroup %s: %s\n", q.Name, q.Workgroup, q.ID)
			return nil
		}),
	}
	cmd.Flags().StringVar(&workgroup, "workgroup", query.PrimaryWorkgroup, "workgroup whose named query NAME is")
	return cmd
}

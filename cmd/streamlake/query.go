package main

import (
	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) queryCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run SQL over lake and raw tables on embedded DuckDB",
		Long: `Runs one SQL statement on embedded DuckDB. Qualified names db.table resolve
through the catalog: Iceberg tables (database lake) to the data files of
their current snapshot, external tables (database raw) to their files.`,
		Example: `  streamlake query "SELECT count(*), count(DISTINCT id) FROM lake.sensors"
  streamlake query --format csv "SELECT site, avg(temperature) FROM lake.sensors GROUP BY site"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.quiet = true
			if err := a.load(cmd, nil); err != nil {
				return err
			}
			if _, err := query.ParseFormat(format); err != nil {
				return err
			}
			store, err := a.openCatalog(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			res, err := query.New(store, a.queryOptions()).Query(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return query.Write(cmd.OutOrStdout(), res, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	return cmd
}

// queryOptions makes the configured databases known to the engine.
func (a *app) queryOptions() query.Options {
	return query.Options{Databases: []string{a.cfg.ETL.Database, a.cfg.Crawl.Database}, Logger: a.log}
}

// workgroups converts the configured workgroups for the query service.
func workgroups(c config.Config) []query.Workgroup {
	out := make([]query.Workgroup, 0, len(c.Workgroups))
	for _, w := range c.Workgroups {
		out = append(out, query.Workgroup(w))
	}
	return out
}

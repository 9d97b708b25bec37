package main

import (
	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/server"
)

// defaultServeListen is the address of streamlake serve: next to
// streamlake run's metrics.listen default (127.0.0.1:9464), so both can run
// on one host.
const defaultServeListen = "127.0.0.1:9465"

func (a *app) serveCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP JSON query API over the data directory's lake until SIGINT/SIGTERM",
		Long: `Serves the query API on --listen (default ` + defaultServeListen + `) without
running the pipeline:

  POST /v1/queries                {"sql": "...", "workgroup": "...", "params": [...]} -> 202 {"id": "..."}
  GET  /v1/queries/ID             the execution: state, statistics, error
  GET  /v1/queries/ID/results     ?offset=&limit= a page of the saved result
  GET  /v1/queries                ?state=&workgroup=&before=&limit= executions, newest first
  POST /v1/queries/ID/cancel      cancel, answering once it has stopped
  POST   /v1/named-queries          {"name", "sql", "workgroup", "database", "description"} save SQL
  GET    /v1/named-queries          ?workgroup= named queries, by workgroup and name
  GET    /v1/named-queries/REF      ?workgroup= one, by name (in the workgroup) or id
  DELETE /v1/named-queries/REF      ?workgroup= delete it
  POST   /v1/named-queries/REF/start  ?workgroup= {"params": [...]} -> 202 {"id": "..."}
  GET  /healthz

streamlake run serves the same /v1/queries and /v1/named-queries API on
metrics.listen. Queries
still running at SIGINT/SIGTERM end FAILED (SYSTEM).`,
		Example: `  streamlake serve --listen 127.0.0.1:9465
  curl -s -d '{"sql": "SELECT count(*) FROM lake.sensors"}' http://127.0.0.1:9465/v1/queries`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, nil); err != nil {
				return err
			}
			svc, closeSvc, err := a.openService(cmd.Context())
			if err != nil {
				return err
			}
			defer closeSvc()
			return server.New(svc, a.log.With("stage", "query")).ListenAndServe(cmd.Context(), listen)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", defaultServeListen, "address of the HTTP API")
	return cmd
}

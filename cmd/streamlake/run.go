package main

import (
	"github.com/spf13/cobra"
)

func (a *app) runCmd() *cobra.Command {
	var exitWhenIdle bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run ingest, ETL and crawler until SIGINT/SIGTERM",
		Long: `Consumes the configured topics into staging objects, loads them into Iceberg
tables in database lake (bad records into lake.<table>_dlq), and crawls the
staging area into database raw. Without --brokers it starts the embedded
broker in-process. On SIGINT/SIGTERM it flushes, commits and exits.`,
		Example: `  streamlake run --brokers 127.0.0.1:9092 --topics sensors
  streamlake run --brokers 127.0.0.1:9092 --exit-when-idle`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := a.load(cmd, map[string]string{
				"brokers": "kafka.brokers", "topics": "kafka.topics", "group": "kafka.group",
				"metrics-listen": "metrics.listen",
			})
			if err != nil {
				return err
			}
			p, err := a.openPipeline(cmd.Context())
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.serveMetrics(cmd.Context(), a.cfg.Metrics.Listen); err != nil {
				return err
			}
			return p.run(cmd.Context(), exitWhenIdle)
		},
	}
	f := cmd.Flags()
	f.String("brokers", "", "comma-separated Kafka seed brokers (default: embedded broker)")
	f.String("topics", "", "comma-separated topics (default: every topic not starting with _)")
	f.String("group", "streamlake", "consumer group")
	f.String("metrics-listen", "127.0.0.1:9464", "address of /metrics (empty to disable)")
	f.BoolVar(&exitWhenIdle, "exit-when-idle", false, "exit 0 once consumer lag is zero and every staging object is in the lake")
	return cmd
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/broker"
)

func (a *app) brokerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-compatible broker until SIGINT/SIGTERM",
		Long: `Runs the embedded Kafka-compatible broker (franz-go kfake) with its log under
DATA_DIR/kafka, auto-creating topics on first use. Any Kafka client works
against it. On SIGINT/SIGTERM it shuts down cleanly and keeps its state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, map[string]string{"listen": "kafka.listen", "partitions": "kafka.partitions"}); err != nil {
				return err
			}
			b, err := broker.Start(broker.Config{
				Listen: a.cfg.Kafka.Listen, DataDir: a.cfg.Paths().Kafka,
				Partitions: a.cfg.Kafka.Partitions, Logger: a.log,
			})
			if err != nil {
				return err
			}
			a.log.Info("broker listening", "addr", b.Addr(), "data_dir", a.cfg.Paths().Kafka)
			fmt.Fprintf(cmd.OutOrStdout(), "broker listening on %s\n", b.Addr())
			return b.Run(cmd.Context())
		},
	}
	cmd.Flags().String("listen", "127.0.0.1:9092", "address to listen on")
	cmd.Flags().Int("partitions", 4, "partitions of auto-created topics")
	return cmd
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/broker"
	"github.com/streamlake/streamlake/internal/registry"
)

func (a *app) brokerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-compatible broker until SIGINT/SIGTERM",
		Long: `Runs the embedded Kafka-compatible broker (franz-go kfake) with its log under
DATA_DIR/kafka, auto-creating topics on first use. Any Kafka client works
against it. On SIGINT/SIGTERM it shuts down cleanly and keeps its state.

With --registry-listen (kafka.registry_listen) it also serves a Confluent-compatible schema registry
(franz-go srfake), for producers of Avro or JSON Schema values; point
kafka.schema_registry at it. Its changes are logged under DATA_DIR/kafka and
replayed on start, so schema ids keep their schemas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, map[string]string{"listen": "kafka.listen", "partitions": "kafka.partitions", "registry-listen": "kafka.registry_listen"}); err != nil {
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
			if addr := a.cfg.Kafka.RegistryListen; addr != "" {
				url, stop, err := a.serveRegistry(addr)
				if err != nil {
					b.Close()
					return err
				}
				defer stop()
				fmt.Fprintf(cmd.OutOrStdout(), "schema registry listening on %s\n", url)
			}
			return b.Run(cmd.Context())
		},
	}
	cmd.Flags().String("listen", "127.0.0.1:9092", "address to listen on")
	cmd.Flags().Int("partitions", 4, "partitions of auto-created topics")
	cmd.Flags().String("registry-listen", "", "also serve a Confluent-compatible schema registry on this address (e.g. 127.0.0.1:8081), its schemas kept in DATA_DIR/kafka/schema-registry.jsonl")
	return cmd
}

// serveRegistry serves the embedded schema registry on addr
// (kafka.registry_listen, or broker's --registry-listen) until stop, and
// returns its URL.
func (a *app) serveRegistry(addr string) (url string, stop func(), err error) {
	reg, err := registry.NewServer(filepath.Join(a.cfg.Paths().Kafka, "schema-registry.jsonl"))
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		reg.Close()
		return "", nil, fmt.Errorf("kafka.registry_listen: %w", err)
	}
	srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	url = "http://" + ln.Addr().String()
	a.log.Info("schema registry listening", "url", url)
	return url, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		reg.Close()
	}, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/streamlake/streamlake/internal/produce"
)

func (a *app) produceCmd() *cobra.Command {
	var pc produce.Config
	var brokers string
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Send synthetic (sensors, orders) or file records to a Kafka topic",
		Example: `  streamlake produce --brokers 127.0.0.1:9092 --topic sensors --dataset sensors --records 100000
  streamlake produce --brokers 127.0.0.1:9092 --topic events --file events.jsonl --rate 1000
  streamlake produce --topic orders --dataset orders --records 1000 --value-format avro --registry http://127.0.0.1:8081`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			a.quiet = true
			if err := a.load(cmd, map[string]string{"brokers": "kafka.brokers"}); err != nil {
				return err
			}
			pc.Brokers = a.cfg.Kafka.Brokers
			if len(pc.Brokers) == 0 {
				pc.Brokers = []string{a.cfg.Kafka.Listen}
			}
			if pc.Registry == "" {
				pc.Registry = a.cfg.Kafka.SchemaRegistry
			}
			if pc.Registry == "" && a.cfg.Kafka.RegistryListen != "" {
				pc.Registry = "http://" + a.cfg.Kafka.RegistryListen
			}
			pc.Logger = a.log
			if pc.ClientOpts, err = security(a.cfg).Opts(); err != nil {
				return err
			}
			if term.IsTerminal(int(os.Stderr.Fd())) {
				pc.Progress = os.Stderr
			}
			if err := pc.Validate(); err != nil {
				return err
			}
			sum, err := produce.Run(cmd.Context(), pc)
			if err == nil || sum.Records > 0 || errors.Is(err, context.Canceled) {
				// What was sent, even when it stopped part way.
				fmt.Fprintln(cmd.OutOrStdout(), sum.String())
			}
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&brokers, "brokers", "", "comma-separated seed brokers (default: the embedded broker's --listen address)")
	f.StringVar(&pc.Topic, "topic", "", "topic to produce to")
	f.StringVar(&pc.Dataset, "dataset", "", "synthetic dataset: sensors or orders")
	f.StringVar(&pc.File, "file", "", "replay a .jsonl file, one record per line, instead of a dataset")
	f.IntVar(&pc.Records, "records", 0, "records to send (with --file: 0 = whole file)")
	f.Float64Var(&pc.Rate, "rate", 0, "records per second (0 = as fast as possible)")
	f.Int64Var(&pc.Seed, "seed", 1, "random seed of the synthetic data")
	f.StringVar(&pc.ValueFormat, "value-format", "json", "record values: json, avro or protobuf (a dataset's, in Schema Registry's wire format, its schema registered as TOPIC-value)")
	f.StringVar(&pc.Registry, "registry", "", "schema registry URL for --value-format avro and protobuf (default: kafka.schema_registry, else the embedded registry at kafka.registry_listen)")
	return cmd
}

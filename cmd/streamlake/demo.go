package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/produce"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) demoCmd() *cobra.Command {
	var records int
	var topic string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline once on embedded defaults and show SQL results",
		Long: `Starts the embedded broker, produces synthetic sensors records, runs ingest,
ETL and crawler until idle, then runs a few SQL queries over the lake and the
raw staging tables, and checks that the lake gained exactly the produced rows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.quiet = true
			if err := a.load(cmd, nil); err != nil {
				return err
			}
			if records < 1 {
				return fmt.Errorf("--records: %d must be at least 1", records)
			}
			return a.demo(cmd, topic, records)
		},
	}
	cmd.Flags().IntVar(&records, "records", 100_000, "sensors records to produce")
	cmd.Flags().StringVar(&topic, "topic", "sensors", "topic (and lake table) to use")
	return cmd
}

func (a *app) demo(cmd *cobra.Command, topic string, records int) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	a.cfg.Kafka.Brokers = nil
	a.cfg.Kafka.Listen = "127.0.0.1:0" // never collide with a broker already running
	a.cfg.Kafka.Topics = []string{topic}
	a.cfg.Metrics.Listen = ""
	start := time.Now()
	p, err := a.openPipeline(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	name := catalog.TableName(topic)
	table := a.cfg.ETL.Database + "." + name
	before, err := lakeRows(ctx, p.store, a.cfg.ETL.Database, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "data dir %s; embedded broker on %s\n", a.cfg.DataDir, p.embedded.Addr())

	pc := produce.Config{Brokers: []string{p.embedded.Addr()}, Topic: topic, Dataset: produce.DatasetSensors,
		Records: records, Seed: time.Now().UnixNano(), Logger: a.log}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		pc.Progress = os.Stderr
	}
	sum, err := produce.Run(ctx, pc)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, sum.String())

	runStart := time.Now()
	if err := p.run(ctx, true); err != nil {
		return err
	}
	fmt.Fprintf(out, "pipeline idle after %s: every record is in the lake\n\n", time.Since(runStart).Round(time.Millisecond))

	queries := []string{
		fmt.Sprintf("SELECT count(*) AS lake_rows, count(DISTINCT id) AS distinct_ids FROM %s", table),
		fmt.Sprintf(`SELECT site, count(*) AS readings, round(avg(temperature), 2) AS avg_temperature,
	round(min(battery), 1) AS min_battery, max(ts) AS newest_event
FROM %s GROUP BY site ORDER BY site LIMIT 8`, table),
		fmt.Sprintf("SELECT status, count(*) AS readings FROM %s GROUP BY status ORDER BY readings DESC", table),
		fmt.Sprintf("SELECT dt, count(*) AS staged_records FROM %s.%s GROUP BY dt ORDER BY dt", a.cfg.Crawl.Database, name),
	}
	eng := query.New(p.store, a.queryOptions())
	for _, q := range queries {
		fmt.Fprintf(out, "sql> %s\n", q)
		res, err := eng.Query(ctx, q)
		if err != nil {
			return err
		}
		if err := query.Write(out, res, "table"); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	after, err := lakeRows(ctx, p.store, a.cfg.ETL.Database, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "produced %d records; %s gained %d rows (now %d) in %s\n",
		sum.Records, table, after-before, after, time.Since(start).Round(time.Millisecond))
	if after-before != int64(sum.Records) {
		return fmt.Errorf("demo: %s gained %d rows but %d records were produced", table, after-before, sum.Records)
	}
	fmt.Fprintln(out, "OK: the lake row count equals the produced count")
	return nil
}

// lakeRows counts a lake table's rows (0 if it does not exist yet).
func lakeRows(ctx context.Context, store *catalog.Store, database, name string) (int64, error) {
	if _, err := store.LoadIceberg(ctx, database, name); errors.Is(err, catalog.ErrNoSuchTable) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	res, err := query.New(store, query.Options{Databases: []string{database}}).Query(ctx, "SELECT count(*) FROM "+database+"."+name)
	if err != nil {
		return 0, err
	}
	n, ok := res.Rows[0][0].(int64)
	if !ok {
		return 0, fmt.Errorf("demo: count(*) returned %T", res.Rows[0][0])
	}
	return n, nil
}

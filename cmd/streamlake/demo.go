package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/monitor"
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
	// Fresh lag gauges and monitor samples, for the status shown while
	// records stream.
	a.cfg.Monitor.SampleInterval = time.Second
	a.lagInterval = time.Second
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

	if err := produceBadRecords(ctx, p.embedded.Addr(), topic, demoBadRecords); err != nil {
		return err
	}
	// The records stream in over about three seconds while the pipeline
	// runs, so that the status below shows it working.
	pc := produce.Config{Brokers: []string{p.embedded.Addr()}, Topic: topic, Dataset: produce.DatasetSensors,
		Records: records, Rate: float64(records) / 3, Seed: time.Now().UnixNano(), Logger: a.log}
	produced := make(chan struct{})
	p.input = produced
	var sum produce.Summary
	var produceErr error
	go func() {
		defer close(produced)
		sum, produceErr = produce.Run(ctx, pc)
	}()
	runStart := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- p.run(ctx, true) }()

	// The status as soon as rows, dead letters and an ingest rate are all
	// in (while records still arrive, unless the machine is slow).
	var st monitor.Status
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); <-tick.C {
		var err error
		if st, err = p.monitor.Status(p.reg, catalog.TableName); err != nil {
			return err
		}
		if ts := st.Topics; len(ts) == 1 && ts[0].RowsCommitted > 0 && ts[0].DeadLetters >= demoBadRecords && ts[0].IngestRate != nil && *ts[0].IngestRate > 0 {
			break
		}
	}
	fmt.Fprintln(out, "status while records stream in (what `streamlake status` shows):")
	if err := query.Write(out, topicsResult(st), "table"); err != nil {
		return err
	}
	fmt.Fprintln(out)
	<-produced
	if produceErr != nil {
		return produceErr
	}
	fmt.Fprintln(out, sum.String())
	if err := <-runErr; err != nil {
		return err
	}
	fmt.Fprintf(out, "pipeline idle after %s: every record is in the lake, %d bad ones in %s_dlq\n\n",
		time.Since(runStart).Round(time.Millisecond), demoBadRecords, table)

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

// demoBadRecords are records that are not JSON, produced before the good
// ones: the demo shows them kept, with their reason, in the dead-letter
// table.
const demoBadRecords = 20

// produceBadRecords sends n records that are not JSON to topic.
func produceBadRecords(ctx context.Context, addr, topic string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer cl.Close()
	for i := range n {
		r := &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "sensor %d: reading unavailable", i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			return fmt.Errorf("demo: produce: %w", err)
		}
	}
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

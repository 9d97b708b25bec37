package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/monitor"
	"github.com/streamlake/streamlake/internal/query"
)

// statusSource answers status questions from the running `streamlake run`
// (its metrics.listen address) or, when none answers, from the monitor
// history in the data directory.
type statusSource struct {
	a       *app
	live    string // base URL of the running process, or ""
	offline *monitor.Engine
}

// openStatus loads the config of a status command, checks its --format,
// and finds where the status comes from.
func (a *app) openStatus(cmd *cobra.Command, format string) (*statusSource, error) {
	a.quiet = true
	if _, err := a.loadFormat(cmd, map[string]string{"metrics-listen": "metrics.listen"}, format); err != nil {
		return nil, err
	}
	return a.statusSource(cmd.Context())
}

func (a *app) statusSource(ctx context.Context) (*statusSource, error) {
	s := &statusSource{a: a}
	if addr := a.cfg.Metrics.Listen; addr != "" {
		base := "http://" + addr
		c := http.Client{Timeout: 2 * time.Second}
		if resp, err := c.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.live = base
				return s, nil
			}
		}
	}
	e, err := monitor.New(a.cfg.Monitor, prometheus.NewRegistry(), a.cfg.Paths().Monitor,
		monitor.WithLogger(a.log), monitor.WithTableName(catalog.TableName))
	if err != nil {
		return nil, err
	}
	a.log.Warn("no streamlake run answers; showing the lake tables and the alarm states it last saved", "stage", "monitor", "metrics_listen", a.cfg.Metrics.Listen)
	s.offline = e
	return s, nil
}

func (s *statusSource) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.live+path, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		var e struct{ Error string }
		if resp.StatusCode == http.StatusNotFound && json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error) // what the run says is missing
		}
		return fmt.Errorf("status: %s%s: %s: %s", s.live, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (s *statusSource) status(ctx context.Context) (monitor.Status, error) {
	if s.offline != nil {
		return s.offline.Status(prometheus.NewRegistry(), catalog.TableName)
	}
	var st monitor.Status
	return st, s.get(ctx, "/v1/status", &st)
}

func (s *statusSource) history(ctx context.Context, name string) ([]monitor.Transition, error) {
	if s.offline != nil {
		if err := s.offline.CheckAlarm(name); err != nil {
			return nil, err
		}
		return s.offline.History(name), nil
	}
	var h []monitor.Transition
	return h, s.get(ctx, "/v1/alarms/"+url.PathEscape(name)+"/history", &h)
}

func (a *app) statusCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show lag, ingest rate, freshness, dead letters and alarm states; exit 1 if any alarm is in ALARM",
		Long: `Asks the running 'streamlake run' (at metrics.listen) for the state of every
topic and lake table: consumer lag in records and seconds, ingest rate over the
last minute, records consumed and rows committed, newest event time and newest
Kafka timestamp committed, mean produce-to-queryable latency, dead letters, the last
staging crawl, and the alarms in
ALARM that name the topic or table. Then, from the catalog, whether or not a
process runs, every lake table as all processes loading it committed it: its
topics, rows, data files, bytes, last commit, newest event time (the data
files' upper bound of the event-time column) and dead letters. Then every
alarm's state. Without a running process the topics are left out and the
alarm states are those last saved in the data directory. The exit status is 1
when any alarm is in ALARM, for scripts and health checks.`,
		Example: `  streamlake status
  streamlake status --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := a.openStatus(cmd, format)
			if err != nil {
				return err
			}
			st, err := src.status(cmd.Context())
			if err != nil {
				return err
			}
			lake := a.lakeStatus(cmd.Context())
			w := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				out := struct {
					monitor.Status
					Tables []etl.TableState `json:"tables"`
				}{st, lake}
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				if err := query.Write(w, topicsResult(st), format); err != nil {
					return err
				}
				if format == "table" {
					fmt.Fprintln(w)
					if err := query.Write(w, tablesResult(lake), format); err != nil {
						return err
					}
					fmt.Fprintln(w)
					if err := query.Write(w, alarmsResult(st.Alarms), format); err != nil {
						return err
					}
				}
			}
			return inAlarm(st)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	cmd.Flags().String("metrics-listen", "", "address of the running streamlake run (default metrics.listen)")
	return cmd
}

func (a *app) alarmsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarms",
		Short: "List alarms and their state history",
	}
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every alarm with its state, since when and why; exit 1 if any is in ALARM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := a.openStatus(cmd, format)
			if err != nil {
				return err
			}
			st, err := src.status(cmd.Context())
			if err != nil {
				return err
			}
			if err := query.Write(cmd.OutOrStdout(), alarmsResult(st.Alarms), format); err != nil {
				return err
			}
			return inAlarm(st)
		},
	}
	history := &cobra.Command{
		Use:   "history NAME",
		Short: "Show an alarm's state transitions, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := a.openStatus(cmd, format)
			if err != nil {
				return err
			}
			h, err := src.history(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := &query.Result{Columns: []string{"timestamp", "old_state", "new_state", "reason", "series"},
				Types: []string{"TIMESTAMPTZ", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}, Rows: [][]any{}}
			for _, t := range h {
				out.Rows = append(out.Rows, []any{t.Timestamp.UTC(), string(t.OldState), string(t.NewState), t.Reason, strings.Join(t.Series, " ")})
			}
			return query.Write(cmd.OutOrStdout(), out, format)
		},
	}
	for _, c := range []*cobra.Command{list, history} {
		c.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
		c.Flags().String("metrics-listen", "", "address of the running streamlake run (default metrics.listen)")
	}
	cmd.AddCommand(list, history)
	return cmd
}

// inAlarm is the error status and alarms list exit with when an alarm is
// in ALARM.
func inAlarm(st monitor.Status) error {
	var names []string
	for _, a := range st.Alarms {
		if a.State == monitor.StateAlarm {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%d alarm(s) in ALARM: %s", len(names), strings.Join(names, ", "))
}

func topicsResult(st monitor.Status) *query.Result {
	out := &query.Result{
		Columns: []string{"topic", "table", "lag_records", "lag_seconds", "ingest_rate", "records_consumed",
			"rows_committed", "newest_event", "newest_committed", "freshness_s", "dead_letters", "last_crawl", "alarms"},
		Types: []string{"VARCHAR", "VARCHAR", "BIGINT", "DOUBLE", "DOUBLE", "BIGINT", "BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "DOUBLE", "BIGINT", "TIMESTAMPTZ", "VARCHAR"},
		Rows:  [][]any{},
	}
	for _, t := range st.Topics {
		out.Rows = append(out.Rows, []any{t.Topic, t.Table, int64(t.LagRecords), round(t.LagSeconds), roundOrNil(t.IngestRate),
			int64(t.RecordsConsumed), int64(t.RowsCommitted), timeOrNil(t.NewestEvent), timeOrNil(t.NewestCommitted),
			round(t.Freshness), int64(t.DeadLetters), timeOrNil(t.LastCrawl), alarmNames(t.Alarms)})
	}
	return out
}

// lakeStatus reads the state of the lake's tables from the catalog. A
// catalog that cannot be read leaves them out with a warning, so that
// status still shows the topics and alarms; a data directory without a
// catalog yet has no tables (and gets no catalog file).
func (a *app) lakeStatus(ctx context.Context) []etl.TableState {
	tables := []etl.TableState{}
	if a.cfg.Catalog.URI == "" {
		if _, err := os.Stat(a.cfg.Paths().CatalogDB); errors.Is(err, fs.ErrNotExist) {
			return tables
		}
	}
	store, err := a.openCatalog(ctx)
	if err == nil {
		defer store.Close()
		var got []etl.TableState
		if got, err = etl.LakeStatus(ctx, store.Iceberg(), a.cfg.ETL.Database); err == nil && got != nil {
			tables = got
		}
	}
	if err != nil {
		a.log.Warn("lake tables left out of the status", "stage", "catalog", "error", err)
	}
	return tables
}

func tablesResult(tables []etl.TableState) *query.Result {
	out := &query.Result{
		Columns: []string{"table", "topics", "rows", "data_files", "bytes", "last_commit", "newest_event", "dead_letters"},
		Types:   []string{"VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "TIMESTAMPTZ", "TIMESTAMPTZ", "BIGINT"},
		Rows:    [][]any{},
	}
	for _, t := range tables {
		out.Rows = append(out.Rows, []any{t.Table, strings.Join(t.Topics, " "), t.Rows, t.DataFiles, t.Bytes,
			timeOrNil(t.LastCommit), timeOrNil(t.NewestEvent), t.DeadLetters})
	}
	return out
}

func alarmsResult(alarms []monitor.AlarmStatus) *query.Result {
	out := &query.Result{Columns: []string{"alarm", "state", "since", "reason"},
		Types: []string{"VARCHAR", "VARCHAR", "TIMESTAMPTZ", "VARCHAR"}, Rows: [][]any{}}
	for _, a := range alarms {
		var since any
		if !a.Since.IsZero() {
			since = a.Since.UTC().Truncate(time.Millisecond)
		}
		out.Rows = append(out.Rows, []any{a.Name, string(a.State), since, a.Reason})
	}
	return out
}

// alarmNames lists the alarms in ALARM for a topic, or says there are none.
func alarmNames(names []string) string {
	if len(names) == 0 {
		return "none in ALARM"
	}
	return strings.Join(names, " ")
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// roundOrNil is round(*f), or NULL for a value not measured yet.
func roundOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return round(*f)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Millisecond)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/query"
)

// openService opens the catalog of the data directory and a query service
// on it. close stops the service and closes the catalog.
func (a *app) openService(ctx context.Context) (*query.Service, func(), error) {
	store, err := a.openCatalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	svc, err := newQueryService(a.cfg, store, a.log, nil)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() {
		closeService(svc, a.log)
		store.Close()
	}, nil
}

func (a *app) queriesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queries",
		Short: "List, show, page through the results of, and cancel query executions; save and run named queries",
		Long: `Every query (streamlake query, streamlake sql, the HTTP API of streamlake
run and streamlake serve) is an execution with an id, kept in the catalog's
execution history with its state, statistics and saved result. list, show
and results read the history and the saved results of the data directory and
need no running process; cancel asks the process that runs the query.

Named queries are SQL saved in the catalog under a name unique within a
workgroup (Athena's named queries): save, named (list), run (with --param
values for ? placeholders) and delete.`,
	}
	var format string
	addFormat := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
		return c
	}
	cmd.AddCommand(addFormat(a.queriesListCmd(&format)), addFormat(a.queriesShowCmd(&format)),
		addFormat(a.queriesResultsCmd(&format)), a.queriesCancelCmd(),
		a.queriesSaveCmd(), addFormat(a.queriesNamedCmd(&format)), addFormat(a.queriesRunCmd(&format)), a.queriesDeleteCmd())
	return cmd
}

func (a *app) queriesListCmd(format *string) *cobra.Command {
	var workgroup, state string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first",
		Example: `  streamlake queries list
  streamlake queries list --state FAILED --workgroup adhoc --limit 10 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.quiet = true
			f, err := a.loadFormat(cmd, nil, *format)
			if err != nil {
				return err
			}
			filter := query.ListFilter{Workgroup: workgroup, Limit: limit}
			if state != "" {
				if filter.State, err = query.ParseState(state); err != nil {
					return fmt.Errorf("--state: %w", err)
				}
			}
			svc, closeSvc, err := a.openService(cmd.Context())
			if err != nil {
				return err
			}
			defer closeSvc()
			list, err := svc.List(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if f == query.FormatJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), list)
			}
			return query.Write(cmd.OutOrStdout(), listResult(list, f == query.FormatTable), f)
		},
	}
	cmd.Flags().StringVar(&workgroup, "workgroup", "", "only executions of this workgroup")
	cmd.Flags().StringVar(&state, "state", "", "only executions in this state: QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many executions")
	return cmd
}

func listResult(list []query.Execution, short bool) *query.Result {
	out := &query.Result{
		Columns: []string{"id", "state", "workgroup", "submitted", "elapsed_ms", "rows", "bytes_scanned", "sql"},
		Types:   []string{"VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMPTZ", "BIGINT", "BIGINT", "BIGINT", "VARCHAR"},
		Rows:    [][]any{},
	}
	for _, x := range list {
		var elapsed any
		if !x.Finished.IsZero() {
			elapsed = x.Finished.Sub(x.Submitted).Milliseconds()
		}
		sql := strings.Join(strings.Fields(x.SQL), " ")
		if r := []rune(sql); short && len(r) > 60 {
			sql = string(r[:59]) + "…"
		}
		out.Rows = append(out.Rows, []any{x.ID, string(x.State), x.Workgroup, x.Submitted.UTC().Truncate(time.Millisecond), elapsed,
			x.Statistics.RowsReturned, x.Statistics.BytesScanned, sql})
	}
	return out
}

func (a *app) queriesShowCmd(format *string) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an execution: its SQL, state, error, timings, statistics and result file",
		Args:  cobra.ExactArgs(1),
		RunE: a.withService(format, func(cmd *cobra.Command, svc *query.Service, f string, args []string) error {
			x, err := svc.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f == query.FormatJSON {
				return writeIndentedJSON(cmd.OutOrStdout(), x)
			}
			return query.Write(cmd.OutOrStdout(), showResult(x), f)
		}),
	}
}

// showResult is an execution as field, value rows.
func showResult(x query.Execution) *query.Result {
	out := &query.Result{Columns: []string{"field", "value"}, Types: []string{"VARCHAR", "VARCHAR"}, Rows: [][]any{}}
	add := func(k string, v any) { out.Rows = append(out.Rows, []any{k, v}) }
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
	}
	add("id", x.ID)
	add("state", string(x.State))
	add("workgroup", x.Workgroup)
	add("sql", x.SQL)
	if x.Error != nil {
		add("error_category", x.Error.Category)
		add("error", x.Error.Message)
	}
	if x.StateReason != "" {
		add("state_reason", x.StateReason)
	}
	add("submitted", ts(x.Submitted))
	add("started", ts(x.Started))
	add("finished", ts(x.Finished))
	s := x.Statistics
	for _, kv := range []struct {
		k string
		v int64
	}{{"queue_ms", s.QueueMs}, {"planning_ms", s.PlanningMs}, {"execution_ms", s.ExecutionMs},
		{"files_scanned", s.FilesScanned}, {"bytes_scanned", s.BytesScanned}, {"rows_returned", s.RowsReturned}, {"rows_written", s.RowsWritten}} {
		add(kv.k, fmt.Sprint(kv.v))
	}
	if x.Output != "" {
		add("output", x.Output)
	}
	return out
}

func (a *app) queriesResultsCmd(format *string) *cobra.Command {
	var offset, limit int
	cmd := &cobra.Command{
		Use:   "results ID",
		Short: "Print the saved result of a SUCCEEDED execution, or a page of it",
		Example: `  streamlake queries results 0b5c...
  streamlake queries results 0b5c... --offset 100 --limit 50 --format csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.quiet = true
			f, err := a.loadFormat(cmd, nil, *format)
			if err != nil {
				return err
			}
			if offset < 0 || limit < 0 {
				return fmt.Errorf("--offset and --limit must not be negative")
			}
			svc, closeSvc, err := a.openService(cmd.Context())
			if err != nil {
				return err
			}
			defer closeSvc()
			res, next, total, err := resultRows(cmd.Context(), svc, args[0], offset, limit, f)
			if err != nil {
				return err
			}
			if err := query.Write(cmd.OutOrStdout(), res, f); err != nil {
				return err
			}
			if next > 0 && isTerminal(cmd.ErrOrStderr()) {
				fmt.Fprintf(cmd.ErrOrStderr(), "rows %d-%d of %d; next page: --offset %d\n", offset, next-1, total, next)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&offset, "offset", 0, "first row to print (0 is the first)")
	cmd.Flags().IntVar(&limit, "limit", 0, "rows to print (0 is every row from --offset)")
	return cmd
}

// resultRows reads limit rows (0 is all) of an execution's saved result
// from offset. next is the offset after them, 0 if none is left.
func resultRows(ctx context.Context, svc *query.Service, id string, offset, limit int, format string) (res *query.Result, next int, total int64, err error) {
	res = &query.Result{Rows: [][]any{}}
	for {
		n := query.MaxPageRows
		if limit > 0 {
			n = min(n, limit-len(res.Rows))
		}
		page, err := svc.Results(ctx, id, offset, n)
		if err != nil {
			return nil, 0, 0, err
		}
		appendPage(res, page, format)
		total = page.Total
		if page.NextOffset == 0 || (limit > 0 && len(res.Rows) >= limit) {
			return res, page.NextOffset, total, nil
		}
		offset = page.NextOffset
	}
}

func (a *app) queriesCancelCmd() *cobra.Command {
	var api string
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a QUEUED or RUNNING execution in the streamlake run or serve that runs it",
		Long: `Asks the process running the execution to cancel it, over its HTTP API
(POST /v1/queries/ID/cancel), and waits until it has stopped. Without --api it
tries streamlake serve's default address (` + defaultServeListen + `) and then
streamlake run's (metrics.listen). An execution already finished is left as
it is. An execution that no answering process runs cannot be cancelled: the
command fails saying so (the process that ran it may have exited).`,
		Args: cobra.ExactArgs(1),
		RunE: a.withService(nil, func(cmd *cobra.Command, svc *query.Service, _ string, args []string) error {
			id := args[0]
			x, err := svc.Get(cmd.Context(), id)
			if err != nil {
				return err
			}
			if x.State.Terminal() {
				fmt.Fprintf(cmd.OutOrStdout(), "execution %s is already %s\n", id, x.State)
				return nil
			}
			addrs := []string{api}
			if api == "" {
				addrs = []string{defaultServeListen}
				if l := a.cfg.Metrics.Listen; l != "" && !slices.Contains(addrs, l) {
					addrs = append(addrs, l)
				}
			}
			var tried []string
			for _, addr := range addrs {
				x, answered, err := remoteCancel(cmd.Context(), addr, id)
				if err != nil {
					return err
				}
				if answered {
					fmt.Fprintf(cmd.OutOrStdout(), "execution %s %s\n", id, x.State)
					return nil
				}
				tried = append(tried, addr)
			}
			return fmt.Errorf("query: cancel %s: %w: it is %s, and no streamlake run or serve at %s runs it (set --api to its address)",
				id, query.ErrNotOwned, x.State, strings.Join(tried, ", "))
		}),
	}
	cmd.Flags().StringVar(&api, "api", "", "address (host:port or URL) of the streamlake run or serve running the query")
	return cmd
}

// remoteCancel posts a cancel of id to the API at addr. answered is false
// when nothing answers there or the process there does not run id.
func remoteCancel(ctx context.Context, addr, id string) (x query.Execution, answered bool, err error) {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u := strings.TrimRight(base, "/") + "/v1/queries/" + url.PathEscape(id) + "/cancel"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return x, false, fmt.Errorf("query: cancel %s: %w", id, err)
	}
	// Cancel answers once the query has stopped; DuckDB stops promptly.
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" && ctx.Err() == nil {
			return x, false, nil // nothing answers there
		}
		return x, false, fmt.Errorf("query: cancel %s: %w", id, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(body, &x); err != nil {
			return x, false, fmt.Errorf("query: cancel %s: %s: %w", id, u, err)
		}
		return x, true, nil
	case http.StatusNotFound, http.StatusConflict:
		return x, false, nil // another catalog, or another process runs it
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	return x, false, fmt.Errorf("query: cancel %s: %s: %s: %s", id, u, resp.Status, e.Error)
}

// withService is the RunE of a command that reads or changes executions or
// named queries: it loads the configuration (quietly), checks the --format
// flag when format is not nil, opens the query service for fn as f and
// closes it after.
func (a *app) withService(format *string, fn func(cmd *cobra.Command, svc *query.Service, f string, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.quiet = true
		var f string
		var err error
		if format != nil {
			f, err = a.loadFormat(cmd, nil, *format)
		} else {
			err = a.load(cmd, nil)
		}
		if err != nil {
			return err
		}
		svc, closeSvc, err := a.openService(cmd.Context())
		if err != nil {
			return err
		}
		defer closeSvc()
		return fn(cmd, svc, f, args)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	icecat "github.com/apache/iceberg-go/catalog"

	"github.com/spf13/cobra"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/etl"
	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) compactCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "compact [TABLE...]",
		Short: "Compact lake tables, expire old snapshots and delete orphan files",
		Long: `Bin-packs each partition's small data files into files of
etl.maintenance.target_file_size with one replace commit per table (the
embedded DuckDB writes them, sorted by the event-time partition column, with
the table's Iceberg field ids; files it cannot take, such as ones with an
older schema, are rewritten by iceberg-go's writer), expires
snapshots older than etl.maintenance.snapshot_retention (keeping
etl.maintenance.retain_last), and deletes unreferenced files older than
etl.maintenance.orphan_grace. Without TABLE it maintains every table of the
lake database. Safe while 'streamlake run' is appending: rows and offsets do
not change. 'streamlake run' does the same every etl.maintenance.interval.`,
		Example: `  streamlake compact
  streamlake compact sensors --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := a.openForFormat(cmd, nil, format)
			if err != nil {
				return err
			}
			defer store.Close()
			e := etl.New(etl.Config{Database: a.cfg.ETL.Database, TimeField: a.cfg.ETL.TimeField, Logger: a.log}, nil, store.Iceberg())
			results, err := maintainTables(cmd.Context(), e, store, a.cfg.ETL.Database, maintainConfig(a.cfg.ETL.Maintenance), args)
			out := &query.Result{
				Columns: []string{"table", "files_before", "files_after", "files_rewritten", "bytes_before", "bytes_after", "snapshots_expired", "orphans_deleted"},
				Types:   []string{"VARCHAR", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT"},
			}
			for _, r := range results {
				out.Rows = append(out.Rows, []any{r.Table, int64(r.FilesBefore), int64(r.FilesAfter), int64(r.Rewritten),
					r.BytesBefore, r.BytesAfter, int64(r.ExpiredSnapshots), int64(r.OrphansDeleted)})
			}
			if err != nil && len(results) == 0 {
				return err // nothing was maintained: the error alone
			}
			// The tables maintained before a failure, then the failure.
			if werr := query.Write(cmd.OutOrStdout(), out, format); werr != nil {
				return werr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json")
	return cmd
}

// openForFormat loads the config of a command that prints data, checks its
// --format and opens the catalog.
func (a *app) openForFormat(cmd *cobra.Command, flagKeys map[string]string, format string) (*catalog.Store, error) {
	if _, err := a.loadFormat(cmd, flagKeys, format); err != nil {
		return nil, err
	}
	return a.openCatalog(cmd.Context())
}

func maintainConfig(m config.Maintenance) etl.MaintainConfig {
	return etl.MaintainConfig{TargetFileSize: m.TargetFileSize, SnapshotRetention: m.SnapshotRetention,
		RetainLast: m.RetainLast, OrphanGrace: m.OrphanGrace}
}

// maintainTables maintains the named tables of database db, or all of its
// Iceberg tables. It goes on past a failing table and returns every error.
func maintainTables(ctx context.Context, e *etl.ETL, store *catalog.Store, db string, cfg etl.MaintainConfig, names []string) ([]etl.MaintainResult, error) {
	if len(names) == 0 {
		tables, err := store.Tables(ctx, db)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			if t.Type == catalog.Iceberg {
				names = append(names, t.Name)
			}
		}
	}
	var results []etl.MaintainResult
	var errs []error
	for _, n := range names {
		n = strings.TrimPrefix(n, db+".")
		r, err := e.Maintain(ctx, n, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

// maintainLoop maintains every lake table each interval until ctx ends.
func (p *pipeline) maintainLoop(ctx context.Context, e *etl.ETL) {
	every := p.cfg.ETL.Maintenance.Interval
	if every <= 0 {
		return
	}
	tick(ctx, every, func() {
		if _, err := maintainTables(ctx, e, p.store, p.cfg.ETL.Database, maintainConfig(p.cfg.ETL.Maintenance), nil); err != nil && ctx.Err() == nil {
			p.log.Error("table maintenance failed", "stage", "etl", "database", p.cfg.ETL.Database, "err", fmt.Sprint(err))
		}
	})
}

// maintainer runs SQL's OPTIMIZE and VACUUM with the ETL's maintenance and
// the configured etl.maintenance settings.
type maintainer struct {
	cfg config.Config
	log *slog.Logger
}

func (m maintainer) Maintain(ctx context.Context, ice icecat.Catalog, database, table string, optimize, vacuum bool) (query.Maintenance, error) {
	e := etl.New(etl.Config{Database: database, TimeField: m.cfg.ETL.TimeField, Logger: m.log}, nil, ice)
	cfg := maintainConfig(m.cfg.ETL.Maintenance)
	cfg.SkipCompaction, cfg.SkipExpiry = !optimize, !vacuum
	r, err := e.Maintain(ctx, table, cfg)
	if err != nil {
		return query.Maintenance{}, err
	}
	return query.Maintenance{FilesBefore: int64(r.FilesBefore), FilesAfter: int64(r.FilesAfter), FilesRewritten: int64(r.Rewritten),
		SnapshotsExpired: int64(r.ExpiredSnapshots), OrphansDeleted: int64(r.OrphansDeleted)}, nil
}

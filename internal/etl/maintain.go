package etl

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"
)

// MaintainConfig sets table maintenance: compaction, snapshot expiry and
// orphan-file removal. Zero values take the defaults.
type MaintainConfig struct {
	// TargetFileSize is the size compaction packs small files into
	// (default 128 MiB). Files under three quarters of it are small.
	TargetFileSize int64
	// MinInputFiles is the fewest small files of a partition worth
	// rewriting (default 2).
	MinInputFiles int
	// SnapshotRetention expires snapshots older than this (default 24h),
	// keeping at least RetainLast (default 5).
	SnapshotRetention time.Duration
	RetainLast        int
	// OrphanGrace: files under the table location that no snapshot
	// references and that are older than this are deleted (default 1h,
	// far longer than any write takes to commit).
	OrphanGrace time.Duration
	// ArrowWriter makes compaction write with iceberg-go's arrow-go
	// writer. By default it writes with DuckDB, whose files DuckDB (the
	// query engine) reads faster, and uses iceberg-go only for groups
	// DuckDB cannot rewrite (see duckWriter).
	ArrowWriter bool
	// SkipCompaction leaves the data files as they are (SQL's VACUUM);
	// SkipExpiry keeps every snapshot and orphan file (SQL's OPTIMIZE).
	SkipCompaction, SkipExpiry bool

	writeTarget int64 // tests: the file size DuckDB writes, if not TargetFileSize
}

func (c MaintainConfig) withDefaults() MaintainConfig {
	c.TargetFileSize = cmp.Or(c.TargetFileSize, 128<<20)
	c.MinInputFiles = cmp.Or(c.MinInputFiles, 2)
	c.SnapshotRetention = cmp.Or(c.SnapshotRetention, 24*time.Hour)
	c.RetainLast = cmp.Or(c.RetainLast, 5)
	c.OrphanGrace = cmp.Or(c.OrphanGrace, time.Hour)
	return c
}

// MaintainResult says what maintenance did to one table.
type MaintainResult struct {
	Table                   string
	FilesBefore, FilesAfter int // data files of the current snapshot
	Rewritten, Written      int // data files replaced and written by compaction
	DuckDBGroups            int // partition groups compaction wrote with DuckDB (the rest with iceberg-go)
	BytesBefore, BytesAfter int64
	ExpiredSnapshots        int
	OrphansDeleted          int
}

// compactionRetries is how often a compaction commit that lost a race is
// re-applied on top of the winner (iceberg-go validates that the files it
// replaces still exist, so an append in between is kept).
const compactionRetries = "10"

// Maintain compacts table name's small data files, partition by partition,
// into files of about the target size in one replace commit; expires old
// snapshots; and deletes orphan files. It runs safely while the ETL keeps
// appending: compaction changes no rows and moves no offset bookmark, and
// a query sees the same rows before and after.
func (e *ETL) Maintain(ctx context.Context, name string, cfg MaintainConfig) (MaintainResult, error) {
	cfg = cfg.withDefaults()
	res := MaintainResult{Table: name}
	tbl, err := e.load(ctx, name)
	if err != nil {
		return res, err
	}
	if tbl == nil {
		return res, fmt.Errorf("etl: maintain %s.%s: no such table", e.cfg.Database, name)
	}
	if !cfg.SkipCompaction {
		if tbl, err = e.compact(ctx, tbl, cfg, &res); err != nil {
			return res, err
		}
	}
	if !cfg.SkipExpiry {
		if tbl, err = e.expireSnapshots(ctx, tbl, cfg, &res); err != nil {
			return res, err
		}
		orphans, err := tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(cfg.OrphanGrace))
		if err != nil {
			return res, fmt.Errorf("etl: table %s: delete orphan files: %w", name, err)
		}
		res.OrphansDeleted = len(orphans.DeletedFiles)
	}
	e.m.maintenance.WithLabelValues(name).Inc()
	e.log.Info("maintained table", "table", name, "files_before", res.FilesBefore, "files_after", res.FilesAfter,
		"expired_snapshots", res.ExpiredSnapshots, "orphans_deleted", res.OrphansDeleted)
	return res, nil
}

func (e *ETL) compact(ctx context.Context, tbl *table.Table, cfg MaintainConfig, res *MaintainResult) (*table.Table, error) {
	name := tbl.Identifier()[len(tbl.Identifier())-1]
	if tbl.CurrentSnapshot() == nil {
		return tbl, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: plan compaction: %w", name, err)
	}
	res.FilesBefore, res.FilesAfter = len(tasks), len(tasks)
	cc := compaction.DefaultConfig()
	cc.TargetFileSizeBytes = cfg.TargetFileSize
	cc.MinFileSizeBytes = cfg.TargetFileSize * 3 / 4
	cc.MaxFileSizeBytes = cfg.TargetFileSize * 9 / 5
	cc.MinInputFiles = uint(cfg.MinInputFiles)
	plan, err := cc.PlanCompaction(tasks)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: plan compaction: %w", name, err)
	}
	if len(plan.Groups) == 0 {
		return tbl, nil
	}
	groups := make([]table.CompactionTaskGroup, len(plan.Groups))
	for i, g := range plan.Groups {
		groups[i] = table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes}
	}
	rt, err := withCommitRetries(tbl, e.cat, compactionRetries)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: compaction: %w", name, err)
	}
	start := time.Now()
	out, err := e.rewrite(ctx, rt, groups, cfg)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: compaction: %w", name, err)
	}
	res.Rewritten, res.Written, res.DuckDBGroups = out.RemovedDataFiles, out.AddedDataFiles, out.duckGroups
	res.BytesBefore, res.BytesAfter = out.BytesBefore, out.BytesAfter
	res.FilesAfter = res.FilesBefore - out.RemovedDataFiles + out.AddedDataFiles
	e.m.compactedFiles.WithLabelValues(name).Add(float64(out.RemovedDataFiles))
	e.log.Info("compacted table", "table", name, "groups", len(groups), "files_rewritten", out.RemovedDataFiles,
		"files_written", out.AddedDataFiles, "bytes_before", out.BytesBefore, "bytes_after", out.BytesAfter,
		"duckdb_groups", out.duckGroups, "took", time.Since(start).Round(time.Millisecond))
	return out.Table, nil
}

// rewriteResult is what e.rewrite did.
type rewriteResult struct {
	*table.RewriteResult
	duckGroups int // groups written by DuckDB
}

// rewrite compacts groups of tbl's files in one replace commit, writing
// each group with DuckDB when it can and with iceberg-go otherwise (as
// table.RewriteDataFiles does, which this replaces).
func (e *ETL) rewrite(ctx context.Context, tbl *table.Table, groups []table.CompactionTaskGroup, cfg MaintainConfig) (rewriteResult, error) {
	name := tbl.Identifier()[len(tbl.Identifier())-1]
	out := rewriteResult{RewriteResult: &table.RewriteResult{}}
	var dw *duckWriter
	if !cfg.ArrowWriter {
		var err error
		if dw, err = newDuckWriter(tbl); err != nil {
			e.log.Info("compaction writes with iceberg-go", "table", name, "reason", err.Error())
		} else {
			defer dw.Close()
		}
	}
	tx, err := tbl.NewTransactionOnBranchWithError(table.MainBranch)
	if err != nil {
		return out, err
	}
	rw := tx.NewRewrite(nil)
	for _, g := range groups {
		var gr table.CompactionGroupResult
		err := errIneligible
		if dw != nil {
			if gr, err = dw.rewrite(ctx, g, cmp.Or(cfg.writeTarget, cfg.TargetFileSize)); err == nil {
				out.duckGroups++
			} else if ctx.Err() != nil {
				return out, err
			} else if errors.Is(err, errIneligible) {
				e.log.Debug("compaction group left to iceberg-go", "table", name, "partition", g.PartitionKey, "reason", err.Error())
			} else {
				e.log.Warn("compaction with duckdb failed, rewriting with iceberg-go", "stage", "etl", "table", name,
					"partition", g.PartitionKey, "err", err.Error())
			}
		}
		if err != nil {
			if gr, err = table.ExecuteCompactionGroup(ctx, tbl, g, table.WithCompactionTargetFileSize(cfg.TargetFileSize)); err != nil {
				return out, err
			}
		}
		if len(gr.OldDataFiles) == 0 && len(gr.NewDataFiles) == 0 {
			continue
		}
		rw.ApplyResult(gr)
		out.RewrittenGroups++
		out.RemovedDataFiles += len(gr.OldDataFiles)
		out.AddedDataFiles += len(gr.NewDataFiles)
		out.BytesBefore += gr.BytesBefore
		out.BytesAfter += gr.BytesAfter
	}
	if out.RewrittenGroups == 0 {
		out.Table = tbl
		return out, nil
	}
	if err := rw.Commit(ctx); err != nil {
		return out, fmt.Errorf("stage rewrite: %w", err)
	}
	if out.Table, err = tx.Commit(ctx); err != nil {
		return out, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// expireSnapshots drops snapshots past retention (their files become
// orphans, see Maintain). The same commit records
// the offset bookmark as a table property, so the bookmark survives even
// when every snapshot that carried it in its summary is gone.
func (e *ETL) expireSnapshots(ctx context.Context, tbl *table.Table, cfg MaintainConfig, res *MaintainResult) (*table.Table, error) {
	name := tbl.Identifier()[len(tbl.Identifier())-1]
	before := len(tbl.Metadata().Snapshots())
	tx := tbl.NewTransaction()
	bm, _ := json.Marshal(bookmark(tbl))
	if err := tx.SetProperties(iceberg.Properties{SummaryOffsets: string(bm)}); err != nil {
		return nil, fmt.Errorf("etl: table %s: expire snapshots: %w", name, err)
	}
	// Files of expired snapshots are not deleted here: queries planned
	// before the expiry may still read them, and iceberg-go's post-commit
	// deletion fails on files an earlier expiry already removed. They are
	// orphans now, deleted once older than the orphan grace period.
	if err := tx.ExpireSnapshots(table.WithOlderThan(cfg.SnapshotRetention), table.WithRetainLast(cfg.RetainLast),
		table.WithPostCommit(false)); err != nil {
		return nil, fmt.Errorf("etl: table %s: expire snapshots: %w", name, err)
	}
	t, err := tx.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("etl: table %s: expire snapshots: %w", name, err)
	}
	res.ExpiredSnapshots = before - len(t.Metadata().Snapshots())
	return t, nil
}

// withCommitRetries returns tbl as seen with commit retries switched on,
// without committing the change (iceberg-go reads the retry settings of
// the table a transaction starts from), committing through a catalog that
// reports a lost race as retryable: iceberg-go's SQL catalog reports a
// snapshot that moved since the load as a failed requirement, which
// iceberg-go's retry loop would not rebase.
func withCommitRetries(tbl *table.Table, cat icecat.Catalog, n string) (*table.Table, error) {
	inner, ok := cat.(table.CatalogIO)
	if !ok {
		return nil, fmt.Errorf("catalog %T cannot commit tables", cat)
	}
	cio := rebasing{inner}
	b, err := table.MetadataBuilderFromBase(tbl.Metadata(), tbl.MetadataLocation())
	if err != nil {
		return nil, err
	}
	if err := b.SetProperties(iceberg.Properties{table.CommitNumRetriesKey: n}); err != nil {
		return nil, err
	}
	meta, err := b.Build()
	if err != nil {
		return nil, err
	}
	return table.New(tbl.Identifier(), meta, tbl.MetadataLocation(), tbl.FS, cio), nil
}

// rebasing marks commits that lost a race as table.ErrCommitFailed, which
// iceberg-go answers by re-applying the change on the winner's snapshot
// (after validating that the files it replaces are still there).
type rebasing struct{ table.CatalogIO }

func (c rebasing) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	meta, loc, err := c.CatalogIO.CommitTable(ctx, ident, reqs, updates)
	if err != nil && !errors.Is(err, table.ErrCommitFailed) && isCommitConflict(err) {
		err = fmt.Errorf("%w: %w", table.ErrCommitFailed, err)
	}
	return meta, loc, err
}

package query

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	icecat "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// commitRetries is how often a write's append is re-applied on top of a
// commit that won a race with it (an ETL commit to the same table, say).
// Appends commute, so re-applying one never duplicates or loses rows.
const commitRetries = "8"

// rebasingTable returns tbl as seen with commit retries switched on (not
// committed: iceberg-go reads the retry settings of the table a
// transaction starts from; ETL tables have them off), committing through a
// catalog that reports a lost race as table.ErrCommitFailed, which
// iceberg-go's retry loop answers by re-applying the append on the
// winner's snapshot. The SQL catalog reports such a race as a failed
// requirement instead. (The ETL's compaction commits the same way.)
func rebasingTable(tbl *table.Table, cat icecat.Catalog) (*table.Table, error) {
	inner, ok := cat.(table.CatalogIO)
	if !ok {
		return tbl, nil
	}
	b, err := table.MetadataBuilderFromBase(tbl.Metadata(), tbl.MetadataLocation())
	if err != nil {
		return nil, err
	}
	if err := b.SetProperties(iceberg.Properties{table.CommitNumRetriesKey: commitRetries}); err != nil {
		return nil, err
	}
	meta, err := b.Build()
	if err != nil {
		return nil, err
	}
	return table.New(tbl.Identifier(), meta, tbl.MetadataLocation(), tbl.FS, rebasing{inner}), nil
}

type rebasing struct{ table.CatalogIO }

func (c rebasing) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	meta, loc, err := c.CatalogIO.CommitTable(ctx, ident, reqs, updates)
	if err != nil && !errors.Is(err, table.ErrCommitFailed) && strings.Contains(err.Error(), "requirement failed") {
		err = fmt.Errorf("%w: %w", table.ErrCommitFailed, err)
	}
	return meta, loc, err
}

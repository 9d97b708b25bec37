package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl/layout"
)

type changeKind int

const (
	kindCreate  changeKind = iota
	kindUpdate             // schema changed: new version
	kindRefresh            // same schema: properties, partitions
	kindDeprecate
	kindDelete
	kindLeave // logged only
)

// change is one table's part of the diff.
type change struct {
	kind   changeKind
	table  catalog.Table // the new definition
	add    []catalog.Partition
	update []catalog.Partition
	remove [][]string
	lines  []string
	note   string // kindLeave: why
}

// diffResult is the whole diff of a run.
type diffResult struct {
	database bool // the database must be created
	changes  []change
}

// diff compares the crawled tables with the crawler's tables in the catalog.
func diff(ctx context.Context, store Catalog, opts RunOptions, res layout.CrawlResult, now time.Time) (diffResult, error) {
	var d diffResult
	if _, err := store.GetDatabase(ctx, opts.Database); errors.Is(err, catalog.ErrNoSuchDatabase) {
		d.database = true
	} else if err != nil {
		return d, fmt.Errorf("crawler %s: %w", opts.Name, err)
	}
	existing, err := store.Tables(ctx, opts.Database)
	if err != nil {
		return d, fmt.Errorf("crawler %s: %w", opts.Name, err)
	}
	byName := map[string]catalog.Table{}
	for _, t := range existing {
		byName[t.Name] = t
	}
	counts := folderCounts(res)
	found := map[string]bool{}
	for _, spec := range res.Tables {
		t := crawledTable(spec, opts, res, counts, now)
		parts := crawledPartitions(spec, opts, res, counts)
		name := t.Database + "." + t.Name
		found[t.Name] = true
		old, ok := byName[t.Name]
		switch {
		case !ok:
			c := change{kind: kindCreate, table: t, add: parts}
			c.lines = append(c.lines, fmt.Sprintf("+ table %s: %s, %d columns%s, %s", name, describeFormat(t),
				len(t.Columns), partitionedBy(t.PartitionKeys), t.Location))
			for _, p := range parts {
				c.lines = append(c.lines, partitionLine("+", name, p))
			}
			d.changes = append(d.changes, c)
			continue
		case old.Type != catalog.External || old.Properties[catalog.PropCrawler] != opts.Name:
			owner := old.Properties[catalog.PropCrawler]
			why := "exists and was not written by a crawler"
			if old.Type != catalog.External {
				why = "exists as an " + old.Type + " table"
			} else if owner != "" {
				why = "exists and was written by crawler " + owner
			}
			d.changes = append(d.changes, change{kind: kindLeave, table: old, note: why,
				lines: []string{fmt.Sprintf("! table %s: %s; left alone", name, why)}})
			continue
		}
		c, err := tableChange(ctx, store, opts, old, t, parts)
		if err != nil {
			return d, err
		}
		d.changes = append(d.changes, c)
	}
	for _, old := range existing {
		if found[old.Name] || old.Type != catalog.External || old.Properties[catalog.PropCrawler] != opts.Name {
			continue
		}
		name := old.Database + "." + old.Name
		switch opts.OnDelete {
		case OnDeleteDelete:
			d.changes = append(d.changes, change{kind: kindDelete, table: old,
				lines: []string{fmt.Sprintf("- table %s: deleted (its files are gone from %s)", name, opts.Location)}})
		case OnDeleteLog:
			d.changes = append(d.changes, change{kind: kindLeave, table: old, note: "files gone; kept (on-delete=log)",
				lines: []string{fmt.Sprintf("! table %s: its files are gone from %s; kept (on-delete=log)", name, opts.Location)}})
		default:
			if old.Deprecated {
				continue
			}
			old.Deprecated = true
			d.changes = append(d.changes, change{kind: kindDeprecate, table: old,
				lines: []string{fmt.Sprintf("- table %s: deprecated (its files are gone from %s)", name, opts.Location)}})
		}
	}
	return d, nil
}

// tableChange diffs one of the crawler's tables.
func tableChange(ctx context.Context, store Catalog, opts RunOptions, old, t catalog.Table, parts []catalog.Partition) (change, error) {
	name := t.Database + "." + t.Name
	c := change{kind: kindRefresh, table: t}
	schema := schemaDiff(old, t)
	keysChanged := !sameColumns(old.PartitionKeys, t.PartitionKeys)
	if schema != "" && opts.OnChange == OnChangeLog {
		c.kind, c.table = kindLeave, old
		c.note = "schema changed; not applied (on-change=log): " + schema
		c.lines = []string{fmt.Sprintf("! table %s: schema changed, not applied (on-change=log): %s", name, schema)}
		return c, nil
	}
	if schema != "" {
		c.kind = kindUpdate
		c.lines = append(c.lines, fmt.Sprintf("~ table %s: version %d -> %d: %s", name, old.Version, old.Version+1, schema))
	} else if props := propsDiff(old.Properties, t.Properties); props != "" {
		c.lines = append(c.lines, fmt.Sprintf("~ table %s: %s", name, props))
	}
	if old.Deprecated {
		c.lines = append(c.lines, fmt.Sprintf("~ table %s: files are back; no longer deprecated", name))
	}
	var current []catalog.Partition
	if len(old.PartitionKeys) > 0 {
		var err error
		if current, err = store.GetPartitions(ctx, old.Database, old.Name, ""); err != nil {
			return c, fmt.Errorf("crawler %s: %w", opts.Name, err)
		}
	}
	if keysChanged {
		for _, p := range current {
			c.remove = append(c.remove, p.Values)
			c.lines = append(c.lines, partitionLine("-", name, p))
		}
		c.add = parts
		for _, p := range parts {
			c.lines = append(c.lines, partitionLine("+", name, p))
		}
		return c, nil
	}
	have := map[string]catalog.Partition{}
	for _, p := range current {
		have[valuesKey(p.Values)] = p
	}
	for _, p := range parts {
		k := valuesKey(p.Values)
		o, ok := have[k]
		delete(have, k)
		switch {
		case !ok:
			c.add = append(c.add, p)
			c.lines = append(c.lines, partitionLine("+", name, p))
		case !samePartition(o, p):
			c.update = append(c.update, p)
			c.lines = append(c.lines, partitionLine("~", name, p))
		}
	}
	for _, p := range current {
		if _, gone := have[valuesKey(p.Values)]; gone {
			c.remove = append(c.remove, p.Values)
			c.lines = append(c.lines, partitionLine("-", name, p))
		}
	}
	return c, nil
}

// apply writes the diff to the catalog.
func apply(ctx context.Context, store Catalog, database string, d diffResult, log *slog.Logger) error {
	if d.database {
		err := store.CreateDatabase(ctx, catalog.Database{Name: database, Description: "tables found by crawlers"})
		if err != nil && !errors.Is(err, catalog.ErrAlreadyExists) {
			return err
		}
	}
	for _, c := range d.changes {
		t := c.table
		var err error
		switch c.kind {
		case kindCreate:
			err = store.CreateTable(ctx, t)
		case kindUpdate, kindRefresh, kindDeprecate:
			err = store.UpdateTable(ctx, t)
		case kindDelete:
			err = store.DeleteTable(ctx, t.Database, t.Name)
		case kindLeave:
			for _, l := range c.lines {
				log.Warn("crawler change not applied", "stage", "crawl", "change", l)
			}
			continue
		}
		if err != nil {
			return err
		}
		if len(c.remove) > 0 {
			if err := store.DeletePartitions(ctx, t.Database, t.Name, c.remove); err != nil {
				return err
			}
		}
		if len(c.add) > 0 {
			if err := store.BatchCreatePartitions(ctx, t.Database, t.Name, c.add); err != nil {
				return err
			}
		}
		for _, p := range c.update {
			if err := store.UpdatePartition(ctx, t.Database, t.Name, p.Values, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *RunReport) fromDiff(d diffResult) {
	r.TablesCreated, r.TablesUpdated, r.TablesDeprecated, r.TablesDeleted = []string{}, []string{}, []string{}, []string{}
	r.Diff = []string{}
	for _, c := range d.changes {
		name := c.table.Database + "." + c.table.Name
		switch c.kind {
		case kindCreate:
			r.TablesCreated = append(r.TablesCreated, name)
		case kindUpdate:
			r.TablesUpdated = append(r.TablesUpdated, name)
		case kindRefresh:
			r.TablesUnchanged = append(r.TablesUnchanged, name)
		case kindDeprecate:
			r.TablesDeprecated = append(r.TablesDeprecated, name)
		case kindDelete:
			r.TablesDeleted = append(r.TablesDeleted, name)
		case kindLeave:
			r.TablesLeft = append(r.TablesLeft, TableNote{Table: name, Reason: c.note})
		}
		r.PartitionsAdded += len(c.add)
		r.PartitionsRemoved += len(c.remove)
		r.PartitionsUpdated += len(c.update)
		r.Diff = append(r.Diff, c.lines...)
	}
	for _, s := range []*[]string{&r.TablesCreated, &r.TablesUpdated, &r.TablesUnchanged, &r.TablesDeprecated, &r.TablesDeleted} {
		slices.Sort(*s)
	}
}

// crawledTable is the catalog definition of a crawled table.
func crawledTable(spec layout.TableSpec, opts RunOptions, res layout.CrawlResult, counts map[string]int, now time.Time) catalog.Table {
	t := ExternalTable(spec, opts.Database)
	t.Properties[catalog.PropCrawler] = opts.Name
	t.Properties[catalog.PropLastCrawled] = now.Format(time.RFC3339)
	if spec.Stats.Records > 0 {
		t.Properties[catalog.PropAverageRecordSize] = strconv.FormatInt(spec.Stats.Bytes/spec.Stats.Records, 10)
	}
	if spec.CSV != nil {
		b, _ := json.Marshal(spec.CSV.Names)
		t.Properties[PropCSVColumns] = string(b)
	}
	if len(spec.PartitionKeys) == 0 && len(spec.Partitions) == 1 {
		if files := ownFiles(spec.Dir, spec.Partitions[0].Files, counts); files != "" {
			t.Properties[PropFiles] = files
		}
	}
	return t
}

// crawledPartitions are the catalog partitions of a partitioned table:
// values, location and statistics only; the schema is the table's.
func crawledPartitions(spec layout.TableSpec, opts RunOptions, res layout.CrawlResult, counts map[string]int) []catalog.Partition {
	if len(spec.PartitionKeys) == 0 {
		return nil
	}
	root := strings.TrimSuffix(opts.Layout.Location, "/")
	out := make([]catalog.Partition, 0, len(spec.Partitions))
	for _, p := range spec.Partitions {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.Location, root), "/")
		cp := catalog.Partition{Values: p.Values, Location: p.Location, Stats: catalog.Stats{
			RecordCount: p.Stats.Records, SizeBytes: p.Stats.Bytes, ObjectCount: int64(p.Stats.Files)}}
		for _, f := range p.Files {
			if e, ok := res.State.Files[f]; ok {
				if m := time.Unix(0, e.ModTime).UTC(); m.After(cp.Stats.LastModified) {
					cp.Stats.LastModified = m
				}
			}
		}
		if files := ownFiles(rel, p.Files, counts); files != "" {
			cp.Parameters = map[string]string{PropFiles: files}
		}
		out = append(out, cp)
	}
	return out
}

// folderCounts counts the listed keys (excluded and unclassified ones
// included) below every folder, "" for the include path.
func folderCounts(res layout.CrawlResult) map[string]int {
	counts := map[string]int{}
	add := func(key string) {
		counts[""]++
		for i := 0; i < len(key); i++ {
			if key[i] == '/' {
				counts[key[:i]]++
			}
		}
	}
	seen := map[string]bool{}
	for k := range res.State.Files {
		seen[k] = true
		add(k)
	}
	for _, k := range res.Report.Excluded {
		if !seen[k] {
			seen[k] = true
			add(k)
		}
	}
	for _, u := range res.Report.Unclassified {
		if !seen[u.Key] {
			seen[u.Key] = true
			add(u.Key)
		}
	}
	return counts
}

// ownFiles is PropFiles for the files of a location (dir, relative to the
// include path) when other files are there too, else "".
func ownFiles(dir string, files []string, counts map[string]int) string {
	if counts[dir] <= len(files) {
		return ""
	}
	rel := make([]string, len(files))
	for i, f := range files {
		if dir != "" {
			f = strings.TrimPrefix(f, dir+"/")
		}
		rel[i] = f
	}
	b, _ := json.Marshal(rel)
	return string(b)
}

func valuesKey(v []string) string { return strings.Join(v, "\x00") }

func samePartition(a, b catalog.Partition) bool {
	return a.Location == b.Location && a.Stats.RecordCount == b.Stats.RecordCount &&
		a.Stats.SizeBytes == b.Stats.SizeBytes && a.Stats.ObjectCount == b.Stats.ObjectCount &&
		a.Stats.LastModified.Equal(b.Stats.LastModified) && maps.Equal(a.Parameters, b.Parameters)
}

func sameColumns(a, b []catalog.Column) bool {
	return slices.EqualFunc(a, b, func(x, y catalog.Column) bool { return x.Name == y.Name && x.Type == y.Type })
}

// schemaDiff describes the column and partition key changes from old to
// t, "" if none.
func schemaDiff(old, t catalog.Table) string {
	var parts []string
	cols := func(what string, a, b []catalog.Column) {
		had := map[string]string{}
		for _, c := range a {
			had[c.Name] = c.Type
		}
		has := map[string]bool{}
		for _, c := range b {
			has[c.Name] = true
			switch o, ok := had[c.Name]; {
			case !ok:
				parts = append(parts, fmt.Sprintf("+%s %s %s", what, c.Name, c.Type))
			case o != c.Type:
				parts = append(parts, fmt.Sprintf("%s %s %s -> %s", what, c.Name, o, c.Type))
			}
		}
		for _, c := range a {
			if !has[c.Name] {
				parts = append(parts, fmt.Sprintf("-%s %s", what, c.Name))
			}
		}
	}
	cols("column", old.Columns, t.Columns)
	cols("partition key", old.PartitionKeys, t.PartitionKeys)
	if len(parts) == 0 && (!sameColumns(old.Columns, t.Columns) || !sameColumns(old.PartitionKeys, t.PartitionKeys)) {
		parts = append(parts, "columns reordered")
	}
	return strings.Join(parts, ", ")
}

// propsDiff describes changed statistics and format properties.
func propsDiff(a, b map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if k == catalog.PropLastCrawled || a[k] == b[k] {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s -> %s", k, orDash(a[k]), b[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[k]; !ok && k != catalog.PropLastCrawled {
			out = append(out, fmt.Sprintf("%s %s -> -", k, a[k]))
		}
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describeFormat(t catalog.Table) string {
	s := t.Format
	if t.Compression != "" && t.Compression != "none" {
		s += "/" + t.Compression
	}
	return s
}

func partitionedBy(keys []catalog.Column) string {
	if len(keys) == 0 {
		return ""
	}
	k := make([]string, len(keys))
	for i, c := range keys {
		k[i] = c.Name + " " + c.Type
	}
	return ", partitioned by " + strings.Join(k, ", ")
}

func partitionLine(op, table string, p catalog.Partition) string {
	return fmt.Sprintf("%s partition %s [%s]: %d files, %d bytes, %s", op, table, strings.Join(p.Values, ", "),
		p.Stats.ObjectCount, p.Stats.SizeBytes, p.Location)
}

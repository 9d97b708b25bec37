package crawl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// RunReport is what one Run did (or, for a dry run, would do). Run saves it
// as JSON in <Dir>/runs/; Runs lists the saved reports.
type RunReport struct {
	Crawler  string    `json:"crawler"`
	Location string    `json:"location"`
	Database string    `json:"database"`
	DryRun   bool      `json:"dry_run,omitempty"`
	Started  time.Time `json:"started"`
	// Duration is how long the run took (DurationText for people).
	Duration     time.Duration `json:"duration_ns"`
	DurationText string        `json:"duration"`
	Policies     Policies      `json:"policies"`
	// Error is set when the run failed; what the report lists up to the
	// failure was computed, the catalog may hold part of it.
	Error string `json:"error,omitempty"`

	// Tables, as database.name, sorted.
	TablesCreated    []string `json:"tables_created"`
	TablesUpdated    []string `json:"tables_updated"` // schema changed: a new version
	TablesUnchanged  []string `json:"tables_unchanged,omitempty"`
	TablesDeprecated []string `json:"tables_deprecated"`
	TablesDeleted    []string `json:"tables_deleted"`
	// TablesLeft are tables a policy or ownership kept the crawl from
	// changing, with why.
	TablesLeft        []TableNote `json:"tables_left,omitempty"`
	PartitionsAdded   int         `json:"partitions_added"`
	PartitionsRemoved int         `json:"partitions_removed"`
	PartitionsUpdated int         `json:"partitions_updated"`

	// Files: listed (excluded included), read (opened and classified) and
	// skipped (their classification came from the previous crawl's
	// fingerprints).
	FilesListed   int                   `json:"files_listed"`
	FilesRead     int                   `json:"files_read"`
	FilesSkipped  int                   `json:"files_skipped"`
	FilesByFormat map[string]int        `json:"files_by_format"`
	Excluded      []string              `json:"excluded,omitempty"`
	Unclassified  []layout.Unclassified `json:"unclassified,omitempty"`
	// Conflicts are type conflicts and how each was resolved.
	Conflicts []layout.TableConflict `json:"conflicts,omitempty"`
	// Similarity are the similarity scores that merged subfolders into a
	// table or split folders and files apart.
	Similarity []layout.SimilarityScore `json:"similarity,omitempty"`
	// Unreadable are files in tables that the query engine cannot read.
	Unreadable []layout.Unclassified `json:"unreadable,omitempty"`
	// Diff is the catalog diff, one line per change (see Run):
	//	+ table / + partition   created
	//	~ table / ~ partition   updated (a version change names the columns)
	//	- table / - partition   deprecated, deleted, removed
	//	! table                 a change a policy left unapplied, or a table of another writer
	Diff []string `json:"diff"`
}

// Policies are the policies a run used.
type Policies struct {
	Recrawl  string `json:"recrawl"`
	OnChange string `json:"on_change"`
	OnDelete string `json:"on_delete"`
}

// TableNote is a table and why the crawl left it as it was.
type TableNote struct {
	Table  string `json:"table"`
	Reason string `json:"reason"`
}

func (r *RunReport) fromCrawl(res layout.CrawlResult) {
	g := res.Report
	r.FilesListed = g.Files
	r.FilesRead = res.Read
	r.FilesSkipped = max(g.Files-len(g.Excluded)-res.Read, 0)
	r.FilesByFormat = map[string]int{}
	for f, n := range g.FilesByFormat {
		r.FilesByFormat[string(f)] = n
	}
	r.Excluded = g.Excluded
	r.Unclassified = g.Unclassified
	r.Conflicts = g.Conflicts
	r.Similarity = g.Similarity
	r.Unreadable = g.Unreadable
}

const (
	stateFile = "state.json.zst"
	runsDir   = "runs"
)

// loadState reads <dir>/state.json.zst; none is a first crawl.
func loadState(dir string) (layout.State, error) {
	if dir == "" {
		return layout.State{}, nil
	}
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return layout.State{}, nil
	}
	if err != nil {
		return layout.State{}, fmt.Errorf("crawler state %s: %w", path, err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return layout.State{}, err
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(b, nil)
	if err != nil {
		return layout.State{}, fmt.Errorf("crawler state %s: %w", path, err)
	}
	var s layout.State
	if err := json.Unmarshal(raw, &s); err != nil {
		return layout.State{}, fmt.Errorf("crawler state %s: %w", path, err)
	}
	return s, nil
}

// saveState replaces <dir>/state.json.zst atomically.
func saveState(dir string, s layout.State) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return err
	}
	b := enc.EncodeAll(raw, nil)
	enc.Close()
	return writeAtomic(filepath.Join(dir, stateFile), b)
}

func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("crawler: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("crawler: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("crawler: write %s: %w", path, err)
	}
	return nil
}

// runName is the file name of a report: its start time, sortable.
func runName(r RunReport) string {
	return r.Started.UTC().Format("20060102T150405.000000000Z") + ".json"
}

func saveReport(dir string, r RunReport) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, runsDir, runName(r)), append(b, '\n'))
}

// Runs returns the reports saved in dir (a crawler's Dir), oldest first.
// A missing dir has none.
func Runs(dir string) ([]RunReport, error) {
	entries, err := os.ReadDir(filepath.Join(dir, runsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("crawler runs: %w", err)
	}
	var out []RunReport
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, runsDir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("crawler runs: %w", err)
		}
		var r RunReport
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("crawler runs: %s: %w", path, err)
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b RunReport) int { return a.Started.Compare(b.Started) })
	return out, nil
}

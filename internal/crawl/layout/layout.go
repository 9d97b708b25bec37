// Package layout turns the files under one include path into tables, as a
// Glue crawler does: it groups files by folder structure and schema
// similarity, names partition keys, types partition values, merges the
// schemas of a table's files and reports what it could not place.
//
// Grouping rules (Group; testdata/layouts holds a case for each):
//
//   - Files are placed in the folder tree below the include path. Keys
//     matching an exclude Glob are dropped before anything is read;
//     unclassified files are listed in the Report and take no part.
//   - A folder is one table (its subfolders are partitions) when all the
//     files below it are compatible: the same format (for CSV also the same
//     delimiter and header choice), all at the same depth, no folder that
//     holds both files and subfolders, and every member similar to the
//     members before it. The members of a folder are its files, or its
//     subfolders, in key order. A member is similar when its similarity
//     score with the union of the members before it is at least
//     Options.Threshold (DefaultThreshold 0.7). The score is the share of
//     the smaller of the two top-level column sets (names compared
//     case-insensitively) that the other set has with a compatible type
//     (one that merges without a conflict): |compatible(A, B)| /
//     min(|A|, |B|). So a later partition that adds columns (score 1) or
//     widens int to double stays in the table, year=2017/ and year=2018/
//     with the same columns form one table, while folders of unrelated
//     data (score 0), or whose shared columns clash in type, become
//     separate tables. Two empty column sets score 1.
//   - The topmost compatible folders are the tables; the include path
//     itself is one when everything is compatible. In a folder that is not
//     a table, subfolders are examined in turn, and the folder's own files
//     are split into groups of similar files in key order, each a table
//     that lists its files (no partitions), named after the folder.
//   - With Options.TableLevel n > 0 the folders at level n (the include
//     path is level 1) are the tables regardless of similarity; files of
//     another format or depth than the table's most common one, and files
//     above level n, are reported as unclassified.
//   - Partition keys: a level of folders all named key=value with the same
//     key gives that key; any other level gives partition_i (i counts the
//     levels below the table folder from 0), with the folder names as
//     values. A key is typed int (bigint beyond 32 bits) when every value
//     is an integer, date when every value is YYYY-MM-DD, else string.
//     A data column with the name of a partition key is dropped and
//     reported as a conflict.
//   - Columns merge across all files of a table in key order with
//     classify.Merge (int -> bigint -> double widening, date -> timestamp,
//     struct fields unioned, conflicts -> string); every conflict is
//     reported with the table and the file that caused it.
//   - Table names are the table folder's name (the include path's
//     Options.Name for the include path), lower-cased, with characters
//     other than a-z, 0-9 and _ replaced by _. A name already taken gets
//     the suffix _ and 8 hex digits of a hash of the location, as Glue does.
//   - More tables than Options.MaxTables fails with ErrTooManyTables and
//     returns no tables: the caller writes nothing.
//
// Group is a pure function of its input and safe for concurrent use.
package layout

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

// Object is one listed file. Key is relative to the include path, with /
// between folders.
type Object struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	ETag    string    `json:"etag,omitempty"`
}

// File is an object with its classification.
type File struct {
	Object
	Result classify.Result `json:"result"`
}

// DefaultThreshold is the similarity score (see the package doc) at or
// above which a member of a folder is similar to the members before it.
const DefaultThreshold = 0.7

// ErrTooManyTables is returned when a crawl would create more tables than
// Options.MaxTables.
var ErrTooManyTables = errors.New("too many tables")

// Options configure grouping. The zero value is usable.
type Options struct {
	// Name is the table name of the include path itself; "" is "root".
	Name string
	// Location is the include path as a directory or URL; table and
	// partition locations are Location + "/" + folder.
	Location string
	// TableLevel, when > 0, fixes the folder level of tables (the include
	// path is level 1).
	TableLevel int
	// Exclude are glob patterns (see Glob) of keys to leave out.
	Exclude []string
	// MaxTables, when > 0, is the most tables a crawl may create.
	MaxTables int
	// Threshold is the similarity threshold; 0 is DefaultThreshold.
	Threshold float64
}

// Validate checks the options: levels and limits not negative, the
// threshold in [0, 1], every exclude pattern valid.
func (o Options) Validate() error {
	switch {
	case o.TableLevel < 0:
		return fmt.Errorf("crawl options: table level %d < 0", o.TableLevel)
	case o.MaxTables < 0:
		return fmt.Errorf("crawl options: max tables %d < 0", o.MaxTables)
	case o.Threshold < 0 || o.Threshold > 1:
		return fmt.Errorf("crawl options: threshold %g not in [0, 1]", o.Threshold)
	}
	_, err := CompileGlobs(o.Exclude)
	return err
}

// PartitionKey is a typed partition column.
type PartitionKey struct {
	Name string         `json:"name"`
	Type *classify.Type `json:"type"`
}

// Partition is one combination of partition values and its files.
type Partition struct {
	Values   []string `json:"values"`
	Location string   `json:"location"`
	Files    []string `json:"files"` // keys
	Stats    Stats    `json:"stats"`
}

// Stats summarise files.
type Stats struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Records is the sum of the files' Result.Records: exact only when
	// RecordsExact (every file's count was exact).
	Records      int64 `json:"records"`
	RecordsExact bool  `json:"records_exact"`
}

// TableSpec is one table found.
type TableSpec struct {
	Name        string               `json:"name"`
	Dir         string               `json:"dir"` // folder relative to the include path, "" for itself
	Location    string               `json:"location"`
	Format      classify.Format      `json:"format"`
	Compression classify.Compression `json:"compression"` // "mixed" if the files differ
	JSONArray   bool                 `json:"json_array,omitempty"`
	CSV         *classify.CSVProps   `json:"csv,omitempty"`
	Columns     []classify.Field     `json:"columns"`
	// PartitionKeys is empty for an unpartitioned table.
	PartitionKeys []PartitionKey `json:"partition_keys,omitempty"`
	// Partitions hold the files; an unpartitioned table has one with no
	// values.
	Partitions []Partition     `json:"partitions"`
	Conflicts  []TableConflict `json:"conflicts,omitempty"`
	Stats      Stats           `json:"stats"`
	// Decisions are the similarity decisions made in the table's folder
	// (and, for a folder table, below it).
	Decisions []SimilarityScore `json:"decisions,omitempty"`
}

// Mixed is the Compression of a table whose files differ in compression.
const Mixed classify.Compression = "mixed"

// TableConflict is a type conflict in a table and the file that caused it.
type TableConflict struct {
	Table string `json:"table"`
	Key   string `json:"key"`
	classify.Conflict
}

// SimilarityScore records one grouping decision: how similar Member
// (a subfolder or file) was to the members of Dir before it.
type SimilarityScore struct {
	Dir     string  `json:"dir"`
	Member  string  `json:"member"`
	Score   float64 `json:"score"`
	Similar bool    `json:"similar"`
	// Reason is set when the member was incompatible for another reason
	// (format, depth).
	Reason string `json:"reason,omitempty"`
}

// Unclassified is a file that is in no table.
type Unclassified struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Report is what a grouping found besides tables.
type Report struct {
	Files         int                     `json:"files"` // listed, excluded ones included
	FilesByFormat map[classify.Format]int `json:"files_by_format"`
	Excluded      []string                `json:"excluded,omitempty"`
	Unclassified  []Unclassified          `json:"unclassified,omitempty"`
	Conflicts     []TableConflict         `json:"conflicts,omitempty"`
	// Similarity lists the decisions between subfolders, and those between
	// files that found them dissimilar.
	Similarity []SimilarityScore `json:"similarity,omitempty"`
	// Unreadable are files that are in a table but that the query engine
	// cannot read (a Parquet codec DuckDB lacks), with why.
	Unreadable []Unclassified `json:"unreadable,omitempty"`
}

// Package classify decides what a stored file is and what columns it has,
// as a Glue crawler's built-in classifiers do: Parquet (from the footer
// only), Avro object container files (from the header only), JSON (lines,
// concatenated objects, or one top-level array of objects) and CSV/TSV
// (delimiter, quoting and header sniffed), each plain or compressed with
// gzip, zstd, bzip2 or snappy.
//
// Contract:
//   - Classify reads at most Options.SampleBytes decompressed bytes of a
//     text file (the beginning of it) and the footer or header of a
//     Parquet or Avro file; the schema comes from the first
//     Options.SampleRecords records, so the result is a pure function of
//     the file's bytes and the options (deterministic).
//   - A file that no classifier accepts is Unclassified with a Reason; it
//     is never guessed. Classify returns an error only when the file cannot
//     be read at all.
//   - Types follow the merge rules of Merge; column types are Glue/Hive
//     DDL (Type.Hive) and DuckDB (Type.DuckDB).
//
// The order of classifiers is Parquet, Avro (magic bytes of the raw file),
// then, after decompression, JSON (the first non-blank byte is '{' or '[';
// if the sample does not parse as JSON records the file is unclassified,
// not tried as CSV) and CSV (see sniffCSV for the delimiter and header
// rules). Functions here are safe for concurrent use.
package classify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Format is a file's classification.
type Format string

// The formats. Unclassified files carry a Reason.
const (
	Unclassified Format = "unclassified"
	JSON         Format = "json"
	CSV          Format = "csv"
	Parquet      Format = "parquet"
	Avro         Format = "avro"
)

// Options tune classification. The zero value is usable.
type Options struct {
	// SampleRecords is how many records (from the start of the file) the
	// schema of a text file is inferred from; <= 0 is DefaultSampleRecords.
	SampleRecords int
	// SampleBytes bounds the decompressed bytes read from a text file;
	// <= 0 is DefaultSampleBytes.
	SampleBytes int
}

// Defaults of Options.
const (
	DefaultSampleRecords = 1000
	DefaultSampleBytes   = 1 << 20
)

// Result is what Classify found. It serializes to JSON, so callers can
// cache it with a file's fingerprint.
type Result struct {
	Format      Format      `json:"format"`
	Compression Compression `json:"compression"`
	// Reason says why a file is Unclassified.
	Reason string `json:"reason,omitempty"`
	// Columns are the top-level columns, in file order.
	Columns []Field `json:"columns,omitempty"`
	// JSONArray is true for a JSON file that is one top-level array.
	JSONArray bool `json:"json_array,omitempty"`
	// CSV is set for Format CSV.
	CSV *CSVProps `json:"csv,omitempty"`
	// Records is the number of records read for the sample (text formats),
	// or the exact row count from a Parquet footer. RecordsExact says which.
	Records      int64 `json:"records"`
	RecordsExact bool  `json:"records_exact,omitempty"`
	// Conflicts are type conflicts inside the sample, resolved to string.
	Conflicts []Conflict `json:"conflicts,omitempty"`
}

// CSVProps describe a delimited text file.
type CSVProps struct {
	Delimiter string `json:"delimiter"` // one of , | \t ;
	Quote     string `json:"quote"`     // always "
	Header    bool   `json:"header"`
	// Names are the header's column names, or col0..colN-1 without one.
	Names []string `json:"names"`
}

// ErrRead wraps failures to read the file itself.
var ErrRead = errors.New("read file")

// Classify classifies the file name (used for the extension only) of size
// bytes readable through r.
func Classify(name string, r io.ReaderAt, size int64, opts Options) (Result, error) {
	if opts.SampleRecords <= 0 {
		opts.SampleRecords = DefaultSampleRecords
	}
	if opts.SampleBytes <= 0 {
		opts.SampleBytes = DefaultSampleBytes
	}
	head := make([]byte, min(size, 16))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return Result{}, fmt.Errorf("classify %s: %w: %w", name, ErrRead, err)
	}
	if size >= 12 && bytes.HasPrefix(head, []byte("PAR1")) {
		return parquetResult(r, size)
	}
	if bytes.HasPrefix(head, avroMagic) {
		return avroResult(r, size)
	}
	comp := detectCompression(name, head)
	src := &errReader{r: io.NewSectionReader(r, 0, size)}
	data, truncated, err := readPrefix(src, comp, opts.SampleBytes)
	if src.err != nil {
		return Result{}, fmt.Errorf("classify %s: %w: %w", name, ErrRead, src.err)
	}
	if err != nil {
		return unclassified(comp, "cannot decompress: "+err.Error()), nil
	}
	res := classifyText(data, truncated, opts)
	res.Compression = comp
	return res, nil
}

// errReader remembers an error of the underlying reader, to tell it from
// a decompression error.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func unclassified(c Compression, reason string) Result {
	return Result{Format: Unclassified, Compression: c, Reason: reason}
}

// classifyText classifies decompressed text.
func classifyText(data []byte, truncated bool, opts Options) Result {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	body := bytes.TrimLeft(data, " \t\r\n")
	if len(body) == 0 {
		return unclassified(None, "empty")
	}
	if isBinary(data, truncated) {
		return unclassified(None, "binary content")
	}
	if body[0] == '{' || body[0] == '[' {
		res, reason := sniffJSON(body, truncated, opts.SampleRecords)
		if reason == "" {
			return res
		}
		// Not tried as CSV: a broken JSON file must not become a table of
		// JSON fragments.
		return unclassified(None, reason)
	}
	if res, ok := sniffCSV(data, truncated, opts.SampleRecords); ok {
		return res
	}
	return unclassified(None, "no classifier matched (not JSON records, not delimited text with 2+ consistent columns)")
}

// isBinary reports NUL bytes or invalid UTF-8 (a cut rune at the end of a
// truncated sample excepted).
func isBinary(data []byte, truncated bool) bool {
	if bytes.IndexByte(data, 0) >= 0 {
		return true
	}
	if truncated && len(data) > utf8.UTFMax {
		data = data[:len(data)-utf8.UTFMax]
	}
	return !utf8.Valid(data)
}

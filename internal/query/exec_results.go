package query

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Saved results. <id>.csv is RFC 4180 with a header row; every value is
// quoted and NULL is an empty unquoted field, so NULL and "" differ (as in
// Athena's result files). Values are rendered as by Write's csv format.
// <id>.metadata.json is the execution (see Execution) plus its columns.

// ResultColumn is a result column and its DuckDB type.
type ResultColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Metadata is the content of <id>.metadata.json.
type Metadata struct {
	Execution
	Columns []ResultColumn `json:"columns"`
}

// ResultPage is a page of a saved result.
type ResultPage struct {
	Columns []ResultColumn `json:"columns"`
	// Rows are the page's rows; a nil value is NULL.
	Rows [][]*string `json:"rows"`
	// Offset is the index of the first row of the page.
	Offset int `json:"offset"`
	// NextOffset is the offset of the next page; 0 after the last page.
	NextOffset int `json:"next_offset,omitempty"`
	// Total is the number of rows of the result.
	Total int64 `json:"total"`
}

// MaxPageRows caps Results' limit; DefaultPageRows is used for 0.
const (
	MaxPageRows     = 10000
	DefaultPageRows = 1000
)

// Results returns limit rows of a SUCCEEDED execution's saved result from
// row offset, reading its CSV file. Other states are an error wrapping
// ErrNotFinished.
func (s *Service) Results(ctx context.Context, id string, offset, limit int) (*ResultPage, error) {
	if offset < 0 || limit < 0 || limit > MaxPageRows {
		return nil, fmt.Errorf("query: %w: offset must be >= 0 and limit between 0 and %d", ErrInvalidRequest, MaxPageRows)
	}
	if limit == 0 {
		limit = DefaultPageRows
	}
	x, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if x.State != Succeeded {
		return nil, fmt.Errorf("query: results of %s: %w: it is %s", id, ErrNotFinished, x.State)
	}
	// The metadata is next to the CSV, wherever the workgroup saves now.
	_, metaPath := resultPaths(filepath.Dir(x.Output), id)
	meta, err := readMetadata(metaPath)
	if err != nil {
		return nil, fmt.Errorf("query: results of %s: %w", id, err)
	}
	page, err := readPage(x.Output, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("query: results of %s: %w", id, err)
	}
	page.Columns = meta.Columns
	page.Total = x.Statistics.RowsReturned
	return page, nil
}

// saveCSV runs query on conn and writes its result to path (through a
// temporary file, renamed when complete). It returns the columns and the
// number of rows.
func saveCSV(ctx context.Context, conn queryer, query string, params []any, names func([]string) []string, path string) ([]ResultColumn, int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, 0, fmt.Errorf("query: results: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, 0, fmt.Errorf("query: results: %w", err)
	}
	defer os.Remove(tmp)
	cols, n, err := writeRows(ctx, conn, query, params, names, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("query: results: %w", cerr)
	}
	if err != nil {
		return nil, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, 0, fmt.Errorf("query: results: %w", err)
	}
	return cols, n, nil
}

func writeRows(ctx context.Context, conn queryer, query string, params []any, names func([]string) []string, f io.Writer) ([]ResultColumn, int64, error) {
	rows, err := openRows(ctx, conn, query, params...)
	if err != nil {
		return nil, 0, queryError(ctx, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, 0, queryError(ctx, err)
	}
	named := names(columnNames(types))
	cols := make([]ResultColumn, len(types))
	dtypes := make([]*dtype, len(types))
	header := make([]*string, len(types))
	for i, t := range types {
		cols[i] = ResultColumn{Name: named[i], Type: t.DatabaseTypeName()}
		dtypes[i] = parseDuckType(cols[i].Type)
		header[i] = &cols[i].Name
	}
	w := bufio.NewWriterSize(f, 64<<10)
	writeRecord(w, header)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]*string, len(cols))
	cells := make([]string, len(cols))
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, queryError(ctx, err)
		}
		for i, v := range vals {
			rec[i] = nil
			if v != nil {
				cells[i] = text(v, dtypes[i])
				rec[i] = &cells[i]
			}
		}
		writeRecord(w, rec)
		n++
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, 0, queryError(ctx, ctx.Err())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, queryError(ctx, err)
	}
	if err := w.Flush(); err != nil {
		return nil, 0, fmt.Errorf("query: results: %w", err)
	}
	return cols, n, nil
}

// writeRecord writes one CSV record: values quoted, nil as an empty field.
func writeRecord(w *bufio.Writer, rec []*string) {
	for i, v := range rec {
		if i > 0 {
			w.WriteByte(',')
		}
		if v == nil {
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(*v, `"`, `""`))
		w.WriteByte('"')
	}
	w.WriteString("\r\n")
}

// readRecord reads one CSV record written by writeRecord (or any RFC 4180
// record): an unquoted empty field is nil. It returns io.EOF at the end.
func readRecord(r *bufio.Reader) ([]*string, error) {
	var (
		rec    []*string
		field  strings.Builder
		quoted bool
	)
	emit := func() {
		if quoted || field.Len() > 0 {
			v := field.String()
			rec = append(rec, &v)
		} else {
			rec = append(rec, nil)
		}
		field.Reset()
		quoted = false
	}
	c, err := r.ReadByte()
	if err != nil {
		return nil, err // io.EOF at the end
	}
	for {
		switch {
		case c == '"' && field.Len() == 0 && !quoted:
			quoted = true
			for {
				c, err = r.ReadByte()
				if err != nil {
					return nil, fmt.Errorf("unterminated quoted field: %w", io.ErrUnexpectedEOF)
				}
				if c == '"' {
					if next, err := r.Peek(1); err == nil && next[0] == '"' {
						r.ReadByte()
						field.WriteByte('"')
						continue
					}
					break
				}
				field.WriteByte(c)
			}
		case c == ',':
			emit()
		case c == '\n':
			emit()
			return rec, nil
		case c == '\r':
			if next, err := r.Peek(1); err == nil && next[0] == '\n' {
				break
			}
			field.WriteByte(c)
		default:
			field.WriteByte(c)
		}
		c, err = r.ReadByte()
		if errors.Is(err, io.EOF) {
			emit()
			return rec, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readPage reads rows [offset, offset+limit) of a saved CSV.
func readPage(path string, offset, limit int) (*ResultPage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	if _, err := readRecord(r); err != nil { // header
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	page := &ResultPage{Offset: offset, Rows: [][]*string{}}
	for i := 0; ; i++ {
		rec, err := readRecord(r)
		if errors.Is(err, io.EOF) {
			return page, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", path, i, err)
		}
		if i < offset {
			continue
		}
		if len(page.Rows) == limit {
			page.NextOffset = i
			return page, nil
		}
		page.Rows = append(page.Rows, rec)
	}
}

// saveMetadata writes <id>.metadata.json in dir.
func saveMetadata(dir string, x Execution, cols []ResultColumn) error {
	if cols == nil {
		cols = []ResultColumn{}
	}
	b, err := json.MarshalIndent(Metadata{Execution: x, Columns: cols}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, path := resultPaths(dir, x.ID)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readMetadata(path string) (*Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

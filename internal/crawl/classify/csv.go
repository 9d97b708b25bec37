package classify

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// delimiters are the candidates sniffCSV tries, in tie-break order.
var delimiters = []rune{',', '\t', '|', ';'}

// maxHeaderCell is Glue's limit on a header cell's length.
const maxHeaderCell = 150

// sniffCSV decides whether data (the start of a file) is delimited text,
// and with which delimiter and header. The rules:
//
//   - Delimiter: each of , \t | ; is tried with RFC 4180 quoting (" quotes,
//     "" escapes, quoted fields may hold delimiters and newlines). A
//     candidate qualifies when every record of the sample has the same
//     number of fields, at least 2, and the sample has at least 2 records.
//     The qualifying candidate with the most fields wins; ties go to the
//     earlier candidate in the order above. A trailing delimiter (a last
//     column that is empty in every record) is dropped.
//   - Header: see detectHeader. Without one, columns are col0..colN-1.
//   - Types: each column's type merges the types of its cells (boolean,
//     int, bigint, double, date, timestamp, else string; empty cells carry
//     no type); mixed types become string (within one file that is not
//     reported as a conflict).
func sniffCSV(data []byte, truncated bool, n int) (Result, bool) {
	if truncated {
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
	}
	var (
		best      [][]string
		bestDelim rune
	)
	for _, d := range delimiters {
		rows, ok := readDelimited(data, d, n+1, truncated)
		if !ok || len(rows) < 2 || len(rows[0]) < 2 {
			continue
		}
		if len(rows[0]) > len(firstOr(best)) {
			best, bestDelim = rows, d
		}
	}
	if best == nil {
		return Result{}, false
	}
	best = dropTrailingEmpty(best)
	if len(best[0]) < 2 {
		return Result{}, false
	}
	header := detectHeader(best)
	props := &CSVProps{Delimiter: string(bestDelim), Quote: `"`, Header: header}
	data0 := best
	if header {
		props.Names = make([]string, len(best[0]))
		for i, c := range best[0] {
			props.Names[i] = strings.TrimSpace(c)
		}
		data0 = best[1:]
	} else {
		props.Names = make([]string, len(best[0]))
		for i := range props.Names {
			props.Names[i] = "col" + strconv.Itoa(i)
		}
	}
	if len(data0) > n {
		data0 = data0[:n]
	}
	cols := make([]Field, len(props.Names))
	for c, name := range props.Names {
		cols[c] = Field{Name: name, Type: columnType(data0, c)}
	}
	return Result{Format: CSV, CSV: props, Columns: cols, Records: int64(len(data0)),
		RecordsExact: !truncated && len(data0) < n}, true
}

func firstOr(rows [][]string) []string {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// readDelimited reads up to n records with delimiter d. It fails on
// records of differing lengths and on syntax errors, except for a quoted
// field cut by the end of a truncated sample.
func readDelimited(data []byte, d rune, n int, truncated bool) ([][]string, bool) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = d
	var rows [][]string
	for len(rows) < n {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if truncated && errors.Is(err, csv.ErrQuote) {
				break
			}
			return nil, false
		}
		rows = append(rows, rec)
	}
	return rows, true
}

func dropTrailingEmpty(rows [][]string) [][]string {
	last := len(rows[0]) - 1
	for _, r := range rows {
		if r[last] != "" {
			return rows
		}
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r[:last]
	}
	return out
}

func columnType(rows [][]string, c int) *Type {
	var t *Type
	for _, r := range rows {
		t, _ = Merge("", t, scalarOf(strings.TrimSpace(r[c])))
	}
	if t == nil {
		return Of(Null)
	}
	return t
}

// detectHeader decides whether the first of rows is a header. Glue's
// conditions come first: every cell of the first row is non-empty, shorter
// than 150 characters, a valid column name (a letter or _ first, then
// letters, digits, _ - . or spaces), unique (case-insensitively), and
// parses as a string (not a number, boolean, date or timestamp). Then the
// first row must differ from the rest:
//
//   - If some column holds non-string values in the other rows, the first
//     row (all strings) differs: header.
//   - If every column is string (where Glue gives up and reports no
//     header), the first row is compared with the rest column by column. If
//     any first-row cell occurs again in its column, no header. A column
//     "differs" when its first cell's shape is not among the shapes of its
//     other cells, or its length is outside their range of lengths; the
//     shape of a value is the set of character classes it uses (upper case,
//     lower case, digit, space, other punctuation). The first row is a
//     header when a strict majority of the columns differ.
//
// So "first_name,last_name / Alice,Smith" has a header (the underscore and
// the case differ), and "alice,paris / bob,london / carol,rome" has none.
func detectHeader(rows [][]string) bool {
	first, rest := rows[0], rows[1:]
	seen := map[string]bool{}
	for _, c := range first {
		c = strings.TrimSpace(c)
		if c == "" || len(c) >= maxHeaderCell || !validName(c) || seen[strings.ToLower(c)] {
			return false
		}
		seen[strings.ToLower(c)] = true
		if scalarOf(c).Kind != String {
			return false
		}
	}
	differ := 0
	for c := range first {
		head := strings.TrimSpace(first[c])
		t := columnType(rest, c)
		if t.Kind != String && t.Kind != Null {
			return true
		}
		shapes := map[uint8]bool{}
		minLen, maxLen := -1, 0
		for _, r := range rest {
			v := strings.TrimSpace(r[c])
			if v == head {
				return false
			}
			if v == "" {
				continue
			}
			shapes[shape(v)] = true
			if minLen < 0 || len(v) < minLen {
				minLen = len(v)
			}
			maxLen = max(maxLen, len(v))
		}
		if minLen < 0 || !shapes[shape(head)] || len(head) < minLen || len(head) > maxLen {
			differ++
		}
	}
	return differ*2 > len(first)
}

func validName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.' || r == ' '):
		default:
			return false
		}
	}
	return true
}

const (
	shapeUpper uint8 = 1 << iota
	shapeLower
	shapeDigit
	shapeSpace
	shapePunct
)

func shape(s string) uint8 {
	var m uint8
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			m |= shapeUpper
		case r >= 'a' && r <= 'z':
			m |= shapeLower
		case r >= '0' && r <= '9':
			m |= shapeDigit
		case r == ' ' || r == '\t':
			m |= shapeSpace
		default:
			m |= shapePunct
		}
	}
	return m
}

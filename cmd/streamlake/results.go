package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/streamlake/streamlake/internal/query"
)

// Saved results are CSV text (see internal/query): every value is already
// rendered as query.Write renders it in table and csv. For json, values of
// numeric, boolean and nested columns are turned back into values that
// query.Write renders as JSON numbers, booleans, arrays and objects, so
// that `--format json` prints what it printed when queries ran in-process.

// fullResult reads every row of a SUCCEEDED execution's saved result.
func fullResult(ctx context.Context, svc *query.Service, id, format string) (*query.Result, error) {
	res := &query.Result{Rows: [][]any{}}
	offset := 0
	for {
		page, err := svc.Results(ctx, id, offset, query.MaxPageRows)
		if err != nil {
			return nil, err
		}
		appendPage(res, page, format)
		if page.NextOffset == 0 {
			return res, nil
		}
		offset = page.NextOffset
	}
}

// appendPage adds page's rows to res (and its columns, the first time).
func appendPage(res *query.Result, page *query.ResultPage, format string) {
	if res.Columns == nil {
		res.Columns = make([]string, len(page.Columns))
		res.Types = make([]string, len(page.Columns))
		for i, c := range page.Columns {
			res.Columns[i], res.Types[i] = c.Name, c.Type
		}
	}
	for _, rec := range page.Rows {
		row := make([]any, len(rec))
		for i, v := range rec {
			if v == nil {
				continue
			}
			row[i] = *v
			if format == query.FormatJSON && i < len(res.Types) {
				row[i] = typedValue(*v, res.Types[i])
			}
		}
		res.Rows = append(res.Rows, row)
	}
}

// typedValue turns a saved cell of DuckDB type typ back into a value that
// query.Write renders in JSON as the original value; text it cannot parse
// stays a string.
func typedValue(s, typ string) any {
	t := strings.ToUpper(strings.TrimSpace(typ))
	switch {
	case strings.HasSuffix(t, "]") || strings.HasPrefix(t, "STRUCT(") || strings.HasPrefix(t, "MAP(") || strings.HasPrefix(t, "UNION("):
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		v, err := decodeOrdered(dec)
		if err != nil {
			return s
		}
		return v
	case t == "BOOLEAN":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case t == "FLOAT" || t == "REAL":
		if f, err := strconv.ParseFloat(s, 32); err == nil {
			return float32(f)
		}
	case t == "DOUBLE":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case strings.HasPrefix(t, "DECIMAL"):
		if d, ok := decimal(s); ok {
			return d
		}
	case t == "TINYINT", t == "SMALLINT", t == "INTEGER", t == "BIGINT", t == "HUGEINT", t == "UTINYINT",
		t == "USMALLINT", t == "UINTEGER", t == "UBIGINT", t == "UHUGEINT", t == "BIGNUM", t == "VARINT":
		if n, ok := new(big.Int).SetString(s, 10); ok {
			if n.IsInt64() {
				return n.Int64()
			}
			return n
		}
	}
	return s
}

// decimal parses plain decimal text (-12.50) keeping its scale.
func decimal(s string) (duckdb.Decimal, bool) {
	digits, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(s, "eE") || len(frac) > 255 {
		return duckdb.Decimal{}, false
	}
	n, ok := new(big.Int).SetString(digits+frac, 10)
	if !ok {
		return duckdb.Decimal{}, false
	}
	return duckdb.Decimal{Width: 38, Scale: uint8(len(frac)), Value: n}, true
}

// decodeOrdered decodes one JSON value: objects become duckdb.OrderedMap
// (keeping their key order), numbers int64, *big.Int, duckdb.Decimal or
// float64 so that they render as the same text.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '[':
			out := []any{}
			for dec.More() {
				e, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			}
			_, err := dec.Token()
			return out, err
		case '{':
			var m duckdb.OrderedMap
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				e, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				m.Set(k, e)
			}
			_, err := dec.Token()
			return m, err
		}
		return nil, fmt.Errorf("unexpected %v", v)
	case json.Number:
		s := v.String()
		if n, ok := new(big.Int).SetString(s, 10); ok {
			if n.IsInt64() {
				return n.Int64(), nil
			}
			return n, nil
		}
		if d, ok := decimal(s); ok {
			return d, nil
		}
		return v.Float64()
	}
	return tok, nil // string, bool, nil
}

// statsLine is what a finished execution prints on a terminal:
// "execution ID SUCCEEDED in 12 ms, 3 files, 1.2 MB scanned".
func statsLine(x query.Execution) string {
	files := "files"
	if x.Statistics.FilesScanned == 1 {
		files = "file"
	}
	line := fmt.Sprintf("execution %s %s in %d ms, %d %s, %s scanned", x.ID, x.State,
		x.Finished.Sub(x.Submitted).Milliseconds(), x.Statistics.FilesScanned, files, humanBytes(x.Statistics.BytesScanned))
	if n := x.Statistics.RowsWritten; n > 0 {
		line += fmt.Sprintf(", %d rows written", n)
	}
	return line
}

// humanBytes is n in decimal units: 512 B, 1.2 MB, 3.4 GB.
func humanBytes(n int64) string {
	const units = "kMGTPE"
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1000, 0
	for f >= 999.95 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, units[i])
}

// failure is the one-line error of an execution that did not succeed:
// "query ID FAILED (USER): message" or "query ID CANCELLED: reason".
func failure(x query.Execution) error {
	switch {
	case x.Error != nil:
		return fmt.Errorf("query %s %s (%s): %s", x.ID, x.State, x.Error.Category, strings.TrimPrefix(x.Error.Message, "query: "))
	case x.StateReason != "":
		return fmt.Errorf("query %s %s: %s", x.ID, x.State, x.StateReason)
	}
	return fmt.Errorf("query %s %s", x.ID, x.State)
}

// writeIndentedJSON writes v as indented JSON.
func writeIndentedJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

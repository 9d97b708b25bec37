package query

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/streamlake/streamlake/internal/schema"
)

// Output formats of Write.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// ParseFormat checks an output format name (case-insensitive) and returns
// its canonical form.
func ParseFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case FormatTable, FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("--format: %q is not one of table, csv, json", s)
}

// Write renders r in format (see ParseFormat):
//
//   - table: aligned columns (numbers right-aligned), a header, a separator
//     line and a "(N rows)" footer; NULL is shown as NULL.
//   - csv: RFC 4180, one header row; NULL is an empty field.
//   - json: an array of objects, one per row, keys in column order; NULL is
//     null.
//
// Timestamps are RFC 3339 in UTC, dates YYYY-MM-DD, decimals exact. In
// table and csv, structs, lists and maps are JSON text.
func Write(w io.Writer, r *Result, format string) error {
	f, err := ParseFormat(format)
	if err != nil {
		return err
	}
	types := make([]*dtype, len(r.Columns))
	for i := range types {
		types[i] = unknownType
		if i < len(r.Types) {
			types[i] = parseDuckType(r.Types[i])
		}
	}
	bw := bufio.NewWriter(w)
	switch f {
	case FormatTable:
		writeTable(bw, r, types)
	case FormatCSV:
		err = writeCSV(bw, r, types)
	case FormatJSON:
		writeJSON(bw, r, types)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("query: write %s: %w", f, err)
	}
	return nil
}

func writeTable(w *bufio.Writer, r *Result, types []*dtype) {
	cells := make([][]string, len(r.Rows))
	widths := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for ri, row := range r.Rows {
		cells[ri] = make([]string, len(r.Columns))
		for i := range r.Columns {
			s := "NULL"
			if i < len(row) && row[i] != nil {
				s = tableEscaper.Replace(text(row[i], types[i]))
			}
			cells[ri][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	line := func(vals []string, header bool) {
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" |")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
			b.WriteByte(' ')
			if !header && types[i].numeric() {
				b.WriteString(pad + v)
			} else {
				b.WriteString(v + pad)
			}
		}
		w.WriteString(strings.TrimRight(b.String(), " "))
		w.WriteByte('\n')
	}
	if len(r.Columns) > 0 {
		line(r.Columns, true)
		seps := make([]string, len(widths))
		for i, wd := range widths {
			seps[i] = strings.Repeat("-", wd+2)
		}
		w.WriteString(strings.Join(seps, "+"))
		w.WriteByte('\n')
		for _, row := range cells {
			line(row, false)
		}
	}
	if len(r.Rows) == 1 {
		w.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(r.Rows))
	}
}

var tableEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

func writeCSV(w *bufio.Writer, r *Result, types []*dtype) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) && row[i] != nil {
				rec[i] = text(row[i], types[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w *bufio.Writer, r *Result, types []*dtype) {
	if len(r.Rows) == 0 {
		w.WriteString("[]\n")
		return
	}
	w.WriteString("[\n")
	var buf []byte
	for ri, row := range r.Rows {
		buf = append(buf[:0], '{')
		for i, c := range r.Columns {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = schema.AppendJSONString(buf, c)
			buf = append(buf, ':')
			var v any
			if i < len(row) {
				v = row[i]
			}
			buf = appendJSON(buf, v, types[i])
		}
		buf = append(buf, '}')
		if ri < len(r.Rows)-1 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	w.WriteString("]\n")
}

// text renders a non-NULL value as a table or csv cell.
func text(v any, t *dtype) string {
	switch x := v.(type) {
	case []any, map[string]any, duckdb.OrderedMap, map[any]any, duckdb.Map:
		return string(appendJSON(nil, v, t))
	case duckdb.Union: // the member's value, as DuckDB shows it
		if x.Value == nil {
			return ""
		}
		return text(x.Value, t.field(x.Tag))
	}
	s, _ := scalar(v, t)
	return s
}

// appendJSON appends v as JSON.
func appendJSON(b []byte, v any, t *dtype) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, t.element())
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		for i, k := range structKeys(x, t) {
			if i > 0 {
				b = append(b, ',')
			}
			b = schema.AppendJSONString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k], t.field(k))
		}
		return append(b, '}')
	case duckdb.OrderedMap:
		return appendMap(b, x.Keys(), x.Values(), t)
	case duckdb.Map:
		return appendJSON(b, map[any]any(x), t)
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		vals := make([]any, len(keys))
		for i, k := range keys {
			vals[i] = x[k]
		}
		return appendMap(b, keys, vals, t)
	case duckdb.Union:
		return appendJSON(b, x.Value, t.field(x.Tag))
	}
	s, quote := scalar(v, t)
	if quote {
		return schema.AppendJSONString(b, s)
	}
	return append(b, s...)
}

// appendMap writes a map as a JSON object with its keys as text.
func appendMap(b []byte, keys, vals []any, t *dtype) []byte {
	kt, vt := unknownType, unknownType
	if t != nil && t.key != nil {
		kt, vt = t.key, t.val
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		ks := "null"
		if k != nil {
			ks = text(k, kt)
		}
		b = schema.AppendJSONString(b, ks)
		b = append(b, ':')
		b = appendJSON(b, vals[i], vt)
	}
	return append(b, '}')
}

// structKeys are a struct's keys in its type's field order, then any the
// type does not name, sorted.
func structKeys(m map[string]any, t *dtype) []string {
	keys := make([]string, 0, len(m))
	if t != nil {
		for _, f := range t.fields {
			if _, ok := m[f.name]; ok {
				keys = append(keys, f.name)
			}
		}
	}
	if len(keys) == len(m) {
		return keys
	}
	var extra []string
	for k := range m {
		if !slices.Contains(keys, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(keys, extra...)
}

// scalar renders a scalar value as text and reports whether JSON quotes it.
func scalar(v any, t *dtype) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), false
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x), false
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case *big.Int:
		if x == nil {
			return "null", false
		}
		return x.String(), false
	case duckdb.Decimal:
		return formatDecimal(x), false
	case time.Time:
		return formatTime(x, t), true
	case duckdb.Interval:
		return formatInterval(x), true
	case []byte:
		if t != nil && t.name == "UUID" && len(x) == 16 {
			return formatUUID(x), true
		}
		return base64.StdEncoding.EncodeToString(x), true
	case duckdb.UUID:
		return formatUUID(x[:]), true
	case fmt.Stringer:
		return x.String(), true
	}
	return fmt.Sprint(v), true
}

func formatFloat(f float64, bits int) (string, bool) {
	switch {
	case math.IsNaN(f):
		return "NaN", true
	case math.IsInf(f, 1):
		return "Infinity", true
	case math.IsInf(f, -1):
		return "-Infinity", true
	}
	return strconv.FormatFloat(f, 'g', -1, bits), false
}

// formatDecimal keeps the type's scale: DECIMAL(10,2) 1.5 is 1.50.
func formatDecimal(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	s := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

func formatTime(x time.Time, t *dtype) string {
	name := ""
	if t != nil {
		name = t.name
	}
	switch name {
	case "DATE":
		return x.UTC().Format("2006-01-02")
	case "TIME":
		return x.Format("15:04:05.999999")
	case "TIMETZ":
		return x.Format("15:04:05.999999Z07:00")
	}
	return x.UTC().Format(time.RFC3339Nano)
}

// formatInterval writes DuckDB's form: 1 year 2 months 3 days 04:05:06.5.
func formatInterval(iv duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n != 0 {
			s := strconv.FormatInt(n, 10) + " " + name
			if n != 1 && n != -1 {
				s += "s"
			}
			parts = append(parts, s)
		}
	}
	unit(int64(iv.Months/12), "year")
	unit(int64(iv.Months%12), "month")
	unit(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func formatUUID(b []byte) string {
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return string(out)
}

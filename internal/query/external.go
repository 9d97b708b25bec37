package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// externalView returns the view body of an external table (its current
// definition) over the files under its location, and the directories it
// reads; it adds the files to sc.
func (e *Engine) externalView(ctx context.Context, conn *sql.Conn, ref catalog.Table, sc *scan) (string, []string, error) {
	name := ref.Database + "." + ref.Name
	t, err := e.cat.Table(ctx, ref.Database, ref.Name)
	if err != nil {
		if errors.Is(err, catalog.ErrNoSuchTable) {
			return "", nil, &NotFoundError{Database: ref.Database, Table: ref.Name}
		}
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	if crawled(t) {
		return e.crawledView(ctx, conn, t, sc)
	}
	cols, err := externalColumns(t.Columns, t.PartitionKeys)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	format := strings.ToLower(t.Format)
	compression := strings.ToLower(t.Compression)
	exts, err := extensions(format, compression)
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	keys := make([]string, len(t.PartitionKeys))
	for i, k := range t.PartitionKeys {
		keys[i] = k.Name
	}
	var globs, dirs []string
	if remote(t.Location) {
		globs, dirs, err = e.remoteExternalFiles(ctx, t.Location, keys, exts, sc)
	} else {
		globs, dirs, err = e.localExternalFiles(t.Location, keys, exts, sc)
	}
	if err != nil {
		return "", nil, fmt.Errorf("query: table %s: %w", name, err)
	}
	if len(globs) == 0 {
		if len(cols) == 0 {
			return "", nil, fmt.Errorf("query: table %s: no columns and no files under %s", name, t.Location)
		}
		return emptyView(cols), nil, nil
	}
	hive := hiveOptions(t.PartitionKeys, cols[len(t.Columns):])
	switch format {
	case "json":
		opts := []string{"format = 'newline_delimited'", "ignore_errors = true", hive}
		if compression == "" {
			compression = "none"
		}
		opts = append(opts, "compression = "+schema.QuoteString(compression))
		if len(t.Columns) > 0 {
			opts = append(opts, "columns = "+columnsStruct(cols[:len(t.Columns)]))
		}
		from := "read_json(" + schema.StringList(globs) + ", " + strings.Join(opts, ", ") + ")"
		if len(cols) == 0 {
			return "SELECT * FROM " + from, dirs, nil
		}
		return "SELECT " + projection(cols, allPresent(cols)) + " FROM " + from, dirs, nil
	case "parquet":
		from := "read_parquet(" + schema.StringList(globs) + ", union_by_name = true, " + hive + ")"
		if len(cols) == 0 {
			return "SELECT * FROM " + from, dirs, nil
		}
		present, err := describe(ctx, conn, from)
		if err != nil {
			return "", nil, fmt.Errorf("query: table %s: read files: %w", name, err)
		}
		return "SELECT " + projection(cols, present) + " FROM " + from, dirs, nil
	}
	return "", nil, fmt.Errorf("query: table %s: format %q is not supported", name, t.Format)
}

// localExternalFiles returns the globs of an external table's files under
// the local location loc (none if it has none) and the directory they are
// in; it adds the files to sc.
func (e *Engine) localExternalFiles(location string, keys, exts []string, sc *scan) ([]string, []string, error) {
	loc, err := localPath(location)
	if err != nil {
		return nil, nil, err
	}
	found, err := findExtensions(loc, keys, exts)
	if err != nil {
		return nil, nil, fmt.Errorf("list files: %w", err)
	}
	e.log.Debug("query external files", "location", loc, "extensions", found)
	if len(found) == 0 {
		return nil, nil, nil
	}
	if err := sc.addFiles(loc, keys, found); err != nil {
		return nil, nil, fmt.Errorf("list files: %w", err)
	}
	globs := make([]string, len(found))
	for i, ext := range found {
		globs[i] = filepath.Join(dataDirGlob(loc, keys), "*"+ext)
	}
	return globs, []string{dirOf(loc)}, nil
}

// externalColumns are the data columns followed by the partition keys.
func externalColumns(data, parts []catalog.Column) ([]column, error) {
	cols := make([]column, 0, len(data)+len(parts))
	for _, c := range append(append([]catalog.Column(nil), data...), parts...) {
		d := c.DuckDB
		if d == "" {
			var err error
			if d, err = hiveToDuck(c.Type); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
		up := strings.ToUpper(d)
		nested := strings.HasPrefix(up, "STRUCT") || strings.HasPrefix(up, "MAP") || strings.HasSuffix(up, "]")
		cols = append(cols, column{name: c.Name, duck: d, nested: nested})
	}
	return cols, nil
}

// allPresent says every column is present with its own type: read_json
// returns exactly the requested columns.
func allPresent(cols []column) map[string]string {
	m := make(map[string]string, len(cols))
	for _, c := range cols {
		m[strings.ToLower(c.name)] = c.duck
	}
	return m
}

// hiveOptions are the read_* options for Hive-style partition keys.
func hiveOptions(keys []catalog.Column, cols []column) string {
	if len(keys) == 0 {
		return "hive_partitioning = false"
	}
	types := make([]string, len(keys))
	for i, k := range keys {
		types[i] = schema.QuoteString(k.Name) + ": " + schema.QuoteString(cols[i].duck)
	}
	return "hive_partitioning = true, hive_types = {" + strings.Join(types, ", ") + "}"
}

// columnsStruct is read_json's columns = {'name': 'TYPE', ...}.
func columnsStruct(cols []column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = schema.QuoteString(c.name) + ": " + schema.QuoteString(c.duck)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// extensions are the file name suffixes of a format and compression.
func extensions(format, compression string) ([]string, error) {
	switch format {
	case "parquet":
		// Parquet compresses inside the file; the name does not change.
		return []string{".parquet"}, nil
	case "json":
		switch compression {
		case "zstd":
			return []string{".zst"}, nil
		case "gzip":
			return []string{".gz"}, nil
		case "", "none":
			return []string{".json", ".ndjson", ".jsonl"}, nil
		}
		return nil, fmt.Errorf("compression %q is not one of none, gzip, zstd", compression)
	}
	return nil, fmt.Errorf("format %q is not one of json, parquet", format)
}

// dataDirGlob is the glob of the directories holding an external table's
// files: with partition keys k1..kn, location/k1=*/.../kn=* (Hive layout:
// other paths under the location are not the table's); without, every
// directory under the location.
func dataDirGlob(loc string, keys []string) string {
	if len(keys) == 0 {
		return filepath.Join(loc, "**")
	}
	parts := []string{loc}
	for _, k := range keys {
		parts = append(parts, k+"=*")
	}
	return filepath.Join(parts...)
}

// findExtensions returns which of exts some regular file in the data
// directories (see dataDirGlob) has, in the order of exts. It stops as soon
// as it has found them all. A missing location has none.
func findExtensions(loc string, keys, exts []string) ([]string, error) {
	has := make([]bool, len(exts))
	n := 0
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if depth == 0 && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, d := range entries {
			if n == len(exts) {
				return nil
			}
			switch {
			case d.IsDir() && len(keys) == 0:
				err = walk(filepath.Join(dir, d.Name()), depth+1)
			case d.IsDir() && depth < len(keys) && strings.HasPrefix(d.Name(), keys[depth]+"="):
				err = walk(filepath.Join(dir, d.Name()), depth+1)
			case d.Type().IsRegular() && (len(keys) == 0 || depth == len(keys)):
				for i, ext := range exts {
					if !has[i] && strings.HasSuffix(d.Name(), ext) {
						has[i] = true
						n++
					}
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(loc, 0); err != nil {
		return nil, err
	}
	var out []string
	for i, ext := range exts {
		if has[i] {
			out = append(out, ext)
		}
	}
	return out, nil
}

// hiveToDuck translates a Hive/Glue DDL type (bigint, array<string>,
// struct<a:int,b:map<string,double>>, decimal(10,2)) to DuckDB syntax.
func hiveToDuck(s string) (string, error) {
	p := &hiveParser{s: s}
	d, err := p.typ()
	if err == nil && p.skipSpace() < len(p.s) {
		err = fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	if err != nil {
		return "", fmt.Errorf("hive type %q: %w", s, err)
	}
	return d, nil
}

type hiveParser struct {
	s string
	i int
}

func (p *hiveParser) skipSpace() int {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
	return p.i
}

func (p *hiveParser) expect(c byte) error {
	if p.skipSpace() >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("expected %q at offset %d", c, p.i)
	}
	p.i++
	return nil
}

func (p *hiveParser) word() string {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && (isIdentPart(p.s[p.i])) {
		p.i++
	}
	return strings.ToLower(p.s[start:p.i])
}

// args returns a parenthesised argument text such as "10,2", or "".
func (p *hiveParser) args() string {
	if p.skipSpace() >= len(p.s) || p.s[p.i] != '(' {
		return ""
	}
	end := strings.IndexByte(p.s[p.i:], ')')
	if end < 0 {
		return ""
	}
	a := strings.ReplaceAll(p.s[p.i+1:p.i+end], " ", "")
	p.i += end + 1
	return a
}

var hiveScalars = map[string]string{
	"boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER",
	"integer": "INTEGER", "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE",
	"string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "date": "DATE",
	"timestamp": "TIMESTAMP", "binary": "BLOB",
}

func (p *hiveParser) typ() (string, error) {
	w := p.word()
	switch w {
	case "array":
		if err := p.expect('<'); err != nil {
			return "", err
		}
		elem, err := p.typ()
		if err != nil {
			return "", err
		}
		return elem + "[]", p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return "", err
		}
		k, err := p.typ()
		if err != nil {
			return "", err
		}
		if err := p.expect(','); err != nil {
			return "", err
		}
		v, err := p.typ()
		if err != nil {
			return "", err
		}
		return "MAP(" + k + ", " + v + ")", p.expect('>')
	case "struct":
		return p.structType()
	case "decimal":
		if a := p.args(); a != "" {
			return "DECIMAL(" + a + ")", nil
		}
		return "DECIMAL(10,0)", nil
	}
	d, ok := hiveScalars[w]
	if !ok {
		return "", fmt.Errorf("unknown type %q", w)
	}
	p.args() // varchar(10), char(3)
	return d, nil
}

func (p *hiveParser) structType() (string, error) {
	if err := p.expect('<'); err != nil {
		return "", err
	}
	var fields []string
	for {
		p.skipSpace()
		var name string
		if p.i < len(p.s) && p.s[p.i] == '`' {
			end := strings.IndexByte(p.s[p.i+1:], '`')
			if end < 0 {
				return "", errors.New("unterminated `name`")
			}
			name = p.s[p.i+1 : p.i+1+end]
			p.i += end + 2
		} else {
			end := strings.IndexByte(p.s[p.i:], ':')
			if end < 0 {
				return "", fmt.Errorf("expected name: at offset %d", p.i)
			}
			name = strings.TrimSpace(p.s[p.i : p.i+end])
			p.i += end
		}
		if err := p.expect(':'); err != nil {
			return "", err
		}
		t, err := p.typ()
		if err != nil {
			return "", err
		}
		fields = append(fields, schema.QuoteIdent(name)+" "+t)
		if p.skipSpace() < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if err := p.expect('>'); err != nil {
			return "", err
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")", nil
	}
}

package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/streamlake/streamlake/internal/schema"
)

// byFieldID reports whether the files of md's table must be read by
// Iceberg field id (readByID) rather than by name with sch, the schema
// read: when a column has had another name in an earlier schema (data
// files name columns as they were called when the file was written), when
// a column's name is one Iceberg's writers change in data files (a name
// that is not a valid Avro name, such as "user-id", "a.b" or "@timestamp",
// is written "user_x2Did"), or when two columns differ only in case (DuckDB
// binds names case-insensitively, so both would read the first). Other
// tables are read by name, which is the same and lets DuckDB bind without
// the field-id mapping.
func byFieldID(md table.Metadata, sch *iceberg.Schema) bool {
	return renamed(md) || sanitized(sch) || foldCollision(sch.Fields())
}

// renamed reports whether a column of md's table has had another name in
// an earlier schema.
func renamed(md table.Metadata) bool {
	names := map[int]string{}
	for _, sc := range md.Schemas() {
		for id := 1; id <= sc.HighestFieldID(); id++ {
			name, ok := sc.FindColumnName(id)
			if !ok {
				continue
			}
			if prev, seen := names[id]; seen && prev != name {
				return true
			}
			names[id] = name
		}
	}
	return false
}

// sanitized reports whether data files name any column of sch, at any
// depth, otherwise than sch does (schema.FileName: writers replace a name
// that is not a valid Avro name, as Iceberg's Java writer does). It runs
// for every query, so it checks names without building a schema.
func sanitized(sch *iceberg.Schema) bool {
	var walk func(t iceberg.Type) bool
	walk = func(t iceberg.Type) bool {
		switch t := t.(type) {
		case *iceberg.StructType:
			for _, f := range t.FieldList {
				if schema.FileName(f.Name) != f.Name || walk(f.Type) {
					return true
				}
			}
		case *iceberg.ListType:
			return walk(t.Element)
		case *iceberg.MapType:
			return walk(t.KeyType) || walk(t.ValueType)
		}
		return false
	}
	st := sch.AsStruct()
	return walk(&st)
}

// foldCollision reports whether two of fields' names are the same but for
// case.
func foldCollision(fields []iceberg.NestedField) bool {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		k := strings.ToLower(f.Name)
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

// duckNames are the names DuckDB presents fields under: their own, except
// that a name equal but for case to an earlier one (DuckDB's names are
// case-insensitive) gets the first free suffix _1, _2, ..., as DuckDB
// names duplicate columns.
func duckNames(fields []iceberg.NestedField) []string {
	names := make([]string, len(fields))
	taken := make(map[string]bool, len(fields))
	for _, f := range fields {
		taken[strings.ToLower(f.Name)] = false
	}
	for i, f := range fields {
		name := f.Name
		if taken[strings.ToLower(name)] {
			for n := 1; ; n++ {
				alt := name + "_" + strconv.Itoa(n)
				if _, used := taken[strings.ToLower(alt)]; !used {
					name = alt
					break
				}
			}
		}
		taken[strings.ToLower(name)] = true
		names[i] = name
	}
	return names
}

// readByID is the view body over files that reads the columns of sc by
// Iceberg field id (read_parquet's schema parameter): a column renamed
// after a file was written reads its values under the new name, a column
// added after reads as NULL, and values are cast to the schema's types.
// Nested fields are read under the names writers give them in data files
// (iceberg.SanitizeColumnNames: "user-id" is "user_x2Did") and renamed to
// sc's (fileNames). cols are sc's columns as icebergColumns names them.
func readByID(files []string, sc *iceberg.Schema, cols []column) (string, error) {
	fields := sc.Fields()
	inFiles := fields
	if san, err := iceberg.SanitizeColumnNames(sc); err == nil {
		inFiles = san.Fields()
	}
	entries := make([]string, len(fields))
	list := make([]string, len(fields))
	for i, f := range fields {
		d, err := duckType(inFiles[i].Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		entries[i] = strconv.Itoa(f.ID) + ": {name: " + schema.QuoteString(cols[i].name) + ", type: " + schema.QuoteString(d) + ", default_value: NULL}"
		q := schema.QuoteIdent(cols[i].name)
		expr, err := fileNames(q, f.Type, inFiles[i].Type, 0)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		if expr != q {
			q = expr + " AS " + q
		}
		list[i] = q
	}
	return "SELECT " + strings.Join(list, ", ") + " FROM read_parquet(" + schema.StringList(files) +
		", hive_partitioning = false, schema = MAP {" + strings.Join(entries, ", ") + "})", nil
}

// fileNames is expr, a value of type inFile (t with the nested names data
// files use), as a value of t: expr itself where the names are the same,
// otherwise its structs rebuilt under t's names (DuckDB casts one struct
// to another by name, and an unnamed struct by position). depth names the
// lambda variables of nested lists and maps apart.
func fileNames(expr string, t, inFile iceberg.Type, depth int) (string, error) {
	if t.Equals(inFile) {
		return expr, nil
	}
	d, err := duckType(t)
	if err != nil {
		return "", err
	}
	switch t := t.(type) {
	case *iceberg.StructType:
		f := inFile.(*iceberg.StructType)
		parts := make([]string, len(t.FieldList))
		for i, field := range t.FieldList {
			if parts[i], err = fileNames(expr+"."+schema.QuoteIdent(f.FieldList[i].Name), field.Type, f.FieldList[i].Type, depth); err != nil {
				return "", err
			}
		}
		return "CASE WHEN " + expr + " IS NULL THEN NULL ELSE CAST(row(" + strings.Join(parts, ", ") + ") AS " + d + ") END", nil
	case *iceberg.ListType:
		x := "x" + strconv.Itoa(depth)
		elem, err := fileNames(x, t.Element, inFile.(*iceberg.ListType).Element, depth+1)
		if err != nil {
			return "", err
		}
		return "CAST(list_transform(" + expr + ", lambda " + x + ": " + elem + ") AS " + d + ")", nil
	case *iceberg.MapType:
		m := inFile.(*iceberg.MapType)
		e := "e" + strconv.Itoa(depth)
		k, err := fileNames(e+".key", t.KeyType, m.KeyType, depth+1)
		if err != nil {
			return "", err
		}
		v, err := fileNames(e+".value", t.ValueType, m.ValueType, depth+1)
		if err != nil {
			return "", err
		}
		return "CAST(map_from_entries(list_transform(map_entries(" + expr + "), lambda " + e + ": {'key': " + k + ", 'value': " + v + "})) AS " + d + ")", nil
	}
	return expr, nil
}

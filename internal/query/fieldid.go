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
// Nested fields are read under the names data files give them and renamed
// to sc's (fileNames). Without names, every file is taken to name them as
// writers name sc's (iceberg.SanitizeColumnNames: "user-id" is
// "user_x2Did"). With names (files[i]'s Parquet names by field id, see
// plans.fieldNames), as each file does: files that name sc's nested
// fields alike are read together, and the groups' rows are put together
// with UNION ALL, so a nested field renamed after a file was written reads
// its values from that file under its old name. cols are sc's columns as
// icebergColumns names them.
func readByID(files []string, sc *iceberg.Schema, cols []column, names []map[int]string) (string, error) {
	fields := sc.Fields()
	if names == nil {
		inFiles := fields
		if san, err := iceberg.SanitizeColumnNames(sc); err == nil {
			inFiles = san.Fields()
		}
		return readFilesByID(files, fields, inFiles, cols)
	}
	type group struct {
		files   []string
		inFiles []iceberg.NestedField
	}
	var groups []*group
	byKey := map[string]*group{}
	for i, f := range files {
		inFiles := make([]iceberg.NestedField, len(fields))
		var key strings.Builder
		for j, field := range fields {
			inFiles[j] = field
			inFiles[j].Type = namedAsIn(field.Type, names[i], &key)
		}
		g := byKey[key.String()]
		if g == nil {
			g = &group{inFiles: inFiles}
			byKey[key.String()] = g
			groups = append(groups, g)
		}
		g.files = append(g.files, f)
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		body, err := readFilesByID(g.files, fields, g.inFiles, cols)
		if err != nil {
			return "", err
		}
		parts[i] = body
	}
	return strings.Join(parts, " UNION ALL "), nil
}

// readFilesByID is the view body over files that name fields (nested
// fields included) as inFiles does.
func readFilesByID(files []string, fields, inFiles []iceberg.NestedField, cols []column) (string, error) {
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

// namedAsIn is t with the fields of its structs, at any depth, named as a
// data file names them (names: the file's Parquet names by field id). A
// field the file does not have is named absentName(id), which no writer
// gives a field, so DuckDB reads it as NULL. Each struct field's name in
// the file is written to key, so files that name t's fields alike have the
// same key.
func namedAsIn(t iceberg.Type, names map[int]string, key *strings.Builder) iceberg.Type {
	switch t := t.(type) {
	case *iceberg.StructType:
		out := &iceberg.StructType{FieldList: make([]iceberg.NestedField, len(t.FieldList))}
		for i, f := range t.FieldList {
			name, ok := names[f.ID]
			if !ok {
				name = absentName(f.ID)
			}
			key.WriteString(strconv.Itoa(f.ID))
			key.WriteByte('=')
			key.WriteString(strconv.Quote(name))
			f.Name = name
			f.Type = namedAsIn(f.Type, names, key)
			out.FieldList[i] = f
		}
		return out
	case *iceberg.ListType:
		c := *t
		c.Element = namedAsIn(t.Element, names, key)
		return &c
	case *iceberg.MapType:
		c := *t
		c.KeyType = namedAsIn(t.KeyType, names, key)
		c.ValueType = namedAsIn(t.ValueType, names, key)
		return &c
	}
	return t
}

// absentName is the name a nested field is read under from a data file
// that does not have it (see namedAsIn).
func absentName(id int) string { return "sl_absent_" + strconv.Itoa(id) }

// nestedRenamed reports whether a field below the top level of md's table
// (a struct's field, at any depth) has had another name in an earlier
// schema, so that data files may name it otherwise than the current schema
// does.
func nestedRenamed(md table.Metadata) bool {
	names := map[int]string{}
	renamed := false
	var walk func(t iceberg.Type)
	walk = func(t iceberg.Type) {
		switch t := t.(type) {
		case *iceberg.StructType:
			for _, f := range t.FieldList {
				if prev, seen := names[f.ID]; seen && prev != f.Name {
					renamed = true
				}
				names[f.ID] = f.Name
				walk(f.Type)
			}
		case *iceberg.ListType:
			walk(t.Element)
		case *iceberg.MapType:
			walk(t.KeyType)
			walk(t.ValueType)
		}
	}
	for _, sc := range md.Schemas() {
		for _, f := range sc.Fields() {
			walk(f.Type)
		}
	}
	return renamed
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

package etl

import (
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"

	"github.com/streamlake/streamlake/internal/schema"
)

// Policies for a value that does not fit its column's type.
const (
	PolicyDLQ            = "dlq"              // the record goes to the dead-letter table
	PolicyCoerceToString = "coerce-to-string" // the value is kept as text
)

// stringSuffix names the text column that holds, under coerce-to-string,
// the values that do not fit a non-string column (Glue's ResolveChoice
// make_cols names its columns the same way).
const stringSuffix = "_string"

// coerce rewrites the fields of v that do not fit their columns in st so
// that they do, under the coerce-to-string policy: a value in a string
// column becomes its text (a number 42 becomes "42"); a value in any other
// column moves, as text, to the string column <field>_string beside it,
// and the original column is null for this row. Iceberg cannot change a
// column's type to string, so the text lives in its own column. need
// collects the paths of the text columns used that st lacks. v's nested
// objects are rewritten in place; the (possibly grown) object is returned.
// When the text column is taken (a column of another type, or a value of
// the record's own), the value cannot move without losing one, and the
// error says so: the record is a dead letter.
func coerce(v schema.Object, st *iceberg.StructType, prefix []string, need map[string][]string) (schema.Object, error) {
	for _, f := range st.FieldList {
		i := member(v, f.Name)
		if i < 0 || v[i].Value == nil || checkValue(v[i].Value, f.Type, f.Name) == nil {
			continue
		}
		if inner, ok := f.Type.(*iceberg.StructType); ok {
			if o, ok := v[i].Value.(schema.Object); ok {
				var err error
				if v[i].Value, err = coerce(o, inner, append(prefix, f.Name), need); err != nil {
					return nil, err
				}
				continue
			}
		}
		text := schema.Text(v[i].Value)
		if _, ok := f.Type.(iceberg.StringType); ok {
			v[i].Value = text
			continue
		}
		name := f.Name + stringSuffix
		path := "$." + strings.Join(append(append([]string(nil), prefix...), f.Name), ".")
		c, exists := findField(st.FieldList, name)
		if _, isString := c.Type.(iceberg.StringType); exists && !isString {
			return nil, fmt.Errorf("field %s: %s does not fit column type %s, and its text column %s is of type %s",
				path, preview(v[i].Value), describe(f.Type), name, describe(c.Type))
		}
		j := member(v, name)
		if j >= 0 && v[j].Value != nil {
			return nil, fmt.Errorf("field %s: %s does not fit column type %s, and its text column %s holds the record's own value",
				path, preview(v[i].Value), describe(f.Type), name)
		}
		v[i].Value = nil
		if !exists {
			p := append(append([]string(nil), prefix...), name)
			need[strings.Join(p, "\x00")] = p
		}
		if j >= 0 {
			v[j].Value = text
		} else {
			v = append(v, schema.Member{Key: name, Value: text})
		}
	}
	return v, nil
}

// member is the index of v's last member named key, or -1.
func member(v schema.Object, key string) int {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i].Key == key {
			return i
		}
	}
	return -1
}

// textColumns is the inferred type of the text columns coerce needs, for
// addColumns.
func textColumns(need map[string][]string) *schema.Type {
	root := &schema.Type{Kind: schema.Struct}
	for _, path := range need {
		t := root
		for _, name := range path[:len(path)-1] {
			var next *schema.Type
			for _, f := range t.Fields {
				if f.Name == name {
					next = f.Type
				}
			}
			if next == nil {
				next = &schema.Type{Kind: schema.Struct}
				t.Fields = append(t.Fields, schema.Field{Name: name, Type: next})
			}
			t = next
		}
		t.Fields = append(t.Fields, schema.Field{Name: path[len(path)-1], Type: schema.Of(schema.String)})
	}
	return root
}

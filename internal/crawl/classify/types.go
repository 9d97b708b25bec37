package classify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

// Kind is a column type's kind, named as in Glue/Hive DDL. Kinds are
// strings so that a Type serializes to readable JSON (fingerprint caches).
type Kind string

// The kinds. Null is the type of a value that was always null in the
// sample; it renders as string.
const (
	Null      Kind = "null"
	Boolean   Kind = "boolean"
	TinyInt   Kind = "tinyint"
	SmallInt  Kind = "smallint"
	Int       Kind = "int"
	BigInt    Kind = "bigint"
	Float     Kind = "float"
	Double    Kind = "double"
	Decimal   Kind = "decimal"
	String    Kind = "string"
	Binary    Kind = "binary"
	Date      Kind = "date"
	Timestamp Kind = "timestamp"
	Struct    Kind = "struct"
	Array     Kind = "array"
	Map       Kind = "map"
)

// Type is a column type. Types are treated as immutable once built.
type Type struct {
	Kind      Kind    `json:"kind"`
	Precision int     `json:"precision,omitempty"` // Decimal
	Scale     int     `json:"scale,omitempty"`     // Decimal
	Fields    []Field `json:"fields,omitempty"`    // Struct
	Elem      *Type   `json:"elem,omitempty"`      // Array
	Key       *Type   `json:"key,omitempty"`       // Map
	Value     *Type   `json:"value,omitempty"`     // Map
}

// Field is a named struct member or a top-level column.
type Field struct {
	Name string `json:"name"`
	Type *Type  `json:"type"`
}

// Of returns a scalar type.
func Of(k Kind) *Type { return &Type{Kind: k} }

// DecimalOf returns decimal(p,s).
func DecimalOf(p, s int) *Type { return &Type{Kind: Decimal, Precision: p, Scale: s} }

// ArrayOf returns array<e>.
func ArrayOf(e *Type) *Type { return &Type{Kind: Array, Elem: e} }

// MapOf returns map<k,v>.
func MapOf(k, v *Type) *Type { return &Type{Kind: Map, Key: k, Value: v} }

// StructOf returns struct<fields>.
func StructOf(fields ...Field) *Type { return &Type{Kind: Struct, Fields: fields} }

// Hive renders the type in Glue/Hive DDL: bigint, decimal(10,2),
// struct<a:int>, array<string>, map<string,int>. Null renders as string.
func (t *Type) Hive() string {
	var b strings.Builder
	t.hive(&b)
	return b.String()
}

func (t *Type) hive(b *strings.Builder) {
	switch t.Kind {
	case Null:
		b.WriteString("string")
	case Decimal:
		fmt.Fprintf(b, "decimal(%d,%d)", t.Precision, t.Scale)
	case Struct:
		if len(t.Fields) == 0 {
			b.WriteString("string")
			return
		}
		b.WriteString("struct<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Name)
			b.WriteByte(':')
			f.Type.hive(b)
		}
		b.WriteByte('>')
	case Array:
		b.WriteString("array<")
		t.Elem.hive(b)
		b.WriteByte('>')
	case Map:
		b.WriteString("map<")
		t.Key.hive(b)
		b.WriteByte(',')
		t.Value.hive(b)
		b.WriteByte('>')
	default:
		b.WriteString(string(t.Kind))
	}
}

var duckNames = map[Kind]string{
	Null: "VARCHAR", Boolean: "BOOLEAN", TinyInt: "TINYINT", SmallInt: "SMALLINT",
	Int: "INTEGER", BigInt: "BIGINT", Float: "REAL", Double: "DOUBLE", String: "VARCHAR",
	Binary: "BLOB", Date: "DATE", Timestamp: "TIMESTAMPTZ",
}

// DuckDB renders the type as a DuckDB SQL type (timestamps as TIMESTAMPTZ,
// as package schema does).
func (t *Type) DuckDB() string {
	var b strings.Builder
	t.duck(&b)
	return b.String()
}

func (t *Type) duck(b *strings.Builder) {
	switch t.Kind {
	case Decimal:
		fmt.Fprintf(b, "DECIMAL(%d,%d)", t.Precision, t.Scale)
	case Struct:
		if len(t.Fields) == 0 {
			b.WriteString("VARCHAR")
			return
		}
		b.WriteString("STRUCT(")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(schema.QuoteIdent(f.Name))
			b.WriteByte(' ')
			f.Type.duck(b)
		}
		b.WriteByte(')')
	case Array:
		t.Elem.duck(b)
		b.WriteString("[]")
	case Map:
		b.WriteString("MAP(")
		t.Key.duck(b)
		b.WriteString(", ")
		t.Value.duck(b)
		b.WriteByte(')')
	default:
		if n, ok := duckNames[t.Kind]; ok {
			b.WriteString(n)
			return
		}
		b.WriteString("VARCHAR")
	}
}

// Conflict is a type conflict found while merging: two types with no
// common widening, resolved to string.
type Conflict struct {
	// Path is the column, with nested fields joined by dots and array
	// elements and map values as [] and {}.
	Path     string `json:"path"`
	A        string `json:"a"` // Hive type on one side
	B        string `json:"b"` // Hive type on the other
	Resolved string `json:"resolved"`
}

// String is "path: a vs b -> resolved".
func (c Conflict) String() string {
	return c.Path + ": " + c.A + " vs " + c.B + " -> " + c.Resolved
}

// integer widening order.
var intRank = map[Kind]int{TinyInt: 1, SmallInt: 2, Int: 3, BigInt: 4}

// Merge returns the narrowest type holding a and b, and the conflicts that
// had to be resolved to string, with paths under path. The rules:
//
//	null + T                          -> T
//	tinyint -> smallint -> int -> bigint (the wider integer)
//	integer or float + double         -> double
//	integer + float, float + double   -> double
//	decimal(p1,s1) + decimal(p2,s2)   -> decimal wide enough for both (max 38)
//	decimal + integer                 -> decimal wide enough for both
//	decimal + float/double            -> double
//	date + timestamp                  -> timestamp
//	date/timestamp + string           -> string (not a conflict: strings that
//	                                     looked like dates in one sample)
//	struct + struct                   -> union of fields, first-seen order,
//	                                     common fields merged recursively
//	array<A> + array<B>               -> array<merge(A,B)>
//	map<K1,V1> + map<K2,V2>           -> map<merge(K1,K2),merge(V1,V2)>
//	anything else                     -> string, reported as a conflict
func Merge(path string, a, b *Type) (*Type, []Conflict) {
	var cs []Conflict
	t := merge(path, a, b, &cs)
	return t, cs
}

func merge(path string, a, b *Type, cs *[]Conflict) *Type {
	switch {
	case a == nil || a.Kind == Null:
		if b == nil {
			return Of(Null)
		}
		return b
	case b == nil || b.Kind == Null:
		return a
	}
	ka, kb := a.Kind, b.Kind
	switch {
	case ka == Struct && kb == Struct:
		return mergeStruct(path, a, b, cs)
	case ka == Array && kb == Array:
		return ArrayOf(merge(path+"[]", a.Elem, b.Elem, cs))
	case ka == Map && kb == Map:
		return MapOf(merge(path+"{key}", a.Key, b.Key, cs), merge(path+"{}", a.Value, b.Value, cs))
	case ka == Decimal && kb == Decimal:
		return wideDecimal(a.Precision, a.Scale, b.Precision, b.Scale)
	case ka == kb:
		return a
	}
	ra, rb := intRank[ka], intRank[kb]
	switch {
	case ra > 0 && rb > 0:
		if ra >= rb {
			return a
		}
		return b
	case (ra > 0 || ka == Float || ka == Double) && (rb > 0 || kb == Float || kb == Double):
		return Of(Double)
	case ka == Decimal && rb > 0:
		return wideDecimal(a.Precision, a.Scale, intDigits(kb), 0)
	case kb == Decimal && ra > 0:
		return wideDecimal(intDigits(ka), 0, b.Precision, b.Scale)
	case (ka == Decimal && (kb == Float || kb == Double)) || (kb == Decimal && (ka == Float || ka == Double)):
		return Of(Double)
	case (ka == Date && kb == Timestamp) || (ka == Timestamp && kb == Date):
		return Of(Timestamp)
	case (ka == String && (kb == Date || kb == Timestamp)) || (kb == String && (ka == Date || ka == Timestamp)):
		return Of(String)
	}
	*cs = append(*cs, Conflict{Path: path, A: a.Hive(), B: b.Hive(), Resolved: "string"})
	return Of(String)
}

func intDigits(k Kind) int {
	switch k {
	case TinyInt:
		return 3
	case SmallInt:
		return 5
	case Int:
		return 10
	}
	return 19
}

func wideDecimal(p1, s1, p2, s2 int) *Type {
	s := max(s1, s2)
	p := max(p1-s1, p2-s2) + s
	if p > 38 {
		p = 38
	}
	return DecimalOf(p, s)
}

func mergeStruct(path string, a, b *Type, cs *[]Conflict) *Type {
	fields := make([]Field, len(a.Fields), len(a.Fields)+len(b.Fields))
	copy(fields, a.Fields)
	index := make(map[string]int, len(fields))
	for i, f := range fields {
		index[strings.ToLower(f.Name)] = i
	}
	for _, bf := range b.Fields {
		i, ok := index[strings.ToLower(bf.Name)]
		if !ok {
			index[strings.ToLower(bf.Name)] = len(fields)
			fields = append(fields, bf)
			continue
		}
		fields[i].Type = merge(join(path, fields[i].Name), fields[i].Type, bf.Type, cs)
	}
	return StructOf(fields...)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Equal reports whether two types render the same.
func Equal(a, b *Type) bool { return a.Hive() == b.Hive() }

// ParseDate reports whether s is a calendar date YYYY-MM-DD.
func ParseDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:])
	if err1 != nil || err2 != nil || err3 != nil || y < 0 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if d > days[m-1] {
		return false
	}
	return m != 2 || d < 29 || y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

// scalarOf infers the type of a text value (a CSV cell or a partition
// value): boolean, int, bigint, double, date, timestamp or string; "" is
// Null.
func scalarOf(s string) *Type {
	switch {
	case s == "":
		return Of(Null)
	case strings.EqualFold(s, "true") || strings.EqualFold(s, "false"):
		return Of(Boolean)
	}
	if k := integerKind(s); k != "" {
		return Of(k)
	}
	if isFloat(s) {
		return Of(Double)
	}
	if ParseDate(s) {
		return Of(Date)
	}
	if _, ok := schema.ParseTimestamp(s); ok {
		return Of(Timestamp)
	}
	return Of(String)
}

// integerKind is Int or BigInt for a decimal integer literal, "" otherwise.
// Leading zeros (other than "0") make it a string, as codes like "007" are.
func integerKind(s string) Kind {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 1 && d[0] == '0' {
		return ""
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return ""
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return "" // beyond bigint: a double if it parses as one
	case n >= -1<<31 && n < 1<<31:
		return Int
	}
	return BigInt
}

func isFloat(s string) bool {
	if s == "" || strings.ContainsAny(s, "xXpP_") || !strings.ContainsAny(s, "0123456789") {
		return false // no hex floats, no Inf/NaN words
	}
	if d := strings.TrimLeft(s, "+-"); len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9' {
		return false // leading zeros: a code, not a number
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// InferText returns the type of a text value such as a CSV cell or a
// partition folder's value: boolean, int, bigint, double, date (YYYY-MM-DD),
// timestamp (RFC 3339) or string; "" is Null. Integers with leading zeros
// ("007") are strings.
func InferText(s string) *Type { return scalarOf(s) }

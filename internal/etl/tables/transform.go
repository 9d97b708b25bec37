package tables

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Transform is one step of a table's transforms: a YAML mapping with
// exactly one key. Field paths are dotted for nested fields (location.lat).
//
//	transforms:
//	  - rename: {from: a, to: b}             # b is a name in a's parent
//	  - drop: location.lat
//	  - cast: {field: x, type: long}         # long, double, string, boolean, timestamp
//	  - flatten: location                    # or {field: location, separator: "_"}
//	  - hash: device                         # or {field: device, salt: s3cret}
//	  - mask: card                           # or {field: card, keep_last: 4}
//	  - derive: {name: temp_f, expr: "temp * 9 / 5 + 32"}
//
// Decoding is strict: a problem in the YAML (an unknown key, two keys, a
// wrong shape) is kept and reported by Validate with the key named.
type Transform struct {
	Rename  *Rename  `yaml:"rename,omitempty"`
	Drop    string   `yaml:"drop,omitempty"`
	Cast    *Cast    `yaml:"cast,omitempty"`
	Flatten *Flatten `yaml:"flatten,omitempty"`
	Hash    *Hash    `yaml:"hash,omitempty"`
	Mask    *Mask    `yaml:"mask,omitempty"`
	Derive  *Derive  `yaml:"derive,omitempty"`

	problem *keyError // from decoding, reported by Validate
}

// Rename renames a field in place; To is a plain name in From's parent and
// replaces a field of that name.
type Rename struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Cast converts a field's value to a column type.
type Cast struct {
	Field string `yaml:"field"`
	Type  string `yaml:"type"`
}

// Cast types.
const (
	CastLong      = "long"
	CastDouble    = "double"
	CastString    = "string"
	CastBoolean   = "boolean"
	CastTimestamp = "timestamp" // RFC 3339 string (UTC); from RFC 3339 or epoch
)

var castTypes = []string{CastLong, CastDouble, CastString, CastBoolean, CastTimestamp}

// Flatten replaces a struct field a{b,c} by fields a_b, a_c in its place
// (one level; nested structs stay structs).
type Flatten struct {
	Field     string `yaml:"field"`
	Separator string `yaml:"separator"` // default "_"
}

// Hash replaces a field's value by the hex SHA-256 of Salt followed by the
// value's text (a string itself, other values their JSON text).
type Hash struct {
	Field string `yaml:"field"`
	Salt  string `yaml:"salt"`
}

// Mask replaces a field's value by "****" followed by its last KeepLast
// characters; values no longer than KeepLast are masked whole.
type Mask struct {
	Field    string `yaml:"field"`
	KeepLast int    `yaml:"keep_last"`
}

// Derive sets the top-level field Name (replacing one of that name) to the
// value of Expr, evaluated against the record as the earlier transforms
// left it:
//
//	literals    12  -3.5  1e3  "text"  'text'  true  false  null
//	fields      temp  location.lat  `odd-name`.x   (missing fields are null)
//	arithmetic  + - * / %   (/ always divides as double; + also joins two strings)
//	comparison  == = != <> < <= > >=
//	boolean     && || !     (SQL three-valued logic with null)
//	functions   lower(s) upper(s) concat(a, ...) coalesce(a, ...)
//	            substr(s, start[, length])   (1-based, in characters)
//
// Arithmetic with null yields null (so a missing field gives a null
// column). Integers stay longs except under /, and widen to double on
// overflow; doubles are written so they read back as doubles (212.0). An
// evaluation error (a string minus a number, division by zero) sends the
// record to the dead-letter table; it names the operator and the types,
// never a value. An expression sees only the record and the functions
// above. A derived column is computed from clear values: deriving from a
// field that a later transform hashes or drops stores what the expression
// keeps of it.
type Derive struct {
	Name string `yaml:"name"`
	Expr string `yaml:"expr"`
}

var transformKinds = []string{"rename", "drop", "cast", "flatten", "hash", "mask", "derive"}

// kind names the one transform set, or "" if not exactly one is.
func (t *Transform) kinds() []string {
	var ks []string
	add := func(set bool, k string) {
		if set {
			ks = append(ks, k)
		}
	}
	add(t.Rename != nil, "rename")
	add(t.Drop != "", "drop")
	add(t.Cast != nil, "cast")
	add(t.Flatten != nil, "flatten")
	add(t.Hash != nil, "hash")
	add(t.Mask != nil, "mask")
	add(t.Derive != nil, "derive")
	return ks
}

// keyError is an error about a key below a transform ("" is the transform).
type keyError struct {
	key string
	msg string
}

// UnmarshalYAML decodes one transform, keeping any problem for Validate.
func (t *Transform) UnmarshalYAML(n *yaml.Node) error {
	*t = Transform{}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		t.problem = &keyError{"", fmt.Sprintf("line %d: want a mapping with one key (one of %s)", n.Line, strings.Join(transformKinds, ", "))}
		return nil
	}
	if len(n.Content) != 2 {
		var keys []string
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
		t.problem = &keyError{"", fmt.Sprintf("line %d: has keys %s; want exactly one of %s", n.Line, strings.Join(keys, ", "), strings.Join(transformKinds, ", "))}
		return nil
	}
	k, v := n.Content[0].Value, resolve(n.Content[1])
	var err *keyError
	switch k {
	case "rename":
		t.Rename = &Rename{}
		err = decodeStrict(k, v, t.Rename, "", "from", "to")
	case "drop":
		var s string
		err = decodeStrict(k, v, &s, "")
		if err == nil && s == "" {
			err = &keyError{k, "must name a field"}
		}
		t.Drop = s
	case "cast":
		t.Cast = &Cast{}
		err = decodeStrict(k, v, t.Cast, "", "field", "type")
	case "flatten":
		t.Flatten = &Flatten{}
		err = decodeStrict(k, v, t.Flatten, "field", "field", "separator")
	case "hash":
		t.Hash = &Hash{}
		err = decodeStrict(k, v, t.Hash, "field", "field", "salt")
	case "mask":
		t.Mask = &Mask{}
		err = decodeStrict(k, v, t.Mask, "field", "field", "keep_last")
	case "derive":
		t.Derive = &Derive{}
		err = decodeStrict(k, v, t.Derive, "", "name", "expr")
	default:
		err = &keyError{"", fmt.Sprintf("line %d: unknown transform %q; want one of %s", n.Content[0].Line, k, strings.Join(transformKinds, ", "))}
	}
	t.problem = err
	return nil
}

// decodeStrict decodes v into out: a mapping with only the allowed keys,
// or, when scalarField is set, a scalar that is that field's value. With no
// allowed keys, out is a string and v must be a scalar.
func decodeStrict(kind string, v *yaml.Node, out any, scalarField string, allowed ...string) *keyError {
	if len(allowed) == 0 || (v.Kind == yaml.ScalarNode && scalarField != "") {
		if v.Kind != yaml.ScalarNode {
			return &keyError{kind, fmt.Sprintf("line %d: want a field name", v.Line)}
		}
		if len(allowed) == 0 {
			*out.(*string) = v.Value
			return nil
		}
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: scalarField}, v}}
	}
	if v.Kind != yaml.MappingNode {
		want := "a mapping with keys " + strings.Join(allowed, ", ")
		if scalarField != "" {
			want += ", or a field name"
		}
		return &keyError{kind, fmt.Sprintf("line %d: want %s", v.Line, want)}
	}
	for i := 0; i < len(v.Content); i += 2 {
		if key := v.Content[i].Value; !slices.Contains(allowed, key) {
			return &keyError{kind, fmt.Sprintf("line %d: unknown key %q; want %s", v.Content[i].Line, key, strings.Join(allowed, ", "))}
		}
	}
	if err := v.Decode(out); err != nil {
		return &keyError{kind, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")}
	}
	return nil
}

// resolve follows YAML aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlError turns one of yaml's decoding messages ("line 3: field foo not
// found in type config.Kafka", "line 2: cannot unmarshal !!int `5` into
// time.Duration") into one line that names the key by its dotted path and
// says what is allowed there. doc is the parsed file, for the paths.
func yamlError(msg string, doc *yaml.Node) string {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		parent, _ := keyAt(doc, line, "")
		key := m[2]
		if parent != "" {
			key = parent + "." + key
		}
		s := fmt.Sprintf("line %d: unknown key %q", line, key)
		if keys := keysAt(parent); len(keys) > 0 {
			where := parent
			if where == "" {
				where = "the top level"
			}
			s += fmt.Sprintf(" (%s takes: %s)", where, strings.Join(keys, ", "))
		}
		return s
	}
	if m := cannotUnmarshal.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		value := strings.Trim(m[3], "`")
		if value == "" {
			value = map[string]string{"!!map": "a mapping", "!!seq": "a list"}[m[2]]
			if value == "" {
				value = m[2]
			}
		}
		want := "a " + m[4]
		switch m[4] {
		case "time.Duration":
			want = "a duration (e.g. 500ms, 2s, 1m)"
		case "int", "int64":
			want = "an integer"
		case "bool":
			want = "a boolean (true or false)"
		case "string":
			want = "a string"
		case "[]string":
			want = "a list of strings"
		default:
			if strings.HasPrefix(m[4], "[]") {
				want = "a list"
			} else if strings.HasPrefix(m[4], "map[") || strings.Contains(m[4], ".") {
				want = "a mapping of keys"
			}
		}
		if _, key := keyAt(doc, line, m[2]); key != "" {
			return fmt.Sprintf("line %d: %s: %s is not %s", line, key, value, want)
		}
		return fmt.Sprintf("line %d: %s is not %s", line, value, want)
	}
	return msg
}

var (
	unknownField    = regexp.MustCompile(`^line (\d+): field (\S+) not found in type`)
	cannotUnmarshal = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+) ?(`[^`]*`)? into (\\S+)")
)

// keyAt finds the mapping entry on line of doc: the dotted path of the
// mapping that holds it and the entry's own path ("workgroups[0]" and
// "workgroups[0].concurrency"). With tag "" an entry matches by its key's
// line; with a tag (a value yaml could not decode, "!!int"), by a value of
// that tag on line.
func keyAt(doc *yaml.Node, line int, tag string) (parent, key string) {
	var walk func(n *yaml.Node, path string) bool
	walk = func(n *yaml.Node, path string) bool {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if walk(c, path) {
					return true
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if walk(v, p) {
					return true
				}
				if (tag == "" && k.Line == line) || (tag != "" && v.Line == line && v.ShortTag() == tag) {
					parent, key = path, p
					return true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if walk(c, fmt.Sprintf("%s[%d]", path, i)) {
					return true
				}
			}
		}
		return false
	}
	if doc != nil {
		walk(doc, "")
	}
	return parent, key
}

// keysAt lists the keys the Config section at path ("", "etl",
// "workgroups[0]") takes, in declaration order; none if path is not a
// section.
func keysAt(path string) []string {
	t := reflect.TypeFor[Config]()
	if path != "" {
		for _, part := range strings.Split(path, ".") {
			name, _, _ := strings.Cut(part, "[")
			f, ok := fieldByTag(t, name)
			if !ok {
				return nil
			}
			t = f.Type
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := yamlTag(t.Field(i)); tag != "" && tag != "-" && !slices.Contains(keys, tag) {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if yamlTag(t.Field(i)) == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlTag(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return tag
}

// nearest returns the candidate closest to s by edit distance, if it is
// within a third of s's length (a typo, not another name); ties go to the
// first in sorted order.
func nearest(s string, candidates []string) string {
	slices.Sort(candidates)
	best, bestD := "", len(s)/3+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

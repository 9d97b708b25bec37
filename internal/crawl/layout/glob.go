package layout

import (
	"fmt"
	"regexp"
	"strings"
)

// Glob is a compiled exclude pattern. Patterns match keys relative to the
// include path, with / as separator:
//
//	pattern  matches
//	*        any run of characters except /
//	**       any run of characters including / ("**/" also matches no
//	         folder at all: "**/x" matches "x")
//	?        one character except /
//	[a-z]    one character of a class; [!a-z] or [^a-z] negates
//	{a,b}    either alternative (alternatives may hold patterns, and nest)
//	\x       x literally
//
// A pattern excludes a key when it matches the whole key or any of the
// key's folders ("tmp" and "tmp/**" both exclude "tmp/a.json").
type Glob struct {
	pattern string
	re      *regexp.Regexp
}

// CompileGlob compiles a pattern.
func CompileGlob(pattern string) (*Glob, error) {
	var b strings.Builder
	b.WriteString("^")
	rest, err := globRegexp(&b, pattern, 0)
	if err != nil {
		return nil, fmt.Errorf("exclude pattern %q: %w", pattern, err)
	}
	if rest != "" {
		return nil, fmt.Errorf("exclude pattern %q: unbalanced }", pattern)
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("exclude pattern %q: %w", pattern, err)
	}
	return &Glob{pattern: pattern, re: re}, nil
}

// String returns the pattern.
func (g *Glob) String() string { return g.pattern }

// Match reports whether the pattern matches key or one of its folders.
func (g *Glob) Match(key string) bool {
	if g.re.MatchString(key) {
		return true
	}
	for i := 0; i < len(key); i++ {
		if key[i] == '/' && g.re.MatchString(key[:i]) {
			return true
		}
	}
	return false
}

// globRegexp translates p into b until the end of p or, inside braces
// (depth > 0), an unmatched , or }; it returns what is left of p.
func globRegexp(b *strings.Builder, p string, depth int) (string, error) {
	for len(p) > 0 {
		c := p[0]
		switch {
		case strings.HasPrefix(p, "**/"):
			b.WriteString("(?:.*/)?")
			p = p[3:]
			continue
		case strings.HasPrefix(p, "**"):
			b.WriteString(".*")
			p = p[2:]
			continue
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '\\':
			if len(p) < 2 {
				return "", fmt.Errorf("trailing \\")
			}
			b.WriteString(regexp.QuoteMeta(p[1:2]))
			p = p[2:]
			continue
		case c == '[':
			end := strings.IndexByte(p[1:], ']')
			if end < 0 {
				return "", fmt.Errorf("unterminated [")
			}
			class := p[1 : end+1]
			if class == "" {
				return "", fmt.Errorf("empty []")
			}
			b.WriteByte('[')
			if class[0] == '!' || class[0] == '^' {
				b.WriteString("^/")
				class = class[1:]
			}
			for _, r := range class {
				if r == '\\' || r == '[' || r == ']' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			p = p[end+2:]
			continue
		case c == '{':
			b.WriteString("(?:")
			p = p[1:]
			for {
				rest, err := globRegexp(b, p, depth+1)
				if err != nil {
					return "", err
				}
				if rest == "" {
					return "", fmt.Errorf("unterminated {")
				}
				p = rest[1:]
				if rest[0] == '}' {
					break
				}
				b.WriteByte('|')
			}
			b.WriteByte(')')
			continue
		case depth > 0 && (c == ',' || c == '}'):
			return p, nil
		default:
			b.WriteString(regexp.QuoteMeta(p[:1]))
		}
		p = p[1:]
	}
	return "", nil
}

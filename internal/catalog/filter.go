package catalog

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FilterError is a filter that does not parse or does not fit the keys.
// Pos is the byte offset in Filter.
type FilterError struct {
	Filter string
	Pos    int
	Msg    string
}

func (e *FilterError) Error() string { return fmt.Sprintf("filter: %s at %d", e.Msg, e.Pos) }

// keyKind is how a partition key's values compare.
type keyKind int

const (
	kindText keyKind = iota
	kindInt
	kindFloat
)

func kindOf(hiveType string) keyKind {
	t := strings.ToLower(strings.TrimSpace(hiveType))
	switch {
	case t == "tinyint", t == "smallint", t == "int", t == "integer", t == "bigint", t == "long":
		return kindInt
	case t == "float", t == "double", t == "real", strings.HasPrefix(t, "decimal"):
		return kindFloat
	}
	return kindText
}

// compareValues compares two values of a kind; ok is false when one of
// them is not a value of the kind.
func compareValues(k keyKind, a, b string) (c int, ok bool) {
	switch k {
	case kindInt:
		x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		y, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return cmpOrdered(x, y), true
	case kindFloat:
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return cmpOrdered(x, y), true
	}
	return strings.Compare(a, b), true
}

func cmpOrdered[T int64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// predicate is a parsed filter, evaluated over one partition's values.
type predicate interface {
	match(values []string) bool
}

type (
	orPred  struct{ l, r predicate }
	andPred struct{ l, r predicate }
	notPred struct{ p predicate }
	cmpPred struct {
		key  int
		kind keyKind
		op   string
		lit  string
	}
	inPred struct {
		key  int
		kind keyKind
		lits []string
	}
	betweenPred struct {
		key    int
		kind   keyKind
		lo, hi string
	}
	likePred struct {
		key int
		re  *regexp.Regexp
	}
	truePred struct{}
)

func (p orPred) match(v []string) bool  { return p.l.match(v) || p.r.match(v) }
func (p andPred) match(v []string) bool { return p.l.match(v) && p.r.match(v) }
func (p notPred) match(v []string) bool { return !p.p.match(v) }
func (truePred) match([]string) bool    { return true }

func (p cmpPred) match(v []string) bool {
	if p.key >= len(v) {
		return false
	}
	c, ok := compareValues(p.kind, v[p.key], p.lit)
	if !ok {
		return false
	}
	switch p.op {
	case "=":
		return c == 0
	case "<>", "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func (p inPred) match(v []string) bool {
	if p.key >= len(v) {
		return false
	}
	for _, l := range p.lits {
		if c, ok := compareValues(p.kind, v[p.key], l); ok && c == 0 {
			return true
		}
	}
	return false
}

func (p betweenPred) match(v []string) bool {
	if p.key >= len(v) {
		return false
	}
	lo, ok1 := compareValues(p.kind, v[p.key], p.lo)
	hi, ok2 := compareValues(p.kind, v[p.key], p.hi)
	return ok1 && ok2 && lo >= 0 && hi <= 0
}

func (p likePred) match(v []string) bool { return p.key < len(v) && p.re.MatchString(v[p.key]) }

// LikeRegexp compiles SQL's LIKE pattern (% any run of characters, _ one,
// \ escaping the next) into a regexp matching whole strings.
func LikeRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			b.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if escaped {
		return nil, fmt.Errorf("LIKE pattern ends with an escape")
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// token kinds.
const (
	tokEOF = iota
	tokIdent
	tokString
	tokNumber
	tokOp // = <> != < <= > >= ( ) ,
)

type token struct {
	kind int
	text string // identifier name, unquoted string, number, operator
	raw  string // as written
	pos  int
}

// keyword says whether t is the keyword kw.
func (t token) keyword(kw string) bool {
	return t.kind == tokIdent && !t.quoted() && strings.EqualFold(t.text, kw)
}

func (t token) quoted() bool { return strings.HasPrefix(t.raw, "`") || strings.HasPrefix(t.raw, `"`) }

func (t token) String() string {
	if t.kind == tokEOF {
		return "end of filter"
	}
	return strconv.Quote(t.raw)
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		r, w := utf8.DecodeRuneInString(src[i:])
		start := i
		switch {
		case unicode.IsSpace(r):
			i += w
			continue
		case r == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, &FilterError{Filter: src, Pos: start, Msg: "unterminated string"}
				}
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{kind: tokString, text: b.String(), raw: src[start:i], pos: start})
		case r == '`' || r == '"':
			end := strings.IndexRune(src[i+1:], r)
			if end < 0 {
				return nil, &FilterError{Filter: src, Pos: start, Msg: "unterminated quoted name"}
			}
			i += 1 + end + 1
			toks = append(toks, token{kind: tokIdent, text: src[start+1 : i-1], raw: src[start:i], pos: start})
		case r == '_' || unicode.IsLetter(r):
			for i < len(src) {
				r, w := utf8.DecodeRuneInString(src[i:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				i += w
			}
			toks = append(toks, token{kind: tokIdent, text: src[start:i], raw: src[start:i], pos: start})
		case r == '-' || r == '+' || r == '.' || (r >= '0' && r <= '9'):
			i++
			for i < len(src) && (src[i] >= '0' && src[i] <= '9' || src[i] == '.' || src[i] == 'e' || src[i] == 'E' ||
				(src[i] == '-' || src[i] == '+') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
			text := src[start:i]
			if _, err := strconv.ParseFloat(text, 64); err != nil {
				return nil, &FilterError{Filter: src, Pos: start, Msg: fmt.Sprintf("bad number %q", text)}
			}
			toks = append(toks, token{kind: tokNumber, text: text, raw: text, pos: start})
		default:
			op := ""
			for _, o := range []string{"<>", "!=", "<=", ">=", "=", "<", ">", "(", ")", ","} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &FilterError{Filter: src, Pos: start, Msg: fmt.Sprintf("unexpected character %q", r)}
			}
			i += len(op)
			toks = append(toks, token{kind: tokOp, text: op, raw: op, pos: start})
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(src)}), nil
}

// parser is a recursive-descent parser over the tokens of one filter.
type parser struct {
	src  string
	toks []token
	i    int
	keys []Column
}

// parseFilter parses filter against the partition keys; an empty filter
// matches every partition.
func parseFilter(filter string, keys []Column) (predicate, error) {
	toks, err := lex(filter)
	if err != nil {
		return nil, err
	}
	p := &parser{src: filter, toks: toks, keys: keys}
	if p.peek().kind == tokEOF {
		return truePred{}, nil
	}
	pred, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t)
	}
	return pred, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) unexpected(t token) error {
	return &FilterError{Filter: p.src, Pos: t.pos, Msg: "unexpected " + t.String()}
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &FilterError{Filter: p.src, Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) or() (predicate, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orPred{l, r}
	}
	return l, nil
}

func (p *parser) and() (predicate, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = andPred{l, r}
	}
	return l, nil
}

func (p *parser) not() (predicate, error) {
	t := p.next()
	switch {
	case t.keyword("NOT"):
		q, err := p.not()
		if err != nil {
			return nil, err
		}
		return notPred{q}, nil
	case t.kind == tokOp && t.text == "(":
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokOp || c.text != ")" {
			return nil, p.errorf(c, "expected \")\", found %s", c)
		}
		return q, nil
	case t.kind == tokIdent && !isKeyword(t):
		return p.pred(t)
	}
	return nil, p.unexpected(t)
}

var cmpOps = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func isKeyword(t token) bool {
	for _, kw := range []string{"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE"} {
		if t.keyword(kw) {
			return true
		}
	}
	return false
}

// pred parses what follows the key name t.
func (p *parser) pred(t token) (predicate, error) {
	key := -1
	for i, k := range p.keys {
		if strings.EqualFold(k.Name, t.text) {
			key = i
			break
		}
	}
	if key < 0 {
		names := make([]string, len(p.keys))
		for i, k := range p.keys {
			names[i] = k.Name
		}
		return nil, p.errorf(t, "unknown partition key %q (keys: %s)", t.text, strings.Join(names, ", "))
	}
	kind := kindOf(p.keys[key].Type)
	op := p.next()
	negate := false
	if op.keyword("NOT") {
		negate = true
		op = p.next()
		if !op.keyword("IN") && !op.keyword("BETWEEN") && !op.keyword("LIKE") {
			return nil, p.errorf(op, "expected IN, BETWEEN or LIKE after NOT, found %s", op)
		}
	}
	var pred predicate
	switch {
	case op.kind == tokOp && cmpOps[op.text]:
		lit, err := p.literal(key, kind)
		if err != nil {
			return nil, err
		}
		pred = cmpPred{key: key, kind: kind, op: op.text, lit: lit}
	case op.keyword("IN"):
		if c := p.next(); c.kind != tokOp || c.text != "(" {
			return nil, p.errorf(c, "expected \"(\" after IN, found %s", c)
		}
		in := inPred{key: key, kind: kind}
		for {
			lit, err := p.literal(key, kind)
			if err != nil {
				return nil, err
			}
			in.lits = append(in.lits, lit)
			c := p.next()
			if c.kind == tokOp && c.text == ")" {
				break
			}
			if c.kind != tokOp || c.text != "," {
				return nil, p.errorf(c, "expected \",\" or \")\" in IN list, found %s", c)
			}
		}
		pred = in
	case op.keyword("BETWEEN"):
		lo, err := p.literal(key, kind)
		if err != nil {
			return nil, err
		}
		if a := p.next(); !a.keyword("AND") {
			return nil, p.errorf(a, "expected AND in BETWEEN, found %s", a)
		}
		hi, err := p.literal(key, kind)
		if err != nil {
			return nil, err
		}
		pred = betweenPred{key: key, kind: kind, lo: lo, hi: hi}
	case op.keyword("LIKE"):
		s := p.next()
		if s.kind != tokString {
			return nil, p.errorf(s, "LIKE needs a string pattern, found %s", s)
		}
		re, err := LikeRegexp(s.text)
		if err != nil {
			return nil, p.errorf(s, "%v", err)
		}
		pred = likePred{key: key, re: re}
	default:
		return nil, p.errorf(op, "expected a comparison, IN, BETWEEN or LIKE after %q, found %s", t.text, op)
	}
	if negate {
		pred = notPred{pred}
	}
	return pred, nil
}

// literal parses a literal compared with key, checking that it is a value
// of the key's kind.
func (p *parser) literal(key int, kind keyKind) (string, error) {
	t := p.next()
	if t.kind != tokString && t.kind != tokNumber {
		return "", p.errorf(t, "expected a value, found %s", t)
	}
	if kind != kindText {
		if _, ok := compareValues(kind, t.text, t.text); !ok {
			return "", p.errorf(t, "%s is not a value of key %q (%s)", t, p.keys[key].Name, p.keys[key].Type)
		}
	}
	return t.text, nil
}

package tables

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

// The derive expression language: see Derive for what it offers.

const (
	maxExprLen   = 4096
	maxExprDepth = 64
)

// expr is a compiled expression.
type expr struct {
	root node
	refs [][]string // field paths it reads
}

type node interface {
	eval(r schema.Object) (any, error) // nil, bool, string, int64, float64, schema.Object, []any
}

// parseExpr compiles src. Errors give the offset of the problem.
func parseExpr(src string) (*expr, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("longer than %d bytes", maxExprLen)
	}
	p := &exprParser{src: src}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, errors.New("is empty")
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf("unexpected %s", p.tok)
	}
	return &expr{root: n, refs: p.refs}, nil
}

// eval runs the expression; numbers come back as json.Number.
func (e *expr) eval(r schema.Object) (any, error) {
	v, err := e.root.eval(r)
	if err != nil {
		return nil, err
	}
	return toJSON(v)
}

func toJSON(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, errors.New("result is not a finite number")
		}
		return json.Number(formatFloat(x)), nil
	}
	return v, nil
}

// formatFloat writes f so that it reads back as a double: 212 -> "212.0".
func formatFloat(f float64) string {
	var s string
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	} else {
		s = strconv.FormatFloat(f, 'g', -1, 64)
	}
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// --- lexer

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tStr
	tIdent
	tOp
)

type token struct {
	kind tokKind
	text string // operator, identifier path, number text, or decoded string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return "string literal"
	}
	return strconv.Quote(t.text)
}

type exprParser struct {
	src  string
	pos  int
	tok  token
	refs [][]string
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: "+format, append([]any{p.tok.pos}, args...)...)
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }

func (p *exprParser) next() error {
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	p.tok = token{pos: start}
	if p.pos >= len(s) {
		p.tok.kind = tEOF
		return nil
	}
	c := s[p.pos]
	switch {
	case isDigit(c):
		return p.number()
	case c == '"' || c == '\'':
		return p.string(c)
	case isIdentStart(c) || c == '`':
		return p.ident()
	}
	for _, op := range []string{"==", "!=", "<>", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "(", ")", ",", "<", ">", "=", "!"} {
		if strings.HasPrefix(s[p.pos:], op) {
			p.pos += len(op)
			p.tok.kind, p.tok.text = tOp, op
			return nil
		}
	}
	return fmt.Errorf("at offset %d: unexpected character %q", start, c)
}

func (p *exprParser) number() error {
	s, start := p.src, p.pos
	for p.pos < len(s) && isDigit(s[p.pos]) {
		p.pos++
	}
	if p.pos < len(s) && s[p.pos] == '.' {
		p.pos++
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
	}
	if p.pos < len(s) && (s[p.pos] == 'e' || s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '+' || s[p.pos] == '-') {
			p.pos++
		}
		d := p.pos
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
		if d == p.pos {
			return fmt.Errorf("at offset %d: number %q has no exponent digits", start, s[start:p.pos])
		}
	}
	if p.pos < len(s) && isIdentChar(s[p.pos]) {
		return fmt.Errorf("at offset %d: bad number %q", start, s[start:p.pos+1])
	}
	p.tok.kind, p.tok.text = tNum, s[start:p.pos]
	return nil
}

func (p *exprParser) string(q byte) error {
	s, start := p.src, p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == q:
			p.pos++
			p.tok.kind, p.tok.text = tStr, b.String()
			return nil
		case c == '\\' && p.pos+1 < len(s):
			p.pos++
			switch e := s[p.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				return fmt.Errorf("at offset %d: unknown escape \\%c", p.pos-1, e)
			}
		default:
			b.WriteByte(c)
		}
		p.pos++
	}
	return fmt.Errorf("at offset %d: unterminated string", start)
}

// ident reads a dotted field path; a segment in backquotes may hold any
// character but a backquote.
func (p *exprParser) ident() error {
	s, start := p.src, p.pos
	var segs []string
	for {
		if p.pos < len(s) && s[p.pos] == '`' {
			end := strings.IndexByte(s[p.pos+1:], '`')
			if end <= 0 {
				return fmt.Errorf("at offset %d: unterminated or empty `name`", p.pos)
			}
			segs = append(segs, s[p.pos+1:p.pos+1+end])
			p.pos += end + 2
		} else {
			b := p.pos
			for p.pos < len(s) && isIdentChar(s[p.pos]) {
				p.pos++
			}
			if b == p.pos {
				return fmt.Errorf("at offset %d: want a field name after '.'", p.pos)
			}
			segs = append(segs, s[b:p.pos])
		}
		if p.pos < len(s) && s[p.pos] == '.' {
			p.pos++
			continue
		}
		break
	}
	p.tok.kind, p.tok.text = tIdent, strings.Join(segs, ".")
	if len(segs) > 1 || s[start] == '`' {
		p.tok.text = "\x00" + strings.Join(segs, "\x00") // a path, never a keyword or function
	}
	return nil
}

// --- parser: precedence climbing, lowest first

func (p *exprParser) isOp(ops ...string) bool {
	if p.tok.kind != tOp {
		return false
	}
	for _, o := range ops {
		if p.tok.text == o {
			return true
		}
	}
	return false
}

func (p *exprParser) or(d int) (node, error) {
	return p.binary(d, p.and, "||")
}

func (p *exprParser) and(d int) (node, error) {
	return p.binary(d, p.cmp, "&&")
}

func (p *exprParser) cmp(d int) (node, error) {
	l, err := p.add(d)
	if err != nil {
		return nil, err
	}
	if p.isOp("==", "=", "!=", "<>", "<", "<=", ">", ">=") {
		op := p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		r, err := p.add(d)
		if err != nil {
			return nil, err
		}
		l = &binOp{op: op, l: l, r: r}
		if p.isOp("==", "=", "!=", "<>", "<", "<=", ">", ">=") {
			return nil, p.errorf("comparisons do not chain; use && between them")
		}
	}
	return l, nil
}

func (p *exprParser) add(d int) (node, error) {
	return p.binary(d, p.mul, "+", "-")
}

func (p *exprParser) mul(d int) (node, error) {
	return p.binary(d, p.unary, "*", "/", "%")
}

func (p *exprParser) binary(d int, sub func(int) (node, error), ops ...string) (node, error) {
	l, err := sub(d)
	if err != nil {
		return nil, err
	}
	for p.isOp(ops...) {
		op := p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		r, err := sub(d)
		if err != nil {
			return nil, err
		}
		l = &binOp{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *exprParser) unary(d int) (node, error) {
	if d > maxExprDepth {
		return nil, p.errorf("nested deeper than %d", maxExprDepth)
	}
	if p.isOp("-", "!") {
		op := p.tok.text
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.unary(d + 1)
		if err != nil {
			return nil, err
		}
		return &unOp{op: op, x: x}, nil
	}
	return p.primary(d)
}

func (p *exprParser) primary(d int) (node, error) {
	t := p.tok
	switch t.kind {
	case tNum:
		if err := p.next(); err != nil {
			return nil, err
		}
		v, ok := number(t.text)
		if !ok {
			return nil, fmt.Errorf("at offset %d: number %s is out of range", t.pos, t.text)
		}
		return lit{v}, nil
	case tStr:
		return lit{t.text}, p.next()
	case tIdent:
		if err := p.next(); err != nil {
			return nil, err
		}
		switch t.text {
		case "true":
			return lit{true}, nil
		case "false":
			return lit{false}, nil
		case "null":
			return lit{nil}, nil
		}
		if p.isOp("(") {
			return p.call(d, t)
		}
		path := strings.Split(strings.TrimPrefix(t.text, "\x00"), "\x00")
		if t.text[0] != '\x00' {
			path = []string{t.text}
		}
		p.refs = append(p.refs, path)
		return ref(path), nil
	case tOp:
		if t.text == "(" {
			if err := p.next(); err != nil {
				return nil, err
			}
			n, err := p.or(d + 1)
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, p.errorf("want ')', got %s", p.tok)
			}
			return n, p.next()
		}
	}
	return nil, p.errorf("unexpected %s", t)
}

func (p *exprParser) call(d int, name token) (node, error) {
	f, ok := funcs[name.text]
	if !ok {
		return nil, fmt.Errorf("at offset %d: unknown function %q; want one of lower, upper, concat, coalesce, substr", name.pos, strings.ReplaceAll(strings.TrimPrefix(name.text, "\x00"), "\x00", "."))
	}
	if err := p.next(); err != nil { // (
		return nil, err
	}
	var args []node
	for !p.isOp(")") {
		if len(args) > 0 {
			if !p.isOp(",") {
				return nil, p.errorf("want ',' or ')', got %s", p.tok)
			}
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		a, err := p.or(d + 1)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if err := p.next(); err != nil { // )
		return nil, err
	}
	if len(args) < f.min || (f.max >= 0 && len(args) > f.max) {
		return nil, fmt.Errorf("at offset %d: %s takes %s arguments, got %d", name.pos, name.text, f.arity(), len(args))
	}
	return &call{name: name.text, f: f.fn, args: args}, nil
}

// number reads a numeric literal or JSON number: int64 when it is an
// integer that fits, else float64.
func number(s string) (any, bool) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

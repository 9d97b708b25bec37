package tables

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/schema"
)

type lit struct{ v any }

func (l lit) eval(schema.Object) (any, error) { return l.v, nil }

type ref []string

func (f ref) eval(r schema.Object) (any, error) {
	v := getPath(r, f)
	if n, ok := v.(json.Number); ok {
		x, ok := number(string(n))
		if !ok {
			return nil, fmt.Errorf("field %s: number out of range", strings.Join(f, "."))
		}
		return x, nil
	}
	return v, nil
}

// typeName names a value's type for errors (never the value).
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64:
		return "long"
	case float64, json.Number:
		return "double"
	case string:
		return "string"
	case schema.Object:
		return "struct"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}

type unOp struct {
	op string
	x  node
}

func (u *unOp) eval(r schema.Object) (any, error) {
	v, err := u.x.eval(r)
	if err != nil || v == nil {
		return nil, err
	}
	switch x := v.(type) {
	case bool:
		if u.op == "!" {
			return !x, nil
		}
	case int64:
		if u.op == "-" {
			if x == math.MinInt64 {
				return -float64(x), nil
			}
			return -x, nil
		}
	case float64:
		if u.op == "-" {
			return -x, nil
		}
	}
	return nil, fmt.Errorf("operator %s cannot apply to %s", u.op, typeName(v))
}

type binOp struct {
	op   string
	l, r node
}

func (b *binOp) eval(r schema.Object) (any, error) {
	l, err := b.l.eval(r)
	if err != nil {
		return nil, err
	}
	switch b.op {
	case "&&", "||":
		return b.logic(l, r)
	}
	rv, err := b.r.eval(r)
	if err != nil {
		return nil, err
	}
	switch b.op {
	case "==", "=", "!=", "<>", "<", "<=", ">", ">=":
		return compare(b.op, l, rv)
	}
	if l == nil || rv == nil {
		return nil, nil
	}
	if ls, ok := l.(string); ok && b.op == "+" {
		if rs, ok := rv.(string); ok {
			return ls + rs, nil
		}
	}
	return arith(b.op, l, rv)
}

// logic is SQL's three-valued AND and OR, short-circuiting.
func (b *binOp) logic(l any, r schema.Object) (any, error) {
	short := b.op == "||" // the value that decides the result alone
	if err := wantBool(b.op, l); err != nil {
		return nil, err
	}
	if l == short {
		return short, nil
	}
	rv, err := b.r.eval(r)
	if err != nil {
		return nil, err
	}
	if err := wantBool(b.op, rv); err != nil {
		return nil, err
	}
	switch {
	case rv == short:
		return short, nil
	case l == nil || rv == nil:
		return nil, nil
	}
	return !short, nil
}

func wantBool(op string, v any) error {
	switch v.(type) {
	case nil, bool:
		return nil
	}
	return fmt.Errorf("operator %s wants booleans, got %s", op, typeName(v))
}

func arith(op string, l, r any) (any, error) {
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if lInt && rInt && op != "/" {
		switch op {
		case "+":
			if s := li + ri; (s > li) == (ri > 0) {
				return s, nil
			}
		case "-":
			if s := li - ri; (s < li) == (ri > 0) {
				return s, nil
			}
		case "*":
			if li == 0 || ri == 0 {
				return int64(0), nil
			}
			if p := li * ri; p/ri == li && !(li == -1 && ri == math.MinInt64) && !(ri == -1 && li == math.MinInt64) {
				return p, nil
			}
		case "%":
			if ri == 0 {
				return nil, fmt.Errorf("operator %%: division by zero")
			}
			if ri == -1 {
				return int64(0), nil
			}
			return li % ri, nil
		}
	}
	lf, lok := toFloat(l)
	rf, rok := toFloat(r)
	if !lok || !rok {
		return nil, fmt.Errorf("operator %s cannot apply to %s and %s", op, typeName(l), typeName(r))
	}
	var v float64
	switch op {
	case "+":
		v = lf + rf
	case "-":
		v = lf - rf
	case "*":
		v = lf * rf
	case "/", "%":
		if rf == 0 {
			return nil, fmt.Errorf("operator %s: division by zero", op)
		}
		if op == "/" {
			v = lf / rf
		} else {
			v = math.Mod(lf, rf)
		}
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, fmt.Errorf("operator %s: result is not a finite number", op)
	}
	return v, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func compare(op string, l, r any) (any, error) {
	eq := op == "==" || op == "=" || op == "!=" || op == "<>"
	neg := op == "!=" || op == "<>"
	if l == nil || r == nil {
		if eq {
			return (l == nil && r == nil) != neg, nil
		}
		return nil, nil
	}
	var c int
	lf, lnum := toFloat(l)
	rf, rnum := toFloat(r)
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	switch {
	case lInt && rInt:
		c = cmpOrdered(li, ri)
	case lnum && rnum:
		c = cmpOrdered(lf, rf)
	default:
		ls, lok := l.(string)
		rs, rok := r.(string)
		lb, lbok := l.(bool)
		rb, rbok := r.(bool)
		switch {
		case lok && rok:
			c = strings.Compare(ls, rs)
		case lbok && rbok && eq:
			return (lb == rb) != neg, nil
		case eq && typeName(l) != typeName(r):
			return neg, nil // different types are never equal
		default:
			return nil, fmt.Errorf("operator %s cannot compare %s and %s", op, typeName(l), typeName(r))
		}
	}
	switch op {
	case "==", "=":
		return c == 0, nil
	case "!=", "<>":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type call struct {
	name string
	f    func([]any) (any, error)
	args []node
}

func (c *call) eval(r schema.Object) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := a.eval(r)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := c.f(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return v, nil
}

type fn struct {
	min, max int // max < 0: any number
	fn       func([]any) (any, error)
}

func (f fn) arity() string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d", f.min)
	case f.min == f.max:
		return strconv.Itoa(f.min)
	}
	return fmt.Sprintf("%d to %d", f.min, f.max)
}

var funcs = map[string]fn{
	"lower":    {1, 1, func(a []any) (any, error) { return mapString(a[0], strings.ToLower) }},
	"upper":    {1, 1, func(a []any) (any, error) { return mapString(a[0], strings.ToUpper) }},
	"concat":   {1, -1, concat},
	"coalesce": {1, -1, coalesce},
	"substr":   {2, 3, substr},
}

func mapString(v any, f func(string) string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return f(x), nil
	}
	return nil, fmt.Errorf("wants a string, got %s", typeName(v))
}

// concat joins its arguments' text, skipping nulls.
func concat(args []any) (any, error) {
	var b strings.Builder
	for _, a := range args {
		switch x := a.(type) {
		case nil:
		case string:
			b.WriteString(x)
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		case float64:
			b.WriteString(formatFloat(x))
		case bool:
			b.WriteString(strconv.FormatBool(x))
		default:
			return nil, fmt.Errorf("cannot join a %s", typeName(a))
		}
	}
	return b.String(), nil
}

func coalesce(args []any) (any, error) {
	for _, a := range args {
		if a != nil {
			return a, nil
		}
	}
	return nil, nil
}

// substr(s, start[, length]): start counts characters from 1.
func substr(args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("wants a string, got %s", typeName(args[0]))
	}
	start, ok := args[1].(int64)
	if !ok {
		return nil, fmt.Errorf("start wants a long, got %s", typeName(args[1]))
	}
	n := int64(math.MaxInt64)
	if len(args) == 3 {
		if n, ok = args[2].(int64); !ok {
			return nil, fmt.Errorf("length wants a long, got %s", typeName(args[2]))
		}
		if n < 0 {
			return nil, fmt.Errorf("length must not be negative")
		}
	}
	start = max(start, 1)
	var b strings.Builder
	i := int64(0)
	for _, c := range s {
		i++
		if i >= start && i-start < n {
			b.WriteRune(c)
		}
	}
	return b.String(), nil
}

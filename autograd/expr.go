package autograd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Expression limits: longer or deeper inputs are rejected with an ExprError.
const (
	MaxExprLen   = 10000 // bytes
	MaxExprDepth = 200   // nesting of parentheses, calls, unary signs and powers
	MaxExprVars  = 64    // distinct variables
)

// ExprError is an error in an expression: Pos is the byte offset (from 0) at
// which it was found.
type ExprError struct {
	Pos int
	Msg string
}

// Error returns "column N: message" (N = Pos+1), on one line.
func (e *ExprError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

// exprNode is a node of a parsed expression.
type exprNode struct {
	op   byte // 'n' number, 'v' variable, 'r' reference to a binding, '+', '-', '*', '/', '^', 'u' (negation), 'f' (function)
	num  float64
	name string // variable, binding or function name
	idx  int    // variable or binding index
	a, b *exprNode
}

// Expr is a parsed expression: zero or more bindings "name = expr;" and a
// result expression. Every use of a variable reads the same parameter and
// every use of a binding reads the same value, so a name used k ≥ 2 times
// becomes a tupling node with k branches once compiled; a binding of a
// value depending on a variable, used several times, nests tupling nodes.
type Expr struct {
	vars     []string
	bindings []*exprNode
	bnames   []string
	result   *exprNode
}

// Vars returns the variables of the expression in the order of their first
// use; they are the parameters of the compiled program, in that order.
func (e *Expr) Vars() []string { return append([]string(nil), e.vars...) }

var exprFuncs = map[string]bool{"sin": true, "cos": true, "exp": true, "log": true, "sqrt": true, "abs": true}

var exprConsts = map[string]float64{"pi": math.Pi, "e": math.E}

type exprParser struct {
	src   string
	pos   int
	depth int
	e     *Expr
	vars  map[string]int
	binds map[string]int
}

// ParseExpr parses an expression over real variables:
//
//	program := { name "=" expr ";" } expr
//	expr    := term { ("+" | "-") term }
//	term    := factor { ("*" | "/") factor }
//	factor  := ("-" | "+") factor | power
//	power   := primary [ ("^" | "**") factor ]
//	primary := number | name | func "(" expr ")" | "(" expr ")"
//
// with func one of sin, cos, exp, log, sqrt, abs, and the constants pi and
// e. A name not bound and not a constant is a variable. Powers are right
// associative and bind tighter than a unary minus on their left (-x^2 is
// -(x^2)). An integer exponent is an integer power (reading the base once),
// a real constant c gives exp(c·log a) (a > 0) and any other exponent b
// gives exp(b·log a). Errors are *ExprError values pointing at the offending
// position.
func ParseExpr(src string) (*Expr, error) {
	if len(src) > MaxExprLen {
		return nil, &ExprError{Pos: MaxExprLen, Msg: fmt.Sprintf("expression longer than %d bytes", MaxExprLen)}
	}
	ps := &exprParser{src: src, e: &Expr{}, vars: map[string]int{}, binds: map[string]int{}}
	for {
		// A binding starts with a name followed by "=".
		save := ps.pos
		ps.skip()
		if name, at := ps.ident(); name != "" {
			ps.skip()
			if ps.peek() == '=' {
				ps.pos++
				if err := ps.bind(name, at); err != nil {
					return nil, err
				}
				continue
			}
		}
		ps.pos = save
		break
	}
	n, err := ps.expr()
	if err != nil {
		return nil, err
	}
	ps.skip()
	if ps.pos < len(src) {
		return nil, ps.errf("unexpected %s", ps.what())
	}
	ps.e.result = n
	return ps.e, nil
}

func (ps *exprParser) bind(name string, at int) error {
	switch {
	case exprFuncs[name]:
		return &ExprError{Pos: at, Msg: fmt.Sprintf("cannot assign to the function %s", name)}
	case isConst(name):
		return &ExprError{Pos: at, Msg: fmt.Sprintf("cannot assign to the constant %s", name)}
	}
	if _, ok := ps.binds[name]; ok {
		return &ExprError{Pos: at, Msg: fmt.Sprintf("%s assigned twice", name)}
	}
	if _, ok := ps.vars[name]; ok {
		return &ExprError{Pos: at, Msg: fmt.Sprintf("%s is already a variable", name)}
	}
	n, err := ps.expr()
	if err != nil {
		return err
	}
	ps.skip()
	if ps.peek() != ';' {
		return ps.errf("expected ; after the value of %s, found %s", name, ps.what())
	}
	ps.pos++
	ps.binds[name] = len(ps.e.bindings)
	ps.e.bindings = append(ps.e.bindings, n)
	ps.e.bnames = append(ps.e.bnames, name)
	return nil
}

func (ps *exprParser) errf(format string, args ...any) error {
	return &ExprError{Pos: ps.pos, Msg: fmt.Sprintf(format, args...)}
}

// what describes the input at the current position.
func (ps *exprParser) what() string {
	if ps.pos >= len(ps.src) {
		return "end of input"
	}
	r := ps.src[ps.pos]
	if r < 0x20 || r >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", r)
	}
	return strconv.Quote(string(r))
}

func (ps *exprParser) skip() {
	for ps.pos < len(ps.src) && strings.IndexByte(" \t\n\r", ps.src[ps.pos]) >= 0 {
		ps.pos++
	}
}

func (ps *exprParser) peek() byte {
	if ps.pos < len(ps.src) {
		return ps.src[ps.pos]
	}
	return 0
}

func isLetter(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// ident scans a name at the current position (after skip) and returns it
// and its offset, or "" if there is none.
func (ps *exprParser) ident() (string, int) {
	at := ps.pos
	if at >= len(ps.src) || !isLetter(ps.src[at]) {
		return "", at
	}
	for ps.pos < len(ps.src) && (isLetter(ps.src[ps.pos]) || isDigit(ps.src[ps.pos])) {
		ps.pos++
	}
	return ps.src[at:ps.pos], at
}

func (ps *exprParser) enter() error {
	ps.depth++
	if ps.depth > MaxExprDepth {
		return ps.errf("expression nested deeper than %d", MaxExprDepth)
	}
	return nil
}

func (ps *exprParser) expr() (*exprNode, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	n, err := ps.term()
	if err != nil {
		return nil, err
	}
	for {
		ps.skip()
		c := ps.peek()
		if c != '+' && c != '-' {
			return n, nil
		}
		ps.pos++
		m, err := ps.term()
		if err != nil {
			return nil, err
		}
		n = &exprNode{op: c, a: n, b: m}
	}
}

func (ps *exprParser) term() (*exprNode, error) {
	n, err := ps.factor()
	if err != nil {
		return nil, err
	}
	for {
		ps.skip()
		c := ps.peek()
		if c != '*' && c != '/' || c == '*' && strings.HasPrefix(ps.src[ps.pos:], "**") {
			return n, nil
		}
		ps.pos++
		m, err := ps.factor()
		if err != nil {
			return nil, err
		}
		n = &exprNode{op: c, a: n, b: m}
	}
}

func (ps *exprParser) factor() (*exprNode, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	ps.skip()
	switch ps.peek() {
	case '-':
		ps.pos++
		n, err := ps.factor()
		if err != nil {
			return nil, err
		}
		if n.op == 'n' {
			return &exprNode{op: 'n', num: -n.num}, nil
		}
		return &exprNode{op: 'u', a: n}, nil
	case '+':
		ps.pos++
		return ps.factor()
	}
	return ps.power()
}

func (ps *exprParser) power() (*exprNode, error) {
	n, err := ps.primary()
	if err != nil {
		return nil, err
	}
	ps.skip()
	switch {
	case strings.HasPrefix(ps.src[ps.pos:], "**"):
		ps.pos += 2
	case ps.peek() == '^':
		ps.pos++
	default:
		return n, nil
	}
	m, err := ps.factor()
	if err != nil {
		return nil, err
	}
	return &exprNode{op: '^', a: n, b: m}, nil
}

func (ps *exprParser) primary() (*exprNode, error) {
	ps.skip()
	c := ps.peek()
	switch {
	case c == '(':
		ps.pos++
		n, err := ps.expr()
		if err != nil {
			return nil, err
		}
		ps.skip()
		if ps.peek() != ')' {
			return nil, ps.errf("expected ), found %s", ps.what())
		}
		ps.pos++
		return n, nil
	case isDigit(c) || c == '.':
		return ps.number()
	case isLetter(c):
		name, at := ps.ident()
		if exprFuncs[name] {
			ps.skip()
			if ps.peek() != '(' {
				return nil, ps.errf("expected ( after %s, found %s", name, ps.what())
			}
			ps.pos++
			arg, err := ps.expr()
			if err != nil {
				return nil, err
			}
			ps.skip()
			if ps.peek() != ')' {
				return nil, ps.errf("expected ) closing %s(, found %s", name, ps.what())
			}
			ps.pos++
			return &exprNode{op: 'f', name: name, a: arg}, nil
		}
		if v, ok := exprConsts[name]; ok {
			return &exprNode{op: 'n', num: v}, nil
		}
		ps.skip()
		if ps.peek() == '(' {
			return nil, &ExprError{Pos: at, Msg: fmt.Sprintf("unknown function %s (known: abs, cos, exp, log, sin, sqrt)", name)}
		}
		if i, ok := ps.binds[name]; ok {
			return &exprNode{op: 'r', name: name, idx: i}, nil
		}
		i, ok := ps.vars[name]
		if !ok {
			if len(ps.e.vars) == MaxExprVars {
				return nil, &ExprError{Pos: at, Msg: fmt.Sprintf("more than %d variables", MaxExprVars)}
			}
			i = len(ps.e.vars)
			ps.vars[name] = i
			ps.e.vars = append(ps.e.vars, name)
		}
		return &exprNode{op: 'v', name: name, idx: i}, nil
	}
	return nil, ps.errf("expected a number, a name or (, found %s", ps.what())
}

func (ps *exprParser) number() (*exprNode, error) {
	at := ps.pos
	for ps.pos < len(ps.src) && (isDigit(ps.src[ps.pos]) || ps.src[ps.pos] == '.') {
		ps.pos++
	}
	if ps.pos < len(ps.src) && (ps.src[ps.pos] == 'e' || ps.src[ps.pos] == 'E') {
		j := ps.pos + 1
		if j < len(ps.src) && (ps.src[j] == '+' || ps.src[j] == '-') {
			j++
		}
		if j < len(ps.src) && isDigit(ps.src[j]) {
			for j < len(ps.src) && isDigit(ps.src[j]) {
				j++
			}
			ps.pos = j
		}
	}
	text := ps.src[at:ps.pos]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return nil, &ExprError{Pos: at, Msg: fmt.Sprintf("bad number %q", text)}
	}
	return &exprNode{op: 'n', num: v}, nil
}

// Build writes the expression into p with vars[i] the value of variable i
// (see Vars) and returns its output. Every use of a variable or a binding
// reads the same value.
func (e *Expr) Build(p *Program, vars []Value) Value {
	bound := make([]Value, len(e.bindings))
	for i, b := range e.bindings {
		bound[i] = e.build(p, b, vars, bound)
	}
	return e.build(p, e.result, vars, bound)
}

func (e *Expr) build(p *Program, n *exprNode, vars, bound []Value) Value {
	switch n.op {
	case 'n':
		return p.Const(n.num)
	case 'v':
		return vars[n.idx]
	case 'r':
		return bound[n.idx]
	case 'u':
		return p.Neg(e.build(p, n.a, vars, bound))
	case 'f':
		a := e.build(p, n.a, vars, bound)
		switch n.name {
		case "sin":
			return p.Sin(a)
		case "cos":
			return p.Cos(a)
		case "exp":
			return p.Exp(a)
		case "log":
			return p.Log(a)
		case "sqrt":
			return p.Sqrt(a)
		default:
			return p.Abs(a)
		}
	case '^':
		a := e.build(p, n.a, vars, bound)
		if n.b.op == 'n' {
			c := n.b.num
			if c == math.Trunc(c) && math.Abs(c) <= 1<<20 {
				if c == 2 {
					return p.Square(a)
				}
				return p.Pow(a, int(c))
			}
			return p.Exp(p.Mul(p.Const(c), p.Log(a)))
		}
		return p.Exp(p.Mul(e.build(p, n.b, vars, bound), p.Log(a)))
	}
	a := e.build(p, n.a, vars, bound)
	b := e.build(p, n.b, vars, bound)
	switch n.op {
	case '+':
		return p.Add(a, b)
	case '-':
		return p.Sub(a, b)
	case '*':
		return p.Mul(a, b)
	default:
		return p.Div(a, b)
	}
}

// Compile builds the expression into a fresh program, its parameters named
// after the variables, and compiles it to SSA-SA form.
func (e *Expr) Compile() (*Compiled, error) {
	var p Program
	vars := make([]Value, len(e.vars))
	for i, name := range e.vars {
		vars[i] = p.Param(name)
	}
	return p.Compile(e.Build(&p, vars))
}

// String renders the expression fully parenthesised, bindings first.
func (e *Expr) String() string {
	var b strings.Builder
	for i, n := range e.bindings {
		fmt.Fprintf(&b, "%s = %s; ", e.bnames[i], n)
	}
	b.WriteString(e.result.String())
	return b.String()
}

func (n *exprNode) String() string {
	switch n.op {
	case 'n':
		return strconv.FormatFloat(n.num, 'g', -1, 64)
	case 'v', 'r':
		return n.name
	case 'u':
		return "(-" + n.a.String() + ")"
	case 'f':
		return n.name + "(" + n.a.String() + ")"
	}
	return "(" + n.a.String() + " " + string(n.op) + " " + n.b.String() + ")"
}

func isConst(name string) bool {
	_, ok := exprConsts[name]
	return ok
}

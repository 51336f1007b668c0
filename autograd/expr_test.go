package autograd

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// TestExprMatchesFunctions writes the table functions and f₁ as expressions
// and checks values, gradients and tupling structure against the built-in
// programs.
func TestExprMatchesFunctions(t *testing.T) {
	cases := []struct {
		tf    TestFunction
		src   string
		paths []int
	}{
		{F1, "x*x*(2 + cos(4*x))", []int{3}},
		{F1, "x^2*(2 + cos(4*x))", []int{2}},
		{Ackley, "-20*exp(-0.2*sqrt(0.5*(x^2 + y^2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20", []int{2, 2}},
		{Beale, "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y**3)^2", []int{6, 3}},
		{Levi, "sin(3*pi*x)^2 + (x - 1)^2*(1 + sin(3*pi*y)^2) + (y - 1)^2*(1 + sin(2*pi*y)^2)", []int{2, 3}},
		{Schaffer2, "0.5 + (sin(x^2 - y^2)^2 - 0.5)/(1 + 0.001*(x^2 + y^2))^2", []int{2, 2}},
		// Shared intermediates: nested tupling, 2·2 paths per parameter.
		{Schaffer2, "a = x*x; b = y*y; 0.5 + (sin(a - b)^2 - 0.5)/(1 + 0.001*(a + b))^2", []int{4, 4}},
	}
	src := rng.New(rng.Key{Seed: 31})
	for _, tc := range cases {
		e, err := ParseExpr(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		c, err := e.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for q, n := range tc.paths {
			if c.NumPaths(q) != n {
				t.Errorf("%s: parameter %d has %d paths, want %d", tc.src, q, c.NumPaths(q), n)
			}
		}
		ws := c.NewWorkspace()
		grad := make([]float64, tc.tf.Dim)
		for k := 0; k < 20; k++ {
			x := make([]float64, tc.tf.Dim)
			for i := range x {
				x[i] = tc.tf.Lo + (tc.tf.Hi-tc.tf.Lo)*src.Float64()
			}
			want := tc.tf.F(x)
			if v := ws.Linearize(x); math.Abs(v-want) > 1e-10*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s at %v: %g, want %g", tc.src, x, v, want)
			}
			ws.Gradient(grad)
			for q := range x {
				fd := fdiff(tc.tf.F, x, q)
				if d := math.Abs(fd - grad[q]); d > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Fatalf("%s at %v d/dx%d: %g, finite difference %g", tc.src, x, q, grad[q], fd)
				}
			}
		}
		// Printing and parsing again gives the same expression.
		e2, err := ParseExpr(e.String())
		if err != nil || e2.String() != e.String() {
			t.Errorf("%s: round trip %q → %v %q", tc.src, e.String(), err, e2)
		}
	}
}

func TestExprSemantics(t *testing.T) {
	cases := []struct {
		src  string
		x    []float64
		want float64
	}{
		{"-x^2", []float64{3}, -9},
		{"2^3^2", nil, 512},
		{"x - y - 1", []float64{5, 2}, 2},
		{"x / y / 2", []float64{8, 2}, 2},
		{"+x * -y", []float64{2, 3}, -6},
		{"abs(x - 4) + sqrt(y)", []float64{1, 9}, 6},
		{"x^-2", []float64{2}, 0.25},
		{"x^0.5", []float64{16}, 4},
		{"x^y", []float64{2, 3}, 8},
		{"exp(log(x))", []float64{1.7}, 1.7},
		{"1.5e1 + .5 + 2E-1", nil, 15.7},
		{"r = x + 1; r*r", []float64{2}, 9},
		{"  x\t*\n2 ", []float64{4}, 8},
	}
	for _, tc := range cases {
		e, err := ParseExpr(tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		c, err := e.Compile()
		if err != nil {
			t.Fatal(err)
		}
		if v := c.NewWorkspace().Eval(tc.x); math.Abs(v-tc.want) > 1e-12*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%q at %v = %g, want %g", tc.src, tc.x, v, tc.want)
		}
	}
	e, _ := ParseExpr("b*a + a")
	if v := e.Vars(); len(v) != 2 || v[0] != "b" || v[1] != "a" {
		t.Errorf("variables %v, want [b a]", v)
	}
}

func TestExprErrors(t *testing.T) {
	cases := []struct {
		src string
		pos int // column, from 1
		msg string
	}{
		{"x +", 4, "end of input"},
		{"x + )", 5, `")"`},
		{"(x + 1", 7, "expected )"},
		{"sin x", 5, "expected ( after sin"},
		{"tan(x)", 1, "unknown function tan"},
		{"x $ 2", 3, `"$"`},
		{"1e999", 1, "bad number"},
		{"1..2", 1, "bad number"},
		{"x = 1", 6, "expected ;"},
		{"x = 1; x = 2; x", 8, "assigned twice"},
		{"a = x; x = 2; a", 8, "already a variable"},
		{"pi = 3; pi", 1, "constant pi"},
		{"sin = 3; sin", 1, "function sin"},
		{"", 1, "end of input"},
		{"x y", 3, `"y"`},
		{strings.Repeat("(", 300) + "x" + strings.Repeat(")", 300), 101, "nested deeper"},
		{"sin(x", 6, "closing sin("},
		{"x\x00", 2, "byte 0x00"},
	}
	for _, tc := range cases {
		_, err := ParseExpr(tc.src)
		var ee *ExprError
		if !errors.As(err, &ee) {
			t.Errorf("%q: error %v, want an ExprError", tc.src, err)
			continue
		}
		if ee.Pos+1 != tc.pos || !strings.Contains(ee.Msg, tc.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %q (column %d), want column %d and %q", tc.src, err, ee.Pos+1, tc.pos, tc.msg)
		}
	}
	if _, err := ParseExpr(strings.Repeat("x+", MaxExprLen)); err == nil {
		t.Error("over-long expression accepted")
	}
}

// FuzzParseExpr feeds arbitrary text to the parser: it must either fail
// with an ExprError whose position lies within the input (or at its end),
// or return an expression that prints and parses back to itself and
// compiles (or fails to compile with an error, never a panic).
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"x*x*(2+cos(4*x))", "a = x*y; a^2 + sin(a)", "-x^-2", "1e5", "((x))", "x**y", "abs(x)/sqrt(y)", ")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			var ee *ExprError
			if !errors.As(err, &ee) || ee.Pos < 0 || ee.Pos > max(len(src), MaxExprLen) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: bad error %v", src, err)
			}
			return
		}
		s := e.String()
		e2, err := ParseExpr(s)
		if err != nil || e2.String() != s {
			t.Fatalf("%q prints as %q, which parses to %v, %v", src, s, e2, err)
		}
		if c, err := e.Compile(); err == nil {
			x := make([]float64, c.NumParams())
			c.NewWorkspace().Linearize(x)
		}
	})
}

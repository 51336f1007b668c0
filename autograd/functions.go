package autograd

import "math"

// TestFunction is an optimisation test function with a known global minimum,
// written once as a Program (Build) and once as plain Go (F), and with the
// search domain [Lo, Hi]^Dim from which initial points are drawn uniformly.
type TestFunction struct {
	Name   string
	Dim    int
	Lo, Hi float64
	// Min is the global minimum value, reached at Argmin.
	Min    float64
	Argmin []float64
	// Build writes the function of the parameters x into p and returns
	// the output. The way it is written fixes the paths: each reuse of a
	// value adds a tupling node.
	Build func(p *Program, x []Value) Value
	// F is the same function in plain Go.
	F func(x []float64) float64
}

// Compile builds the function into a fresh program with parameters named
// x, y (or x0, x1, ... beyond two dimensions) and compiles it.
func (tf TestFunction) Compile() (*Compiled, error) {
	var p Program
	x := make([]Value, tf.Dim)
	for i := range x {
		name := string(rune('x' + i))
		if tf.Dim > 2 {
			name = "x" + string(rune('0'+i))
		}
		x[i] = p.Param(name)
	}
	return p.Compile(tf.Build(&p, x))
}

// F1 is the paper's Example 1, f₁(x) = x²(2 + cos 4x), minimum 0 at x = 0,
// with infinitely many local minima. Written as Square(x)·(2 + cos(4x)), x is
// read twice, so it has N = 2 paths: path 1 (through x²) contributes
// g_{x,1} = 2x(2 + cos 4x) and path 2 (through the cosine) contributes
// g_{x,2} = −4x² sin 4x (Eq. 3). Domain [−5, 5].
var F1 = TestFunction{
	Name: "f1", Dim: 1, Lo: -5, Hi: 5, Min: 0, Argmin: []float64{0},
	Build: func(p *Program, x []Value) Value {
		return p.Mul(p.Square(x[0]), p.Add(p.Const(2), p.Cos(p.Mul(p.Const(4), x[0]))))
	},
	F: func(x []float64) float64 { return x[0] * x[0] * (2 + math.Cos(4*x[0])) },
}

// Ackley is the Ackley function in its standard form,
//
//	−20 exp(−0.2 √(0.5(x² + y²))) − exp(0.5(cos 2πx + cos 2πy)) + e + 20,
//
// minimum 0 at (0, 0), domain [−5, 5]². The paper's Appendix B prints the two
// exponentials multiplied; that is a typo (the product does not vanish at
// the origin), so the standard difference is used. x and y each have N = 2
// paths.
var Ackley = TestFunction{
	Name: "Ackley", Dim: 2, Lo: -5, Hi: 5, Min: 0, Argmin: []float64{0, 0},
	Build: func(p *Program, v []Value) Value {
		x, y := v[0], v[1]
		r := p.Sqrt(p.Mul(p.Const(0.5), p.Add(p.Square(x), p.Square(y))))
		t1 := p.Mul(p.Const(-20), p.Exp(p.Mul(p.Const(-0.2), r)))
		tpi := 2 * math.Pi
		c := p.Add(p.Cos(p.Mul(p.Const(tpi), x)), p.Cos(p.Mul(p.Const(tpi), y)))
		t2 := p.Exp(p.Mul(p.Const(0.5), c))
		return p.Add(p.Sub(t1, t2), p.Const(math.E+20))
	},
	F: func(v []float64) float64 {
		x, y := v[0], v[1]
		return -20*math.Exp(-0.2*math.Sqrt(0.5*(x*x+y*y))) -
			math.Exp(0.5*(math.Cos(2*math.Pi*x)+math.Cos(2*math.Pi*y))) + math.E + 20
	},
}

// Beale is the Beale function
//
//	(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²,
//
// minimum 0 at (3, 0.5), domain [−4.5, 4.5]². Written term by term, x is read
// six times (N = 6 paths) and y three times (through y, y² and y³; N = 3).
var Beale = TestFunction{
	Name: "Beale", Dim: 2, Lo: -4.5, Hi: 4.5, Min: 0, Argmin: []float64{3, 0.5},
	Build: func(p *Program, v []Value) Value {
		x, y := v[0], v[1]
		term := func(c float64, yk Value) Value {
			return p.Square(p.Add(p.Sub(p.Const(c), x), p.Mul(x, yk)))
		}
		return p.Add(p.Add(term(1.5, y), term(2.25, p.Square(y))), term(2.625, p.Pow(y, 3)))
	},
	F: func(v []float64) float64 {
		x, y := v[0], v[1]
		a := 1.5 - x + x*y
		b := 2.25 - x + x*y*y
		c := 2.625 - x + x*y*y*y
		return a*a + b*b + c*c
	},
}

// Levi is the Lévi function N.13
//
//	sin²(3πx) + (x − 1)²(1 + sin²(3πy)) + (y − 1)²(1 + sin²(2πy)),
//
// minimum 0 at (1, 1), domain [−10, 10]². x has N = 2 paths and y N = 3.
var Levi = TestFunction{
	Name: "Levi", Dim: 2, Lo: -10, Hi: 10, Min: 0, Argmin: []float64{1, 1},
	Build: func(p *Program, v []Value) Value {
		x, y := v[0], v[1]
		one := func() Value { return p.Const(1) }
		sin2 := func(c float64, a Value) Value { return p.Square(p.Sin(p.Mul(p.Const(c), a))) }
		t1 := sin2(3*math.Pi, x)
		t2 := p.Mul(p.Square(p.Sub(x, one())), p.Add(one(), sin2(3*math.Pi, y)))
		t3 := p.Mul(p.Square(p.Sub(y, one())), p.Add(one(), sin2(2*math.Pi, y)))
		return p.Add(p.Add(t1, t2), t3)
	},
	F: func(v []float64) float64 {
		x, y := v[0], v[1]
		s1 := math.Sin(3 * math.Pi * x)
		s2 := math.Sin(3 * math.Pi * y)
		s3 := math.Sin(2 * math.Pi * y)
		return s1*s1 + (x-1)*(x-1)*(1+s2*s2) + (y-1)*(y-1)*(1+s3*s3)
	},
}

// Schaffer2 is the Schaffer function N.2
//
//	0.5 + (sin²(x² − y²) − 0.5) / (1 + 0.001(x² + y²))²,
//
// minimum 0 at (0, 0), domain [−100, 100]². x and y each have N = 2 paths.
var Schaffer2 = TestFunction{
	Name: "Schaffer2", Dim: 2, Lo: -100, Hi: 100, Min: 0, Argmin: []float64{0, 0},
	Build: func(p *Program, v []Value) Value {
		x, y := v[0], v[1]
		num := p.Sub(p.Square(p.Sin(p.Sub(p.Square(x), p.Square(y)))), p.Const(0.5))
		den := p.Square(p.Add(p.Const(1), p.Mul(p.Const(0.001), p.Add(p.Square(x), p.Square(y)))))
		return p.Add(p.Const(0.5), p.Div(num, den))
	},
	F: func(v []float64) float64 {
		x, y := v[0], v[1]
		s := math.Sin(x*x - y*y)
		d := 1 + 0.001*(x*x+y*y)
		return 0.5 + (s*s-0.5)/(d*d)
	},
}

// TableFunctions returns the four functions of the paper's Tables 1 and 2.
func TableFunctions() []TestFunction {
	return []TestFunction{Ackley, Beale, Levi, Schaffer2}
}

// FunctionByName returns the test function called name (case-sensitive,
// among F1 and the table functions).
func FunctionByName(name string) (TestFunction, bool) {
	for _, f := range append(TableFunctions(), F1) {
		if f.Name == name {
			return f, true
		}
	}
	return TestFunction{}, false
}

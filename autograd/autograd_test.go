package autograd

import (
	"math"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// randomProgram builds a random program of nparams parameters and about
// nnodes operations, reusing earlier values at random so that parameters,
// constants and intermediates are read several times. Operations with a
// restricted domain are fed positive or non-zero arguments.
func randomProgram(src *rng.Source, nparams, nnodes int) (*Program, Value) {
	p := &Program{}
	var vals []Value
	for i := 0; i < nparams; i++ {
		vals = append(vals, p.Param(string(rune('a'+i))))
	}
	vals = append(vals, p.Const(0.5+src.Float64()))
	pick := func() Value {
		// Favour recent values to get deep chains, but reuse old ones too.
		if src.Float64() < 0.5 {
			return vals[len(vals)-1-src.Intn(min(3, len(vals)))]
		}
		return vals[src.Intn(len(vals))]
	}
	pos := func(a Value) Value { return p.Add(p.Const(1), p.Square(a)) }
	for len(vals) < nparams+1+nnodes {
		a, b := pick(), pick()
		var v Value
		switch src.Intn(14) {
		case 0:
			v = p.Add(a, b)
		case 1:
			v = p.Sub(a, b)
		case 2:
			v = p.Mul(a, b)
		case 3:
			v = p.Div(a, pos(b))
		case 4:
			v = p.Neg(a)
		case 5:
			v = p.Square(a)
		case 6:
			if k := src.Intn(5) - 2; k < 0 {
				v = p.Pow(pos(a), k)
			} else {
				v = p.Pow(a, k+2)
			}
		case 7:
			v = p.Exp(p.Mul(p.Const(0.3), p.Sin(a)))
		case 8:
			v = p.Log(pos(a))
		case 9:
			v = p.Sqrt(pos(a))
		case 10:
			v = p.Sin(a)
		case 11:
			v = p.Cos(a)
		case 12:
			v = p.Const(src.Float64()*2 - 1)
		case 13:
			v = p.Mul(a, a)
		}
		vals = append(vals, v)
	}
	// Sum a few values, including every parameter, so that the output
	// depends on all of them.
	out := vals[len(vals)-1]
	for i := 0; i < nparams; i++ {
		out = p.Add(out, p.Mul(vals[i], vals[len(vals)-2-src.Intn(nnodes/2)]))
	}
	return p, out
}

// fdiff returns the derivative of f at x along coordinate q by central
// differences with one Richardson extrapolation step (error O(h⁴)).
func fdiff(f func([]float64) float64, x []float64, q int) float64 {
	d := func(h float64) float64 {
		a := append([]float64(nil), x...)
		b := append([]float64(nil), x...)
		a[q] += h
		b[q] -= h
		return (f(a) - f(b)) / (2 * h)
	}
	const h = 1e-4
	return (4*d(h/2) - d(h)) / 3
}

func randomPoint(src *rng.Source, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*src.Float64() - 1
	}
	return x
}

// checkSSASA verifies that c is in SSA-SA form and that tupling matches the
// reads of the builder program: a live node read k ≥ 2 times is followed by
// exactly one tupling instruction with k copies; no other node is tupled.
func checkSSASA(t *testing.T, p *Program, out Value, c *Compiled) {
	t.Helper()
	written := make([]int, c.NumSlots())
	read := make([]int, c.NumSlots())
	tupleOf := map[int32]Instr{}
	for _, in := range c.Instrs() {
		n := int32(1)
		if in.Op == OpTuple {
			n = in.K
			if _, dup := tupleOf[in.A]; dup {
				t.Fatalf("slot %d tupled twice", in.A)
			}
			tupleOf[in.A] = in
		}
		for s := in.Out; s < in.Out+n; s++ {
			written[s]++
		}
		if in.A >= 0 {
			if written[in.A] == 0 {
				t.Fatalf("slot %d read before written", in.A)
			}
			read[in.A]++
		}
		if in.B >= 0 {
			if written[in.B] == 0 {
				t.Fatalf("slot %d read before written", in.B)
			}
			read[in.B]++
		}
	}
	for s := range written {
		if written[s] != 1 {
			t.Fatalf("SSA: slot %d written %d times", s, written[s])
		}
		if read[s] > 1 {
			t.Fatalf("SA: slot %d read %d times", s, read[s])
		}
		if read[s] == 0 && s != c.OutSlot() {
			t.Fatalf("slot %d never read", s)
		}
	}
	// Reads of each builder node among the live nodes.
	reads := make([]int, len(p.nodes))
	for i, nd := range p.nodes {
		if c.Slot(Value(i)) < 0 {
			continue
		}
		if nd.op.Arity() >= 1 {
			reads[nd.a]++
		}
		if nd.op.Arity() == 2 {
			reads[nd.b]++
		}
	}
	ntuple := 0
	for i := range p.nodes {
		s := c.Slot(Value(i))
		if s < 0 {
			continue
		}
		in, ok := tupleOf[int32(s)]
		if reads[i] >= 2 {
			ntuple++
			if !ok || int(in.K) != reads[i] {
				t.Fatalf("node %d read %d times: tuple %v present=%v", i, reads[i], in, ok)
			}
		} else if ok {
			t.Fatalf("node %d read %d times but tupled", i, reads[i])
		}
	}
	if ntuple != len(tupleOf) {
		t.Fatalf("%d tuples, %d multiply-read nodes", len(tupleOf), ntuple)
	}
}

func TestTuplingPass(t *testing.T) {
	var p Program
	x := p.Param("x")
	y := p.Param("y")
	unused := p.Param("unused")
	two := p.Const(2)
	u := p.Mul(x, y)                    // u read twice below
	a := p.Add(p.Mul(x, two), u)        // x: 2nd read, two: 1st read
	b := p.Sub(p.Sin(x), p.Exp(u))      // x: 3rd read, u: 2nd read
	f := p.Mul(p.Add(a, b), p.Neg(two)) // two: 2nd read
	_ = p.Cos(unused)                   // dead
	c, err := p.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	checkSSASA(t, &p, f, c)
	want := map[Value]int32{x: 3, u: 2, two: 2}
	got := map[Value]int32{}
	for _, in := range c.Instrs() {
		if in.Op == OpTuple {
			for v := range want {
				if int32(c.Slot(v)) == in.A {
					got[v] = in.K
				}
			}
		}
	}
	for v, k := range want {
		if got[v] != k {
			t.Errorf("value %d: %d copies, want %d\n%s", v, got[v], k, c)
		}
	}
	if c.Slot(unused) != -1 || c.NumPaths(2) != 0 {
		t.Errorf("unused parameter kept: slot %d, %d paths", c.Slot(unused), c.NumPaths(2))
	}
	// x reaches the output through mul(x,two), through sin, and through
	// u twice: 4 paths; y through u twice: 2 paths.
	if c.NumPaths(0) != 4 || c.NumPaths(1) != 2 {
		t.Errorf("paths: x %d (want 4), y %d (want 2)", c.NumPaths(0), c.NumPaths(1))
	}

	src := rng.New(rng.Key{Seed: 1})
	for trial := 0; trial < 200; trial++ {
		p, out := randomProgram(src, 1+src.Intn(3), 5+src.Intn(25))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		checkSSASA(t, p, out, c)
	}
}

// TestPaperExample2 checks the SSA-SA program of f₂(x, y) = eˣ(x + y) of
// the paper's Figure 5: x is tupled into two copies, y is not.
func TestPaperExample2(t *testing.T) {
	var p Program
	x := p.Param("x")
	y := p.Param("y")
	f := p.Mul(p.Exp(x), p.Add(x, y))
	c, err := p.Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "v0 <- Param_0 (x)\nv1, v2 <- v0\nv3 <- Param_1 (y)\nv4 <- exp v1\n" +
		"v5 <- add v2 v3\nv6 <- mul v4 v5\nreturn v6\n"
	if s := c.String(); s != want {
		t.Errorf("got\n%swant\n%s", s, want)
	}
	if c.NumPaths(0) != 2 || c.NumPaths(1) != 1 {
		t.Errorf("paths %d %d, want 2 1", c.NumPaths(0), c.NumPaths(1))
	}
}

func TestSumOverPathsEqualsGradient(t *testing.T) {
	src := rng.New(rng.Key{Seed: 2})
	for trial := 0; trial < 300; trial++ {
		np := 1 + src.Intn(3)
		p, out := randomProgram(src, np, 5+src.Intn(30))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		ws := c.NewWorkspace()
		grad := make([]float64, np)
		for pt := 0; pt < 3; pt++ {
			x := randomPoint(src, np)
			ws.Linearize(x)
			ws.Gradient(grad)
			for q := 0; q < np; q++ {
				sum, scale := 0.0, 1.0
				for i := 0; i < c.NumPaths(q); i++ {
					g := ws.PathGrad(q, i)
					sum += g
					scale = math.Max(scale, math.Abs(g))
				}
				if d := math.Abs(sum - grad[q]); !(d <= 1e-12*scale) {
					t.Fatalf("trial %d param %d: sum over %d paths %.17g, gradient %.17g\n%s",
						trial, q, c.NumPaths(q), sum, grad[q], c)
				}
			}
			// The reverse sweep agrees with central differences.
			for q := 0; q < np; q++ {
				fd := fdiff(ws.Eval, x, q)
				if d := math.Abs(fd - grad[q]); d > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Fatalf("trial %d param %d: gradient %g, finite difference %g", trial, q, grad[q], fd)
				}
			}
		}
	}
}

func TestOpsFiniteDifferences(t *testing.T) {
	type opCase struct {
		name  string
		build func(p *Program, x, y Value) Value
		f     func(x, y float64) float64
		lo    float64 // x and y drawn in [lo, lo+2]
	}
	cases := []opCase{
		{"const", func(p *Program, x, y Value) Value { return p.Add(p.Const(3.5), p.Mul(x, y)) }, func(x, y float64) float64 { return 3.5 + x*y }, -1},
		{"add", func(p *Program, x, y Value) Value { return p.Add(x, y) }, func(x, y float64) float64 { return x + y }, -1},
		{"sub", func(p *Program, x, y Value) Value { return p.Sub(x, y) }, func(x, y float64) float64 { return x - y }, -1},
		{"mul", func(p *Program, x, y Value) Value { return p.Mul(x, y) }, func(x, y float64) float64 { return x * y }, -1},
		{"div", func(p *Program, x, y Value) Value { return p.Div(x, y) }, func(x, y float64) float64 { return x / y }, 0.5},
		{"neg", func(p *Program, x, y Value) Value { return p.Mul(p.Neg(x), y) }, func(x, y float64) float64 { return -x * y }, -1},
		{"square", func(p *Program, x, y Value) Value { return p.Square(p.Sub(x, y)) }, func(x, y float64) float64 { return (x - y) * (x - y) }, -1},
		{"pow3", func(p *Program, x, y Value) Value { return p.Pow(p.Add(x, y), 3) }, func(x, y float64) float64 { return math.Pow(x+y, 3) }, -1},
		{"pow-2", func(p *Program, x, y Value) Value { return p.Pow(p.Add(x, y), -2) }, func(x, y float64) float64 { return math.Pow(x+y, -2) }, 0.5},
		{"pow0", func(p *Program, x, y Value) Value { return p.Add(p.Pow(x, 0), y) }, func(x, y float64) float64 { return 1 + y }, -1},
		{"pow1", func(p *Program, x, y Value) Value { return p.Mul(p.Pow(x, 1), y) }, func(x, y float64) float64 { return x * y }, -1},
		{"exp", func(p *Program, x, y Value) Value { return p.Exp(p.Mul(x, y)) }, func(x, y float64) float64 { return math.Exp(x * y) }, -1},
		{"log", func(p *Program, x, y Value) Value { return p.Log(p.Mul(x, y)) }, func(x, y float64) float64 { return math.Log(x * y) }, 0.5},
		{"sqrt", func(p *Program, x, y Value) Value { return p.Sqrt(p.Add(x, y)) }, func(x, y float64) float64 { return math.Sqrt(x + y) }, 0.5},
		{"sin", func(p *Program, x, y Value) Value { return p.Sin(p.Mul(x, y)) }, func(x, y float64) float64 { return math.Sin(x * y) }, -1},
		{"cos", func(p *Program, x, y Value) Value { return p.Cos(p.Mul(x, y)) }, func(x, y float64) float64 { return math.Cos(x * y) }, -1},
		{"abs", func(p *Program, x, y Value) Value { return p.Abs(p.Sub(x, y)) }, func(x, y float64) float64 { return math.Abs(x - y) }, -1},
	}
	src := rng.New(rng.Key{Seed: 3})
	for _, tc := range cases {
		var p Program
		x, y := p.Param("x"), p.Param("y")
		c, err := p.Compile(tc.build(&p, x, y))
		if err != nil {
			t.Fatal(err)
		}
		ws := c.NewWorkspace()
		grad := make([]float64, 2)
		for k := 0; k < 20; k++ {
			pt := []float64{tc.lo + 2*src.Float64(), tc.lo + 2*src.Float64()}
			v := ws.Linearize(pt)
			if want := tc.f(pt[0], pt[1]); math.Abs(v-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s%v: value %g, want %g", tc.name, pt, v, want)
			}
			if e := ws.Eval(pt); e != v {
				t.Fatalf("%s: Eval %g, Linearize %g", tc.name, e, v)
			}
			ws.Gradient(grad)
			for q := 0; q < 2; q++ {
				fd := fdiff(func(v []float64) float64 { return tc.f(v[0], v[1]) }, pt, q)
				if d := math.Abs(fd - grad[q]); d > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Fatalf("%s%v d/d%s: %g, finite difference %g", tc.name, pt, c.ParamName(q), grad[q], fd)
				}
			}
		}
	}
}

func TestF1PathsMatchEquation3(t *testing.T) {
	c, err := F1.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if c.NumPaths(0) != 2 {
		t.Fatalf("f1 has %d paths, want 2", c.NumPaths(0))
	}
	ws := c.NewWorkspace()
	for _, x := range []float64{-2.3, -0.4, 0.1, 1.7, 5} {
		ws.Linearize([]float64{x})
		g1 := 2 * x * (2 + math.Cos(4*x))
		g2 := -4 * x * x * math.Sin(4*x)
		if d1, d2 := ws.PathGrad(0, 0)-g1, ws.PathGrad(0, 1)-g2; math.Abs(d1) > 1e-12 || math.Abs(d2) > 1e-12 {
			t.Errorf("x=%g: paths %g %g, want %g %g", x, ws.PathGrad(0, 0), ws.PathGrad(0, 1), g1, g2)
		}
	}
}

func TestFunctions(t *testing.T) {
	wantPaths := map[string][]int{
		"f1": {2}, "Ackley": {2, 2}, "Beale": {6, 3}, "Levi": {2, 3}, "Schaffer2": {2, 2},
	}
	src := rng.New(rng.Key{Seed: 4})
	for _, tf := range append(TableFunctions(), F1) {
		c, err := tf.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for q, n := range wantPaths[tf.Name] {
			if c.NumPaths(q) != n {
				t.Errorf("%s: parameter %d has %d paths, want %d", tf.Name, q, c.NumPaths(q), n)
			}
		}
		ws := c.NewWorkspace()
		if v := ws.Eval(tf.Argmin); math.Abs(v-tf.Min) > 1e-12 {
			t.Errorf("%s(%v) = %g, want %g", tf.Name, tf.Argmin, v, tf.Min)
		}
		grad := make([]float64, tf.Dim)
		for k := 0; k < 50; k++ {
			x := make([]float64, tf.Dim)
			for i := range x {
				x[i] = tf.Lo + (tf.Hi-tf.Lo)*src.Float64()
			}
			want := tf.F(x)
			if v := ws.Linearize(x); math.Abs(v-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s%v: compiled %g, direct %g", tf.Name, x, v, want)
			}
			if v := tf.F(x); v < tf.Min-1e-12 {
				t.Fatalf("%s%v = %g below the minimum %g", tf.Name, x, v, tf.Min)
			}
			ws.Gradient(grad)
			for q := range x {
				fd := fdiff(tf.F, x, q)
				if d := math.Abs(fd - grad[q]); d > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Fatalf("%s%v d/dx%d: %g, finite difference %g", tf.Name, x, q, grad[q], fd)
				}
			}
		}
	}
}

func TestPathLimit(t *testing.T) {
	// Each doubling x ← x·x with x tupled doubles the number of paths.
	var p Program
	x := p.Param("x")
	for i := 0; i < 21; i++ {
		x = p.Mul(x, x)
	}
	if _, err := p.Compile(x); err == nil {
		t.Fatal("2^21 paths accepted")
	}
	var q Program
	y := q.Param("y")
	for i := 0; i < 10; i++ {
		y = q.Mul(y, y)
	}
	c, err := q.Compile(y)
	if err != nil || c.NumPaths(0) != 1024 {
		t.Fatalf("nested tupling: %v, %d paths, want 1024", err, c.NumPaths(0))
	}
}

func TestNoAllocations(t *testing.T) {
	c, err := Beale.Compile()
	if err != nil {
		t.Fatal(err)
	}
	ests := []Estimator{{Kind: Baseline}, {Kind: RAD, Normalize: true},
		{Kind: SPADPractical, KMax: 3, M: 2}, {Kind: SPADExact, KMax: 3, Eps: 0.1}, {Kind: FixedPath},
		{Kind: RAD, KMax: 4}}
	for _, e := range append([]Estimator(nil), ests...) {
		e.Reading = PerNode
		ests = append(ests, e)
	}
	for _, e := range ests {
		s, err := NewSampler(c, e)
		if err != nil {
			t.Fatal(err)
		}
		opt := NewAdam(2)
		theta, grad := []float64{1, 1}, make([]float64, 2)
		n := testing.AllocsPerRun(100, func() {
			s.Estimate(theta, grad)
			opt.Step(theta, grad)
			s.Workspace().Eval(theta)
		})
		if n != 0 {
			t.Errorf("%v: %g allocations per step", e, n)
		}
	}
}

func TestAdamFirstStep(t *testing.T) {
	// After one step the bias-corrected update is lr·g/|g| (up to ε).
	a := NewAdam(2)
	theta := []float64{1, -2}
	a.Step(theta, []float64{3, -0.5})
	if math.Abs(theta[0]-0.99) > 1e-9 || math.Abs(theta[1]+1.99) > 1e-9 {
		t.Fatalf("after one step %v, want [0.99 -1.99]", theta)
	}
}

func TestSPADPracticalSelection(t *testing.T) {
	c, err := Beale.Compile()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSampler(c, Estimator{Kind: SPADPractical, KMax: 4})
	if err != nil {
		t.Fatal(err)
	}
	ws := c.NewWorkspace()
	grad := make([]float64, 2)
	theta := []float64{1.3, -0.7}
	var sel [2]int
	for step := 0; step < 12; step++ {
		if step%4 == 0 {
			// theta moves; the selection is the argmax at the new point.
			theta[0] += 0.4
			theta[1] += 0.3
			ws.Linearize(theta)
			for q := 0; q < 2; q++ {
				sel[q] = 0
				for i := 1; i < c.NumPaths(q); i++ {
					if math.Abs(ws.PathGrad(q, i)) > math.Abs(ws.PathGrad(q, sel[q])) {
						sel[q] = i
					}
				}
			}
		}
		theta[0] += 0.01 // within a window the path is kept, not reselected
		s.Estimate(theta, grad)
		ws.Linearize(theta)
		for q := 0; q < 2; q++ {
			if grad[q] != ws.PathGrad(q, sel[q]) {
				t.Fatalf("step %d param %d: estimate %g, want path %d's %g", step, q, grad[q], sel[q], ws.PathGrad(q, sel[q]))
			}
		}
	}
}

// estimatorMean returns the mean of n estimates at theta and the exact
// gradient there.
func estimatorMean(t *testing.T, c *Compiled, e Estimator, theta []float64, n int, seed uint64) (mean, grad []float64) {
	s, err := NewSampler(c, e)
	if err != nil {
		t.Fatal(err)
	}
	s.Reset(rng.Key{Seed: seed})
	d := len(theta)
	mean, grad = make([]float64, d), make([]float64, d)
	g := make([]float64, d)
	for k := 0; k < n; k++ {
		s.Estimate(theta, g)
		for q := range g {
			mean[q] += g[q]
		}
	}
	for q := range mean {
		mean[q] /= float64(n)
	}
	ws := c.NewWorkspace()
	ws.Linearize(theta)
	ws.Gradient(grad)
	return mean, grad
}

// secondMoment returns, per parameter, the largest E[X²] of estimator e
// over its possible selections (exact: the estimator's distribution given a
// selection is known in closed form). It bounds the variance of every
// estimate, so σ/√n bounds the standard error of a mean of n estimates even
// though the selection changes every KMax steps (given the selections, the
// estimates are independent with mean the gradient).
func secondMoment(c *Compiled, e Estimator, theta []float64) []float64 {
	ws := c.NewWorkspace()
	ws.Linearize(theta)
	out := make([]float64, len(theta))
	for q := range out {
		n := c.NumPaths(q)
		for sel := 0; sel < n; sel++ {
			m2 := 0.0
			for i := 0; i < n; i++ {
				g := ws.PathGrad(q, i)
				var p float64
				switch {
				case e.Kind == RAD:
					p = 1 / float64(n)
				case n == 1:
					p = 1
				case i == sel:
					p = 1 - e.Eps
				default:
					p = e.Eps / float64(n-1)
				}
				m2 += g * g / p
			}
			out[q] = math.Max(out[q], m2)
		}
	}
	return out
}

// TestUnbiasedness checks the estimators claimed unbiased (RAD with the 1/p
// normalization, exact SPAD with ε > 0) at fixed points of Beale and Levi:
// the mean of n estimates must lie within 4σ/√n of the gradient, σ² being a
// bound on the variance of one estimate. For a normal mean that fails with
// probability below 6.4e-5 per comparison; the seeds are fixed, so the test
// is deterministic. It is checked at two sizes, n = 2,000 and n = 128,000,
// so the bound shrinks by 8. The biased estimators (RAD without scaling,
// practical SPAD) must fail the same bound at the larger n, which shows the
// test has power.
func TestUnbiasedness(t *testing.T) {
	unbiased := []Estimator{
		{Kind: RAD, Normalize: true},
		{Kind: SPADExact, KMax: 1, Eps: 0.3},
		{Kind: SPADExact, KMax: 7, M: 2, Eps: 0.1},
	}
	biased := []Estimator{
		{Kind: RAD},
		{Kind: SPADPractical, KMax: 7, M: 2},
	}
	points := []struct {
		tf    TestFunction
		theta []float64
	}{{Beale, []float64{1.2, 0.8}}, {Levi, []float64{-0.35, 0.42}}}
	for _, pt := range points {
		c, err := pt.tf.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range unbiased {
			m2 := secondMoment(c, e, pt.theta)
			for _, n := range []int{2000, 128000} {
				mean, grad := estimatorMean(t, c, e, pt.theta, n, uint64(n))
				for q := range mean {
					bound := 4 * math.Sqrt(m2[q]/float64(n))
					if d := math.Abs(mean[q] - grad[q]); d > bound {
						t.Errorf("%s %v n=%d param %d: mean %g, gradient %g, |diff| %g > %g",
							pt.tf.Name, e, n, q, mean[q], grad[q], d, bound)
					}
				}
			}
		}
		for _, e := range biased {
			n := 128000
			mean, grad := estimatorMean(t, c, e, pt.theta, n, 9)
			far := false
			for q := range mean {
				// The second moment of the scaled RAD bounds the
				// spread of these unscaled estimates.
				m2 := secondMoment(c, Estimator{Kind: RAD}, pt.theta)
				if math.Abs(mean[q]-grad[q]) > 4*math.Sqrt(m2[q]/float64(n)) {
					far = true
				}
			}
			if !far {
				t.Errorf("%s %v: biased estimator passed the unbiasedness bound", pt.tf.Name, e)
			}
		}
	}
}

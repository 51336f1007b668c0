package autograd

import (
	"math"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// forEachSelection calls f with every per-node selection of branches of c
// (an odometer over the tupling nodes), or returns false without calling it
// when there are more than limit selections.
func forEachSelection(c *Compiled, limit int, f func(branch []int32)) bool {
	nt := c.NumTuples()
	total := 1
	for t := 0; t < nt; t++ {
		total *= c.TupleBranches(t)
		if total > limit {
			return false
		}
	}
	branch := make([]int32, nt)
	for {
		f(branch)
		t := 0
		for ; t < nt; t++ {
			branch[t]++
			if int(branch[t]) < c.TupleBranches(t) {
				break
			}
			branch[t] = 0
		}
		if t == nt {
			return true
		}
	}
}

// TestBranchGradientExactMean checks the per-node decomposition exactly: on
// random programs (nested tupling included), the mean of BranchGradient over
// every selection of branches, scaled by b at each node, is the gradient.
// This is the expectation of the scaled per-node RAD estimator, computed
// exactly instead of sampled.
func TestBranchGradientExactMean(t *testing.T) {
	src := rng.New(rng.Key{Seed: 21})
	checked, nested := 0, 0
	for trial := 0; trial < 400; trial++ {
		np := 1 + src.Intn(3)
		p, out := randomProgram(src, np, 4+src.Intn(14))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		ws := c.NewWorkspace()
		x := randomPoint(src, np)
		ws.Linearize(x)
		grad := make([]float64, np)
		ws.Gradient(grad)
		scale := make([]float64, c.NumTuples())
		weight := 1.0
		for i := range scale {
			scale[i] = float64(c.TupleBranches(i))
			weight /= scale[i]
		}
		mean := make([]float64, np)
		g := make([]float64, np)
		mag := make([]float64, np)
		if !forEachSelection(c, 1<<14, func(branch []int32) {
			ws.BranchGradient(g, branch, scale)
			for q := range g {
				mean[q] += weight * g[q]
				mag[q] = math.Max(mag[q], math.Abs(g[q]))
			}
		}) {
			continue
		}
		checked++
		if c.NumTuples() > np {
			nested++
		}
		for q := range mean {
			if d := math.Abs(mean[q] - grad[q]); !(d <= 1e-11*math.Max(1, mag[q])) {
				t.Fatalf("trial %d param %d: mean over selections %.17g, gradient %.17g\n%s", trial, q, mean[q], grad[q], c)
			}
		}
	}
	if checked < 300 || nested < 100 {
		t.Fatalf("only %d programs checked, %d with more tupling nodes than parameters", checked, nested)
	}
}

// singleTupleProgram builds a one-parameter program in which x is read k ≥ 2
// times and no other value depending on x is read twice: each read of x
// starts a chain of random unary and binary operations with fresh constants,
// and the chains are summed or multiplied together. Its only tupling node on
// a path is x's, so its N = k paths are the node's k branches.
func singleTupleProgram(src *rng.Source, k int) (*Program, Value) {
	p := &Program{}
	x := p.Param("x")
	chain := func() Value {
		v := x
		for d := 1 + src.Intn(4); d > 0; d-- {
			switch src.Intn(6) {
			case 0:
				v = p.Sin(v)
			case 1:
				v = p.Mul(p.Const(0.5+src.Float64()), v)
			case 2:
				v = p.Add(v, p.Const(src.Float64()))
			case 3:
				v = p.Square(v)
			case 4:
				v = p.Exp(p.Mul(p.Const(0.3), p.Cos(v)))
			case 5:
				v = p.Div(v, p.Const(1.5+src.Float64()))
			}
		}
		return v
	}
	out := chain()
	for i := 1; i < k; i++ {
		if src.Intn(2) == 0 {
			out = p.Add(out, chain())
		} else {
			out = p.Mul(out, chain())
		}
	}
	return p, out
}

// TestPerNodeEqualsPerPathSingleTuple checks that the two readings coincide
// on programs whose parameter meets a single tupling node: with the same
// random key they give the same estimate at every step, for every
// estimator (the draws are made in the same order; the values agree to
// rounding, since a path product and a reverse sweep multiply the same
// weights in a different order).
func TestPerNodeEqualsPerPathSingleTuple(t *testing.T) {
	src := rng.New(rng.Key{Seed: 22})
	ests := []Estimator{
		{Kind: RAD, Normalize: true}, {Kind: RAD}, {Kind: RAD, Normalize: true, KMax: 3},
		{Kind: SPADPractical, KMax: 1}, {Kind: SPADPractical, KMax: 4}, {Kind: SPADPractical, KMax: 3, M: 2},
		{Kind: SPADExact, KMax: 5, Eps: 0.2}, {Kind: SPADExact, KMax: 2, M: 2, Eps: 0.5},
		{Kind: FixedPath, Path: 1},
	}
	for trial := 0; trial < 60; trial++ {
		p, out := singleTupleProgram(src, 2+src.Intn(4))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		if c.NumTuples() != 1 || c.NumPaths(0) != c.TupleBranches(0) {
			t.Fatalf("trial %d: %d tupling nodes, %d paths\n%s", trial, c.NumTuples(), c.NumPaths(0), c)
		}
		for _, e := range ests {
			pe, ne := e, e
			ne.Reading = PerNode
			sp, err1 := NewSampler(c, pe)
			sn, err2 := NewSampler(c, ne)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			key := rng.Key{Seed: uint64(trial), Stream: 7}
			sp.Reset(key)
			sn.Reset(key)
			theta := []float64{2*src.Float64() - 1}
			gp, gn := []float64{0}, []float64{0}
			for step := 0; step < 40; step++ {
				theta[0] += 0.05 * (src.Float64() - 0.5)
				sp.Estimate(theta, gp)
				sn.Estimate(theta, gn)
				if d := math.Abs(gp[0] - gn[0]); !(d <= 1e-12*math.Max(1, math.Abs(gp[0]))) {
					t.Fatalf("trial %d %v step %d: per path %.17g, per node %.17g\n%s", trial, e, step, gp[0], gn[0], c)
				}
			}
		}
	}
}

// windowMeans returns, per parameter, the mean and the sample standard
// deviation of n window means of estimator e at theta, a window being KMax
// consecutive estimates (one when KMax ≤ 1). Within a window a held
// selection makes the estimates dependent; the windows are independent and
// identically distributed, because a selection only depends on the draws of
// its own selection step.
func windowMeans(t *testing.T, c *Compiled, e Estimator, theta []float64, n int, seed uint64) (mean, sd []float64) {
	s, err := NewSampler(c, e)
	if err != nil {
		t.Fatal(err)
	}
	s.Reset(rng.Key{Seed: seed, Stream: 3})
	k := max(e.KMax, 1)
	d := len(theta)
	sum, sum2, w, g := make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)
	for i := 0; i < n; i++ {
		clear(w)
		for j := 0; j < k; j++ {
			s.Estimate(theta, g)
			for q := range g {
				w[q] += g[q] / float64(k)
			}
		}
		for q := range w {
			sum[q] += w[q]
			sum2[q] += w[q] * w[q]
		}
	}
	mean, sd = make([]float64, d), make([]float64, d)
	for q := range sum {
		mean[q] = sum[q] / float64(n)
		sd[q] = math.Sqrt(math.Max(0, sum2[q]/float64(n)-mean[q]*mean[q]) * float64(n) / float64(n-1))
	}
	return mean, sd
}

// TestPerNodeUnbiasedStatistical checks by sampling that the per-node
// estimators claimed unbiased (RAD scaled by b, exact SPAD with ε > 0, with
// fresh and held selections) have the gradient as their mean on random
// programs with nested tupling. Each comparison is a z-test on n = 20,000
// independent window means, |mean − gradient| > 5 standard errors being an
// alarm: under the null hypothesis (and the normal approximation) a
// comparison alarms with probability 5.7e-7, so the whole test, about 150
// comparisons, raises a false alarm with probability below 1e-4 for a random
// seed (the seeds are fixed, so it is deterministic). Power: the biased
// per-node estimators (RAD unscaled, practical SPAD) must be caught on at
// least one program by the same test.
func TestPerNodeUnbiasedStatistical(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical test: a few seconds")
	}
	unbiased := []Estimator{
		{Kind: RAD, Normalize: true, Reading: PerNode},
		{Kind: RAD, Normalize: true, KMax: 4, Reading: PerNode},
		{Kind: SPADExact, KMax: 1, Eps: 0.3, Reading: PerNode},
		{Kind: SPADExact, KMax: 5, Eps: 0.2, Reading: PerNode},
		{Kind: SPADExact, KMax: 3, M: 2, Eps: 0.4, Reading: PerNode},
	}
	biased := []Estimator{
		{Kind: RAD, Reading: PerNode},
		{Kind: SPADPractical, KMax: 1, Reading: PerNode},
	}
	const n = 20000
	caught := make([]bool, len(biased))
	src := rng.New(rng.Key{Seed: 23})
	programs := 0
	for programs < 12 {
		np := 1 + src.Intn(3)
		p, out := randomProgram(src, np, 4+src.Intn(8))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		if c.NumTuples() <= np {
			continue // want nested tupling
		}
		programs++
		theta := randomPoint(src, np)
		ws := c.NewWorkspace()
		ws.Linearize(theta)
		grad := make([]float64, np)
		ws.Gradient(grad)
		for _, e := range unbiased {
			mean, sd := windowMeans(t, c, e, theta, n, uint64(programs))
			for q := range mean {
				se := sd[q] / math.Sqrt(n)
				if d := math.Abs(mean[q] - grad[q]); d > 5*se+1e-12*math.Max(1, math.Abs(grad[q])) {
					t.Errorf("program %d %v param %d: mean %g, gradient %g, |diff| %g > 5·%g\n%s",
						programs, e, q, mean[q], grad[q], d, se, c)
				}
			}
		}
		for i, e := range biased {
			mean, sd := windowMeans(t, c, e, theta, n, uint64(programs))
			for q := range mean {
				if math.Abs(mean[q]-grad[q]) > 5*sd[q]/math.Sqrt(n)+1e-9 {
					caught[i] = true
				}
			}
		}
	}
	for i, ok := range caught {
		if !ok {
			t.Errorf("%v: biased estimator never caught", biased[i])
		}
	}
}

// TestTuplesOfTableFunctions pins the tupling structure of the built-in
// functions: each parameter meets exactly one tupling node, so on them the
// per-node and per-path readings coincide.
func TestTuplesOfTableFunctions(t *testing.T) {
	for _, tf := range append(TableFunctions(), F1) {
		c, err := tf.Compile()
		if err != nil {
			t.Fatal(err)
		}
		if c.NumTuples() != tf.Dim {
			t.Errorf("%s: %d tupling nodes on the paths, want %d", tf.Name, c.NumTuples(), tf.Dim)
		}
		total := 0
		for q := 0; q < tf.Dim; q++ {
			total += c.NumPaths(q)
		}
		branches := 0
		for i := 0; i < c.NumTuples(); i++ {
			branches += c.TupleBranches(i)
		}
		if total != branches {
			t.Errorf("%s: %d paths, %d branches", tf.Name, total, branches)
		}
	}
}

// TestPerNodeSPADEqualsPerPathSPAD checks, on random programs with nested
// tupling, that practical SPAD with all candidates (m = b, m = N) selects the
// same contribution under both readings: choosing the branch of largest
// |adjoint| node by node from the output backwards is the dynamic programme
// for the path of largest |contribution|, a contribution being a product.
// The two compute the products in a different order, so they agree to
// rounding (and on a near-tie may pick two paths of equal contribution).
func TestPerNodeSPADEqualsPerPathSPAD(t *testing.T) {
	src := rng.New(rng.Key{Seed: 24})
	nested := 0
	for trial := 0; trial < 300; trial++ {
		np := 1 + src.Intn(3)
		p, out := randomProgram(src, np, 4+src.Intn(20))
		c, err := p.Compile(out)
		if err != nil {
			t.Fatal(err)
		}
		if c.NumTuples() > np {
			nested++
		}
		sp, _ := NewSampler(c, Estimator{Kind: SPADPractical, KMax: 1})
		sn, _ := NewSampler(c, Estimator{Kind: SPADPractical, KMax: 1, Reading: PerNode})
		gp, gn := make([]float64, np), make([]float64, np)
		for pt := 0; pt < 3; pt++ {
			x := randomPoint(src, np)
			sp.Estimate(x, gp)
			sn.Estimate(x, gn)
			for q := range gp {
				if d := math.Abs(gp[q] - gn[q]); !(d <= 1e-9*math.Max(1, math.Abs(gp[q]))) {
					t.Fatalf("trial %d param %d: per path %.17g, per node %.17g\n%s", trial, q, gp[q], gn[q], c)
				}
			}
		}
	}
	if nested < 100 {
		t.Fatalf("only %d programs with more tupling nodes than parameters", nested)
	}
	t.Logf("%d of 300 programs have more tupling nodes than parameters", nested)
}

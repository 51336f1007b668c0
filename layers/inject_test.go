package layers

import (
	"fmt"
	"math"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
)

// weightGrad runs one training step of l on x with output gradient dy (in
// chunks) and returns a copy of the weight gradient.
func weightGrad(l nn.Layer, x, dy []float32, batch, chunk, inSize, outSize int, iter int64) []float32 {
	trainStep(l, x, dy, batch, chunk, inSize, outSize, iter)
	return append([]float32(nil), l.Params()[0].Grad...)
}

type layerCase struct {
	name    string
	make    func(e inject.Estimator) nn.Layer
	in      nn.Shape
	batch   int
	chunk   int
	outSize int
}

var injectCases = []layerCase{
	{"dense", func(e inject.Estimator) nn.Layer { d := NewDense(20, 3); d.Estimator = e; return d }, nn.Shape{20}, 6, 4, 3},
	{"conv", func(e inject.Estimator) nn.Layer { c := NewConv2D(2, 2, 3, 1, 1); c.Estimator = e; return c }, nn.Shape{2, 5, 5}, 3, 2, 2 * 5 * 5},
}

func buildCase(t *testing.T, c layerCase, e inject.Estimator) nn.Layer {
	l := c.make(e)
	l.(nn.Seeded).SetSeed(11, 2)
	if _, err := l.Build(c.in, c.batch, c.chunk); err != nil {
		t.Fatal(err)
	}
	giveScratch(l)
	return l
}

func caseData(c layerCase) (x, dy []float32) {
	src := rng.New(rng.Key{Seed: 5})
	x = make([]float32, c.batch*c.in.Size())
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	dy = make([]float32, c.batch*c.outSize)
	for i := range dy {
		dy[i] = float32(src.NormFloat64())
	}
	return x, dy
}

// unbiasedCheck returns the number of entries of exact whose estimate mean
// over the n samples lies more than 5 standard errors away. With a correct
// unbiased estimator each entry is flagged with probability < 1e-6 (normal
// approximation), so the suite as a whole has a false-alarm rate below 1e-4.
func unbiasedCheck(samples [][]float32, exact []float32) (flagged int, worst float64) {
	n := float64(len(samples))
	for j := range exact {
		var s, ss float64
		for _, v := range samples {
			s += float64(v[j])
			ss += float64(v[j]) * float64(v[j])
		}
		mean := s / n
		sd := math.Sqrt(math.Max(ss/n-mean*mean, 0) * n / (n - 1))
		se := sd / math.Sqrt(n)
		d := math.Abs(mean - float64(exact[j]))
		if se == 0 {
			if d > 1e-4*(1+math.Abs(float64(exact[j]))) {
				flagged++
			}
			continue
		}
		z := d / se
		worst = math.Max(worst, z)
		if z > 5 {
			flagged++
		}
	}
	return flagged, worst
}

// For a fixed batch, the mean of n RAD (and exact-variant SPAD) weight
// gradients of Dense and Conv2D converges to the exact weight gradient: every
// entry within 5 standard errors, at n = 400 and n = 3200, for every kind.
// The same check flags a 25% bias, so a biased implementation fails it.
func TestInjectedGradientUnbiased(t *testing.T) {
	ests := []inject.Estimator{}
	for _, k := range []inject.Kind{inject.Project, inject.SameSample, inject.DiffSample} {
		ests = append(ests,
			inject.Estimator{Mode: inject.RAD, Kind: k, Keep: 0.3},
			inject.Estimator{Mode: inject.SPAD, Kind: k, Keep: 0.3, KMax: 3, M: 3, Eps: 0.3, Variant: inject.Exact})
	}
	for _, c := range injectCases {
		x, dy := caseData(c)
		exact := weightGrad(buildCase(t, c, inject.Estimator{}), x, dy, c.batch, c.chunk, c.in.Size(), c.outSize, 0)
		for _, e := range ests {
			t.Run(fmt.Sprintf("%s/%v", c.name, e), func(t *testing.T) {
				l := buildCase(t, c, e)
				// SPAD keeps a candidate set for k_max steps, so steps of a
				// block are correlated; block means are independent.
				block := 1
				if e.Mode == inject.SPAD {
					block = e.KMax
				}
				var samples [][]float32
				it := int64(0)
				for _, n := range []int{400, 3200} {
					if testing.Short() && n > 400 {
						break
					}
					for len(samples) < n {
						mean := make([]float32, len(exact))
						for b := 0; b < block; b++ {
							g := weightGrad(l, x, dy, c.batch, c.chunk, c.in.Size(), c.outSize, it)
							it++
							for j := range g {
								mean[j] += g[j] / float32(block)
							}
						}
						samples = append(samples, mean)
					}
					if f, worst := unbiasedCheck(samples, exact); f > 0 {
						t.Fatalf("n=%d: %d of %d entries more than 5 standard errors from the exact gradient (worst z %.1f)", n, f, len(exact), worst)
					}
					biased := make([]float32, len(exact))
					for j, v := range exact {
						biased[j] = 1.25 * v
					}
					if n == 3200 {
						if f, _ := unbiasedCheck(samples, biased); f == 0 {
							t.Fatalf("n=%d: the check does not detect a 25%% bias", n)
						}
					}
				}
			})
		}
	}
}

// With keep = 1 every kind keeps the whole input: the gradient is the
// baseline's to float tolerance, at every step.
func TestKeepOneIsBaseline(t *testing.T) {
	for _, c := range injectCases {
		x, dy := caseData(c)
		exact := weightGrad(buildCase(t, c, inject.Estimator{}), x, dy, c.batch, c.chunk, c.in.Size(), c.outSize, 0)
		for _, k := range []inject.Kind{inject.Project, inject.SameSample, inject.DiffSample} {
			for _, e := range []inject.Estimator{{Mode: inject.RAD, Kind: k, Keep: 1}, {Mode: inject.SPAD, Kind: k, Keep: 1, KMax: 2, M: 2}} {
				l := buildCase(t, c, e)
				for it := int64(0); it < 3; it++ {
					g := weightGrad(l, x, dy, c.batch, c.chunk, c.in.Size(), c.outSize, it)
					for j := range g {
						if math.Abs(float64(g[j]-exact[j])) > 1e-5*(1+math.Abs(float64(exact[j]))) {
							t.Fatalf("%s %v: dW[%d] = %g, baseline %g", c.name, e, j, g[j], exact[j])
						}
					}
				}
			}
		}
	}
}

// The input gradient never depends on the estimator: dx is exact with RAD.
func TestInjectedInputGradExact(t *testing.T) {
	for _, c := range injectCases {
		x, dy := caseData(c)
		e := inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.2}
		gradDX := func(l nn.Layer) []float32 {
			return trainStep(l, x, dy, c.batch, c.chunk, c.in.Size(), c.outSize, 0)
		}
		a, b := gradDX(buildCase(t, c, inject.Estimator{})), gradDX(buildCase(t, c, e))
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s: dx[%d] = %g with RAD, %g with the baseline", c.name, j, b[j], a[j])
			}
		}
	}
}

// At keep 0.1 an injected Dense and Conv2D save ⌈0.1·F⌉ of every F values.
func TestInjectedSavedBytes(t *testing.T) {
	d := NewDense(300, 10)
	d.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1}
	if _, err := d.Build(nn.Shape{300}, 150, 150); err != nil {
		t.Fatal(err)
	}
	if got, want := d.SavedBytes(), int64(150*30*4); got != want {
		t.Errorf("dense saves %d bytes, want %d", got, want)
	}
	c := NewConv2D(16, 32, 5, 1, 2)
	c.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}
	if _, err := c.Build(nn.Shape{16, 32, 32}, 150, 8); err != nil {
		t.Fatal(err)
	}
	if got, want := c.SavedBytes(), int64(150*16*103*4); got != want {
		t.Errorf("conv saves %d bytes, want %d (K = ⌈0.1·1024⌉ = 103 per map)", got, want)
	}
}

package inject

import (
	"math"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// zBound is the number of standard errors a sample mean may be from its
// expectation. For an asymptotically normal mean, P(|Z| > 5) ≈ 5.7e-7, so a
// false alarm has probability below 1e-6 per entry and below 1e-3 over all the
// entries checked by this package's tests together.
const zBound = 5

// meanCheck accumulates i.i.d. vector estimates and compares their mean with
// an exact value entry by entry.
type meanCheck struct {
	n          int
	sum, sumsq []float64
}

func newMeanCheck(d int) *meanCheck {
	return &meanCheck{sum: make([]float64, d), sumsq: make([]float64, d)}
}

func (m *meanCheck) add(g []float32) {
	m.n++
	for i, v := range g {
		m.sum[i] += float64(v)
		m.sumsq[i] += float64(v) * float64(v)
	}
}

func (m *meanCheck) add64(g []float64) {
	m.n++
	for i, v := range g {
		m.sum[i] += v
		m.sumsq[i] += v * v
	}
}

func (m *meanCheck) mean() []float64 {
	out := make([]float64, len(m.sum))
	for i, s := range m.sum {
		out[i] = s / float64(m.n)
	}
	return out
}

// check returns the number of entries whose mean is more than zBound
// standard errors (per-entry sample std s over √n) from exact, and the
// largest |mean−exact|/(s/√n) seen. A deviation up to float32 rounding
// (1e-5·(1+|exact|)) is subtracted first, so exact estimates pass.
func (m *meanCheck) check(exact []float64) (bad int, worst float64) {
	n := float64(m.n)
	for i, s := range m.sum {
		mu := s / n
		v := (m.sumsq[i] - n*mu*mu) / (n - 1)
		se := math.Sqrt(math.Max(v, 0) / n)
		// Deviations within float32 rounding of the estimates are not
		// evidence of bias (deterministic estimates have s ≈ 0).
		d := math.Max(0, math.Abs(mu-exact[i])-1e-5*(1+math.Abs(exact[i])))
		if d == 0 {
			continue
		}
		if se == 0 {
			bad++
			worst = math.Inf(1)
			continue
		}
		z := d / se
		if z > zBound {
			bad++
		}
		worst = math.Max(worst, z)
	}
	return bad, worst
}

// relErr returns ‖a−b‖/‖b‖.
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

func norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// randn returns n standard normal float32s from key.
func randn(key rng.Key, n int) []float32 {
	s := rng.New(key)
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(s.NormFloat64())
	}
	return out
}

// exactGrad returns δᵀ·x (out×F) in float64.
func exactGrad(delta, x []float32, rows, out, f int) []float64 {
	g := make([]float64, out*f)
	for o := 0; o < out; o++ {
		for r := 0; r < rows; r++ {
			d := float64(delta[r*out+o])
			for i := 0; i < f; i++ {
				g[o*f+i] += d * float64(x[r*f+i])
			}
		}
	}
	return g
}

// matTN returns δᵀ·x̂ in float64 for a materialised x̂.
func matTN(delta, xhat []float32, rows, out, f int) []float64 {
	return exactGrad(delta, xhat, rows, out, f)
}

// TestMeanCheckDetectsBias checks the checker itself: a shifted mean fails,
// an unshifted one passes.
func TestMeanCheckDetectsBias(t *testing.T) {
	s := rng.New(rng.Key{Seed: 99})
	good, biased := newMeanCheck(4), newMeanCheck(4)
	for i := 0; i < 5000; i++ {
		g := make([]float64, 4)
		for j := range g {
			g[j] = s.NormFloat64()
		}
		good.add64(g)
		for j := range g {
			g[j] += 0.2
		}
		biased.add64(g)
	}
	exact := make([]float64, 4)
	if bad, w := good.check(exact); bad != 0 {
		t.Errorf("unbiased sample flagged: %d entries, worst z %.2f", bad, w)
	}
	if bad, _ := biased.check(exact); bad == 0 {
		t.Errorf("mean shifted by 0.2σ over 5000 samples (z ≈ 14) not flagged")
	}
}

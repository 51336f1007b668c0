package autograd

import (
	"errors"
	"fmt"

	"github.com/spadlab/spad/nn/rng"
)

// Kind selects a gradient estimator.
type Kind uint8

// The estimators. Every path-sampled estimator works per parameter: each
// parameter draws or selects its own path among its N paths, independently
// of the other parameters.
const (
	// Baseline is the full gradient, the sum of all path contributions.
	Baseline Kind = iota
	// RAD draws at every step one path I uniformly among the N paths of
	// the parameter (probability 1/N each) and uses g_I, or N·g_I when
	// Normalize is set (the normalization trick of Eq. 4, which makes it
	// unbiased).
	RAD
	// SPADPractical is Algorithm 2 of the paper: at every selection step
	// (step ≡ 0 mod KMax) it draws M candidate paths, keeps the one with
	// the largest |g_i| for the next KMax steps and uses its contribution
	// unscaled. It is biased; Eps is not used.
	SPADPractical
	// SPADExact is Algorithm 1 and Eq. 4–6: the path i_max is selected as
	// in SPADPractical, then at every step I is drawn from the
	// almost-Dirac D^ε_{i_max} (1−ε on i_max, ε/(N−1) on each other path)
	// and the estimate is g_I / p_I. For ε > 0 it is unbiased.
	SPADExact
	// FixedPath always uses the contribution of path number Path
	// (unscaled), the static selections of the paper's Figure 3.
	FixedPath
)

// Estimator configures a gradient estimator.
type Estimator struct {
	Kind Kind
	// Normalize scales RAD's single path by 1/p = N.
	Normalize bool
	// KMax is SPAD's number of steps between two path selections (≥ 1).
	KMax int
	// M is SPAD's number of candidate paths at a selection step, drawn
	// uniformly without replacement among the parameter's N paths. 0, or
	// any value ≥ N, means all N paths, which makes the selection
	// deterministic: one candidate per branch, as in the paper's
	// experiments.
	M int
	// Eps is SPADExact's exploration probability, in [0, 1].
	Eps float64
	// Path is FixedPath's path number; a parameter with fewer paths uses
	// its last one.
	Path int
}

// Validate reports whether the configuration is usable.
func (e Estimator) Validate() error {
	switch e.Kind {
	case Baseline, RAD:
	case SPADPractical, SPADExact:
		if e.KMax < 1 {
			return fmt.Errorf("autograd: SPAD needs KMax ≥ 1, got %d", e.KMax)
		}
		if e.M < 0 {
			return fmt.Errorf("autograd: SPAD needs M ≥ 0, got %d", e.M)
		}
		if e.Kind == SPADExact && !(e.Eps >= 0 && e.Eps <= 1) {
			return fmt.Errorf("autograd: SPAD exploration ε must be in [0, 1], got %g", e.Eps)
		}
	case FixedPath:
		if e.Path < 0 {
			return fmt.Errorf("autograd: negative path number %d", e.Path)
		}
	default:
		return errors.New("autograd: unknown estimator kind")
	}
	return nil
}

// String names the estimator as in the paper's tables, for example
// "baseline", "RAD", "SPAD_kmax=5".
func (e Estimator) String() string {
	switch e.Kind {
	case Baseline:
		return "baseline"
	case RAD:
		if e.Normalize {
			return "RAD"
		}
		return "RAD_unscaled"
	case SPADPractical:
		s := fmt.Sprintf("SPAD_kmax=%d", e.KMax)
		if e.M > 0 {
			s += fmt.Sprintf("_m=%d", e.M)
		}
		return s
	case SPADExact:
		s := fmt.Sprintf("SPADexact_kmax=%d_eps=%g", e.KMax, e.Eps)
		if e.M > 0 {
			s += fmt.Sprintf("_m=%d", e.M)
		}
		return s
	case FixedPath:
		return fmt.Sprintf("path%d", e.Path+1)
	}
	return "unknown"
}

// Sampler produces gradient estimates for one optimisation run. It owns a
// Workspace and a random source and keeps the per-parameter SPAD selection
// between steps. Estimate does not allocate. A Sampler is not safe for
// concurrent use.
type Sampler struct {
	ws   *Workspace
	est  Estimator
	src  rng.Source
	step int
	sel  []int32 // per parameter: selected path (SPAD)
	cand []int32 // scratch for drawing candidates
}

// NewSampler returns a Sampler for c with estimator e, seeded with the zero
// key; call Reset to seed it.
func NewSampler(c *Compiled, e Estimator) (*Sampler, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	maxN := 0
	for p := 0; p < c.NumParams(); p++ {
		maxN = max(maxN, c.NumPaths(p))
	}
	s := &Sampler{
		ws:   c.NewWorkspace(),
		est:  e,
		sel:  make([]int32, c.NumParams()),
		cand: make([]int32, maxN),
	}
	s.Reset(rng.Key{})
	return s, nil
}

// Reset restarts the sampler at step 0 with the random sequence of key.
func (s *Sampler) Reset(key rng.Key) {
	s.src.Reset(key)
	s.step = 0
	for i := range s.sel {
		s.sel[i] = 0
	}
}

// Workspace returns the sampler's workspace, holding the values and edge
// weights of the last Estimate.
func (s *Sampler) Workspace() *Workspace { return s.ws }

// Step returns the number of estimates made since the last Reset.
func (s *Sampler) Step() int { return s.step }

// Estimate linearizes the program at theta, writes the gradient estimate of
// the current step into grad, advances the step counter and returns the
// program's value at theta.
func (s *Sampler) Estimate(theta, grad []float64) float64 {
	ws := s.ws
	c := ws.c
	f := ws.Linearize(theta)
	e := &s.est
	if e.Kind == Baseline {
		ws.Gradient(grad)
		s.step++
		return f
	}
	selecting := (e.Kind == SPADPractical || e.Kind == SPADExact) && s.step%e.KMax == 0
	for p := range grad {
		n := c.NumPaths(p)
		if n == 0 {
			grad[p] = 0
			continue
		}
		switch e.Kind {
		case RAD:
			g := ws.PathGrad(p, s.src.Intn(n))
			if e.Normalize {
				g *= float64(n)
			}
			grad[p] = g
		case FixedPath:
			grad[p] = ws.PathGrad(p, min(e.Path, n-1))
		case SPADPractical:
			if selecting {
				var g float64
				s.sel[p], g = s.selectPath(p, n)
				grad[p] = g
			} else {
				grad[p] = ws.PathGrad(p, int(s.sel[p]))
			}
		case SPADExact:
			if selecting {
				s.sel[p], _ = s.selectPath(p, n)
			}
			i, prob := int(s.sel[p]), 1.0
			if n > 1 {
				if s.src.Float64() < 1-e.Eps {
					prob = 1 - e.Eps
				} else {
					j := s.src.Intn(n - 1)
					if j >= i {
						j++
					}
					i, prob = j, e.Eps/float64(n-1)
				}
			}
			grad[p] = ws.PathGrad(p, i) / prob
		}
	}
	s.step++
	return f
}

// selectPath draws the M candidate paths of parameter p (all of them when M
// is 0 or ≥ n) and returns the one with the largest |g_i| (the first in draw
// order on ties) and its contribution.
func (s *Sampler) selectPath(p, n int) (int32, float64) {
	ws := s.ws
	m := s.est.M
	best, bestG := int32(0), 0.0
	if m == 0 || m >= n {
		for i := 0; i < n; i++ {
			if g := ws.PathGrad(p, i); i == 0 || abs(g) > abs(bestG) {
				best, bestG = int32(i), g
			}
		}
		return best, bestG
	}
	cand := s.cand[:n]
	for i := range cand {
		cand[i] = int32(i)
	}
	for k := 0; k < m; k++ {
		j := k + s.src.Intn(n-k)
		cand[k], cand[j] = cand[j], cand[k]
		if g := ws.PathGrad(p, int(cand[k])); k == 0 || abs(g) > abs(bestG) {
			best, bestG = cand[k], g
		}
	}
	return best, bestG
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

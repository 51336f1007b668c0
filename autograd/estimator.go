package autograd

import (
	"errors"
	"fmt"

	"github.com/spadlab/spad/nn/rng"
)

// Kind selects a gradient estimator.
type Kind uint8

// The estimators. Each path-sampled estimator comes in two readings (see
// Reading): per path, where every parameter draws or selects one whole path
// among its N paths, and per tupling node, where every tupling node draws or
// selects one of its b branches in the reverse pass. The descriptions below
// speak of paths and N; per node, read branches of a tupling node and b.
const (
	// Baseline is the full gradient, the sum of all path contributions.
	Baseline Kind = iota
	// RAD draws one path I uniformly among the N paths of the parameter
	// (probability 1/N each) and uses g_I, or N·g_I when Normalize is set
	// (the normalization trick of Eq. 4, which makes it unbiased). The
	// draw is fresh at every step, or, when KMax > 1, made every KMax
	// steps and held in between (the "held" reading of random selection).
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
	// (unscaled), the static selections of the paper's Figure 3; per node,
	// branch number Path at every tupling node.
	FixedPath
)

// Reading says where an estimator samples.
type Reading uint8

const (
	// PerPath samples one whole path per parameter among all of the
	// parameter's paths, each parameter independently of the others.
	PerPath Reading = iota
	// PerNode samples one branch per tupling node in the reverse pass,
	// each tupling node independently: the node passes on the adjoint of
	// that branch (scaled when the estimator scales) instead of the sum
	// of its branches' adjoints. This is the paper's wording for its
	// optimisation experiments ("a single branch from each tupling node in
	// the backpropagation graph execution was selected", m = b). On a
	// program whose parameters each meet a single tupling node the two
	// readings coincide.
	PerNode
)

// String returns "per-path" or "per-node".
func (r Reading) String() string {
	if r == PerNode {
		return "per-node"
	}
	return "per-path"
}

// ParseReading parses "per-path" or "per-node".
func ParseReading(s string) (Reading, error) {
	switch s {
	case "per-path":
		return PerPath, nil
	case "per-node":
		return PerNode, nil
	}
	return 0, fmt.Errorf("autograd: unknown reading %q (want per-path or per-node)", s)
}

// Estimator configures a gradient estimator.
type Estimator struct {
	Kind Kind
	// Reading selects per-path or per-tupling-node sampling.
	Reading Reading
	// Normalize scales RAD's single path by 1/p = N (per node: b).
	Normalize bool
	// KMax is SPAD's number of steps between two path selections (≥ 1).
	// For RAD, a KMax above 1 holds each random draw for KMax steps; 0 or
	// 1 draws afresh at every step.
	KMax int
	// M is SPAD's number of candidate paths at a selection step, drawn
	// uniformly without replacement among the parameter's N paths (per
	// node: among the node's b branches). 0, or any value ≥ N, means all
	// of them, which makes the selection deterministic: one candidate per
	// branch, as in the paper's experiments.
	M int
	// Eps is SPADExact's exploration probability, in [0, 1].
	Eps float64
	// Path is FixedPath's path number; a parameter with fewer paths uses
	// its last one.
	Path int
}

// Validate reports whether the configuration is usable.
func (e Estimator) Validate() error {
	if e.Reading > PerNode {
		return errors.New("autograd: unknown estimator reading")
	}
	switch e.Kind {
	case Baseline:
	case RAD:
		if e.KMax < 0 {
			return fmt.Errorf("autograd: RAD needs KMax ≥ 0, got %d", e.KMax)
		}
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

// Column names the estimator as a column of the paper's tables, without its
// reading, for example "baseline", "RAD", "SPAD_kmax=5".
func (e Estimator) Column() string {
	switch e.Kind {
	case Baseline:
		return "baseline"
	case RAD:
		s := "RAD"
		if !e.Normalize {
			s = "RAD_unscaled"
		}
		if e.KMax > 1 {
			s += fmt.Sprintf("_hold=%d", e.KMax)
		}
		return s
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

// String names the estimator: its Column, followed by "/node" for the
// per-node reading of a sampling estimator (the baseline has no reading).
func (e Estimator) String() string {
	s := e.Column()
	if e.Reading == PerNode && e.Kind != Baseline {
		s += "/node"
	}
	return s
}

// Sampler produces gradient estimates for one optimisation run. It owns a
// Workspace and a random source and keeps the SPAD (or held RAD) selection
// between steps: per parameter in the per-path reading, per tupling node in
// the per-node reading. Estimate does not allocate. A Sampler is not safe
// for concurrent use.
type Sampler struct {
	ws   *Workspace
	est  Estimator
	src  rng.Source
	step int
	sel  []int32 // per parameter (per path) or per tupling node (per node): held selection
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
	nsel := c.NumParams()
	if e.Reading == PerNode {
		nsel = c.NumTuples()
		maxN = 0
		for t := range nsel {
			maxN = max(maxN, c.TupleBranches(t))
		}
	}
	s := &Sampler{
		ws:   c.NewWorkspace(),
		est:  e,
		sel:  make([]int32, nsel),
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

// Estimator returns the sampler's estimator.
func (s *Sampler) Estimator() Estimator { return s.est }

// Step returns the number of estimates made since the last Reset.
func (s *Sampler) Step() int { return s.step }

// Estimate linearizes the program at theta, writes the gradient estimate of
// the current step into grad, advances the step counter and returns the
// program's value at theta.
func (s *Sampler) Estimate(theta, grad []float64) float64 {
	ws := s.ws
	f := ws.Linearize(theta)
	switch {
	case s.est.Kind == Baseline:
		ws.Gradient(grad)
	case s.est.Reading == PerNode:
		s.estimateNode(grad)
	default:
		s.estimatePath(grad)
	}
	s.step++
	return f
}

// selecting reports whether the current step draws or selects anew.
func (s *Sampler) selecting() bool { return s.step%max(s.est.KMax, 1) == 0 }

// explore draws the index used by SPADExact among n choices given the
// selection sel: sel with probability 1−ε, each other one with ε/(n−1). It
// returns the index and 1/p.
func (s *Sampler) explore(sel int32, n int) (int32, float64) {
	if n == 1 {
		return sel, 1
	}
	eps := s.est.Eps
	if s.src.Float64() < 1-eps {
		return sel, 1 / (1 - eps)
	}
	j := int32(s.src.Intn(n - 1))
	if j >= sel {
		j++
	}
	return j, float64(n-1) / eps
}

func (s *Sampler) estimatePath(grad []float64) {
	ws := s.ws
	c := ws.c
	e := &s.est
	selecting := s.selecting()
	for p := range grad {
		n := c.NumPaths(p)
		if n == 0 {
			grad[p] = 0
			continue
		}
		switch e.Kind {
		case RAD:
			if selecting {
				s.sel[p] = int32(s.src.Intn(n))
			}
			g := ws.PathGrad(p, int(s.sel[p]))
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
			i, inv := s.explore(s.sel[p], n)
			grad[p] = ws.PathGrad(p, int(i)) * inv
		}
	}
}

// estimateNode is the reverse sweep of Workspace.Gradient in which every
// tupling node on the parameters' paths passes on the adjoint of one branch:
// drawn (RAD), selected by the largest |adjoint| among its candidates and
// held for KMax steps (SPAD), or explored around that selection with the
// 1/p factor (exact SPAD). Nodes are visited output first, so the adjoints a
// node compares already carry the choices of the nodes below it.
func (s *Sampler) estimateNode(grad []float64) {
	ws := s.ws
	c, adj, w := ws.c, ws.adj, ws.w
	e := &s.est
	selecting := s.selecting()
	adj[c.out] = 1
	for j := len(c.instrs) - 1; j >= 0; j-- {
		in := &c.instrs[j]
		switch in.Op {
		case OpTuple:
			cp := adj[in.Out : in.Out+in.K]
			t := c.tupleOf[j]
			if t < 0 {
				adj[in.A] = sumAdj(cp)
				continue
			}
			b := len(cp)
			var k int32
			scale := 1.0
			switch e.Kind {
			case RAD:
				if selecting {
					s.sel[t] = int32(s.src.Intn(b))
				}
				k = s.sel[t]
				if e.Normalize {
					scale = float64(b)
				}
			case FixedPath:
				k = int32(min(e.Path, b-1))
			case SPADPractical:
				if selecting {
					s.sel[t] = s.selectBranch(cp)
				}
				k = s.sel[t]
			case SPADExact:
				if selecting {
					s.sel[t] = s.selectBranch(cp)
				}
				k, scale = s.explore(s.sel[t], b)
			}
			adj[in.A] = scale * cp[k]
		default:
			backLocal(adj, w, in, j)
		}
	}
	ws.readGrad(grad)
}

// selectBranch returns, among M candidate branches of a tupling node whose
// copies have adjoints adj (all of them when M is 0 or ≥ b), the one with
// the largest |adjoint| (the first in draw order on ties). It draws the
// candidates exactly as selectPath draws paths.
func (s *Sampler) selectBranch(adj []float64) int32 {
	n, m := len(adj), s.est.M
	best := int32(0)
	if m == 0 || m >= n {
		for i := 1; i < n; i++ {
			if abs(adj[i]) > abs(adj[best]) {
				best = int32(i)
			}
		}
		return best
	}
	for k, c := range s.drawCandidates(n, m) {
		if k == 0 || abs(adj[c]) > abs(adj[best]) {
			best = c
		}
	}
	return best
}

// drawCandidates draws m of the n candidates 0 … n-1 without replacement (a
// partial Fisher–Yates shuffle, one draw a candidate) and returns them in
// draw order; the slice is reused by the next call.
func (s *Sampler) drawCandidates(n, m int) []int32 {
	cand := s.cand[:n]
	for i := range cand {
		cand[i] = int32(i)
	}
	for k := 0; k < m; k++ {
		j := k + s.src.Intn(n-k)
		cand[k], cand[j] = cand[j], cand[k]
	}
	return cand[:m]
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
	for k, c := range s.drawCandidates(n, m) {
		if g := ws.PathGrad(p, int(c)); k == 0 || abs(g) > abs(bestG) {
			best, bestG = c, g
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

package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr to every parameter.
	Step(params []*nn.Param, lr float64)
	// Name identifies the optimizer in run records.
	Name() string
	// State returns the optimizer's moment buffers and step count, for
	// checkpoints (the slices alias the live state).
	State() OptimizerState
}

// OptimizerRestorer is implemented by optimizers whose state a checkpoint
// can restore (Adam and SGD): with State, it is the optimiser's side of what
// nn.Stateful is for layers. Restore sets the step count and copies the
// buffers, laid out as State returns them, for the parameters params.
type OptimizerRestorer interface {
	Restore(params []*nn.Param, s OptimizerState) error
}

// OptimizerState is the restorable state of an optimizer: its step count and
// per-parameter moment buffers, in parameter order.
type OptimizerState struct {
	Step    int64
	Buffers [][]float32
}

// Adam is Adam (Kingma and Ba) with PyTorch's semantics: L2 weight decay
// added to the gradient and bias-corrected moments.
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64
	t                              int64
	m, v                           [][]float32

	// the update in progress, split in two halves run in parallel
	params        []*nn.Param
	lr, c1, c2    float32
	total         int
	lowFn, highFn func()
}

// NewAdam returns Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and the given
// weight decay.
func NewAdam(wd float64) *Adam { return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd} }

// Name implements Optimizer.
func (a *Adam) Name() string { return "adam" }

func (a *Adam) ensure(params []*nn.Param) {
	if a.m != nil {
		return
	}
	for _, p := range params {
		a.m = append(a.m, make([]float32, len(p.Value)))
		a.v = append(a.v, make([]float32, len(p.Value)))
	}
}

// Step implements Optimizer. The update is element-wise, so the two halves
// of the parameters (in order) are updated on two cores when available.
func (a *Adam) Step(params []*nn.Param, lr float64) {
	a.ensure(params)
	a.t++
	a.params, a.lr = params, float32(lr)
	a.c1 = float32(1 / (1 - math.Pow(a.Beta1, float64(a.t))))
	a.c2 = float32(1 / (1 - math.Pow(a.Beta2, float64(a.t))))
	a.total = 0
	for _, p := range params {
		a.total += len(p.Value)
	}
	if a.lowFn == nil {
		a.lowFn, a.highFn = a.low, a.high
	}
	kernels.Parallel2(a.lowFn, a.highFn)
	a.params = nil
}

func (a *Adam) low()  { a.update(0, a.total/2) }
func (a *Adam) high() { a.update(a.total/2, a.total) }

// update applies the step to elements [from, to) of the parameters taken
// end to end.
func (a *Adam) update(from, to int) {
	off := 0
	for i, p := range a.params {
		n := len(p.Value)
		lo, hi := max(from-off, 0), min(to-off, n)
		if lo < hi {
			kernels.Adam(p.Value[lo:hi], p.Grad[lo:hi], a.m[i][lo:hi], a.v[i][lo:hi], a.lr, float32(a.Beta1), float32(a.Beta2), float32(a.Eps), float32(a.WeightDecay), a.c1, a.c2)
		}
		off += n
	}
}

// State implements Optimizer: buffers are m₀, v₀, m₁, v₁, ...
func (a *Adam) State() OptimizerState {
	s := OptimizerState{Step: a.t}
	for i := range a.m {
		s.Buffers = append(s.Buffers, a.m[i], a.v[i])
	}
	return s
}

// Init allocates the moment buffers for params (so that a first Step does
// not allocate).
func (a *Adam) Init(params []*nn.Param) { a.ensure(params) }

// Restore sets the step count and copies buffers into the moment buffers.
func (a *Adam) Restore(params []*nn.Param, s OptimizerState) error {
	a.ensure(params)
	if len(s.Buffers) != 2*len(params) {
		return fmt.Errorf("adam state has %d buffers, want %d", len(s.Buffers), 2*len(params))
	}
	for i := range params {
		if len(s.Buffers[2*i]) != len(a.m[i]) || len(s.Buffers[2*i+1]) != len(a.v[i]) {
			return fmt.Errorf("adam state for %s has the wrong size", params[i].Name)
		}
		copy(a.m[i], s.Buffers[2*i])
		copy(a.v[i], s.Buffers[2*i+1])
	}
	a.t = s.Step
	return nil
}

// SGD is stochastic gradient descent with optional momentum and L2 weight
// decay: v = μv + (g + wd·w); w -= lr·v.
type SGD struct {
	Momentum, WeightDecay float64
	t                     int64
	v                     [][]float32
}

// NewSGD returns SGD with the given momentum and weight decay.
func NewSGD(momentum, wd float64) *SGD { return &SGD{Momentum: momentum, WeightDecay: wd} }

// Name implements Optimizer.
func (s *SGD) Name() string { return "sgd" }

// Init allocates the momentum buffers.
func (s *SGD) Init(params []*nn.Param) {
	if s.v == nil {
		for _, p := range params {
			s.v = append(s.v, make([]float32, len(p.Value)))
		}
	}
}

// Step implements Optimizer.
func (s *SGD) Step(params []*nn.Param, lr float64) {
	s.Init(params)
	s.t++
	mu, wd := float32(s.Momentum), float32(s.WeightDecay)
	for i, p := range params {
		v := s.v[i]
		if wd != 0 {
			kernels.Axpy(wd, p.Value, p.Grad)
		}
		if mu != 0 {
			kernels.Scale(mu, v)
			kernels.Axpy(1, p.Grad, v)
			kernels.Axpy(float32(-lr), v, p.Value)
		} else {
			kernels.Axpy(float32(-lr), p.Grad, p.Value)
		}
	}
}

// State implements Optimizer.
func (s *SGD) State() OptimizerState { return OptimizerState{Step: s.t, Buffers: s.v} }

// Restore sets the step count and the momentum buffers.
func (s *SGD) Restore(params []*nn.Param, st OptimizerState) error {
	s.Init(params)
	if len(st.Buffers) != len(params) {
		return fmt.Errorf("sgd state has %d buffers, want %d", len(st.Buffers), len(params))
	}
	for i := range params {
		if len(st.Buffers[i]) != len(s.v[i]) {
			return fmt.Errorf("sgd state for %s has the wrong size", params[i].Name)
		}
		copy(s.v[i], st.Buffers[i])
	}
	s.t = st.Step
	return nil
}

// NewOptimizer returns the optimizer called name ("adam" or "sgd").
func NewOptimizer(name string, momentum, wd float64) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "adam":
		return NewAdam(wd), nil
	case "sgd":
		return NewSGD(momentum, wd), nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (valid: adam, sgd)", name)
}

// StepDecay is the paper's schedule: the rate is multiplied by Factor every
// Every iterations.
type StepDecay struct {
	Base   float64
	Factor float64
	Every  int
}

// At returns the learning rate at iteration iter (0-based).
func (s StepDecay) At(iter int) float64 {
	if s.Every <= 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Factor, float64(iter/s.Every))
}

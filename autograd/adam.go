package autograd

import "math"

// Adam is the Adam optimiser (Kingma and Ba, 2014) with bias correction.
type Adam struct {
	LR, Beta1, Beta2, Eps float64

	m, v       []float64
	b1t, b2t   float64 // Beta1^t, Beta2^t
	stepsTaken int
}

// NewAdam returns Adam for n parameters with the default values used in the
// paper: learning rate 0.01, β₁ = 0.9, β₂ = 0.999, and ε = 1e-8.
func NewAdam(n int) *Adam {
	a := &Adam{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		m: make([]float64, n), v: make([]float64, n)}
	a.Reset()
	return a
}

// Reset clears the moment estimates and the step count.
func (a *Adam) Reset() {
	for i := range a.m {
		a.m[i], a.v[i] = 0, 0
	}
	a.b1t, a.b2t, a.stepsTaken = 1, 1, 0
}

// Step moves theta against the gradient estimate grad.
func (a *Adam) Step(theta, grad []float64) {
	a.stepsTaken++
	a.b1t *= a.Beta1
	a.b2t *= a.Beta2
	c1 := a.LR / (1 - a.b1t)
	c2 := 1 / (1 - a.b2t)
	m, v := a.m[:len(theta)], a.v[:len(theta)]
	for i, g := range grad[:len(theta)] {
		m[i] = a.Beta1*m[i] + (1-a.Beta1)*g
		v[i] = a.Beta2*v[i] + (1-a.Beta2)*g*g
		theta[i] -= c1 * m[i] / (math.Sqrt(v[i]*c2) + a.Eps)
	}
}

// Minimize runs steps Adam steps on the program of s from theta (modified in
// place), the gradient of step t being s's estimate at θ_t; grad is scratch
// of one entry per parameter. If trace is not nil, trace[t] receives f(θ_t)
// for t < min(steps, len(trace)). It returns f at the final point θ_T.
func Minimize(s *Sampler, opt *Adam, theta, grad []float64, steps int, trace []float64) float64 {
	for t := 0; t < steps; t++ {
		f := s.Estimate(theta, grad)
		if t < len(trace) {
			trace[t] = f
		}
		opt.Step(theta, grad)
	}
	return s.ws.Eval(theta)
}

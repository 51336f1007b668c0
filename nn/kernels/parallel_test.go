package kernels

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// Parallel2 runs both functions, gives the results of running them in
// sequence (two GEMMs, bitwise), and allocates nothing.
func TestParallel2(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(2)
	const m, n, k = 150, 300, 300
	r := rand.New(rand.NewPCG(7, 7))
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	d1, d2 := make([]float32, m*n), make([]float32, m*n)
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c1, n)
	Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, d1, n)
	var calls atomic.Int32
	fa := func() { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c2, n); calls.Add(1) }
	fb := func() { Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, d2, n); calls.Add(1) }
	Parallel2(fa, fb)
	if calls.Load() != 2 {
		t.Fatalf("%d functions ran, want 2", calls.Load())
	}
	for i := range c1 {
		if c1[i] != c2[i] || d1[i] != d2[i] {
			t.Fatalf("element %d differs from the sequential result", i)
		}
	}
	if allocs := testing.AllocsPerRun(20, func() { Parallel2(fa, fb) }); allocs != 0 {
		t.Fatalf("%v allocations per call", allocs)
	}
	SetThreads(1)
	Parallel2(fa, fb)
	if calls.Load() != 2+2*21+2 {
		t.Fatalf("calls = %d", calls.Load())
	}
}

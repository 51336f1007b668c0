package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShape is one benchmarked product: form (NN, NT or TN) and the
// dimensions named <m>x<k>x<n>.
type benchShape struct {
	form    string
	m, k, n int
}

// benchShapes are the large square product and every product of a
// SmallFCNet (784-300-300-300-10) training step at batch 150.
var benchShapes = []benchShape{
	{"NN", 1024, 1024, 1024},
	{"NT", 1024, 1024, 1024},
	{"TN", 1024, 1024, 1024},
	// forward y = x·Wᵀ
	{"NT", 150, 784, 300},
	{"NT", 150, 300, 300},
	{"NT", 150, 300, 10},
	// weight gradients dW = dyᵀ·x
	{"TN", 300, 150, 784},
	{"TN", 300, 150, 300},
	{"TN", 10, 150, 300},
	// input gradients dX = dy·W
	{"NN", 150, 300, 300},
	{"NN", 150, 10, 300},
}

// smallFCNetStep lists the GEMMs of one SmallFCNet training step at batch
// 150, with their multiplicity.
var smallFCNetStep = []struct {
	s     benchShape
	count int
}{
	{benchShape{"NT", 150, 784, 300}, 1},
	{benchShape{"NT", 150, 300, 300}, 2},
	{benchShape{"NT", 150, 300, 10}, 1},
	{benchShape{"TN", 300, 150, 784}, 1},
	{benchShape{"TN", 300, 150, 300}, 2},
	{benchShape{"TN", 10, 150, 300}, 1},
	{benchShape{"NN", 150, 300, 300}, 2},
	{benchShape{"NN", 150, 10, 300}, 1},
}

// benchOperands allocates random operands for s and returns a closure
// computing the product once.
func benchOperands(s benchShape) func() {
	rng := rand.New(rand.NewPCG(7, 7))
	ta, tb := s.form[0] == 'T', s.form[1] == 'T'
	a := randSlice(rng, s.m*s.k)
	b := randSlice(rng, s.k*s.n)
	c := make([]float32, s.m*s.n)
	lda, ldb := s.k, s.n
	if ta {
		lda = s.m
	}
	if tb {
		ldb = s.k
	}
	return func() { Sgemm(ta, tb, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
}

func benchGemm(b *testing.B, s benchShape) {
	f := benchOperands(s)
	f()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.StopTimer()
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures Sgemm on every available path with the default
// thread count; sub-benchmarks are <path>/<form>/<m>x<k>x<n> (the generic
// path skips the 1024³ products).
func BenchmarkSgemm(b *testing.B) {
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	for _, p := range AvailablePaths() {
		for _, s := range benchShapes {
			if p == Generic && s.m*s.k*s.n > 1<<28 {
				continue // about a second per product
			}
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", p, s.form, s.m, s.k, s.n), func(b *testing.B) {
				_ = SetPath(p)
				benchGemm(b, s)
			})
		}
	}
}

// BenchmarkSgemmThreads measures every shape with 1 and 2 threads, and on
// every available path: <path>/t<threads>/<form>/<m>x<k>x<n> (the generic
// path skips the 1024³ products).
func BenchmarkSgemmThreads(b *testing.B) {
	savedPath, savedThreads := Active(), threads.Load()
	defer func() { _ = SetPath(savedPath); threads.Store(savedThreads) }()
	for _, p := range AvailablePaths() {
		_ = SetPath(p)
		for _, t := range []int{1, 2} {
			SetThreads(t)
			for _, s := range benchShapes {
				if p == Generic && s.m*s.k*s.n > 1<<28 {
					continue // about a second per product
				}
				b.Run(fmt.Sprintf("%s/t%d/%s/%dx%dx%d", p, t, s.form, s.m, s.k, s.n), func(b *testing.B) { benchGemm(b, s) })
			}
		}
	}
}

// BenchmarkSgemmSmallFCNetStep measures all GEMMs of one SmallFCNet training
// step at batch 150 (ns/op is the time per step), with 1 and 2 threads.
func BenchmarkSgemmSmallFCNetStep(b *testing.B) {
	savedThreads := threads.Load()
	defer threads.Store(savedThreads)
	var fs []func()
	var flops float64
	for _, e := range smallFCNetStep {
		f := benchOperands(e.s)
		for i := 0; i < e.count; i++ {
			fs = append(fs, f)
			flops += 2 * float64(e.s.m) * float64(e.s.n) * float64(e.s.k)
		}
	}
	for _, t := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", t), func(b *testing.B) {
			SetThreads(t)
			for _, f := range fs {
				f()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, f := range fs {
					f()
				}
			}
			b.StopTimer()
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicroKernel measures each path's micro-kernel alone on packed
// panels that stay in cache (one mc×kc block of A against one B
// micro-panel), the ceiling Sgemm's blocking can reach on one thread:
// <path>/beta<β>.
func BenchmarkMicroKernel(b *testing.B) {
	for _, p := range AvailablePaths() {
		benchMicroKernel(b, p)
	}
}

func benchMicroKernel(b *testing.B, p Path) {
	pp := paramsFor(p)
	rng := rand.New(rand.NewPCG(3, 3))
	kc, tiles := pp.kc, pp.mc/pp.mr
	a := randSlice(rng, tiles*pp.mr*kc)
	bp := randSlice(rng, pp.nr*kc)
	ldc := pp.nr
	c := make([]float32, tiles*pp.mr*ldc)
	for _, beta := range []float32{0, 1} {
		b.Run(fmt.Sprintf("%s/beta%g", p, beta), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				pp.kern(kc, tiles, a, bp, c, ldc, 1, beta)
			}
			flops := 2 * float64(tiles*pp.mr*pp.nr*kc) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

package inject

import (
	"fmt"
	"testing"

	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// Dense shapes of the MNIST SmallFCNet (batch 150): inputs of 784 and 300
// features, 300 outputs, keep = 0.1.
var benchShapes = []struct{ rows, f, out int }{{150, 784, 300}, {150, 300, 300}}

func benchSetup(kind Kind, rows, f, out int) (Projector, []float32, []float32, []float32, []float32, []float32) {
	p := NewProjector(kind, f, 0.1)
	x := randn(rng.Key{Seed: 1}, rows*f)
	delta := randn(rng.Key{Seed: 2}, rows*out)
	c := make([]float32, rows*p.K)
	dW := make([]float32, out*f)
	scratch := make([]float32, p.ScratchSize(rows, out))
	return p, x, delta, c, dW, scratch
}

// BenchmarkCompress measures c = x·P for one Dense batch.
func BenchmarkCompress(b *testing.B) {
	for _, sh := range benchShapes {
		for _, kind := range allKinds {
			b.Run(fmt.Sprintf("%s/rows=%d/F=%d", kind, sh.rows, sh.f), func(b *testing.B) {
				p, x, _, c, _, scratch := benchSetup(kind, sh.rows, sh.f, sh.out)
				b.SetBytes(int64(4 * sh.rows * sh.f))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					p.Compress(rng.Key{Seed: 3, Draw: uint64(i)}, x, sh.rows, 0, c, scratch)
				}
			})
		}
	}
}

// BenchmarkWeightGrad measures dW += δᵀ·x̂ in compressed space for one Dense
// batch; "exact" is the baseline δᵀ·x with the full input.
func BenchmarkWeightGrad(b *testing.B) {
	for _, sh := range benchShapes {
		for _, kind := range allKinds {
			b.Run(fmt.Sprintf("%s/rows=%d/F=%d", kind, sh.rows, sh.f), func(b *testing.B) {
				p, x, delta, c, dW, scratch := benchSetup(kind, sh.rows, sh.f, sh.out)
				key := rng.Key{Seed: 3}
				p.Compress(key, x, sh.rows, 0, c, scratch)
				b.ReportAllocs()
				for b.Loop() {
					p.WeightGrad(key, delta, c, sh.rows, 0, sh.out, dW, scratch)
				}
			})
		}
		b.Run(fmt.Sprintf("exact/rows=%d/F=%d", sh.rows, sh.f), func(b *testing.B) {
			_, x, delta, _, dW, _ := benchSetup(Project, sh.rows, sh.f, sh.out)
			b.ReportAllocs()
			for b.Loop() {
				exactSgemm(delta, x, sh.rows, sh.out, sh.f, dW)
			}
			b.ReportMetric(2*float64(sh.rows*sh.f*sh.out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// exactSgemm accumulates dW += δᵀ·x with the full input.
func exactSgemm(delta, x []float32, rows, out, f int, dW []float32) {
	kernels.Sgemm(true, false, out, f, rows, 1, delta, out, x, f, 1, dW, f)
}

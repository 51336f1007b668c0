package kernels

import (
	"fmt"
	"testing"
)

func BenchmarkZZGemmShapes(b *testing.B) {
	type sh struct {
		ta, tb  bool
		m, n, k int
	}
	for _, s := range []sh{
		{false, false, 32, 2048, 400}, {true, true, 2048, 32, 400},
		{false, false, 32, 4096, 400}, {false, false, 32, 1024, 400},
		{false, false, 16, 2048, 800}, {true, true, 2048, 16, 800},
		{false, true, 32, 400, 2048}, {false, true, 32, 800, 2048},
		{false, false, 32, 2048, 800}, {true, false, 800, 2048, 32},
		{false, false, 1536, 1536, 1536},
	} {
		a := make([]float32, s.m*s.k)
		bb := make([]float32, s.k*s.n)
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.ta {
			lda = s.m
		}
		if s.tb {
			ldb = s.k
		}
		b.Run(fmt.Sprintf("%v%v_%dx%dx%d", s.ta, s.tb, s.m, s.n, s.k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

package autograd

import (
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// BenchmarkAdamStep reports the cost of one optimisation step (linearize,
// gradient estimate, Adam update) for each table function and estimator,
// per path and (suffix /node) per tupling node.
func BenchmarkAdamStep(b *testing.B) {
	ests := []Estimator{
		{Kind: Baseline},
		{Kind: RAD, Normalize: true},
		{Kind: SPADPractical, KMax: 5},
		{Kind: SPADPractical, KMax: 50},
		{Kind: RAD, Normalize: true, Reading: PerNode},
		{Kind: SPADPractical, KMax: 50, Reading: PerNode},
	}
	for _, tf := range TableFunctions() {
		c, err := tf.Compile()
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range ests {
			b.Run(tf.Name+"/"+e.String(), func(b *testing.B) {
				s, err := NewSampler(c, e)
				if err != nil {
					b.Fatal(err)
				}
				opt := NewAdam(tf.Dim)
				theta, grad := make([]float64, tf.Dim), make([]float64, tf.Dim)
				init := rng.New(rng.Key{Seed: 1})
				restart := func() {
					for i := range theta {
						theta[i] = tf.Lo + (tf.Hi-tf.Lo)*init.Float64()
					}
					opt.Reset()
					s.Reset(rng.Key{Seed: 2, Draw: init.Uint64()})
				}
				restart()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					// Restart every 2000 steps, the length of a run.
					if i%2000 == 1999 {
						restart()
					}
					s.Estimate(theta, grad)
					opt.Step(theta, grad)
				}
			})
		}
	}
}

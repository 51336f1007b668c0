package bench

import (
	"runtime"
	"testing"

	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn/kernels"
)

// BenchmarkTrainStep measures one training step (forward, backward, Adam)
// at batch 150 on random real-sized input, for each model and each
// estimator of StepEstimators. It reports ms/step, allocations, the train
// heap (peak-heap-MB: peak heap in use above what was live before the
// network was built, sampled after every forward and backward) and the
// exact bytes saved for backward (saved-MB). SPAD runs whole k_max cycles:
// the step count is rounded up to a multiple of k_max.
func BenchmarkTrainStep(b *testing.B) {
	for _, model := range []string{"smallfc", "smallconv"} {
		for _, e := range StepEstimators {
			b.Run(model+"/"+e.Name, func(b *testing.B) {
				spec, err := models.Get(model)
				if err != nil {
					b.Fatal(err)
				}
				kernels.SetThreads(runtime.GOMAXPROCS(0))
				r, err := NewStepRig(spec, e.Estimator, e.Dropout, 150)
				if err != nil {
					b.Fatal(err)
				}
				r.WarmUp()
				b.ReportAllocs()
				b.ResetTimer()
				steps := (b.N + r.Cycle - 1) / r.Cycle * r.Cycle
				for i := 0; i < steps; i++ {
					r.Step()
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(steps), "ms/step")
				b.ReportMetric(r.HeapMB(), "peak-heap-MB")
				b.ReportMetric(r.SavedMB(), "saved-MB")
			})
		}
	}
}

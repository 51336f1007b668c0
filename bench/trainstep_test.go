package bench

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/train"
)

// stepEstimators are the estimator settings of BenchmarkTrainStep, by
// sub-benchmark name.
var stepEstimators = []struct {
	name    string
	est     inject.Estimator
	dropout float64
}{
	{"baseline", inject.Estimator{}, 0},
	{"rad", inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}, 0},
	{"rad-same-sample", inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.1}, 0},
	{"rad-diff-sample", inject.Estimator{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1}, 0},
	{"spad", inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 10, M: 10}, 0},
	{"spad-same-sample", inject.Estimator{Mode: inject.SPAD, Kind: inject.SameSample, Keep: 0.1, KMax: 10, M: 10}, 0},
	{"dropout", inject.Estimator{}, 0.1},
}

// BenchmarkTrainStep measures one training step (forward, backward, Adam)
// at batch 150 on random real-sized input, for each model and estimator. It
// reports ms/step, allocations, the training heap (peak heap in use above
// what was live before the network was built, sampled after every forward
// and backward) and the exact bytes saved for backward. SPAD runs whole
// k_max cycles: the step count is rounded up to a multiple of k_max.
func BenchmarkTrainStep(b *testing.B) {
	for _, model := range []string{"smallfc", "smallconv"} {
		for _, e := range stepEstimators {
			b.Run(model+"/"+e.name, func(b *testing.B) { benchStep(b, model, e.est, e.dropout) })
		}
	}
}

func benchStep(b *testing.B, model string, est inject.Estimator, dropout float64) {
	const batch = 150
	spec, err := models.Get(model)
	if err != nil {
		b.Fatal(err)
	}
	kernels.SetThreads(runtime.GOMAXPROCS(0))
	src := rng.New(rng.Key{Seed: 1})
	x := make([]float32, batch*spec.Input.Size())
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	y := make([]uint8, batch)
	for i := range y {
		y[i] = uint8(src.Intn(10))
	}
	meter := train.NewMemMeter()
	runtime.GC()
	base := meter.HeapInuse()
	net := spec.New(models.Options{Estimator: est, Dropout: dropout})
	if err := net.Build(batch, 0, 1); err != nil {
		b.Fatal(err)
	}
	opt := train.NewAdam(0)
	opt.Init(net.Params())
	iter := int64(0)
	step := func() {
		net.TrainStep(x, y, batch, iter, meter.Sample)
		meter.Sample()
		opt.Step(net.Params(), 1e-4)
		iter++
	}
	cycle := 1
	if est.Mode == inject.SPAD {
		cycle = est.KMax
	}
	for i := 0; i < cycle+1; i++ { // warm up, including one selection step
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	steps := (b.N + cycle - 1) / cycle * cycle
	for i := 0; i < steps; i++ {
		step()
	}
	b.StopTimer()
	el := b.Elapsed()
	b.ReportMetric(float64(el.Nanoseconds())/1e6/float64(steps), "ms/step")
	b.ReportMetric(float64(meter.Peak-base)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(net.SavedBytes())/1e6, "saved-MB")
	_ = fmt.Sprint
}

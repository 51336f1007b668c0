package bench

import (
	"runtime"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/train"
)

// StepRig is a paper model built for one estimator with Adam, fed a fixed
// batch of random real-sized input, for timing training steps. It measures
// the train heap: the peak heap in use, sampled after every forward and
// backward pass, above what was live before the network was built.
type StepRig struct {
	Net   *nn.Network
	Opt   *train.Adam
	Cycle int // steps of one SPAD k_max cycle (1 otherwise)

	x     []float32
	y     []uint8
	meter *train.MemMeter
	base  uint64
	iter  int64
}

// NewStepRig builds the rig for a model spec, an estimator and a batch size.
func NewStepRig(spec models.Spec, est inject.Estimator, dropout float64, batch int) (*StepRig, error) {
	src := rng.New(rng.Key{Seed: 1})
	r := &StepRig{Cycle: 1, meter: train.NewMemMeter()}
	r.x = randFloats(src, batch*spec.Input.Size())
	r.y = make([]uint8, batch)
	for i := range r.y {
		r.y[i] = uint8(src.Intn(10))
	}
	runtime.GC()
	r.base = r.meter.HeapInuse()
	r.Net = spec.New(models.Options{Estimator: est, Dropout: dropout})
	if err := r.Net.Build(batch, 0, 1); err != nil {
		return nil, err
	}
	r.Opt = train.NewAdam(0)
	r.Opt.Init(r.Net.Params())
	if est.Mode == inject.SPAD {
		r.Cycle = est.KMax
	}
	return r, nil
}

// Step runs one training step (forward, backward, Adam update).
func (r *StepRig) Step() {
	r.Net.TrainStep(r.x, r.y, len(r.y), r.iter, r.meter.Sample)
	r.meter.Sample()
	r.Opt.Step(r.Net.Params(), 1e-4)
	r.iter++
}

// WarmUp runs one SPAD cycle plus a step, so that every buffer has been
// touched and a selection step has happened.
func (r *StepRig) WarmUp() {
	for i := 0; i <= r.Cycle; i++ {
		r.Step()
	}
}

// HeapMB returns the train heap in MB (10⁶ bytes).
func (r *StepRig) HeapMB() float64 { return float64(r.meter.Peak-r.base) / 1e6 }

// SavedMB returns the bytes saved for backward in MB.
func (r *StepRig) SavedMB() float64 { return float64(r.Net.SavedBytes()) / 1e6 }

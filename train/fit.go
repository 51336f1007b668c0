package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
)

// FitConfig configures Fit.
type FitConfig struct {
	Iters int       // training iterations (≥ 1)
	LR    float64   // learning rate (> 0), multiplied by 0.6 every 10% of the run
	Seed  uint64    // data order
	Opt   Optimizer // nil: Adam without weight decay
}

// Fit trains a built network on samples held in memory: x holds n samples
// of net.In.Size() values each, sample after sample, and y their labels. It
// draws shuffled batches of net.Batch() samples and returns the mean
// training loss of the last tenth of the iterations. It is the shortest
// path from a custom network and custom data to a trained model; Runner
// adds data sets, evaluation, records and checkpoints.
func Fit(net *nn.Network, x []float32, y []uint8, c FitConfig) (float64, error) {
	in := net.In.Size()
	n := len(y)
	switch {
	case net.Batch() == 0:
		return 0, errors.New("train: Fit needs a built network (call Build first)")
	case n == 0 || len(x) != n*in:
		return 0, fmt.Errorf("train: Fit got %d values for %d labels; want %d values per sample", len(x), n, in)
	case c.Iters < 1 || !(c.LR > 0):
		return 0, fmt.Errorf("train: Fit needs iters ≥ 1 and lr > 0, got %d and %g", c.Iters, c.LR)
	}
	for i, l := range y {
		if int(l) >= net.Classes() {
			return 0, fmt.Errorf("train: label %d of sample %d is out of range for %d classes", l, i, net.Classes())
		}
	}
	opt := c.Opt
	if opt == nil {
		opt = NewAdam(0)
	}
	b := net.Batch()
	bx := make([]float32, b*in)
	by := make([]uint8, b)
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	src := rng.New(rng.Key{Seed: c.Seed, Stream: 0xF17})
	src.Shuffle(perm)
	pos := 0
	sched := StepDecay{Base: c.LR, Factor: 0.6, Every: max(1, c.Iters/10)}
	var tail float64
	tailFrom := c.Iters - max(1, c.Iters/10)
	for it := 0; it < c.Iters; it++ {
		for k := 0; k < b; k++ {
			if pos == n {
				src.Shuffle(perm)
				pos = 0
			}
			j := int(perm[pos])
			pos++
			copy(bx[k*in:(k+1)*in], x[j*in:(j+1)*in])
			by[k] = y[j]
		}
		loss, _ := net.TrainStep(bx, by, b, int64(it), nil)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return 0, &NonFiniteError{Iter: it, Loss: loss}
		}
		opt.Step(net.Params(), sched.At(it))
		if it >= tailFrom {
			tail += loss / float64(b)
		}
	}
	return tail / float64(c.Iters-tailFrom), nil
}

package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
)

// FitConfig configures Fit.
type FitConfig struct {
	Iters int       // training iterations of this call (≥ 1)
	LR    float64   // learning rate (> 0), multiplied by 0.6 every 10% of the run
	Seed  uint64    // data order
	Opt   Optimizer // nil: Adam without weight decay (a new one: only with Start 0)

	// Start is the number of the first step of this call: the steps run are
	// Start … Start+Iters−1. A network's steps must be consecutive — a
	// network with a RAD or SPAD estimator keeps a scheduler that refuses a
	// step out of order — so a second Fit on the same network, or on one
	// restored by LoadCheckpoint, starts where the previous one stopped,
	// with the same optimiser (its step count must equal Start). The data
	// order continues too: Fit calls of Iters a and b from Starts 0 and a
	// draw the batches one call of a+b would.
	Start int
	// Total is the length of the whole run over which the learning rate
	// decays (every tenth of it); 0 means Start+Iters. With Total set,
	// consecutive calls train exactly as one call of Total iterations.
	Total int
}

// Fit trains a built network on samples held in memory: x holds n samples
// of net.In.Size() values each, sample after sample, and y their labels. It
// draws shuffled batches of net.Batch() samples and returns the mean
// training loss of the last tenth of this call's iterations. It is the
// shortest path from a custom network and custom data to a trained model;
// FitConfig.Start continues training (after an earlier Fit, or after
// LoadCheckpoint), and Runner adds data sets, evaluation, records and
// checkpoints.
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
	case c.Start < 0 || c.Start > MaxIters || c.Iters > MaxIters:
		return 0, fmt.Errorf("train: Fit start %d or iters %d outside [0, %d]", c.Start, c.Iters, MaxIters)
	case c.Total != 0 && c.Total < c.Start+c.Iters:
		return 0, fmt.Errorf("train: Fit total %d is shorter than start %d + iters %d", c.Total, c.Start, c.Iters)
	case c.Start > 0 && c.Opt == nil:
		return 0, fmt.Errorf("train: Fit from step %d needs the optimizer of the earlier steps (FitConfig.Opt)", c.Start)
	case c.Opt != nil && c.Opt.State().Step != int64(c.Start):
		return 0, fmt.Errorf("train: Fit starts at step %d but the optimizer has taken %d steps (steps must be consecutive)", c.Start, c.Opt.State().Step)
	}
	if err := checkStart(net, c.Start); err != nil {
		return 0, err
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
	// Skip the samples the steps before Start drew: the permutation is
	// reshuffled each time it is used up.
	if skip := int64(c.Start) * int64(b); skip > 0 {
		for ; skip > int64(n); skip -= int64(n) {
			src.Shuffle(perm)
		}
		pos = int(skip)
	}
	total := c.Total
	if total == 0 {
		total = c.Start + c.Iters
	}
	sched := StepDecay{Base: c.LR, Factor: 0.6, Every: max(1, total/10)}
	var tail float64
	end := c.Start + c.Iters
	tailFrom := end - max(1, c.Iters/10)
	for it := c.Start; it < end; it++ {
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
	return tail / float64(end-tailFrom), nil
}

// checkStart returns an error when a layer's estimator scheduler has not
// stopped at the step before start: the steps would not be consecutive.
func checkStart(net *nn.Network, start int) error {
	states, err := net.States()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if i, last, ok := offStep(states, start); !ok {
		return fmt.Errorf("train: Fit starts at step %d but layer %d (%s) has done steps up to %d; steps must be consecutive (set FitConfig.Start to %d)",
			start, i, net.Layers[i].Name(), last, last+1)
	}
	return nil
}

// offStep finds the first layer state that is an estimator scheduler's
// (inject.SchedulerState) and has not stopped at the step before next; ok
// is false when there is one, with its layer and last step.
func offStep(states []json.RawMessage, next int) (layer int, last int64, ok bool) {
	for i, b := range states {
		if len(b) == 0 || string(b) == "null" {
			continue
		}
		st, ok := asSchedulerState(b)
		if !ok {
			continue // another kind of state: not ours to check
		}
		if st.Step != int64(next)-1 {
			return i, st.Step, false
		}
	}
	return 0, 0, true
}

// asSchedulerState decodes a layer state that is an estimator scheduler's
// (inject.SchedulerState, every field present and no other); ok is false
// for any other state.
func asSchedulerState(b []byte) (st inject.SchedulerState, ok bool) {
	var p struct {
		Seed     *uint64
		Layer    *int
		Step     *int64
		Selected *int
		Pending  *int
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&p) != nil || p.Seed == nil || p.Layer == nil || p.Step == nil || p.Selected == nil || p.Pending == nil {
		return st, false
	}
	return inject.SchedulerState{Seed: *p.Seed, Layer: *p.Layer, Step: *p.Step, Selected: *p.Selected, Pending: *p.Pending}, true
}

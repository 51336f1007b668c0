package layers

import (
	"fmt"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Dense is a fully connected layer y = x·Wᵀ + b with W of shape out×in
// (PyTorch's layout). The input gradient dx = dy·W never needs x; only the
// weight gradient dW = dyᵀ·x does, so x is what the layer saves — in full
// with the baseline estimator, compressed with RAD or SPAD (see Estimator).
type Dense struct {
	nn.Membership
	In, Out int
	W, B    *nn.Param
	// Estimator chooses what is saved for the weight gradient; set it
	// before the network is built. The zero value is the baseline.
	Estimator inject.Estimator

	seed  uint64
	index int
	inj   injection

	// scratch partition (shared with other layers between calls)
	scratch []float32
	pscr    int // projector scratch floats
	xhatRow int // rows rebuilt at a time for diff-sample weight gradients
	dsubLen int // SPAD: floats of δ of the scoring sub-batch (sub × Out), kept in inj.extra

	// the backward call in progress, for the two halves run in parallel
	bst              *nn.Step
	bdy, bdx         []float32
	weightFn, dataFn func()
}

// NewDense returns a Dense layer with in inputs and out outputs. Its weights
// are drawn when the network is built, as PyTorch's default
// U(-1/√in, 1/√in).
func NewDense(in, out int) *Dense { return &Dense{In: in, Out: out} }

// Name implements nn.Layer.
func (d *Dense) Name() string { return fmt.Sprintf("dense %d→%d", d.In, d.Out) }

// SetSeed implements nn.Seeded.
func (d *Dense) SetSeed(seed uint64, index int) { d.seed, d.index = seed, index }

// OutShape implements nn.ShapeInferer.
func (d *Dense) OutShape(in nn.Shape) (nn.Shape, error) {
	if d.In < 1 || d.Out < 1 {
		return nil, fmt.Errorf("dense: sizes must be ≥ 1, got %d→%d", d.In, d.Out)
	}
	if in.Size() != d.In {
		return nil, fmt.Errorf("dense %d→%d: input has %d features (shape %v); add a Flatten or fix the size", d.In, d.Out, in.Size(), in)
	}
	return nn.Shape{d.Out}, nil
}

// Build implements nn.Layer.
func (d *Dense) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	out, err := d.OutShape(in)
	if err != nil {
		return nil, err
	}
	if err := checkEstimator(d.Name(), d.Estimator); err != nil {
		return nil, err
	}
	d.W = nn.NewParam(fmt.Sprintf("%d.dense.weight", d.index), d.Out, d.In)
	d.B = nn.NewParam(fmt.Sprintf("%d.dense.bias", d.index), d.Out)
	d.initParams()
	d.weightFn, d.dataFn = d.weightGrad, d.inputGrad
	d.inj.plan(d.Estimator, d.seed, d.index, batch, 1, d.In)
	// The exact weight gradient is one product per chunk: the step's first
	// chunk writes it (beta = 0) instead of adding to a zeroed buffer.
	d.W.Overwrite = !d.inj.active
	if d.inj.active {
		d.pscr = d.inj.projScratch(max(chunk, d.inj.sub), d.Out)
		if d.Estimator.Kind == inject.DiffSample {
			d.xhatRow = min(chunk, 64)
		}
		if d.inj.candLen > 0 {
			d.dsubLen = d.inj.sub * d.Out
			d.inj.extraLen = d.dsubLen
		}
	}
	return out, nil
}

// BuildInference implements nn.InferenceBuilder: the weights and bias
// without gradients, nothing saved, the estimator ignored.
func (d *Dense) BuildInference(in nn.Shape, chunk int) (nn.Shape, error) {
	out, err := d.OutShape(in)
	if err != nil {
		return nil, err
	}
	d.W = nn.NewInferenceParam(fmt.Sprintf("%d.dense.weight", d.index), d.Out, d.In)
	d.B = nn.NewInferenceParam(fmt.Sprintf("%d.dense.bias", d.index), d.Out)
	d.initParams()
	d.inj = injection{}
	d.pscr, d.xhatRow, d.dsubLen = 0, 0, 0
	return out, nil
}

func (d *Dense) initParams() {
	bound := fanInBound(d.In)
	uniformInit(d.W.Value, bound, d.seed, d.index, 0)
	uniformInit(d.B.Value, bound, d.seed, d.index, 1)
}

// ScratchFloats implements nn.Scratcher: the projector's scratch, rows
// rebuilt for diff-sample gradients, and a weight-sized buffer for scoring
// SPAD candidates.
func (d *Dense) ScratchFloats() int {
	n := d.pscr + d.xhatRow*d.In
	if d.dsubLen > 0 {
		n += d.Out * d.In
	}
	return n
}

// UseScratch implements nn.Scratcher.
func (d *Dense) UseScratch(s []float32) { d.scratch = s }

// StartStep implements nn.Starter: the scheduler picks this step's key.
func (d *Dense) StartStep(st *nn.Step) { d.inj.start(st) }

// Forward: y = x·Wᵀ + b; saves x (or its compression).
func (d *Dense) Forward(st *nn.Step, x, y []float32) {
	n := st.N
	kernels.Sgemm(false, true, n, d.Out, d.In, 1, x, d.In, d.W.Value, d.In, 0, y, d.Out)
	kernels.AddBias(y, d.B.Value, n, d.Out)
	if st.Train {
		d.inj.save(st, x, d.scratch[:d.pscr])
	}
}

// Backward: dW += dyᵀ·x̂ (x̂ = x for the baseline), db += Σ dy, dx = dy·W.
// The weight and input gradients are independent: with two threads they
// are computed at the same time, one on each core.
func (d *Dense) Backward(st *nn.Step, dy, dx []float32) {
	d.bst, d.bdy, d.bdx = st, dy, dx
	if dx != nil {
		kernels.Parallel2(d.weightFn, d.dataFn)
	} else {
		d.weightGrad()
	}
	d.bst, d.bdy, d.bdx = nil, nil, nil
}

// weightGrad is the parameter half of Backward.
func (d *Dense) weightGrad() {
	st, dy := d.bst, d.bdy
	n := st.N
	xs := d.inj.chunk(st)
	switch {
	case !d.inj.active:
		// A product's sums start from +0, so writing the first chunk's
		// gradient gives the bits of adding it to zeros.
		var beta float32 = 1
		if st.First {
			beta = 0
		}
		kernels.Sgemm(true, false, d.Out, d.In, n, 1, dy, d.Out, xs, d.In, beta, d.W.Grad, d.In)
	case d.Estimator.Kind == inject.DiffSample:
		// A per-row scatter is slower than rebuilding a few rows and
		// multiplying: x̂ lives only in scratch, a block of rows at a time.
		key, scale := d.inj.sched.StepKey(), d.inj.sched.Scale()
		xh := d.scratch[d.pscr : d.pscr+d.xhatRow*d.In]
		for r := 0; r < n; r += d.xhatRow {
			k := min(d.xhatRow, n-r)
			d.inj.proj.Reconstruct(key, xs[r*d.inj.k:(r+k)*d.inj.k], k, st.Off+r, xh, d.scratch[:d.pscr])
			kernels.Sgemm(true, false, d.Out, d.In, k, scale, dy[r*d.Out:], d.Out, xh, d.In, 1, d.W.Grad, d.In)
		}
	default:
		d.inj.proj.WeightGradScaled(d.inj.sched.Scale(), d.inj.sched.StepKey(), dy, xs, n, st.Off, d.Out, d.W.Grad, d.scratch[:d.pscr])
	}
	kernels.SumRows(d.B.Grad, dy, n, d.Out)
	if d.inj.active && d.inj.selecting() {
		if ns := d.inj.candSamples(st); ns > 0 {
			copy(d.inj.extra[st.Off*d.Out:], dy[:ns*d.Out])
		}
	}
}

// inputGrad is the input half of Backward: dx = dy·W, exact whatever the
// estimator.
func (d *Dense) inputGrad() {
	kernels.Sgemm(false, false, d.bst.N, d.In, d.Out, 1, d.bdy, d.Out, d.W.Value, d.In, 0, d.bdx, d.In)
}

// FinishStep implements nn.Finisher: at a SPAD selection step, score each
// candidate by the norm of the weight gradient it gives on the sub-batch and
// let the scheduler keep the best.
func (d *Dense) FinishStep(st *nn.Step) {
	if !d.inj.active || !d.inj.selecting() {
		return
	}
	sub := min(d.inj.sub, st.Batch)
	dW := d.scratch[d.pscr+d.xhatRow*d.In : d.pscr+d.xhatRow*d.In+d.Out*d.In]
	for j := range d.inj.scores {
		d.inj.scores[j] = d.inj.proj.GradNormSq(d.inj.sched.CandidateKey(j), d.inj.extra, d.inj.cand(j, 0, sub), sub, 0, d.Out, dW, d.scratch[:d.pscr])
	}
	d.inj.selectBest()
}

// Params implements nn.Layer.
func (d *Dense) Params() []*nn.Param { return []*nn.Param{d.W, d.B} }

// SavedBytes implements nn.Layer: the saved input (or its compression). The
// SPAD candidates' copies and the sub-batch δ kept for scoring live in the
// Network's selection arena, counted by the Network.
func (d *Dense) SavedBytes() int64 { return d.inj.savedBytes() }

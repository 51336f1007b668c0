package layers

import (
	"fmt"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Dense is a fully connected layer y = x·Wᵀ + b with W of shape out×in
// (PyTorch's layout). With the baseline estimator it saves its whole input
// for the weight gradient; the input gradient dx = dy·W never needs x.
type Dense struct {
	In, Out int
	W, B    *nn.Param

	seed  uint64
	index int
	saved []float32 // baseline: batch × In copy of the input
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
	d.W = nn.NewParam(fmt.Sprintf("%d.dense.weight", d.index), d.Out, d.In)
	d.B = nn.NewParam(fmt.Sprintf("%d.dense.bias", d.index), d.Out)
	bound := fanInBound(d.In)
	uniformInit(d.W.Value, bound, d.seed, d.index, 0)
	uniformInit(d.B.Value, bound, d.seed, d.index, 1)
	d.saved = make([]float32, batch*d.In)
	return out, nil
}

// Forward: y = x·Wᵀ + b; saves x.
func (d *Dense) Forward(st *nn.Step, x, y []float32) {
	n := st.N
	kernels.Sgemm(false, true, n, d.Out, d.In, 1, x, d.In, d.W.Value, d.In, 0, y, d.Out)
	kernels.AddBias(y, d.B.Value, n, d.Out)
	if st.Train {
		copy(d.saved[st.Off*d.In:(st.Off+n)*d.In], x[:n*d.In])
	}
}

// Backward: dW += dyᵀ·x, db += Σ dy, dx = dy·W.
func (d *Dense) Backward(st *nn.Step, dy, dx []float32) {
	n := st.N
	xs := d.saved[st.Off*d.In : (st.Off+n)*d.In]
	kernels.Sgemm(true, false, d.Out, d.In, n, 1, dy, d.Out, xs, d.In, 1, d.W.Grad, d.In)
	kernels.SumRows(d.B.Grad, dy, n, d.Out)
	if dx != nil {
		kernels.Sgemm(false, false, n, d.In, d.Out, 1, dy, d.Out, d.W.Value, d.In, 0, dx, d.In)
	}
}

// Params implements nn.Layer.
func (d *Dense) Params() []*nn.Param { return []*nn.Param{d.W, d.B} }

// SavedBytes implements nn.Layer.
func (d *Dense) SavedBytes() int64 { return int64(len(d.saved)) * 4 }

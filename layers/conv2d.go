package layers

import (
	"fmt"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Conv2D is a 2-D convolution (cross-correlation) over NCHW samples with
// OutC filters of InC×KH×KW, a stride, zero padding and a bias. With the
// baseline estimator it saves its whole input for the filter gradient; the
// input gradient never needs it.
type Conv2D struct {
	InC, OutC, KH, KW, Stride, Pad int
	W, B                           *nn.Param

	shape   kernels.ConvShape
	seed    uint64
	index   int
	saved   []float32 // baseline: batch × C×H×W copy of the input
	scratch []float32
	convScr int
}

// NewConv2D returns a convolution with inC input channels, outC filters of
// k×k, the given stride and zero padding. Weights are drawn when the network
// is built, as PyTorch's default U(-1/√fan_in, 1/√fan_in).
func NewConv2D(inC, outC, k, stride, pad int) *Conv2D {
	return &Conv2D{InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad}
}

// Name implements nn.Layer.
func (c *Conv2D) Name() string {
	return fmt.Sprintf("conv %dx%d %d→%d s%d p%d", c.KH, c.KW, c.InC, c.OutC, c.Stride, c.Pad)
}

// SetSeed implements nn.Seeded.
func (c *Conv2D) SetSeed(seed uint64, index int) { c.seed, c.index = seed, index }

// OutShape implements nn.ShapeInferer.
func (c *Conv2D) OutShape(in nn.Shape) (nn.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%s: input must be C×H×W, got %v", c.Name(), in)
	}
	if in[0] != c.InC {
		return nil, fmt.Errorf("%s: input has %d channels, want %d", c.Name(), in[0], c.InC)
	}
	s := kernels.ConvShape{C: c.InC, H: in[1], W: in[2], K: c.OutC, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s on %v: %w", c.Name(), in, err)
	}
	return nn.Shape{c.OutC, s.OH(), s.OW()}, nil
}

// Build implements nn.Layer.
func (c *Conv2D) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	out, err := c.OutShape(in)
	if err != nil {
		return nil, err
	}
	c.shape = kernels.ConvShape{C: c.InC, H: in[1], W: in[2], K: c.OutC, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad}
	c.W = nn.NewParam(fmt.Sprintf("%d.conv.weight", c.index), c.OutC, c.InC, c.KH, c.KW)
	c.B = nn.NewParam(fmt.Sprintf("%d.conv.bias", c.index), c.OutC)
	bound := fanInBound(c.InC * c.KH * c.KW)
	uniformInit(c.W.Value, bound, c.seed, c.index, 0)
	uniformInit(c.B.Value, bound, c.seed, c.index, 1)
	c.saved = make([]float32, batch*c.shape.InSize())
	c.convScr = kernels.ConvScratchSize(c.shape, chunk)
	return out, nil
}

// ScratchFloats implements nn.Scratcher.
func (c *Conv2D) ScratchFloats() int { return c.convScr }

// UseScratch implements nn.Scratcher.
func (c *Conv2D) UseScratch(s []float32) { c.scratch = s }

// Forward: y = conv(x, W) + b; saves x.
func (c *Conv2D) Forward(st *nn.Step, x, y []float32) {
	n, in := st.N, c.shape.InSize()
	kernels.Conv2DForward(c.shape, n, x, c.W.Value, c.B.Value, y, c.scratch)
	if st.Train {
		copy(c.saved[st.Off*in:(st.Off+n)*in], x[:n*in])
	}
}

// Backward: dW += dy ⋆ x, db += Σ dy, dx = convᵀ(dy, W).
func (c *Conv2D) Backward(st *nn.Step, dy, dx []float32) {
	n, in := st.N, c.shape.InSize()
	xs := c.saved[st.Off*in : (st.Off+n)*in]
	kernels.Conv2DBackwardFilter(c.shape, n, xs, dy, c.W.Grad, c.B.Grad, c.scratch)
	if dx != nil {
		kernels.Conv2DBackwardData(c.shape, n, dy, c.W.Value, dx, c.scratch)
	}
}

// Params implements nn.Layer.
func (c *Conv2D) Params() []*nn.Param { return []*nn.Param{c.W, c.B} }

// SavedBytes implements nn.Layer.
func (c *Conv2D) SavedBytes() int64 { return int64(len(c.saved)) * 4 }

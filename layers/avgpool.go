package layers

import (
	"fmt"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// AvgPool2D averages non-overlapping (or strided) K×K windows of each
// channel, without padding. It saves nothing: its backward only needs the
// shapes.
type AvgPool2D struct {
	nn.Membership
	K, Stride int
	c, h, w   int
}

// NewAvgPool2D returns average pooling over k×k windows with the given
// stride.
func NewAvgPool2D(k, stride int) *AvgPool2D { return &AvgPool2D{K: k, Stride: stride} }

// Name implements nn.Layer.
func (p *AvgPool2D) Name() string { return fmt.Sprintf("avgpool %dx%d s%d", p.K, p.K, p.Stride) }

// OutShape implements nn.ShapeInferer.
func (p *AvgPool2D) OutShape(in nn.Shape) (nn.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%s: input must be C×H×W, got %v", p.Name(), in)
	}
	if p.K < 1 || p.Stride < 1 {
		return nil, fmt.Errorf("%s: window and stride must be ≥ 1", p.Name())
	}
	if in[1] < p.K || in[2] < p.K {
		return nil, fmt.Errorf("%s: input %v is smaller than the window", p.Name(), in)
	}
	return nn.Shape{in[0], (in[1]-p.K)/p.Stride + 1, (in[2]-p.K)/p.Stride + 1}, nil
}

// Build implements nn.Layer.
func (p *AvgPool2D) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	out, err := p.OutShape(in)
	if err == nil {
		p.c, p.h, p.w = in[0], in[1], in[2]
	}
	return out, err
}

// Granule implements nn.Piecewise: samples are independent.
func (p *AvgPool2D) Granule(int) int { return 1 }

// SetPiece implements nn.Piecewise (nothing depends on the piece).
func (p *AvgPool2D) SetPiece(int) {}

// Forward: y = window means of x.
func (p *AvgPool2D) Forward(st *nn.Step, x, y []float32) {
	kernels.AvgPool2DForward(p.c, p.h, p.w, p.K, p.Stride, st.N, x, y)
}

// Backward: each window's dy is spread evenly over the window.
func (p *AvgPool2D) Backward(st *nn.Step, dy, dx []float32) {
	if dx != nil {
		kernels.AvgPool2DBackward(p.c, p.h, p.w, p.K, p.Stride, st.N, dy, dx)
	}
}

// Params implements nn.Layer: pooling has none.
func (p *AvgPool2D) Params() []*nn.Param { return nil }

// SavedBytes implements nn.Layer: pooling saves nothing.
func (p *AvgPool2D) SavedBytes() int64 { return 0 }

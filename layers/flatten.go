package layers

import (
	"fmt"

	"github.com/spadlab/spad/nn"
)

// Flatten turns a C×H×W sample into a vector of C·H·W features. Samples are
// stored contiguously, so it only copies; it saves nothing.
type Flatten struct {
	nn.Membership
	size int
}

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Name implements nn.Layer.
func (f *Flatten) Name() string { return "flatten" }

// OutShape implements nn.ShapeInferer.
func (f *Flatten) OutShape(in nn.Shape) (nn.Shape, error) {
	if in.Size() <= 0 {
		return nil, fmt.Errorf("flatten: empty input shape %v", in)
	}
	return nn.Shape{in.Size()}, nil
}

// Build implements nn.Layer.
func (f *Flatten) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	out, err := f.OutShape(in)
	if err == nil {
		f.size = out[0]
	}
	return out, err
}

// InPlace implements nn.InPlace: y may be x.
func (f *Flatten) InPlace() bool { return true }

// Granule implements nn.Piecewise: samples are independent.
func (f *Flatten) Granule(int) int { return 1 }

// SetPiece implements nn.Piecewise (nothing depends on the piece).
func (f *Flatten) SetPiece(int) {}

// Forward copies x to y (nothing to do when y is x).
func (f *Flatten) Forward(st *nn.Step, x, y []float32) { copy(y, x[:st.N*f.size]) }

// Backward copies dy to dx.
func (f *Flatten) Backward(st *nn.Step, dy, dx []float32) {
	if dx != nil {
		copy(dx, dy[:st.N*f.size])
	}
}

// Params implements nn.Layer: Flatten has none.
func (f *Flatten) Params() []*nn.Param { return nil }

// SavedBytes implements nn.Layer: Flatten saves nothing.
func (f *Flatten) SavedBytes() int64 { return 0 }

// Package tensorio moves data between gorgonia.org/tensor and the
// framework: batches and parameters in and out of *tensor.Dense, and
// Predict on tensors. It is the only package of the module that imports
// gorgonia, so that the core (nn, its kernels, layers, inject, models,
// datasets, train) depends on nothing gorgonia needs and builds for every
// target: gorgonia pulls in a dozen modules, and its chewxy/math32
// dependency has built on linux/riscv64 only since v1.11 (the version this
// module requires).
//
// Every function reads a tensor in its logical row-major order, whatever
// its layout: transposed tensors, slices (views with strides) and
// column-major tensors are copied element by element; shapes are checked
// exactly, so a (2,16) tensor is refused for a (16,2) parameter.
package tensorio

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/spadlab/spad/nn"
)

// contiguous reports whether t's backing slice holds its elements in
// logical row-major order, from its first element, with nothing between.
func contiguous(t *tensor.Dense, data []float32) bool {
	if t.IsView() || t.IsMaterializable() || !t.DataOrder().IsRowMajor() {
		return false
	}
	if len(data) != t.Shape().TotalSize() {
		return false
	}
	// Strides of a plain row-major tensor: each is the product of the
	// dimensions after it.
	shape, strides := t.Shape(), t.Strides()
	if len(strides) != len(shape) {
		return len(shape) == 0
	}
	want := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && strides[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

func float32Data(t *tensor.Dense) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("tensorio: nil tensor")
	}
	data, ok := t.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("tensorio: tensor of %v, want float32", t.Dtype())
	}
	return data, nil
}

// Float32s returns t's elements in logical row-major order. For a plain
// contiguous row-major tensor the slice shares t's backing array (no copy;
// writing to it changes t); for a view, a transposed or a column-major
// tensor it is a fresh copy.
func Float32s(t *tensor.Dense) ([]float32, error) {
	data, err := float32Data(t)
	if err != nil {
		return nil, err
	}
	if contiguous(t, data) {
		return data, nil
	}
	out := make([]float32, t.Shape().TotalSize())
	if err := copyLogical(out, t, data); err != nil {
		return nil, err
	}
	return out, nil
}

// CopyTo copies t's elements, in logical row-major order, to dst, which
// must hold exactly t's number of elements.
func CopyTo(dst []float32, t *tensor.Dense) error {
	data, err := float32Data(t)
	if err != nil {
		return err
	}
	if n := t.Shape().TotalSize(); len(dst) != n {
		return fmt.Errorf("tensorio: tensor of shape %v has %d elements, destination %d", t.Shape(), n, len(dst))
	}
	if contiguous(t, data) {
		copy(dst, data)
		return nil
	}
	return copyLogical(dst, t, data)
}

// copyLogical walks t in logical order with its own iterator, which follows
// the shape and strides of views and transposes.
func copyLogical(dst []float32, t *tensor.Dense, data []float32) error {
	it := t.Iterator()
	k := 0
	for i, err := it.Start(); err == nil; i, err = it.Next() {
		if k >= len(dst) || i < 0 || i >= len(data) {
			return fmt.Errorf("tensorio: tensor of shape %v walks outside its %d backing elements", t.Shape(), len(data))
		}
		dst[k] = data[i]
		k++
	}
	if k != len(dst) {
		return fmt.Errorf("tensorio: tensor of shape %v gave %d elements, want %d", t.Shape(), k, len(dst))
	}
	return nil
}

// ParamTensor returns a tensor of p's shape that shares p's values: writing
// to it changes the parameter.
func ParamTensor(p *nn.Param) *tensor.Dense {
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Value))
}

// GradTensor returns a tensor of p's shape that shares p's gradient, or nil
// when p has none (a network built for inference).
func GradTensor(p *nn.Param) *tensor.Dense {
	if p.Grad == nil {
		return nil
	}
	return tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Grad))
}

// SetParam copies t into p's values. t must be a float32 tensor of exactly
// p's shape (a (2,16) tensor is refused for a (16,2) parameter); any layout
// is read in logical order.
func SetParam(p *nn.Param, t *tensor.Dense) error {
	if t == nil {
		return fmt.Errorf("tensorio: param %s: nil tensor", p.Name)
	}
	if !sameShape(t.Shape(), p.Shape) {
		return fmt.Errorf("tensorio: param %s: tensor has shape %v, want %v", p.Name, []int(t.Shape()), p.Shape)
	}
	if err := CopyTo(p.Value, t); err != nil {
		return fmt.Errorf("tensorio: param %s: %w", p.Name, err)
	}
	return nil
}

func sameShape(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Predict runs the samples of x through net (see nn.Network.Predict) and
// returns a new (n, classes) tensor of logits or probabilities. x has shape
// (n, sample shape…) — for example (n, 3, 32, 32) — or (n, features) with
// the sample's number of elements; any layout is read in logical order.
func Predict(net *nn.Network, x *tensor.Dense, what nn.Output) (*tensor.Dense, error) {
	if !net.Built() {
		return nil, fmt.Errorf("tensorio: Predict on a network that was not built")
	}
	if x == nil {
		return nil, fmt.Errorf("tensorio: Predict: nil tensor")
	}
	shape := x.Shape()
	in := net.In
	ok := len(shape) >= 2 && (sameShape(shape[1:], in) || (len(shape) == 2 && shape[1] == in.Size()))
	if !ok {
		return nil, fmt.Errorf("tensorio: Predict: input of shape %v, want (n, %v) or (n, %d)", []int(shape), in, in.Size())
	}
	data, err := Float32s(x)
	if err != nil {
		return nil, err
	}
	n := shape[0]
	out := make([]float32, n*net.Classes())
	if err := net.Predict(data, n, out, what); err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(n, net.Classes()), tensor.WithBacking(out)), nil
}

package tensorio_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/tensorio"
)

// Set a layer's weights from a tensor and predict on a batch held in a
// tensor; views such as transposes are read in their logical order.
func ExamplePredict() {
	dense := layers.NewDense(4, 2)
	net := nn.NewNetwork(nn.Shape{4}, dense)
	if err := net.BuildInference(0, 1); err != nil {
		panic(err)
	}
	// W picks feature 0 for class 0 and feature 3 for class 1.
	w := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float32{1, 0, 0, 0, 0, 0, 0, 1}))
	if err := tensorio.SetParam(dense.W, w); err != nil {
		panic(err)
	}
	if err := tensorio.SetParam(dense.B, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, 0}))); err != nil {
		panic(err)
	}
	if err := tensorio.SetParam(dense.W, tensor.New(tensor.WithShape(4, 2), tensor.WithBacking(make([]float32, 8)))); err != nil {
		fmt.Println(err)
	}
	// Three samples stored as the columns of a 4×3 tensor, transposed.
	cols := tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float32{
		5, 0, 1,
		0, 0, 0,
		0, 0, 0,
		1, 2, 3,
	}))
	if err := cols.T(); err != nil {
		panic(err)
	}
	logits, err := tensorio.Predict(net, cols, nn.Logits)
	if err != nil {
		panic(err)
	}
	fmt.Println(logits.Shape(), logits.Data())
	// Output:
	// tensorio: param 0.dense.weight: tensor has shape [4 2], want [2 4]
	// (3, 2) [5 1 0 2 1 3]
}

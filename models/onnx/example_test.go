package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/advancedclimatesystems/gonnx"
	"github.com/advancedclimatesystems/gonnx/ops/opset13"
	"gorgonia.org/tensor"

	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/models/onnx"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/tensorio"
)

// Export SmallFCNet (with dropout, which disappears) to an ONNX file and
// run it in another runtime, a pure-Go one: its logits are Predict's.
func ExampleSave() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	spec, _ := models.Get("smallfc")
	net := spec.New(models.Options{Dropout: 0.2})
	if err := net.BuildInference(0, 1); err != nil { // or load trained weights
		panic(err)
	}
	path := filepath.Join(dir, "smallfc.onnx")
	if err := onnx.Save(path, net, onnx.Options{Doc: "SmallFCNet"}); err != nil {
		panic(err)
	}

	m, err := gonnx.NewModelFromFile(path)
	if err != nil {
		panic(err)
	}
	m.GetOperator = opset13.GetOperator
	mp, _ := gonnx.ModelProtoFromBytes(must(os.ReadFile(path)))
	for _, n := range mp.Graph.Node {
		fmt.Print(n.OpType, " ")
	}
	fmt.Println("→", m.OutputNames())

	x := make([]float32, 2*784)
	for i := range x {
		x[i] = float32(i%17) / 17
	}
	out, err := m.Run(gonnx.Tensors{onnx.InputName: tensor.New(tensor.WithShape(2, 784), tensor.WithBacking(x))})
	if err != nil {
		panic(err)
	}
	got, _ := tensorio.Float32s(out[onnx.LogitsName].(*tensor.Dense))
	want := make([]float32, 2*10)
	if err := net.Predict(x, 2, want, nn.Logits); err != nil {
		panic(err)
	}
	fmt.Printf("relative difference below 1e-4: %v\n", relDiff(got, want) < 1e-4)
	// Output:
	// Gemm Relu Gemm Relu Gemm Relu Gemm → [logits]
	// relative difference below 1e-4: true
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

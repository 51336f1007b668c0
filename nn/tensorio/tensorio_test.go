package tensorio

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
)

func iota32(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

func equal(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}

// A plain tensor is shared; a transposed one, a column slice and a block
// slice are copied in logical order with their own number of elements.
func TestFloat32sViews(t *testing.T) {
	a := tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(iota32(12)))
	got, err := Float32s(a)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "plain", got, iota32(12))
	got[0] = 100
	if a.Data().([]float32)[0] != 100 {
		t.Fatal("Float32s of a plain tensor did not share its backing")
	}
	got[0] = 0

	tr := a.Clone().(*tensor.Dense)
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	got, err = Float32s(tr)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "transposed", got, []float32{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11})

	col, err := a.Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	got, err = Float32s(col.(*tensor.Dense))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "column 1", got, []float32{1, 5, 9})

	col2, err := a.Slice(nil, tensor.S(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	got, err = Float32s(col2.(*tensor.Dense))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "columns 2:4", got, []float32{2, 3, 6, 7, 10, 11})

	if _, err := Float32s(tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2}))); err == nil || !strings.Contains(err.Error(), "want float32") {
		t.Fatalf("float64 tensor: err = %v", err)
	}
	if _, err := Float32s(nil); err == nil {
		t.Fatal("nil tensor accepted")
	}
}

// SetParam checks the exact shape and reads views in logical order;
// ParamTensor shares the values.
func TestSetParam(t *testing.T) {
	p := nn.NewParam("w", 16, 2)
	err := SetParam(p, tensor.New(tensor.WithShape(2, 16), tensor.WithBacking(iota32(32))))
	if err == nil || err.Error() != "tensorio: param w: tensor has shape [2 16], want [16 2]" {
		t.Fatalf("(2,16) into (16,2): err = %v", err)
	}
	src := tensor.New(tensor.WithShape(2, 16), tensor.WithBacking(iota32(32)))
	if err := src.T(); err != nil {
		t.Fatal(err)
	}
	if err := SetParam(p, src); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < 16; r++ {
		for c := 0; c < 2; c++ {
			if got, want := p.Value[r*2+c], float32(c*16+r); got != want {
				t.Fatalf("p[%d,%d] = %v, want %v", r, c, got, want)
			}
		}
	}
	pt := ParamTensor(p)
	if err := pt.SetAt(float32(-1), 3, 1); err != nil {
		t.Fatal(err)
	}
	if p.Value[7] != -1 {
		t.Fatal("ParamTensor does not share the values")
	}
	if g := GradTensor(p); g == nil || g.Shape().TotalSize() != 32 {
		t.Fatal("GradTensor")
	}
	if GradTensor(nn.NewInferenceParam("v", 2)) != nil {
		t.Fatal("GradTensor of a parameter without gradient is not nil")
	}
}

// Predict on a tensor equals nn.Network.Predict on the same data, for a
// plain (n, C, H, W) tensor and for a transposed (features, n) tensor.
func TestPredict(t *testing.T) {
	net := nn.NewNetwork(nn.Shape{1, 4, 4}, layers.NewConv2D(1, 2, 3, 1, 1), layers.NewReLU(), layers.NewFlatten(), layers.NewDense(32, 3))
	if err := net.BuildInference(2, 1); err != nil {
		t.Fatal(err)
	}
	const n = 5
	x := make([]float32, n*16)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	want := make([]float32, n*3)
	if err := net.Predict(x, n, want, nn.Probabilities); err != nil {
		t.Fatal(err)
	}
	got, err := Predict(net, tensor.New(tensor.WithShape(n, 1, 4, 4), tensor.WithBacking(x)), nn.Probabilities)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Shape(); len(s) != 2 || s[0] != n || s[1] != 3 {
		t.Fatalf("shape %v", s)
	}
	equal(t, "4-D input", got.Data().([]float32), want)

	// the same samples as columns of a (16, n) tensor, transposed
	cols := make([]float32, 16*n)
	for s := 0; s < n; s++ {
		for f := 0; f < 16; f++ {
			cols[f*n+s] = x[s*16+f]
		}
	}
	xt := tensor.New(tensor.WithShape(16, n), tensor.WithBacking(cols))
	if err := xt.T(); err != nil {
		t.Fatal(err)
	}
	got, err = Predict(net, xt, nn.Probabilities)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "transposed input", got.Data().([]float32), want)

	_, err = Predict(net, tensor.New(tensor.WithShape(n, 4, 4), tensor.WithBacking(x)), nn.Logits)
	if err == nil || err.Error() != "tensorio: Predict: input of shape [5 4 4], want (n, 1×4×4) or (n, 16)" {
		t.Fatalf("wrong shape: err = %v", err)
	}
}

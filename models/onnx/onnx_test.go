package onnx_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	gonnxproto "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advancedclimatesystems/gonnx/ops"
	"github.com/advancedclimatesystems/gonnx/ops/opset13"
	"gorgonia.org/tensor"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/models/onnx"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/nn/tensorio"
)

// averagePool is ONNX's AveragePool for 4-D inputs without padding, which
// the runtime used here (gonnx, opset 13) lacks: y[n,c,i,j] is the mean of
// x[n, c, i·s .. i·s+k-1, j·s .. j·s+k-1]. It is written from the operator's
// specification, and reads every attribute our exporter writes.
type averagePool struct{ k, s []int64 }

func (a *averagePool) String() string { return "averagePool" }

func (a *averagePool) Init(n *gonnxproto.NodeProto) error {
	for _, at := range n.GetAttribute() {
		switch at.GetName() {
		case "kernel_shape":
			a.k = at.GetInts()
		case "strides":
			a.s = at.GetInts()
		case "pads":
			for _, p := range at.GetInts() {
				if p != 0 {
					return fmt.Errorf("averagePool: pads %v not supported", at.GetInts())
				}
			}
		default:
			return fmt.Errorf("averagePool: attribute %s not supported", at.GetName())
		}
	}
	if len(a.k) != 2 || len(a.s) != 2 {
		return fmt.Errorf("averagePool: kernel %v strides %v", a.k, a.s)
	}
	return nil
}

func (a *averagePool) Apply(in []tensor.Tensor) ([]tensor.Tensor, error) {
	x, err := tensorio.Float32s(in[0].(*tensor.Dense))
	if err != nil {
		return nil, err
	}
	sh := in[0].Shape()
	n, c, h, w := sh[0], sh[1], sh[2], sh[3]
	kh, kw, sh0, sw := int(a.k[0]), int(a.k[1]), int(a.s[0]), int(a.s[1])
	oh, ow := (h-kh)/sh0+1, (w-kw)/sw+1
	y := make([]float32, n*c*oh*ow)
	for p := 0; p < n*c; p++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float64
				for u := 0; u < kh; u++ {
					for v := 0; v < kw; v++ {
						s += float64(x[p*h*w+(i*sh0+u)*w+j*sw+v])
					}
				}
				y[(p*oh+i)*ow+j] = float32(s / float64(kh*kw))
			}
		}
	}
	return []tensor.Tensor{tensor.New(tensor.WithShape(n, c, oh, ow), tensor.WithBacking(y))}, nil
}

func (a *averagePool) GetMinInputs() int { return 1 }
func (a *averagePool) GetMaxInputs() int { return 1 }
func (a *averagePool) GetInputTypeConstraints() [][]tensor.Dtype {
	return [][]tensor.Dtype{{tensor.Float32}}
}
func (a *averagePool) ValidateInputs(in []tensor.Tensor) ([]tensor.Tensor, error) {
	return ops.ValidateInputs(a, in)
}

// runONNX runs the exported bytes in gonnx on n samples of x and returns the
// output named out.
func runONNX(t *testing.T, b []byte, in nn.Shape, x []float32, n int, out string) []float32 {
	t.Helper()
	m, err := gonnx.NewModelFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	m.GetOperator = func(op string) (ops.Operator, error) {
		if op == "AveragePool" {
			return &averagePool{}, nil
		}
		return opset13.GetOperator(op)
	}
	shape := append([]int{n}, in...)
	res, err := m.Run(gonnx.Tensors{onnx.InputName: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), x...)))})
	if err != nil {
		t.Fatal(err)
	}
	y, ok := res[out]
	if !ok {
		t.Fatalf("no output %q in %v", out, m.OutputNames())
	}
	v, err := tensorio.Float32s(y.(*tensor.Dense))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func randInput(n int, seed uint64) []float32 {
	src := rng.New(rng.Key{Seed: seed})
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	return x
}

// customNet is a small conv net of every supported layer, with a stride-2
// pool, a Dense straight on a C×H×W input (no Flatten: the exporter adds
// one), dropout and per-layer estimators (ignored by the export).
func customNet() *nn.Network {
	conv := layers.NewConv2D(2, 4, 3, 2, 1)
	conv.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.5}
	return nn.NewNetwork(nn.Shape{2, 9, 9}, conv, layers.NewReLU(), layers.NewDropout(0.25),
		layers.NewAvgPool2D(3, 1), layers.NewDense(36, 7), layers.NewReLU(), layers.NewDense(7, 3))
}

// relDiff is max|a−b| / max|b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// The exported graphs of SmallFCNet, SmallConvNet (with dropout) and a
// custom net, run by gonnx, give Predict's logits and probabilities within
// 1e-4 relative.
func TestRoundTripGonnx(t *testing.T) {
	type tc struct {
		name string
		net  *nn.Network
		n    int
	}
	fc, _ := models.Get("smallfc")
	conv, _ := models.Get("smallconv")
	cases := []tc{
		{"smallfc", fc.New(models.Options{Dropout: 0.1}), 6},
		{"smallconv", conv.New(models.Options{Dropout: 0.1}), 2},
		{"custom", customNet(), 5},
	}
	for _, c := range cases {
		if c.name == "smallconv" && testing.Short() {
			continue // gonnx takes seconds on its convolutions
		}
		if err := c.net.Build(4, 0, 3); err != nil {
			t.Fatal(err)
		}
		x := randInput(c.n*c.net.In.Size(), 9)
		for _, probs := range []bool{false, true} {
			if probs && c.name == "smallconv" {
				continue // the Softmax is checked on the other nets; gonnx's convolutions are slow
			}
			what, name := nn.Logits, onnx.LogitsName
			if probs {
				what, name = nn.Probabilities, onnx.ProbsName
			}
			want := make([]float32, c.n*c.net.Classes())
			if err := c.net.Predict(x, c.n, want, what); err != nil {
				t.Fatal(err)
			}
			b, err := onnx.Marshal(c.net, onnx.Options{Probabilities: probs})
			if err != nil {
				t.Fatal(err)
			}
			got := runONNX(t, b, c.net.In, x, c.n, name)
			if len(got) != len(want) {
				t.Fatalf("%s: %d outputs, want %d", c.name, len(got), len(want))
			}
			if d := relDiff(got, want); d > 1e-4 {
				t.Errorf("%s (probabilities %v): relative difference %.3g > 1e-4", c.name, probs, d)
			} else {
				t.Logf("%s (probabilities %v): relative difference %.3g", c.name, probs, d)
			}
		}
	}
}

// A layer without an ONNX mapping is refused, naming it.
type custom struct{ layers.ReLU }

func (c *custom) Name() string { return "custom" }

func TestUnsupportedLayer(t *testing.T) {
	net := nn.NewNetwork(nn.Shape{4}, layers.NewDense(4, 3), &custom{})
	if err := net.Build(2, 0, 1); err != nil {
		t.Fatal(err)
	}
	_, err := onnx.Marshal(net, onnx.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "onnx: layer 1 (custom, *onnx_test.custom) has no ONNX export") {
		t.Fatalf("err = %v", err)
	}
	if _, err := onnx.Marshal(nn.NewNetwork(nn.Shape{4}, layers.NewDense(4, 3)), onnx.Options{}); err == nil || err.Error() != "onnx: the network is not built" {
		t.Fatalf("unbuilt: %v", err)
	}
}

// The official checker (python3 onnx, when installed) accepts the exported
// files. Skipped where python3 or its onnx module is missing.
func TestONNXChecker(t *testing.T) {
	// Debian's python3-onnx lives beside /usr/bin/python3, which another
	// python3 may shadow on the PATH.
	py := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import onnx").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with the onnx module")
	}
	conv, _ := models.Get("smallconv")
	dir := t.TempDir()
	for name, net := range map[string]*nn.Network{"smallconv": conv.New(models.Options{Dropout: 0.1}), "custom": customNet()} {
		if err := net.BuildInference(0, 1); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".onnx")
		if err := onnx.Save(path, net, onnx.Options{Probabilities: name == "custom"}); err != nil {
			t.Fatal(err)
		}
		script := "import onnx, sys\nm = onnx.load(sys.argv[1])\nonnx.checker.check_model(m, full_check=True)\nprint([n.op_type for n in m.graph.node])"
		out, err := exec.Command(py, "-c", script, path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: onnx.checker: %v\n%s", name, err, out)
		}
		t.Logf("%s: %s", name, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(filepath.Join(dir, "custom.onnx")); err != nil {
		t.Fatal(err)
	}
}

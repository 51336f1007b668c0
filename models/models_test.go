package models

import (
	"strings"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
)

func TestRegistry(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "smallconv,smallfc" {
		t.Fatalf("Names() = %s", got)
	}
	if _, err := Get("vgg"); err == nil || err.Error() != `unknown model "vgg" (valid: smallconv, smallfc)` {
		t.Fatalf("Get(vgg) error = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a duplicate name did not panic")
		}
	}()
	Register(Spec{Name: "smallfc"})
}

// The networks are exactly the paper's: layer shapes and parameter counts.
func TestPaperArchitectures(t *testing.T) {
	cases := []struct {
		name    string
		params  int
		shapes  string
		dropout int
	}{
		// 784·300+300 + 2·(300·300+300) + 300·10+10
		{"smallfc", 419110, "784 300 300 300 300 300 300 10", 3},
		// conv weights 3·16·25+16, 16·32·25+32, 2·(32·32·25+32), dense 2048·10+10
		{"smallconv", 1216 + 12832 + 2*25632 + 20490, "3×32×32 16×32×32 16×32×32 32×32×32 32×32×32 32×16×16 32×16×16 32×16×16 32×16×16 32×16×16 32×8×8 2048 10", 4},
	}
	for _, c := range cases {
		spec, err := Get(c.name)
		if err != nil {
			t.Fatal(err)
		}
		net := spec.New(Options{})
		if err := net.Build(2, 0, 1); err != nil {
			t.Fatal(err)
		}
		if net.ParamCount() != c.params {
			t.Errorf("%s: %d parameters, want %d", c.name, net.ParamCount(), c.params)
		}
		var ss []string
		for _, s := range net.Shapes() {
			ss = append(ss, nn.Shape(s).String())
		}
		if got := strings.Join(ss, " "); got != c.shapes {
			t.Errorf("%s: shapes\n%s\nwant\n%s", c.name, got, c.shapes)
		}
		withDrop := spec.New(Options{Dropout: 0.1})
		if d := len(withDrop.Layers) - len(net.Layers); d != c.dropout {
			t.Errorf("%s: dropout adds %d layers, want %d", c.name, d, c.dropout)
		}
	}
}

// A Spec whose Layers sets estimators per layer keeps them: New does not
// overwrite them with Options.Estimator.
func TestNewKeepsPerLayerEstimators(t *testing.T) {
	rad := inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.5}
	s := Spec{Name: "custom", Input: nn.Shape{8}, Layers: func(o Options) []nn.Layer {
		a, b := layers.NewDense(8, 4), layers.NewDense(4, 2)
		a.Estimator = rad
		return []nn.Layer{a, layers.NewReLU(), b}
	}}
	net := s.New(Options{Estimator: inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, M: 2, KMax: 2}})
	if got := net.Layers[0].(*layers.Dense).Estimator; got != rad {
		t.Fatalf("layer 0 estimator = %v, want %v", got, rad)
	}
	if got := net.Layers[2].(*layers.Dense).Estimator; got != (inject.Estimator{}) {
		t.Fatalf("layer 2 estimator = %v, want the baseline", got)
	}
	// The registered models still apply Options.Estimator to every layer.
	spec, _ := Get("smallfc")
	for i, l := range spec.New(Options{Estimator: rad}).Layers {
		if d, ok := l.(*layers.Dense); ok && d.Estimator != rad {
			t.Fatalf("smallfc layer %d estimator = %v", i, d.Estimator)
		}
	}
}

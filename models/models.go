// Package models holds the paper's networks — SmallFCNet for MNIST and
// SmallConvNet for CIFAR-10 — and a registry from name to constructor, so
// that commands and benchmarks build models by name.
package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
)

// Options configure how a registered model is assembled.
type Options struct {
	// Dropout, when > 0, inserts forward dropout with this probability
	// after every hidden ReLU (the paper's dropout comparison).
	Dropout float64
	// Estimator is the gradient estimator the registered models give every
	// Dense and Conv2D layer (the zero value is the baseline). A Spec's
	// Layers function decides how to use it; one that sets estimators per
	// layer keeps its own.
	Estimator inject.Estimator
}

// Spec describes a registered model and the paper's training protocol for
// it.
type Spec struct {
	Name        string
	Description string
	Dataset     string   // default dataset name
	Input       nn.Shape // per-sample input shape
	Iters       int      // default number of iterations
	LR          float64  // default learning rate (Adam)
	WD          float64  // default weight decay
	// Layers builds a fresh list of layers for o, with the estimators it
	// chooses (the registered models put o.Estimator on every Dense and
	// Conv2D layer).
	Layers func(o Options) []nn.Layer
}

// New assembles an unbuilt network from the spec's Layers. It does not
// change the estimators Layers set, so a Spec may give each layer its own.
func (s Spec) New(o Options) *nn.Network {
	return nn.NewNetwork(s.Input, s.Layers(o)...)
}

// SetEstimator sets e as the gradient estimator of every Dense and Conv2D
// layer of ls.
func SetEstimator(ls []nn.Layer, e inject.Estimator) {
	for _, l := range ls {
		switch l := l.(type) {
		case *layers.Dense:
			l.Estimator = e
		case *layers.Conv2D:
			l.Estimator = e
		}
	}
}

var registry = map[string]Spec{}

// Register adds a model to the registry; it panics on a duplicate name.
func Register(s Spec) {
	if _, dup := registry[s.Name]; dup {
		panic("models: duplicate model " + s.Name)
	}
	registry[s.Name] = s
}

// Names lists the registered model names, sorted.
func Names() []string {
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Get returns the spec registered under name, or an error that lists the
// valid names.
func Get(name string) (Spec, error) {
	s, ok := registry[name]
	if !ok {
		return Spec{}, fmt.Errorf("unknown model %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

func withDropout(o Options, ls ...nn.Layer) []nn.Layer {
	if o.Dropout > 0 {
		ls = append(ls, layers.NewDropout(o.Dropout))
	}
	return ls
}

// SmallFCNet is the paper's MNIST network: 784-300-300-300-10, with bias
// and ReLU on the hidden layers; the softmax is part of the loss. Every
// Dense layer gets o.Estimator.
func SmallFCNet(o Options) []nn.Layer {
	var ls []nn.Layer
	in := 784
	for i := 0; i < 3; i++ {
		ls = append(ls, layers.NewDense(in, 300))
		ls = append(ls, withDropout(o, layers.NewReLU())...)
		in = 300
	}
	ls = append(ls, layers.NewDense(300, 10))
	SetEstimator(ls, o.Estimator)
	return ls
}

// SmallConvNet is the paper's CIFAR-10 network: conv 5×5 3→16 pad 2, ReLU,
// conv 5×5 16→32 pad 2, ReLU, avgpool 2, conv 5×5 32→32 pad 2, ReLU, conv
// 5×5 32→32 pad 2, ReLU, avgpool 2, flatten, dense 2048→10. Every Conv2D
// and Dense layer gets o.Estimator.
func SmallConvNet(o Options) []nn.Layer {
	var ls []nn.Layer
	ls = append(ls, layers.NewConv2D(3, 16, 5, 1, 2))
	ls = append(ls, withDropout(o, layers.NewReLU())...)
	ls = append(ls, layers.NewConv2D(16, 32, 5, 1, 2))
	ls = append(ls, withDropout(o, layers.NewReLU())...)
	ls = append(ls, layers.NewAvgPool2D(2, 2))
	ls = append(ls, layers.NewConv2D(32, 32, 5, 1, 2))
	ls = append(ls, withDropout(o, layers.NewReLU())...)
	ls = append(ls, layers.NewConv2D(32, 32, 5, 1, 2))
	ls = append(ls, withDropout(o, layers.NewReLU())...)
	ls = append(ls, layers.NewAvgPool2D(2, 2), layers.NewFlatten(), layers.NewDense(2048, 10))
	SetEstimator(ls, o.Estimator)
	return ls
}

func init() {
	Register(Spec{
		Name:        "smallfc",
		Description: "SmallFCNet: 784-300-300-300-10 MLP (paper, appendix C)",
		Dataset:     "mnist",
		Input:       nn.Shape{784},
		Iters:       20000,
		LR:          5.27e-4,
		Layers:      SmallFCNet,
	})
	Register(Spec{
		Name:        "smallconv",
		Description: "SmallConvNet: 4 conv 5×5 layers, 2 avg-pools, dense 2048→10 (paper, appendix C)",
		Dataset:     "cifar10",
		Input:       nn.Shape{3, 32, 32},
		Iters:       100000,
		LR:          1e-3,
		Layers:      SmallConvNet,
	})
}

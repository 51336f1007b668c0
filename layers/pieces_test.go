package layers

import (
	"fmt"
	"math"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// smallConv is SmallConvNet's layer stack (package models holds the
// registered one), with estimator e on every Conv2D and Dense layer.
func smallConv(e inject.Estimator) []nn.Layer {
	ls := []nn.Layer{
		NewConv2D(3, 16, 5, 1, 2), NewReLU(),
		NewConv2D(16, 32, 5, 1, 2), NewReLU(), NewAvgPool2D(2, 2),
		NewConv2D(32, 32, 5, 1, 2), NewReLU(),
		NewConv2D(32, 32, 5, 1, 2), NewReLU(), NewAvgPool2D(2, 2),
		NewFlatten(), NewDense(2048, 10),
	}
	for _, l := range ls {
		switch l := l.(type) {
		case *Conv2D:
			l.Estimator = e
		case *Dense:
			l.Estimator = e
		}
	}
	return ls
}

// TestNetworkPiecesBitwise checks that a network running its first layers
// depth-first in pieces (nn.Piecewise) trains bitwise as one running every
// layer on whole chunks: losses, every parameter gradient, SPAD selections
// and evaluation, for SmallConvNet with each estimator, on every kernel path
// and with one and two threads (the other paths: RAD and SPAD on one
// thread). The batch ends with a short chunk.
func TestNetworkPiecesBitwise(t *testing.T) {
	ests := []inject.Estimator{
		{},
		{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1},
		{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1},
		{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, M: 3, KMax: 2},
	}
	const batch, chunk, steps = 10, 8, 2
	paths := kernels.AvailablePaths()
	if testing.Short() {
		ests, paths = ests[1:2], paths[len(paths)-1:]
	}
	src := rng.New(rng.Key{Seed: 21})
	x := make([]float32, batch*3*32*32)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	labels := make([]uint8, batch)
	for i := range labels {
		labels[i] = uint8(src.Uint64() % 10)
	}
	prevPath, prevThreads, prevPieces := kernels.Active(), kernels.Threads(), nn.Pieces
	defer func() { kernels.SetPath(prevPath); kernels.SetThreads(prevThreads); nn.Pieces = prevPieces }()
	nn.Pieces = true
	for _, p := range paths {
		if err := kernels.SetPath(p); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			kernels.SetThreads(threads)
			for ei, e := range ests {
				// Every estimator and thread count on the machine's best
				// path; RAD and SPAD on one thread on the others.
				if p != kernels.Best() && (threads > 1 || ei == 0 || ei == 2) {
					continue
				}
				name := fmt.Sprintf("%v/%d threads/%v", p, threads, e)
				build := func(whole bool) *nn.Network {
					net := nn.NewNetwork(nn.Shape{3, 32, 32}, smallConv(e)...)
					net.WholeChunks = whole
					if err := net.Build(batch, chunk, 3); err != nil {
						t.Fatal(err)
					}
					return net
				}
				pieces, whole := build(false), build(true)
				if pieces.WorkBytes() >= whole.WorkBytes() {
					t.Fatalf("%s: work buffers %d bytes in pieces, %d whole", name, pieces.WorkBytes(), whole.WorkBytes())
				}
				for it := int64(0); it < steps; it++ {
					lp, cp := pieces.TrainStep(x, labels, batch, it, nil)
					lw, cw := whole.TrainStep(x, labels, batch, it, nil)
					if math.Float64bits(lp) != math.Float64bits(lw) || cp != cw {
						t.Fatalf("%s step %d: loss %v (%d correct) in pieces, %v (%d) whole", name, it, lp, cp, lw, cw)
					}
					for i, pp := range pieces.Params() {
						pw := whole.Params()[i]
						for j := range pp.Grad {
							if math.Float32bits(pp.Grad[j]) != math.Float32bits(pw.Grad[j]) {
								t.Fatalf("%s step %d: %s grad[%d] = %v in pieces, %v whole", name, it, pp.Name, j, pp.Grad[j], pw.Grad[j])
							}
						}
						// a step of plain SGD, so that the next step's
						// activations differ from this one's
						for j := range pp.Value {
							pp.Value[j] -= 0.01 * pp.Grad[j]
							pw.Value[j] -= 0.01 * pw.Grad[j]
						}
					}
					sp, err := pieces.States()
					if err != nil {
						t.Fatal(err)
					}
					sw, err := whole.States()
					if err != nil {
						t.Fatal(err)
					}
					for i := range sp {
						if string(sp[i]) != string(sw[i]) {
							t.Fatalf("%s step %d: layer %d state %s in pieces, %s whole", name, it, i, sp[i], sw[i])
						}
					}
				}
				lp, cp := pieces.Evaluate(x, labels, batch)
				lw, cw := whole.Evaluate(x, labels, batch)
				if math.Float64bits(lp) != math.Float64bits(lw) || cp != cw {
					t.Fatalf("%s: evaluation loss %v (%d correct) in pieces, %v (%d) whole", name, lp, cp, lw, cw)
				}
			}
		}
	}
}

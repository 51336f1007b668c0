package train_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/train"
)

// convNet is a small conv net for 1×8×8 images of 4 classes with its own
// estimator per layer: SPAD on the convolution, RAD on the classifier.
func convNet() *nn.Network {
	conv := layers.NewConv2D(1, 6, 3, 1, 1)
	conv.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.25, KMax: 10, M: 4}
	out := layers.NewDense(6*4*4, 4)
	out.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.5}
	return nn.NewNetwork(nn.Shape{1, 8, 8}, conv, layers.NewReLU(), layers.NewAvgPool2D(2, 2), layers.NewFlatten(), out)
}

// images turns n synthetic samples into a data set held in memory: 1×8×8
// byte images, normalised per channel when batches are drawn.
func images(name string, n int, seed uint64) *datasets.Dataset {
	x, y := blobs(n, 64, 4, seed)
	pix := make([]uint8, len(x))
	for i, v := range x {
		pix[i] = uint8(max(0, min(255, 128+32*v)))
	}
	d := &datasets.Dataset{Name: name, N: n, C: 1, H: 8, W: 8, Classes: 4, Pixels: pix, Labels: y}
	d.Mean, d.Std = d.ChannelStats()
	if err := d.Validate(); err != nil {
		panic(err)
	}
	return d
}

// Checkpoint and resume a custom network trained on custom data by a
// Runner: the first run is stopped after 120 of its 200 iterations, with a
// checkpoint; a new process builds the same network, loads the checkpoint
// and finishes the run. The result is the uninterrupted run's, bit for bit.
// (A hand-written loop does the same with train.SaveCheckpoint,
// train.LoadCheckpoint and FitConfig.Start: see ExampleSaveCheckpoint.)
func ExampleNewNetworkRunner() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	all := images("blobs", 1200, 4)
	trainSet, _ := all.Slice(0, 1000)
	testSet, _ := all.Slice(1000, 1200)
	cfg := train.Config{Model: "blobs-conv", Iters: 200, Batch: 50, LR: 3e-3, EvalEvery: 50, Seed: 9}
	path := filepath.Join(dir, "run.ckpt")

	straight, err := train.NewNetworkRunner(cfg, convNet(), trainSet, testSet)
	if err != nil {
		panic(err)
	}
	want, err := straight.Run()
	if err != nil {
		panic(err)
	}

	// The interrupted run: 120 iterations, then a checkpoint (Run writes
	// them by itself with Config.CheckpointEvery and CheckpointPath).
	first, _ := train.NewNetworkRunner(cfg, convNet(), trainSet, testSet)
	for first.Iter < 120 {
		first.Step()
	}
	if err := first.SaveCheckpoint(path); err != nil {
		panic(err)
	}

	// Later, in another process: same network, same data, same settings.
	resumed, _ := train.NewNetworkRunner(cfg, convNet(), trainSet, testSet)
	if err := resumed.LoadCheckpoint(path); err != nil {
		panic(err)
	}
	fmt.Println("resumed at iteration", resumed.Iter)
	got, err := resumed.Run()
	if err != nil {
		panic(err)
	}
	fmt.Printf("test accuracy above 90%%: %v\n", got.TestAccuracy > 0.9)
	fmt.Println("same final test loss as the uninterrupted run:", got.TestLoss == want.TestLoss)
	fmt.Println("resumed at:", got.ResumedAt)
	// Output:
	// resumed at iteration 120
	// test accuracy above 90%: true
	// same final test loss as the uninterrupted run: true
	// resumed at: [120]
}

// Checkpoint and resume a hand-written training loop: Fit trains a custom
// network for 150 of 300 steps, SaveCheckpoint writes the network (weights
// and the SPAD and RAD layers' state), the optimiser and the step with some
// metadata; a fresh network and optimiser restored by LoadCheckpoint
// continue from that step (FitConfig.Start) and end exactly where the
// uninterrupted loop ends. Steps must be consecutive: a Fit that does not
// start at the step after the last one is refused.
func ExampleSaveCheckpoint() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	x, y := blobs(600, 64, 4, 5)
	build := func() *nn.Network {
		net := convNet()
		if err := net.Build(40, 0, 3); err != nil {
			panic(err)
		}
		return net
	}
	fit := func(net *nn.Network, opt train.Optimizer, start, iters int) {
		c := train.FitConfig{Iters: iters, LR: 3e-3, Seed: 1, Opt: opt, Start: start, Total: 300}
		if _, err := train.Fit(net, x, y, c); err != nil {
			panic(err)
		}
	}
	straight := build()
	fit(straight, train.NewAdam(0), 0, 300)

	net, opt := build(), train.NewAdam(0)
	fit(net, opt, 0, 150)
	path := filepath.Join(dir, "loop.ckpt")
	if err := train.SaveCheckpoint(path, net, opt, 150, map[string]string{"data": "blobs"}); err != nil {
		panic(err)
	}

	resumed, opt2 := build(), train.NewAdam(0)
	step, meta, err := train.LoadCheckpoint(path, resumed, opt2)
	if err != nil {
		panic(err)
	}
	fmt.Println("step", step, "data", meta["data"])
	_, err = train.Fit(resumed, x, y, train.FitConfig{Iters: 10, LR: 3e-3, Opt: train.NewAdam(0)})
	fmt.Println(err)
	fit(resumed, opt2, step, 300-step)

	same := true
	for i, p := range straight.Params() {
		for j, v := range p.Value {
			same = same && resumed.Params()[i].Value[j] == v
		}
	}
	fmt.Println("resumed loop equals the uninterrupted one:", same)
	// Output:
	// step 150 data blobs
	// train: Fit starts at step 0 but layer 0 (conv 3x3 1→6 s1 p1) has done steps up to 149; steps must be consecutive (set FitConfig.Start to 150)
	// resumed loop equals the uninterrupted one: true
}

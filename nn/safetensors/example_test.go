package safetensors_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/nn/safetensors"
)

// blobs makes n samples of dim features in classes Gaussian clusters.
func blobs(n, dim, classes int, seed uint64) ([]float32, []uint8) {
	src := rng.New(rng.Key{Seed: seed})
	centers := make([]float64, classes*dim)
	for i := range centers {
		centers[i] = 2 * src.NormFloat64()
	}
	x := make([]float32, n*dim)
	y := make([]uint8, n)
	for i := range y {
		c := src.Intn(classes)
		y[i] = uint8(c)
		for j := 0; j < dim; j++ {
			x[i*dim+j] = float32(centers[c*dim+j] + src.NormFloat64())
		}
	}
	return x, y
}

// mlp is the custom network of the examples: its hidden layer trains with
// SPAD (a quarter of its input kept for backward).
func mlp() *nn.Network {
	hidden := layers.NewDense(16, 32)
	hidden.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.SameSample, Keep: 0.25, KMax: 5, M: 4}
	return nn.NewNetwork(nn.Shape{16}, hidden, layers.NewReLU(), layers.NewDense(32, 3))
}

// sgd trains net from step from to step to on batches of x, y, with plain
// SGD (an optimiser without state).
func sgd(net *nn.Network, x []float32, y []uint8, from, to int) {
	const batch = 20
	n := len(y)
	for it := from; it < to; it++ {
		off := (it * batch) % (n - batch + 1)
		net.TrainStep(x[off*16:(off+batch)*16], y[off:off+batch], batch, int64(it), nil)
		for _, p := range net.Params() {
			for i, g := range p.Grad {
				p.Value[i] -= 0.05 * g
			}
		}
	}
}

// Train a custom network on data held in memory, save its weights, and load
// them in a network built for inference only (parameters and one chunk of
// activations, nothing for backward) to predict.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	x, y := blobs(600, 16, 3, 1)

	net := mlp()
	if err := net.Build(20, 0, 7); err != nil {
		panic(err)
	}
	sgd(net, x[:500*16], y[:500], 0, 300)
	path := filepath.Join(dir, "model.safetensors")
	if err := safetensors.Save(path, net, map[string]string{"model": "blobs-mlp"}); err != nil {
		panic(err)
	}

	// Elsewhere: the same layers, built for inference, the weights loaded.
	deployed := mlp()
	if err := deployed.BuildInference(0, 0); err != nil {
		panic(err)
	}
	md, err := safetensors.Load(path, deployed)
	if err != nil {
		panic(err)
	}
	probs := make([]float32, 100*3)
	if err := deployed.Predict(x[500*16:], 100, probs, nn.Probabilities); err != nil {
		panic(err)
	}
	correct := 0
	for s := 0; s < 100; s++ {
		best := 0
		for j := 1; j < 3; j++ {
			if probs[s*3+j] > probs[s*3+best] {
				best = j
			}
		}
		if best == int(y[500+s]) {
			correct++
		}
	}
	fmt.Println("model:", md["model"])
	fmt.Println("held-out accuracy above 90%:", correct > 90)
	// Output:
	// model: blobs-mlp
	// held-out accuracy above 90%: true
}

// Checkpoint and resume a hand-written training loop of a custom network:
// the weights go to a safetensors file and the layers' state (here the
// SPAD scheduler's choices, see nn.Stateful) to JSON; a fresh network
// restored from them continues exactly as the uninterrupted run.
func Example_checkpoint() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	x, y := blobs(400, 16, 3, 2)
	build := func() *nn.Network {
		net := mlp()
		if err := net.Build(20, 0, 3); err != nil {
			panic(err)
		}
		return net
	}

	straight := build()
	sgd(straight, x, y, 0, 100)

	first := build()
	sgd(first, x, y, 0, 57)
	weights, states := filepath.Join(dir, "ckpt.safetensors"), filepath.Join(dir, "ckpt.json")
	if err := safetensors.Save(weights, first, nil); err != nil {
		panic(err)
	}
	st, err := first.States()
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(states, b, 0o644); err != nil {
		panic(err)
	}

	// A new process: build the same network, restore, continue at step 57.
	resumed := build()
	if _, err := safetensors.Load(weights, resumed); err != nil {
		panic(err)
	}
	b, _ = os.ReadFile(states)
	var saved []json.RawMessage
	if err := json.Unmarshal(b, &saved); err != nil {
		panic(err)
	}
	if err := resumed.RestoreStates(saved); err != nil {
		panic(err)
	}
	sgd(resumed, x, y, 57, 100)

	same := true
	for i, p := range straight.Params() {
		for j, v := range p.Value {
			same = same && resumed.Params()[i].Value[j] == v
		}
	}
	var sched inject.SchedulerState // what the hidden layer's state holds
	if err := json.Unmarshal(saved[0], &sched); err != nil {
		panic(err)
	}
	fmt.Println("SPAD candidate in force after step", sched.Step, "is", sched.Selected)
	fmt.Println("resumed run equals the uninterrupted one:", same)
	// Output:
	// SPAD candidate in force after step 56 is 3
	// resumed run equals the uninterrupted one: true
}

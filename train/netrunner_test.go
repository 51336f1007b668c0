package train

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
)

// blobImages is a small data set held in memory: n 1×4×4 images of 3
// classes (Gaussian clusters quantised to bytes).
func blobImages(name string, n int, seed uint64) *datasets.Dataset {
	x, y := clusters(n, 16, 3, seed)
	pix := make([]uint8, len(x))
	for i, v := range x {
		pix[i] = uint8(max(0, min(255, 128+24*v)))
	}
	return &datasets.Dataset{Name: name, N: n, C: 1, H: 4, W: 4, Classes: 3, Pixels: pix, Labels: y,
		Mean: []float32{0.5}, Std: []float32{0.1}}
}

// customNet is a conv net with SPAD on the convolution and RAD on the
// output layer, unbuilt.
func customNet() (*nn.Network, *layers.Conv2D) {
	conv := layers.NewConv2D(1, 4, 3, 1, 1)
	conv.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.25, KMax: 4, M: 3}
	out := layers.NewDense(64, 3)
	out.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.5}
	return nn.NewNetwork(nn.Shape{1, 4, 4}, conv, layers.NewReLU(), layers.NewFlatten(), out), conv
}

func customConfig() Config {
	return Config{Model: "blobs-conv", Iters: 24, Batch: 16, LR: 3e-3, EvalEvery: 8, Seed: 3, TrainEvalSize: 40}
}

func newCustomRunner(t *testing.T, c Config) *Runner {
	t.Helper()
	net, _ := customNet()
	r, err := NewNetworkRunner(c, net, blobImages("blobs-train", 200, 1), blobImages("blobs-test", 60, 1))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// headerWithoutMemory decodes a version-1 file's header with the memory
// figures (which differ from one measurement to the next) zeroed, and
// returns it with the tensor bytes.
func headerWithoutMemory(t *testing.T, data []byte) (ckptHeader, []byte) {
	t.Helper()
	h, payload, err := readCheckpoint("mem", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h.PeakHeap, h.TrainHeap = 0, 0
	return *h, payload
}

// A Runner over a custom network (per-layer estimators) and a data set
// held in memory: a version-1 checkpoint written the way earlier builds
// wrote it (legacyV1) loads and the run resumes bit-identical to an
// uninterrupted one; the checkpoint the current code writes is that same
// file, byte for byte in everything but the memory figures.
func TestNetworkRunnerResumesVersion1(t *testing.T) {
	dir := t.TempDir()
	c := customConfig()
	full := newCustomRunner(t, c)
	recFull, err := full.Run()
	if err != nil {
		t.Fatal(err)
	}
	if recFull.TestAccuracy < 0.6 {
		t.Errorf("custom run reached only %.2f accuracy", recFull.TestAccuracy)
	}

	first := newCustomRunner(t, c)
	for first.Iter < 13 {
		first.Step()
		if first.Iter%c.EvalEvery == 0 {
			first.record()
		}
	}
	legacy := filepath.Join(dir, "v1.ckpt")
	old := legacyV1(first)
	if err := os.WriteFile(legacy, old, 0o644); err != nil {
		t.Fatal(err)
	}
	current := filepath.Join(dir, "now.ckpt")
	if err := first.SaveCheckpoint(current); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(current)
	hOld, pOld := headerWithoutMemory(t, old)
	_, pNow := headerWithoutMemory(t, now)
	// The raw headers, memory figures blanked, are the same bytes.
	mem := regexp.MustCompile(`"(peak_heap|train_heap)":[0-9]+`)
	_, rawOld, _, _ := readFrame("old", bytes.NewReader(old))
	_, rawNow, _, _ := readFrame("now", bytes.NewReader(now))
	rawOld, rawNow = mem.ReplaceAll(rawOld, []byte("M")), mem.ReplaceAll(rawNow, []byte("M"))
	if !bytes.Equal(rawOld, rawNow) || !bytes.Equal(pOld, pNow) {
		t.Fatalf("the current writer differs from version 1:\n%s\n%s", rawOld, rawNow)
	}
	if hOld.Schedulers[0] == nil || hOld.Schedulers[0].Step != 12 || hOld.Schedulers[3] == nil || hOld.Schedulers[1] != nil {
		t.Fatalf("scheduler states %v: want the conv's and the output layer's at step 12", hOld.Schedulers)
	}

	second := newCustomRunner(t, c)
	recRes := resumeRun(t, second, legacy, 13)
	if !sameParams(full.Net, second.Net) {
		t.Fatal("resumed run's parameters differ from the uninterrupted run's")
	}
	sameCurves(t, recFull, recRes)
	a, b := full.Opt.State(), second.Opt.State()
	for i := range a.Buffers {
		for j := range a.Buffers[i] {
			if a.Buffers[i][j] != b.Buffers[i][j] {
				t.Fatalf("optimizer buffer %d[%d] differs", i, j)
			}
		}
	}

	// The same file also loads into a custom loop (package LoadCheckpoint).
	net, _ := customNet()
	if err := net.Build(c.Batch, 0, c.Seed); err != nil {
		t.Fatal(err)
	}
	step, meta, err := LoadCheckpoint(legacy, net, NewAdam(0))
	if err != nil || step != 13 || meta["model"] != "blobs-conv" {
		t.Fatalf("LoadCheckpoint of a Runner's file: %d %v %v", step, meta, err)
	}
	if !sameParams(net, first.Net) {
		t.Fatal("LoadCheckpoint of a Runner's file: parameters differ")
	}
}

// NewNetworkRunner leaves the layers' own estimators as set, and refuses
// settings that belong to registered models and data that does not fit.
func TestNetworkRunnerChecks(t *testing.T) {
	net, conv := customNet()
	want := conv.Estimator
	r, err := NewNetworkRunner(customConfig(), net, blobImages("a", 100, 1), blobImages("b", 30, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rec := r.Record(); conv.Estimator != want || r.Net != net || rec.Model != "blobs-conv" || rec.Dataset != "a" || rec.Estimator != PerLayer || rec.EstimatorMode != PerLayer {
		t.Fatalf("estimator %v (want %v), record %s/%s/%s/%s", conv.Estimator, want, rec.Model, rec.Dataset, rec.Estimator, rec.EstimatorMode)
	}
	st, err := r.Net.States()
	if err != nil || st[0] == nil {
		t.Fatalf("the conv layer's SPAD scheduler is gone: %v %v", st, err)
	}
	small := blobImages("small", 100, 1)
	small.W, small.Pixels = 2, small.Pixels[:100*8]
	cases := []struct {
		edit func(c *Config) (*nn.Network, *datasets.Dataset)
		want string
	}{
		{func(c *Config) (*nn.Network, *datasets.Dataset) {
			c.Estimator = inject.Estimator{Mode: inject.RAD, Keep: 0.1}
			return nil, nil
		}, "leave Config.Estimator and Config.Dropout zero"},
		{func(c *Config) (*nn.Network, *datasets.Dataset) { c.LR = 0; return nil, nil }, "needs Config.Iters and Config.LR"},
		{func(c *Config) (*nn.Network, *datasets.Dataset) { return nil, small }, "takes 1×4×4 samples but data set small has 1×4×2"},
		{func(c *Config) (*nn.Network, *datasets.Dataset) {
			n, _ := customNet()
			if err := n.Build(8, 0, 1); err != nil {
				t.Fatal(err)
			}
			return n, nil
		}, "built at batch 8, the run has batch 16"},
		{func(c *Config) (*nn.Network, *datasets.Dataset) {
			n := nn.NewNetwork(nn.Shape{1, 4, 4}, layers.NewFlatten(), layers.NewDense(16, 2))
			return n, nil
		}, "has 3 classes, the network's output has 2"},
		{func(c *Config) (*nn.Network, *datasets.Dataset) { c.TrainSize = 500; return nil, nil }, "train-size: 500 exceeds the 100 training samples"},
	}
	for _, tc := range cases {
		c := customConfig()
		n, d := tc.edit(&c)
		if n == nil {
			n, _ = customNet()
		}
		if d == nil {
			d = blobImages("a", 100, 1)
		}
		_, err := NewNetworkRunner(c, n, d, blobImages("b", 30, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewNetworkRunner: %v, want an error containing %q", err, tc.want)
		}
	}
}

// A network runner's training step allocates nothing in steady state.
func TestNetworkRunnerStepAllocs(t *testing.T) {
	r := newCustomRunner(t, customConfig())
	r.Step()
	if a := testing.AllocsPerRun(10, func() { r.Step() }); a != 0 {
		t.Errorf("Step allocates %v times", a)
	}
}

// counter is a layer of its own that carries state: the steps it has seen.
type counter struct {
	*layers.ReLU
	steps int
}

func (c *counter) StartStep(*nn.Step) { c.steps++ }

func (c *counter) State() ([]byte, error) { return json.Marshal(map[string]int{"steps": c.steps}) }

func (c *counter) Restore(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	c.steps = m["steps"]
	return nil
}

// A layer with a state of its own (not an estimator scheduler's) is saved
// and restored by a Runner's checkpoint (in layer_states) and by
// SaveCheckpoint and LoadCheckpoint.
func TestOwnStatefulLayer(t *testing.T) {
	dir := t.TempDir()
	mk := func() (*nn.Network, *counter) {
		c := &counter{ReLU: layers.NewReLU()}
		return nn.NewNetwork(nn.Shape{1, 4, 4}, layers.NewFlatten(), layers.NewDense(16, 8), c, layers.NewDense(8, 3)), c
	}
	net, c := mk()
	r, err := NewNetworkRunner(customConfig(), net, blobImages("a", 100, 1), blobImages("b", 30, 1))
	if err != nil {
		t.Fatal(err)
	}
	for r.Iter < 5 {
		r.Step()
	}
	if c.steps != 5 {
		t.Fatalf("counter saw %d steps", c.steps)
	}
	run := filepath.Join(dir, "run.ckpt")
	if err := r.SaveCheckpoint(run); err != nil {
		t.Fatal(err)
	}
	net1, c1 := mk()
	r1, err := NewNetworkRunner(customConfig(), net1, blobImages("a", 100, 1), blobImages("b", 30, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.LoadCheckpoint(run); err != nil || c1.steps != 5 || r1.Iter != 5 {
		t.Fatalf("Runner checkpoint of a layer with its own state: counter %d, iteration %d, %v", c1.steps, r1.Iter, err)
	}
	// A network without that layer's state refuses the file.
	plain := nn.NewNetwork(nn.Shape{1, 4, 4}, layers.NewFlatten(), layers.NewDense(16, 8), layers.NewReLU(), layers.NewDense(8, 3))
	r2, err := NewNetworkRunner(customConfig(), plain, blobImages("a", 100, 1), blobImages("b", 30, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.LoadCheckpoint(run); err == nil || !strings.Contains(err.Error(), "layer 2 (relu) state does not match the network") {
		t.Errorf("Runner checkpoint with a layer state into a network without: %v", err)
	}
	path := filepath.Join(dir, "net.ckpt")
	if err := SaveCheckpoint(path, r.Net, r.Opt, r.Iter, nil); err != nil {
		t.Fatal(err)
	}
	net2, c2 := mk()
	if err := net2.Build(16, 0, 3); err != nil {
		t.Fatal(err)
	}
	if step, _, err := LoadCheckpoint(path, net2, NewAdam(0)); err != nil || step != 5 || c2.steps != 5 || !sameParams(r.Net, net2) {
		t.Fatalf("LoadCheckpoint: step %d, counter %d, %v", step, c2.steps, err)
	}
}

// A network runner over a streamed data set (samples read from disk per
// batch) trains and evaluates exactly as over the same data in memory.
func TestNetworkRunnerStreamed(t *testing.T) {
	dir := t.TempDir()
	src := rng.New(rng.Key{Seed: 8})
	file := func(name string, n int) string {
		rec := make([]byte, n*datasets.CIFAR10RecordSize)
		for i := 0; i < n; i++ {
			r := rec[i*datasets.CIFAR10RecordSize : (i+1)*datasets.CIFAR10RecordSize]
			label := src.Intn(4)
			r[0] = uint8(label)
			for j := 1; j < len(r); j++ {
				r[j] = uint8(40*label + src.Intn(96))
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, rec, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	trainPath, testPath := file("train.bin", 120), file("test.bin", 40)
	net := func() *nn.Network {
		return nn.NewNetwork(nn.Shape{3, 32, 32}, layers.NewAvgPool2D(8, 8), layers.NewFlatten(), layers.NewDense(48, 10))
	}
	c := Config{Model: "pooled", Iters: 40, Batch: 20, LR: 3e-2, LRFactor: 1, EvalEvery: 10, Seed: 2}
	var recs []*Record
	for _, streamed := range []bool{false, true} {
		open := datasets.ReadCIFAR10Files
		if streamed {
			open = func(name string, paths ...string) (*datasets.Dataset, error) {
				return datasets.OpenCIFAR10Files(name, datasets.Options{}, paths...)
			}
		}
		tr, err := open("train", trainPath)
		if err != nil {
			t.Fatal(err)
		}
		te, err := open("test", testPath)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Streamed() != streamed {
			t.Fatalf("streamed = %v, want %v", tr.Streamed(), streamed)
		}
		r, err := NewNetworkRunner(c, net(), tr, te)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Run()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		_ = tr.Close()
		_ = te.Close()
	}
	if recs[1].DataMode != "stream" || recs[0].DataMode == "stream" {
		t.Errorf("data modes %q and %q", recs[0].DataMode, recs[1].DataMode)
	}
	for i := range recs[0].Curves {
		if recs[0].Curves[i] != recs[1].Curves[i] {
			t.Fatalf("curve point %d: in memory %+v, streamed %+v", i, recs[0].Curves[i], recs[1].Curves[i])
		}
	}
	// Chance is 1/4: 24 or more of 40 right by chance has probability 3e-6.
	if recs[1].TestAccuracy < 0.6 {
		t.Errorf("streamed run reached %.2f accuracy: %+v", recs[1].TestAccuracy, recs[1].Curves)
	}
}

package train

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
)

// hidden hides the type of a Source, so that the runner reads it through
// the interface alone (Fill and Label, no memory figure).
type hidden struct{ s datasets.Source }

func (h hidden) Info() datasets.Info       { return h.s.Info() }
func (h hidden) Label(i int) int           { return h.s.Label(i) }
func (h hidden) Fill(dst []float32, i int) { h.s.Fill(dst, i) }

// blobFloats is a Floats set of n 1×4×4 samples in 3 Gaussian clusters.
func blobFloats(t testing.TB, name string, n int, seed uint64) *datasets.Floats {
	t.Helper()
	x, y := clusters(n, 16, 3, seed)
	labels := make([]int, n)
	for i, l := range y {
		labels[i] = int(l)
	}
	f, err := datasets.FromFloats(x, labels, 1, 4, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	f.Name = name
	return f
}

// A Runner over a Dataset read through the Source interface alone trains
// bit-identically to one over the Dataset itself, with every subset and
// resampling setting; the records differ only in the memory of the data,
// which an opaque source does not report.
func TestRunnerAnySourceMatchesDataset(t *testing.T) {
	c := customConfig()
	c.TrainSize, c.TestSize, c.Bootstrap, c.TrainEvalSize = 150, 50, 2, 30
	var recs []*Record
	for _, opaque := range []bool{false, true} {
		var tr, te datasets.Source = blobImages("blobs-train", 200, 1), blobImages("blobs-test", 60, 1)
		if opaque {
			tr, te = hidden{tr}, hidden{te}
		}
		net, _ := customNet()
		r, err := NewNetworkRunner(c, net, tr, te)
		if err != nil {
			t.Fatal(err)
		}
		if (r.Train == nil) != opaque || r.TrainData.Info().N != 150 || r.TestData.Info().N != 50 {
			t.Fatalf("opaque %v: Train %v, %d training and %d test samples", opaque, r.Train != nil, r.TrainData.Info().N, r.TestData.Info().N)
		}
		rec, err := r.Run()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	sameCurves(t, recs[0], recs[1])
	if recs[0].DataBytes != 150*17+50*17 || recs[1].DataBytes != 0 || recs[1].DataMode != "memory" || recs[1].Dataset != "blobs-train" {
		t.Errorf("data bytes %d and %d, mode %q, data set %q", recs[0].DataBytes, recs[1].DataBytes, recs[1].DataMode, recs[1].Dataset)
	}
}

// A Runner over float32 samples (datasets.Floats) learns, reports the
// memory of its data, steps without allocating, and resumes from a
// checkpoint bit-identically to an uninterrupted run.
func TestRunnerFloats(t *testing.T) {
	dir := t.TempDir()
	c := customConfig()
	c.Iters, c.TrainEvalSize = 40, 0
	mk := func() *Runner {
		net, _ := customNet()
		r, err := NewNetworkRunner(c, net, blobFloats(t, "train", 200, 1), blobFloats(t, "test", 60, 1))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	full := mk()
	recFull, err := full.Run()
	if err != nil {
		t.Fatal(err)
	}
	// Chance is 1/3; the clusters are well apart.
	if recFull.TestAccuracy < 0.6 || recFull.Dataset != "train" || recFull.DataBytes != (200+60)*(16*4+8) {
		t.Errorf("accuracy %.2f, data set %q, data bytes %d", recFull.TestAccuracy, recFull.Dataset, recFull.DataBytes)
	}

	first := mk()
	for first.Iter < 13 {
		first.Step()
		if first.Iter%c.EvalEvery == 0 {
			first.record()
		}
	}
	path := filepath.Join(dir, "floats.ckpt")
	if err := first.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { first.Step() }); a != 0 {
		t.Errorf("Step over a Floats set allocates %v times", a)
	}
	second := mk()
	recRes := resumeRun(t, second, path, 13)
	if !sameParams(full.Net, second.Net) {
		t.Fatal("resumed run's parameters differ from the uninterrupted run's")
	}
	sameCurves(t, recFull, recRes)
}

// NewNetworkRunner checks any source before planning: nil ones (also a
// nil pointer), shapes, labels and classes.
func TestNetworkRunnerSourceChecks(t *testing.T) {
	var nilSet *datasets.Dataset
	var nilFloats *datasets.Floats
	bad := blobFloats(t, "bad", 30, 2)
	bad.Labels[4] = 3
	wide, err := datasets.FromFloats(make([]float32, 30*16), make([]int, 30), 1, 2, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	wide.Name = "wide"
	cases := []struct {
		train, test datasets.Source
		want        string
	}{
		{nil, blobFloats(t, "b", 30, 1), "needs a training and a test set"},
		{nilSet, blobFloats(t, "b", 30, 1), "needs a training and a test set"},
		{blobFloats(t, "a", 30, 1), nilFloats, "needs a training and a test set"},
		{bad, blobFloats(t, "b", 30, 1), "bad: sample 4 has label 3, want 0..2"},
		{blobFloats(t, "a", 100, 1), hidden{wide}, "has 4 classes, the network's output has 3"},
	}
	for _, tc := range cases {
		net, _ := customNet()
		c := customConfig()
		c.TrainEvalSize = 0
		_, err := NewNetworkRunner(c, net, tc.train, tc.test)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewNetworkRunner: %v, want an error containing %q", err, tc.want)
		}
	}
	flat, err := datasets.FromFloats(make([]float32, 100*15), make([]int, 100), 1, 3, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	net := nn.NewNetwork(nn.Shape{1, 4, 4}, layers.NewFlatten(), layers.NewDense(16, 3))
	_, err = NewNetworkRunner(customConfig(), net, flat, flat)
	if err == nil || !strings.Contains(err.Error(), "takes 1×4×4 samples but data set floats has 1×3×5") {
		t.Errorf("shape mismatch: %v", err)
	}
}

// NewModelRunner on the data NewRunner loads is NewRunner: same curves.
// On other data it runs the registered model on them, under the data's
// name, and refuses data that do not fit the model.
func TestNewModelRunner(t *testing.T) {
	c := tinyConfig(inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.2}, 0)
	ref := newRunner(t, c)
	want, err := ref.Run()
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := datasets.Load("mnist", c.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	defer te.Close()
	c.Dataset = "mnist" // as NewRunner names it (the default is the set's own name)
	r, err := NewModelRunner(c, tr, te)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Run()
	if err != nil {
		t.Fatal(err)
	}
	sameCurves(t, want, got)
	if got.Dataset != "mnist" || got.DataMode != want.DataMode {
		t.Errorf("data set %q in %q, want mnist in %q", got.Dataset, got.DataMode, want.DataMode)
	}

	// Float data of the model's input size, under their own name.
	x, y := clusters(300, 784, 10, 4)
	labels := make([]int, len(y))
	for i, l := range y {
		labels[i] = int(l)
	}
	f, err := datasets.FromFloats(x, labels, 1, 28, 28, 10)
	if err != nil {
		t.Fatal(err)
	}
	f.Name = "blobs784"
	fc := Config{Model: "smallfc", Iters: 30, Batch: 30, LR: 1e-3, Seed: 2}
	r, err = NewModelRunner(fc, f, f)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Run()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Dataset != "blobs784" || rec.TestAccuracy < 0.5 || rec.Model != "smallfc" {
		t.Errorf("%s on %s: accuracy %.2f", rec.Model, rec.Dataset, rec.TestAccuracy)
	}
	small, _ := datasets.FromFloats(make([]float32, 40*10), make([]int, 40), 1, 1, 10, 2)
	if _, err := NewModelRunner(fc, small, small); err == nil || !strings.Contains(err.Error(), "model smallfc takes") || !strings.Contains(err.Error(), "data set floats has 1×1×10") {
		t.Errorf("wrong shape: %v", err)
	}
	wide, _ := datasets.FromFloats(make([]float32, 40*784), make([]int, 40), 1, 28, 28, 12)
	if _, err := NewModelRunner(fc, wide, wide); err == nil || !strings.Contains(err.Error(), "model smallfc has 10 outputs but data set floats has 12 classes") {
		t.Errorf("too many classes: %v", err)
	}
	if _, err := NewModelRunner(fc, nil, f); err == nil || !strings.Contains(err.Error(), "needs a training and a test set") {
		t.Errorf("nil set: %v", err)
	}
}

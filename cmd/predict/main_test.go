package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/nn/safetensors"
)

// savedModel builds a model for inference with seed, saves its weights in
// dir with the metadata a training run writes, and returns the network and
// the file.
func savedModel(t *testing.T, dir, name string, dropout float64, seed uint64) (*nn.Network, string) {
	t.Helper()
	spec, err := models.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	net := spec.New(models.Options{Dropout: dropout})
	if err := net.BuildInference(0, seed); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".safetensors")
	if err := safetensors.Save(path, net, map[string]string{"model": name, "dropout": fmt.Sprint(dropout), "dataset": spec.Dataset}); err != nil {
		t.Fatal(err)
	}
	return net, path
}

// Predictions for CSV inputs are the network's: class and probabilities.
func TestPredictCSV(t *testing.T) {
	dir := t.TempDir()
	net, weights := savedModel(t, dir, "smallfc", 0.2, 5)
	src := rng.New(rng.Key{Seed: 1})
	const n = 3
	x := make([]float32, n*784)
	var csv strings.Builder
	csv.WriteString("# three samples\n")
	for s := 0; s < n; s++ {
		for i := 0; i < 784; i++ {
			v := float32(int(src.NormFloat64()*1000)) / 1000
			x[s*784+i] = v
			if i > 0 {
				csv.WriteString(",")
			}
			fmt.Fprint(&csv, v)
		}
		csv.WriteString("\n")
	}
	probs := make([]float32, n*10)
	if err := net.Predict(x, n, probs, nn.Probabilities); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for s := 0; s < n; s++ {
		row := probs[s*10 : s*10+10]
		best := 0
		for j, p := range row {
			if p > row[best] {
				best = j
			}
		}
		fmt.Fprintf(&want, "%d", best)
		for _, p := range row {
			fmt.Fprintf(&want, " %.4f", p)
		}
		want.WriteString("\n")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-weights", weights, "-input", "-"}, strings.NewReader(csv.String()), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != want.String() {
		t.Fatalf("output\n%s\nwant\n%s", out.String(), want.String())
	}
	// -onnx writes the model too
	onnxPath := filepath.Join(dir, "m.onnx")
	out.Reset()
	if code := run([]string{"-weights", weights, "-onnx", onnxPath}, nil, &out, &errb); code != 0 {
		t.Fatalf("-onnx: exit %d: %s", code, errb.String())
	}
	if st, err := os.Stat(onnxPath); err != nil || st.Size() < int64(4*net.ParamCount()) {
		t.Fatalf("ONNX file: %v", err)
	}
}

// Bad flags, files and inputs: one line on stderr and exit status 2.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	_, weights := savedModel(t, dir, "smallfc", 0, 1)
	_, noDrop := savedModel(t, t.TempDir(), "smallfc", 0.5, 1)
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.csv")
	if err := os.WriteFile(short, []byte("1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	word := filepath.Join(dir, "word.csv")
	if err := os.WriteFile(word, []byte("x"+strings.Repeat(",1", 783)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{nil, "predict: -weights is required (the model.safetensors a training run wrote)"},
		{[]string{"-weights", weights, "extra"}, `predict: unexpected argument "extra" (flags start with -)`},
		{[]string{"-weights", weights, "-n", "-1"}, "predict: -n must be ≥ 0, got -1"},
		{[]string{"-weights", filepath.Join(dir, "none")}, "predict: open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{[]string{"-weights", bad}, "predict: " + bad + ": safetensors: header too large"},
		{[]string{"-weights", weights, "-model", "vgg"}, `predict: unknown model "vgg" (valid: smallconv, smallfc)`},
		{[]string{"-weights", weights, "-model", "smallconv"}, "predict: " + weights + ": safetensors: weights do not fit the network: 0.weight has shape [300 784], want [16 3 5 5];"},
		{[]string{"-weights", noDrop, "-dropout", "0"}, "predict: " + noDrop + ": safetensors: weights do not fit the network: 2.weight missing (want F32 [300 300]);"},
		{[]string{"-weights", weights, "-input", short}, "predict: " + short + " line 1: 3 values, the model takes 784 (784)"},
		{[]string{"-weights", weights, "-input", word}, "predict: " + word + ` line 1, value 1: "x" is not a number`},
		{[]string{"-weights", weights, "-bogus"}, "predict: flag provided but not defined: -bogus"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, strings.NewReader(""), &out, &errb)
		msg := errb.String()
		if code != 2 || !strings.HasPrefix(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q\nwant exit 2 and %q", c.args, code, msg, c.want)
		}
	}
}

// On MNIST's test split, the reported accuracy and loss are the network's
// (skipped when MNIST is not on the machine).
func TestEvaluateMNIST(t *testing.T) {
	_, test, err := datasets.Load("mnist", datasets.Options{NoDownload: true})
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	net, weights := savedModel(t, t.TempDir(), "smallfc", 0, 3)
	const n = 300
	x := make([]float32, n*784)
	for i := 0; i < n; i++ {
		test.Normalize(x[i*784:], i)
	}
	loss, correct := net.Evaluate(x, test.Labels, n)
	var out, errb bytes.Buffer
	if code := run([]string{"-weights", weights, "-n", fmt.Sprint(n), "-no-download"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := fmt.Sprintf("smallfc on mnist (%d test samples): accuracy %.2f%% (%d/%d), mean loss %.4f\n", n, 100*float64(correct)/n, correct, n, loss/n)
	if out.String() != want {
		t.Fatalf("output %q\nwant %q", out.String(), want)
	}
}

// -test-data evaluates a CSV table or an image folder standardised with the
// statistics in the weights' metadata, as cmd/train --train-data wrote
// them, and gives the accuracy and loss the network gives on the samples
// standardised by hand.
func TestPredictOwnData(t *testing.T) {
	dir := t.TempDir()
	spec, err := models.Get("smallfc")
	if err != nil {
		t.Fatal(err)
	}
	net := spec.New(models.Options{})
	if err := net.BuildInference(0, 3); err != nil {
		t.Fatal(err)
	}
	const n, size = 7, 784
	src := rng.New(rng.Key{Seed: 2})
	raw := make([]float32, n*size)
	labels := make([]uint8, n)
	var csv strings.Builder
	for s := 0; s < n; s++ {
		labels[s] = uint8(s % 10)
		fmt.Fprint(&csv, labels[s])
		for i := 0; i < size; i++ {
			v := float32(int(src.Float64()*255)) / 4
			raw[s*size+i] = v
			fmt.Fprint(&csv, ",", v)
		}
		csv.WriteString("\n")
	}
	csvPath := filepath.Join(dir, "holdout.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const mean, std = 30, 20
	x := make([]float32, len(raw))
	for i, v := range raw {
		x[i] = (v - mean) / std
	}
	loss, correct := net.Evaluate(x, labels, n)
	want := fmt.Sprintf("smallfc on %s (%d samples): accuracy %.2f%% (%d/%d), mean loss %.4f\n",
		csvPath, n, 100*float64(correct)/n, correct, n, loss/n)
	meta := map[string]string{"model": "smallfc", "input_kind": "csv", "input_mean": "[30]", "input_std": "[20]"}
	weights := filepath.Join(dir, "csv.safetensors")
	if err := safetensors.Save(weights, net, meta); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-weights", weights, "-test-data", csvPath}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}

	// The same samples as a folder of 28×28 grayscale PNGs, classes named.
	folder := filepath.Join(dir, "images")
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	for s := 0; s < n; s++ {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for i := range img.Pix {
			img.Pix[i] = uint8(raw[s*size+i] * 4)
		}
		cdir := filepath.Join(folder, names[labels[s]])
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(cdir, fmt.Sprintf("%02d.png", s)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	// The folder is read in class order, then name order: here the order
	// of the samples, one per class.
	const fm, fs = 0.25, 0.5
	for i, v := range raw {
		x[i] = (v*4/255 - fm) / fs
	}
	loss, correct = net.Evaluate(x, labels, n)
	want = fmt.Sprintf("smallfc on %s (%d samples): accuracy %.2f%% (%d/%d), mean loss %.4f\n",
		folder, n, 100*float64(correct)/n, correct, n, loss/n)
	meta = map[string]string{"model": "smallfc", "input_kind": "folder", "input_mean": "[0.25]", "input_std": "[0.5]",
		"class_names": `["c0","c1","c2","c3","c4","c5","c6","c7","c8","c9"]`}
	weights = filepath.Join(dir, "folder.safetensors")
	if err := safetensors.Save(weights, net, meta); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"-weights", weights, "-test-data", folder}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}

	// Misuse: exit status 2 and a line naming the problem.
	_, plain := savedModel(t, dir, "smallfc", 0, 1)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-weights", plain, "-test-data", csvPath}, "records no input normalisation"},
		{[]string{"-weights", weights, "-test-data", csvPath}, "trained on a folder"},
		{[]string{"-weights", filepath.Join(dir, "csv.safetensors"), "-test-data", folder}, "trained on a .csv table"},
		{[]string{"-weights", weights, "-test-data", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"-weights", weights, "-test-data", folder, "-dataset", "mnist"}, "drop -dataset"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(c.args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errb.String(), c.msg)
		}
	}
}

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/nn/safetensors"
)

// writeBars writes a folder of n side×side grayscale PNG images per class,
// horizontal and vertical bars, at root/<class>/<i>.png.
func writeBars(t *testing.T, root string, n, side int) {
	t.Helper()
	for i := 0; i < n; i++ {
		for _, class := range []string{"horizontal", "vertical"} {
			img := image.NewGray(image.Rect(0, 0, side, side))
			at := 2 + (7*i)%(side-4)
			for k := 0; k < side; k++ {
				x, y := k, at
				if class == "vertical" {
					x, y = at, k
				}
				img.SetGray(x, y, color.Gray{Y: 255})
			}
			path := filepath.Join(root, class, fmt.Sprintf("%03d.png", i))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeTable writes n rows of a label and features columns.
func writeTable(t *testing.T, path string, n, features int) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d", i%2)
		for j := 0; j < features; j++ {
			fmt.Fprintf(&b, ",%d", (i%2)*(j%3)+j%5)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A registered model trains on a folder of images and on CSV tables
// given by --train-data and --test-data; the run carries the training
// data's name, and resumes from its checkpoint with the same flags.
func TestCustomData(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	writeBars(t, filepath.Join(dir, "bars"), 40, 28)
	writeBars(t, filepath.Join(dir, "bars-test"), 10, 28)
	out := filepath.Join(dir, "out")
	args := []string{"--model", "smallfc", "--train-data", filepath.Join(dir, "bars"), "--test-data", filepath.Join(dir, "bars-test"),
		"--iters", "40", "--batch", "20", "--lr", "1e-3", "--eval-every", "20", "--checkpoint-every", "20", "--out", out}
	var stdout, errb bytes.Buffer
	if code := run(args, &stdout, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(stdout.String(), "training smallfc on bars (80 train / 20 test samples)") {
		t.Errorf("stdout: %s", stdout.String())
	}
	rec := readRecord(t, out)
	if rec["dataset"] != "bars" || rec["data_mode"] != "memory" || !(rec["test_accuracy"].(float64) > 0.9) {
		t.Errorf("record: dataset %v, mode %v, accuracy %v", rec["dataset"], rec["data_mode"], rec["test_accuracy"])
	}
	// The weights carry what predict -test-data needs to read such data.
	if raw, err := os.ReadFile(filepath.Join(out, "model.safetensors")); err != nil {
		t.Error(err)
	} else if md, err := safetensors.Metadata(raw); err != nil {
		t.Error(err)
	} else if md["input_kind"] != "folder" || !strings.HasPrefix(md["input_mean"], "[0.") || !strings.HasPrefix(md["input_std"], "[0.") ||
		md["class_names"] != `["horizontal","vertical"]` {
		t.Errorf("metadata %v", md)
	}
	// The checkpoint loads back with the same flags (the data read again).
	again := append(append([]string(nil), args...), "--resume", filepath.Join(out, "checkpoint.ckpt"))
	stdout.Reset()
	errb.Reset()
	if code := run(again, &stdout, &errb); code != 0 || !strings.Contains(stdout.String(), "at iteration 40") {
		t.Fatalf("resume: exit %d: %s %s", code, errb.String(), stdout.String())
	}

	writeTable(t, filepath.Join(dir, "train.csv"), 60, 784)
	writeTable(t, filepath.Join(dir, "test.csv"), 20, 784)
	out = filepath.Join(dir, "out-csv")
	stdout.Reset()
	errb.Reset()
	args = []string{"--model", "smallfc", "--train-data", filepath.Join(dir, "train.csv"), "--test-data", filepath.Join(dir, "test.csv"),
		"--iters", "20", "--batch", "20", "--out", out}
	if code := run(args, &stdout, &errb); code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errb.String())
	}
	if rec := readRecord(t, out); rec["dataset"] != "train" || !(rec["test_accuracy"].(float64) > 0.9) {
		t.Errorf("csv record: dataset %v, accuracy %v", rec["dataset"], rec["test_accuracy"])
	}
}

// Bad --train-data / --test-data combinations and data that do not fit
// the model give one line and status 2, before any training.
func TestCustomDataErrors(t *testing.T) {
	dir := t.TempDir()
	writeBars(t, filepath.Join(dir, "bars"), 2, 28)
	writeBars(t, filepath.Join(dir, "small"), 2, 12)
	writeTable(t, filepath.Join(dir, "narrow.csv"), 4, 10)
	os.WriteFile(filepath.Join(dir, "broken.csv"), []byte("0,1\n1,x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("text"), 0o644)
	bars, small := filepath.Join(dir, "bars"), filepath.Join(dir, "small")
	narrow, broken := filepath.Join(dir, "narrow.csv"), filepath.Join(dir, "broken.csv")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--train-data", bars}, "--train-data and --test-data go together: give both"},
		{[]string{"--train-data", bars, "--test-data", bars, "--dataset", "mnist"}, "--dataset does not apply with --train-data"},
		{[]string{"--train-data", bars, "--test-data", filepath.Join(dir, "none")}, "--test-data " + filepath.Join(dir, "none") + ": no such file or folder"},
		{[]string{"--train-data", filepath.Join(dir, "notes.txt"), "--test-data", bars}, "notes.txt: want a folder of class folders or a .csv file"},
		{[]string{"--train-data", bars, "--test-data", narrow}, "want two folders or two .csv files"},
		{[]string{"--train-data", small, "--test-data", small}, "model smallfc takes 784 samples but data set small has 1×12×12"},
		{[]string{"--train-data", bars, "--test-data", small}, "has 12×12 images, --train-data " + bars + " has 28×28"},
		{[]string{"--train-data", narrow, "--test-data", narrow}, "model smallfc takes 784 samples but data set narrow has 1×1×10"},
		{[]string{"--train-data", broken, "--test-data", broken}, `broken.csv: line 2: field 2: "x" is not a finite number`},
	}
	for _, c := range cases {
		var errb bytes.Buffer
		args := append(c.args, "--out", filepath.Join(dir, "out"))
		code := run(args, io.Discard, &errb)
		oneLine(t, strings.Join(c.args, " "), code, errb.String(), 2, c.want)
	}
}

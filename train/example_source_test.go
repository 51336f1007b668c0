package train_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/train"
)

// writeCSV writes n samples of 6 features in 3 classes as a table with a
// header: label,f1,…,f6.
func writeCSV(path string, n int, seed uint64) {
	x, y := blobs(n, 6, 3, seed)
	var b strings.Builder
	b.WriteString("label,f1,f2,f3,f4,f5,f6\n")
	for i, l := range y {
		fmt.Fprintf(&b, "%d", l)
		for _, v := range x[i*6 : (i+1)*6] {
			fmt.Fprintf(&b, ",%.4f", 10+3*v) // raw units: standardised below
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		panic(err)
	}
}

// Train a custom network on a table of samples (a CSV file with a label
// column), through any datasets.Source: the Runner evaluates, records and
// checkpoints the run as it does a registered model's on MNIST. The run is
// stopped at iteration 90 with a checkpoint and resumed by a new Runner
// over the same files; it ends as the uninterrupted run ends, bit for bit.
func ExampleNewNetworkRunner_csv() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	writeCSV(filepath.Join(dir, "train.csv"), 600, 1)
	// The test table has the same classes (same seed), other samples.
	writeCSV(filepath.Join(dir, "test.csv"), 150, 1)

	// Both tables are standardised with the training table's statistics.
	load := func() (trainSet, testSet *datasets.Floats) {
		trainSet, err := datasets.LoadCSV(filepath.Join(dir, "train.csv"), datasets.CSVOptions{})
		if err != nil {
			panic(err)
		}
		testSet, err = datasets.LoadCSV(filepath.Join(dir, "test.csv"), datasets.CSVOptions{Classes: trainSet.Classes})
		if err != nil {
			panic(err)
		}
		mean, std := datasets.SourceStats(trainSet)
		if err := trainSet.Standardize(mean, std); err != nil {
			panic(err)
		}
		if err := testSet.Standardize(mean, std); err != nil {
			panic(err)
		}
		return trainSet, testSet
	}
	// An MLP whose hidden layer keeps a third of its input for the
	// gradient (RAD).
	mlp := func() *nn.Network {
		hidden := layers.NewDense(6, 32)
		hidden.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.34}
		return nn.NewNetwork(nn.Shape{6}, hidden, layers.NewReLU(), layers.NewDense(32, 3))
	}
	cfg := train.Config{Iters: 150, Batch: 30, LR: 5e-3, EvalEvery: 30, Seed: 3}

	trainSet, testSet := load()
	info := trainSet.Info()
	fmt.Printf("%s: %d samples of %d features, %d classes\n", info.Name, info.N, info.SampleSize(), info.Classes)
	straight, err := train.NewNetworkRunner(cfg, mlp(), trainSet, testSet)
	if err != nil {
		panic(err)
	}
	want, err := straight.Run()
	if err != nil {
		panic(err)
	}

	path := filepath.Join(dir, "run.ckpt")
	first, _ := train.NewNetworkRunner(cfg, mlp(), trainSet, testSet)
	for first.Iter < 90 {
		first.Step()
	}
	if err := first.SaveCheckpoint(path); err != nil {
		panic(err)
	}

	// Later: the files read again, the same network and settings.
	trainSet, testSet = load()
	resumed, _ := train.NewNetworkRunner(cfg, mlp(), trainSet, testSet)
	if err := resumed.LoadCheckpoint(path); err != nil {
		panic(err)
	}
	got, err := resumed.Run()
	if err != nil {
		panic(err)
	}
	fmt.Println("resumed at:", got.ResumedAt)
	fmt.Printf("test accuracy above 90%%: %v\n", got.TestAccuracy > 0.9)
	fmt.Println("same final test loss as the uninterrupted run:", got.TestLoss == want.TestLoss)
	fmt.Println("data set:", got.Dataset, "in", got.DataMode, "holding", got.DataBytes, "bytes")
	// Output:
	// train: 600 samples of 6 features, 3 classes
	// resumed at: [90]
	// test accuracy above 90%: true
	// same final test loss as the uninterrupted run: true
	// data set: train in memory holding 24000 bytes
}

// Train a small conv net on a folder of images, root/<class>/<image>.png
// (here 12×12 grayscale pictures of horizontal and vertical bars written to
// a temporary folder), normalised with the training set's per-channel
// statistics.
func ExampleNewNetworkRunner_imageFolder() {
	root, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(root)
	for split, n := range map[string]int{"train": 60, "test": 20} {
		for i := 0; i < n; i++ {
			for _, class := range []string{"horizontal", "vertical"} {
				img := image.NewGray(image.Rect(0, 0, 12, 12))
				at := 1 + (3*i+len(split))%10 // where the bar is
				for k := 0; k < 12; k++ {
					x, y := k, at
					if class == "vertical" {
						x, y = at, k
					}
					img.SetGray(x, y, color.Gray{Y: 255})
				}
				path := filepath.Join(root, split, class, fmt.Sprintf("%03d.png", i))
				os.MkdirAll(filepath.Dir(path), 0o755)
				f, _ := os.Create(path)
				png.Encode(f, img)
				f.Close()
			}
		}
	}
	trainSet, err := datasets.LoadImageFolder(filepath.Join(root, "train"), datasets.FolderOptions{})
	if err != nil {
		panic(err)
	}
	testSet, err := datasets.LoadImageFolder(filepath.Join(root, "test"), datasets.FolderOptions{ClassNames: trainSet.ClassNames})
	if err != nil {
		panic(err)
	}
	trainSet.Mean, trainSet.Std = trainSet.ChannelStats()
	testSet.Mean, testSet.Std = trainSet.Mean, trainSet.Std
	fmt.Println(trainSet.N, "images of", trainSet.C, "×", trainSet.H, "×", trainSet.W, "in classes", trainSet.ClassNames)

	conv := layers.NewConv2D(1, 4, 3, 1, 1)
	conv.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.5, KMax: 5, M: 2}
	net := nn.NewNetwork(nn.Shape{1, 12, 12}, conv, layers.NewReLU(), layers.NewAvgPool2D(4, 4), layers.NewFlatten(), layers.NewDense(4*3*3, 2))
	r, err := train.NewNetworkRunner(train.Config{Iters: 80, Batch: 20, LR: 1e-2, EvalEvery: 40, Seed: 1}, net, trainSet, testSet)
	if err != nil {
		panic(err)
	}
	rec, err := r.Run()
	if err != nil {
		panic(err)
	}
	fmt.Printf("test accuracy above 90%%: %v\n", rec.TestAccuracy > 0.9)
	// Output:
	// 120 images of 1 × 12 × 12 in classes [horizontal vertical]
	// test accuracy above 90%: true
}

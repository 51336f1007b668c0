// Command predict runs a trained model: it loads the weights a training run
// wrote (model.safetensors; the model name comes from the file's metadata
// or -model) into a network built for inference only, then either reports
// accuracy and loss on a data set's test split or prints the predicted
// class and the class probabilities of each input given in a CSV file. It
// can also export the loaded model to ONNX.
//
//	predict -weights out/smallfc-baseline-seed1/model.safetensors
//	predict -weights model.safetensors -input samples.csv
//	predict -weights model.safetensors -onnx model.onnx
//	predict -weights model.safetensors -test-data holdout/   (a model trained with train --train-data)
//
// Bad flags, files or inputs give a one-line error and exit status 2.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/models/onnx"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/safetensors"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a bad flag, file or input: exit status 2.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := predict(args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "predict: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		var ue usageError
		if errors.As(err, &ue) || errors.Is(err, os.ErrNotExist) {
			return 2
		}
		return 1
	}
	return 0
}

func predict(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		weights = fs.String("weights", "", "safetensors file of the trained weights (required; cmd/train writes <out>/model.safetensors)")
		model   = fs.String("model", "", "model name (default: the \"model\" entry of the weights' metadata; valid: "+strings.Join(models.Names(), ", ")+")")
		dropout = fs.Float64("dropout", -1, "dropout probability the model was trained with, which numbers its layers (default: the weights' metadata, else 0)")
		dataset = fs.String("dataset", "", "data set whose test split to evaluate (default: the weights' metadata, else the model's)")
		data    = fs.String("data", "", "data directory (default: search the usual places)")
		noDL    = fs.Bool("no-download", false, "never download data; fail if it is not found")
		n       = fs.Int("n", 0, "evaluate only the first N test samples (0: all)")
		input   = fs.String("input", "", "CSV file of inputs to predict (one normalised sample per line, comma-separated; - for standard input) instead of evaluating a data set")
		onnxOut = fs.String("onnx", "", "also export the loaded model to this ONNX file")
		ownData = fs.String("test-data", "", "evaluate on this folder of class folders or .csv table, of the kind the model was trained on with train --train-data (standardised as in training, from the weights' metadata)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: predict -weights model.safetensors [-input samples.csv] [flags]")
			fs.PrintDefaults()
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	if *weights == "" {
		return usagef("-weights is required (the model.safetensors a training run wrote)")
	}
	if *n < 0 {
		return usagef("-n must be ≥ 0, got %d", *n)
	}
	raw, err := os.ReadFile(*weights)
	if err != nil {
		return usageError{err}
	}
	md, err := safetensors.Metadata(raw)
	if err != nil {
		return usagef("%s: %v", *weights, err)
	}
	if *model == "" {
		*model = md["model"]
		if *model == "" {
			return usagef("%s does not name its model in its metadata; give -model (valid: %s)", *weights, strings.Join(models.Names(), ", "))
		}
	}
	spec, err := models.Get(*model)
	if err != nil {
		return usageError{err}
	}
	if *dropout < 0 {
		*dropout = 0
		if s, ok := md["dropout"]; ok {
			if *dropout, err = strconv.ParseFloat(s, 64); err != nil {
				return usagef("%s: metadata dropout %q: %v", *weights, s, err)
			}
		}
	}
	net := spec.New(models.Options{Dropout: *dropout})
	if err := net.BuildInference(0, 1); err != nil {
		return usageError{err}
	}
	if _, err := safetensors.LoadBytes(raw, net); err != nil {
		return usagef("%s: %v (is it a %s model with dropout %g?)", *weights, err, *model, *dropout)
	}
	if *onnxOut != "" {
		if err := onnx.Save(*onnxOut, net, onnx.Options{Doc: *model}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *onnxOut)
		if *input == "" && *dataset == "" {
			return nil
		}
	}
	if *input != "" {
		return predictCSV(net, *input, stdin, stdout)
	}
	if *ownData != "" {
		if *dataset != "" || *data != "" {
			return usagef("-test-data gives the data: drop -dataset and -data")
		}
		src, err := loadOwn(*ownData, md, *weights)
		if err != nil {
			return err
		}
		in := src.Info()
		if in.SampleSize() != net.In.Size() || in.Classes > net.Classes() {
			return usagef("%s: %d values and %d classes per sample, the %s model takes %d values and has %d classes", *ownData, in.SampleSize(), in.Classes, *model, net.In.Size(), net.Classes())
		}
		count := in.N
		if *n > 0 {
			count = min(count, *n)
		}
		if count == 0 {
			return usagef("%s: no samples", *ownData)
		}
		loss, correct := evaluate(net, src, count)
		fmt.Fprintf(stdout, "%s on %s (%d samples): accuracy %.2f%% (%d/%d), mean loss %.4f\n",
			*model, *ownData, count, 100*float64(correct)/float64(count), correct, count, loss/float64(count))
		return nil
	}
	if *dataset == "" {
		*dataset = md["dataset"]
		if *dataset == "" {
			*dataset = spec.Dataset
		}
	}
	_, test, err := datasets.Load(*dataset, datasets.Options{Dir: *data, NoDownload: *noDL})
	if err != nil {
		return err
	}
	if test.SampleSize() != net.In.Size() {
		return usagef("%s samples have %d values, the %s model takes %d", *dataset, test.SampleSize(), *model, net.In.Size())
	}
	count := test.N
	if *n > 0 {
		count = min(count, *n)
	}
	loss, correct := evaluate(net, test, count)
	fmt.Fprintf(stdout, "%s on %s (%d test samples): accuracy %.2f%% (%d/%d), mean loss %.4f\n",
		*model, *dataset, count, 100*float64(correct)/float64(count), correct, count, loss/float64(count))
	return nil
}

// evaluate runs the first count samples of d through net, normalised as in
// training, a block at a time.
func evaluate(net *nn.Network, d datasets.Source, count int) (loss float64, correct int) {
	const block = 1000
	size := d.Info().SampleSize()
	x := make([]float32, block*size)
	labels := make([]uint8, block)
	for off := 0; off < count; off += block {
		c := min(block, count-off)
		for i := 0; i < c; i++ {
			d.Fill(x[i*size:(i+1)*size], off+i)
			labels[i] = uint8(d.Label(off + i))
		}
		l, k := net.Evaluate(x, labels[:c], c)
		loss += l
		correct += k
	}
	return loss, correct
}

// predictCSV prints, for each line of the CSV file path (- for stdin), the
// predicted class and the class probabilities.
func predictCSV(net *nn.Network, path string, stdin io.Reader, stdout io.Writer) error {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		r = f
	}
	size, classes := net.In.Size(), net.Classes()
	x := make([]float32, size)
	probs := make([]float32, classes)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != size {
			return usagef("%s line %d: %d values, the model takes %d (%v)", path, line, len(fields), size, net.In)
		}
		for i, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
			if err != nil {
				return usagef("%s line %d, value %d: %q is not a number", path, line, i+1, f)
			}
			x[i] = float32(v)
		}
		if err := net.Predict(x, 1, probs, nn.Probabilities); err != nil {
			return err
		}
		best := 0
		for j, p := range probs {
			if p > probs[best] {
				best = j
			}
		}
		fmt.Fprintf(w, "%d", best)
		for _, p := range probs {
			fmt.Fprintf(w, " %.4f", p)
		}
		fmt.Fprintln(w)
	}
	if err := sc.Err(); err != nil {
		return usagef("%s: %v", path, err)
	}
	if line == 0 {
		return usagef("%s: no input lines", path)
	}
	return nil
}

// loadOwn reads path, a folder of class folders or a .csv table, as
// cmd/train --train-data read the model's training data: of the same kind,
// with its classes, standardised with its per-channel mean and standard
// deviation, all read from the weights' metadata (md).
func loadOwn(path string, md map[string]string, weights string) (datasets.Source, error) {
	kind := md["input_kind"]
	if kind == "" {
		return nil, usagef("%s records no input normalisation (it was not trained with train --train-data); evaluate it on -dataset", weights)
	}
	var mean, std []float32
	var classes []string
	for _, f := range []struct {
		key string
		dst any
	}{{"input_mean", &mean}, {"input_std", &std}, {"class_names", &classes}} {
		v, ok := md[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(v), f.dst); err != nil {
			return nil, usagef("%s: metadata %s %q: %v", weights, f.key, v, err)
		}
	}
	if len(mean) == 0 || len(mean) != len(std) {
		return nil, usagef("%s: metadata has %d input means and %d standard deviations", weights, len(mean), len(std))
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, usageError{err}
	}
	isCSV := strings.EqualFold(filepath.Ext(path), ".csv")
	switch {
	case kind == "csv" && (st.IsDir() || !isCSV):
		return nil, usagef("-test-data %s: the model was trained on a .csv table; give one", path)
	case kind == "folder" && !st.IsDir():
		return nil, usagef("-test-data %s: the model was trained on a folder of class folders; give one", path)
	case kind != "csv" && kind != "folder":
		return nil, usagef("%s: metadata input_kind %q (want csv or folder)", weights, kind)
	}
	if kind == "csv" {
		opt := datasets.CSVOptions{}
		if len(classes) > 0 {
			opt.LabelNames, opt.ClassNames = true, classes
		}
		f, err := datasets.LoadCSV(path, opt)
		if err != nil {
			return nil, usageError{err}
		}
		if err := f.Standardize(mean, std); err != nil {
			return nil, usagef("%s: %v", weights, err)
		}
		return f, nil
	}
	d, err := datasets.LoadImageFolder(path, datasets.FolderOptions{Channels: len(mean), ClassNames: classes})
	if err != nil {
		return nil, usageError{err}
	}
	d.Mean, d.Std = mean, std
	if err := d.Validate(); err != nil {
		return nil, usagef("%s: %v", weights, err)
	}
	return d, nil
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// dataFlags are --train-data and --test-data: a registered model trained
// on a folder of images (root/<class>/<image>.png|jpg|gif) or a CSV table
// (label in the first column, header optional) instead of mnist or
// cifar10.
type dataFlags struct{ train, test string }

// custom is set by parseFlags and read by newRunner.
var custom dataFlags

// customMeta is what newRunner learnt of --train-data that a prediction
// needs again (see inputMeta); main adds it to model.safetensors.
var customMeta map[string]string

// inputMeta is the metadata of a model trained on --train-data: the kind
// of data ("csv" or "folder"), the per-channel mean and standard
// deviation every input was standardised with, and the class names, so
// that cmd/predict can read new data of the same kind as training did
// (predict -test-data).
func inputMeta(kind string, mean, std []float32, classes []string) map[string]string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // float32 and string slices always encode
		}
		return string(b)
	}
	m := map[string]string{"input_kind": kind, "input_mean": enc(mean), "input_std": enc(std)}
	if len(classes) > 0 {
		m["class_names"] = enc(classes)
	}
	return m
}

// Help texts of the flags.
const (
	trainDataHelp = "train on this data instead of --dataset: a folder root/<class>/<image>.png|jpg|gif or a .csv table (label in the first column, header optional); the samples must have the model's input size (needs --test-data)"
	testDataHelp  = "evaluate on this data (a folder or .csv table like --train-data; a folder's classes are those of --train-data)"
)

// isCSV reports whether path names a CSV table (by its extension).
func isCSV(path string) bool { return strings.EqualFold(filepath.Ext(path), ".csv") }

// check validates the flags before anything is loaded and returns the
// data set name the run carries: the training data's base name.
func (d dataFlags) check(set map[string]bool) (string, error) {
	if d.train == "" && d.test == "" {
		return "", nil
	}
	if d.train == "" || d.test == "" {
		return "", usageError{"--train-data and --test-data go together: give both"}
	}
	for _, f := range []string{"dataset", "data", "data-mode"} {
		if set[f] {
			return "", usageError{fmt.Sprintf("--%s does not apply with --train-data (which gives the data)", f)}
		}
	}
	for _, p := range []struct{ flag, path string }{{"--train-data", d.train}, {"--test-data", d.test}} {
		st, err := os.Stat(p.path)
		switch {
		case err != nil:
			return "", usageError{fmt.Sprintf("%s %s: no such file or folder", p.flag, p.path)}
		case st.IsDir() == isCSV(p.path):
			return "", usageError{fmt.Sprintf("%s %s: want a folder of class folders or a .csv file", p.flag, p.path)}
		}
	}
	if isCSV(d.train) != isCSV(d.test) {
		return "", usageError{fmt.Sprintf("--train-data %s and --test-data %s: want two folders or two .csv files", d.train, d.test)}
	}
	base := filepath.Base(filepath.Clean(d.train))
	return strings.TrimSuffix(base, filepath.Ext(base)), nil
}

// load reads the training and test data in memory, both standardised
// with the training data's per-channel mean and standard deviation.
func (d dataFlags) load() (trainSet, testSet datasets.Source, err error) {
	if isCSV(d.train) {
		tr, err := datasets.LoadCSV(d.train, datasets.CSVOptions{})
		if err != nil {
			return nil, nil, err
		}
		te, err := datasets.LoadCSV(d.test, datasets.CSVOptions{Classes: tr.Classes})
		if err != nil {
			return nil, nil, err
		}
		mean, std := datasets.SourceStats(tr)
		for c := range std {
			if std[c] == 0 {
				std[c] = 1 // a constant channel
			}
		}
		if err := tr.Standardize(mean, std); err != nil {
			return nil, nil, err
		}
		if err := te.Standardize(mean, std); err != nil {
			return nil, nil, err
		}
		customMeta = inputMeta("csv", mean, std, tr.ClassNames)
		return tr, te, nil
	}
	tr, err := datasets.LoadImageFolder(d.train, datasets.FolderOptions{})
	if err != nil {
		return nil, nil, err
	}
	te, err := datasets.LoadImageFolder(d.test, datasets.FolderOptions{Channels: tr.C, ClassNames: tr.ClassNames})
	if err != nil {
		return nil, nil, err
	}
	if te.H != tr.H || te.W != tr.W {
		return nil, nil, fmt.Errorf("--test-data %s has %d×%d images, --train-data %s has %d×%d", d.test, te.W, te.H, d.train, tr.W, tr.H)
	}
	tr.Mean, tr.Std = tr.ChannelStats()
	for c := range tr.Std {
		if tr.Std[c] == 0 {
			tr.Std[c] = 1
		}
	}
	te.Mean, te.Std = tr.Mean, tr.Std
	customMeta = inputMeta("folder", tr.Mean, tr.Std, tr.ClassNames)
	return tr, te, nil
}

// newRunner is train.NewRunner, or with --train-data train.NewModelRunner
// on the data given.
func newRunner(cfg train.Config) (*train.Runner, error) {
	if custom.train == "" {
		return train.NewRunner(cfg)
	}
	tr, te, err := custom.load()
	if err != nil {
		return nil, err
	}
	return train.NewModelRunner(cfg, tr, te)
}

package train

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// isNilSource reports whether s is nil or a nil pointer (a nil *Dataset
// passed as a Source).
func isNilSource(s datasets.Source) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// dataMode returns the name of the mode the samples of s are held in: the
// Mode of a Dataset (or of any source with a Mode method), "memory" for
// any other source.
func dataMode(s datasets.Source) string {
	if m, ok := s.(interface{ Mode() datasets.Mode }); ok && !isNilSource(s) {
		return m.Mode().String()
	}
	return datasets.Memory.String()
}

// NewModelRunner is NewRunner on data sets of the caller's: the registered
// model cfg.Model (with cfg's estimator and dropout) trained on trainSet
// and evaluated on testSet, any datasets.Source whose samples have the
// model's input size and whose classes do not exceed its outputs.
// cfg.Dataset defaults to trainSet's name (records and checkpoints carry
// it); cfg.Data is not used. Everything else is as for NewRunner,
// including the check of the batch against the memory available.
func NewModelRunner(cfg Config, trainSet, testSet datasets.Source) (*Runner, error) {
	if isNilSource(trainSet) || isNilSource(testSet) {
		return nil, errors.New("train: NewModelRunner needs a training and a test set")
	}
	if cfg.Dataset == "" {
		cfg.Dataset = trainSet.Info().Name
	}
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec, _ := models.Get(cfg.Model)
	for _, d := range []datasets.Source{trainSet, testSet} {
		if err := datasets.CheckSource(d); err != nil {
			return nil, err
		}
		in := d.Info()
		if got := (nn.Shape{in.C, in.H, in.W}); got.Size() != spec.Input.Size() {
			return nil, fmt.Errorf("model %s takes %v samples but data set %s has %v", spec.Name, spec.Input, in.Name, got)
		}
	}
	kernels.SetThreads(cfg.Threads)
	if err := checkSizes(cfg, trainSet, testSet); err != nil {
		return nil, err
	}
	if err := CheckBatchMemory(cfg, datasets.Bytes(trainSet)+datasets.Bytes(testSet)); err != nil {
		return nil, err
	}
	r, err := planRunner(cfg, spec, nil, trainSet, testSet)
	if err != nil {
		return nil, err
	}
	for _, d := range []datasets.Source{trainSet, testSet} {
		if in := d.Info(); in.Classes > r.Net.Classes() {
			return nil, fmt.Errorf("model %s has %d outputs but data set %s has %d classes", spec.Name, r.Net.Classes(), in.Name, in.Classes)
		}
	}
	return r, nil
}

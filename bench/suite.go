package bench

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/train"
)

// suiteFS holds the built-in suites, so that --suite works from any
// directory.
//
//go:embed suites/*.json
var suiteFS embed.FS

// Suite is a grid of training runs: every setting, each repeated on
// bootstrap resamples 1..Repeats of the training set. It is read from a
// JSON file (see bench/suites/).
type Suite struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Model       string  `json:"model"`
	Dataset     string  `json:"dataset,omitempty"`
	Iters       int     `json:"iters"`
	EvalEvery   int     `json:"eval_every,omitempty"`
	Repeats     int     `json:"repeats"`
	Batch       int     `json:"batch,omitempty"`
	Optimizer   string  `json:"optimizer,omitempty"`
	LRFactor    float64 `json:"lr_factor,omitempty"`
	LRSteps     int     `json:"lr_steps,omitempty"`
	TrainSize   int     `json:"train_size,omitempty"`
	TestSize    int     `json:"test_size,omitempty"`
	// LRDecayEvery > 0 decays the rate every so many iterations (an
	// absolute schedule: runs can then be extended to longer horizons)
	// instead of lr_steps times over the run.
	LRDecayEvery int `json:"lr_decay_every,omitempty"`
	// TrainEvalSize > 0 also evaluates on the first so many training
	// samples at every evaluation (train loss and accuracy curves).
	TrainEvalSize int `json:"train_eval_size,omitempty"`
	// Quick replaces the run length and data sizes for --quick.
	Quick    *Overrides `json:"quick,omitempty"`
	Settings []Setting  `json:"settings"`
}

// Overrides are the suite-level fields --quick replaces; zero fields keep
// the suite's value.
type Overrides struct {
	Iters     int `json:"iters,omitempty"`
	EvalEvery int `json:"eval_every,omitempty"`
	Repeats   int `json:"repeats,omitempty"`
	TrainSize int `json:"train_size,omitempty"`
	TestSize  int `json:"test_size,omitempty"`
	// TrainEvalSize replaces the suite's train_eval_size.
	TrainEvalSize int `json:"train_eval_size,omitempty"`
}

// Setting is one estimator configuration of a suite with its tuned
// hyperparameters.
type Setting struct {
	Name      string  `json:"name"`
	Estimator string  `json:"estimator"`         // baseline, rad or spad
	Kind      string  `json:"kind,omitempty"`    // rad/spad: project, same-sample, diff-sample
	Keep      float64 `json:"keep,omitempty"`    // rad/spad: kept fraction
	KMax      int     `json:"kmax,omitempty"`    // spad: k_max
	M         int     `json:"m,omitempty"`       // spad: candidates
	Eps       float64 `json:"eps,omitempty"`     // spad: exploration probability
	Variant   string  `json:"variant,omitempty"` // spad: practical or exact
	Dropout   float64 `json:"dropout,omitempty"` // forward dropout probability
	LR        float64 `json:"lr"`
	WD        float64 `json:"wd,omitempty"`
	Batch     int     `json:"batch,omitempty"` // 0: the suite's batch
}

// Job is one training run of a sweep: its stable ID, where it comes from
// and the complete training configuration.
type Job struct {
	ID      string       `json:"id"`
	Suite   string       `json:"suite"`
	Setting string       `json:"setting"`
	Repeat  int          `json:"repeat"`
	Config  train.Config `json:"config"`
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// SuiteNames lists the built-in suites.
func SuiteNames() []string {
	ents, _ := suiteFS.ReadDir("suites")
	var ns []string
	for _, e := range ents {
		ns = append(ns, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(ns)
	return ns
}

// LoadSuite returns the built-in suite called name.
func LoadSuite(name string) (*Suite, error) {
	data, err := suiteFS.ReadFile(path.Join("suites", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("unknown suite %q (valid: %s)", name, strings.Join(SuiteNames(), ", "))
	}
	return ParseSuite("suites/"+name+".json", data)
}

// LoadSuiteFile reads and parses a suite file.
func LoadSuiteFile(file string) (*Suite, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseSuite(file, data)
}

// ParseSuite parses and validates a suite; errors start with file.
func ParseSuite(file string, data []byte) (*Suite, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %s", file, jsonError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: unexpected data after the suite object", file)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return &s, nil
}

// jsonError phrases a decoding error with the line and column it happened
// at when the decoder knows the offset.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		msg = fmt.Sprintf("field %q: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	case errors.Is(err, io.EOF):
		return "empty file"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of file"
	}
	msg = strings.TrimPrefix(msg, "json: ")
	if off < 1 || off > int64(len(data)) {
		return msg
	}
	off-- // the offset counts the bytes read, including the bad one

	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d: %s", line, col, msg)
}

func finitePos(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

func (s *Suite) validate() error {
	switch {
	case !namePattern.MatchString(s.Name):
		return fmt.Errorf("suite name %q must be letters, digits, '.', '_' or '-'", s.Name)
	case s.Iters < 1 || s.Iters > train.MaxIters:
		return fmt.Errorf("iters must be in [1, %d], got %d", train.MaxIters, s.Iters)
	case s.EvalEvery < 0:
		return fmt.Errorf("eval_every must be ≥ 0, got %d", s.EvalEvery)
	case s.Repeats < 1:
		return fmt.Errorf("repeats must be ≥ 1, got %d", s.Repeats)
	case s.Batch < 0 || s.Batch > train.MaxBatch:
		return fmt.Errorf("batch must be in [0, %d], got %d", train.MaxBatch, s.Batch)
	case s.LRSteps < 0:
		return fmt.Errorf("lr_steps must be ≥ 0, got %d", s.LRSteps)
	case !(s.LRFactor >= 0 && s.LRFactor <= 1):
		return fmt.Errorf("lr_factor must be in (0, 1], got %g", s.LRFactor)
	case s.TrainSize < 0 || s.TestSize < 0:
		return errors.New("train_size and test_size must be ≥ 0")
	case s.LRDecayEvery < 0:
		return fmt.Errorf("lr_decay_every must be ≥ 0, got %d", s.LRDecayEvery)
	case s.TrainEvalSize < 0:
		return fmt.Errorf("train_eval_size must be ≥ 0, got %d", s.TrainEvalSize)
	case len(s.Settings) == 0:
		return errors.New("no settings")
	}
	if s.Optimizer != "" && s.Optimizer != "adam" && s.Optimizer != "sgd" {
		return fmt.Errorf("optimizer %q: valid are adam, sgd", s.Optimizer)
	}
	if _, err := models.Get(s.Model); err != nil {
		return err
	}
	if q := s.Quick; q != nil {
		if q.Iters < 0 || q.EvalEvery < 0 || q.Repeats < 0 || q.TrainSize < 0 || q.TestSize < 0 || q.TrainEvalSize < 0 {
			return errors.New("quick: every value must be ≥ 0")
		}
		if q.Iters > train.MaxIters {
			return fmt.Errorf("quick: iters must be ≤ %d, got %d", train.MaxIters, q.Iters)
		}
	}
	seen := map[string]bool{}
	for i, st := range s.Settings {
		if err := st.validate(); err != nil {
			return fmt.Errorf("setting %d (%q): %v", i+1, st.Name, err)
		}
		if seen[st.Name] {
			return fmt.Errorf("setting %d: duplicate name %q", i+1, st.Name)
		}
		seen[st.Name] = true
	}
	return nil
}

func (st Setting) validate() error {
	if !namePattern.MatchString(st.Name) {
		return fmt.Errorf("name must be letters, digits, '.', '_' or '-'")
	}
	if !finitePos(st.LR) {
		return fmt.Errorf("lr must be a positive number, got %g", st.LR)
	}
	if !(st.WD >= 0) || math.IsInf(st.WD, 0) {
		return fmt.Errorf("wd must be ≥ 0, got %g", st.WD)
	}
	if st.Batch < 0 || st.Batch > train.MaxBatch {
		return fmt.Errorf("batch must be in [0, %d], got %d", train.MaxBatch, st.Batch)
	}
	if !(st.Dropout >= 0 && st.Dropout < 1) {
		return fmt.Errorf("dropout must be in [0, 1), got %g", st.Dropout)
	}
	_, err := st.EstimatorConfig()
	return err
}

// EstimatorConfig returns the setting's gradient estimator. Fields that
// its mode does not use must be left out (zero). It is inject.ParseConfig,
// the parser the command line uses too, with a field given when it is not
// zero; errors name the field as the suite file spells it.
func (st Setting) EstimatorConfig() (inject.Estimator, error) {
	spec := inject.Spec{Mode: st.Estimator, Kind: st.Kind, Keep: st.Keep, KMax: st.KMax, M: st.M, Eps: st.Eps, Variant: st.Variant}
	for _, g := range []struct {
		f   inject.Field
		set bool
	}{
		{inject.FieldKind, st.Kind != ""}, {inject.FieldKeep, st.Keep != 0}, {inject.FieldKMax, st.KMax != 0},
		{inject.FieldM, st.M != 0}, {inject.FieldEps, st.Eps != 0}, {inject.FieldVariant, st.Variant != ""},
	} {
		if g.set {
			spec.Given = append(spec.Given, g.f)
		}
	}
	e, err := inject.ParseConfig(spec)
	var fe *inject.FieldError
	if errors.As(err, &fe) {
		return e, fmt.Errorf("%s %s: %s", fe.Field, fe.Value, fe.Reason)
	}
	return e, err
}

// Label is the suite's name as it appears in run IDs: "-quick" is appended
// for quick runs so that they never mix with full ones.
func (s *Suite) Label(quick bool) string {
	if quick {
		return s.Name + "-quick"
	}
	return s.Name
}

// Jobs expands the suite into its runs, settings in file order and repeats
// 1..Repeats within each setting. Repeat r trains on bootstrap resample r
// with seed r. quick applies the suite's quick overrides. data says where
// the data sets are.
func (s *Suite) Jobs(quick bool, data datasets.Options) []Job {
	iters, every, reps, trainN, testN, evalN := s.Iters, s.EvalEvery, s.Repeats, s.TrainSize, s.TestSize, s.TrainEvalSize
	if quick && s.Quick != nil {
		q := s.Quick
		pick := func(dst *int, v int) {
			if v > 0 {
				*dst = v
			}
		}
		pick(&iters, q.Iters)
		pick(&every, q.EvalEvery)
		pick(&reps, q.Repeats)
		pick(&trainN, q.TrainSize)
		pick(&testN, q.TestSize)
		pick(&evalN, q.TrainEvalSize)
	}
	if every > iters {
		every = iters
	}
	label := s.Label(quick)
	var jobs []Job
	for _, st := range s.Settings {
		est, _ := st.EstimatorConfig() // validated
		batch := st.Batch
		if batch == 0 {
			batch = s.Batch
		}
		for r := 1; r <= reps; r++ {
			jobs = append(jobs, Job{
				ID: fmt.Sprintf("%s/%s/r%d", label, st.Name, r), Suite: label, Setting: st.Name, Repeat: r,
				Config: train.Config{
					Model: s.Model, Dataset: s.Dataset, Estimator: est, Dropout: st.Dropout,
					Iters: iters, Batch: batch, LR: st.LR, WD: st.WD, Optimizer: s.Optimizer,
					LRFactor: s.LRFactor, LRSteps: s.LRSteps, Seed: uint64(r), EvalEvery: every,
					Bootstrap: r, TrainSize: trainN, TestSize: testN, Data: data,
					LRDecayEvery: s.LRDecayEvery, TrainEvalSize: evalN,
				},
			})
		}
	}
	return jobs
}

// Package train runs training: the loop over batches, the optimisers (Adam,
// SGD, weight decay, step decay), periodic evaluation, the memory meter, run
// records (run.json, curves.csv) and progress reporting.
//
// Three ways in, from the shortest:
//
//   - Fit trains any built network on samples held in memory; FitConfig.Start
//     continues a network trained before (steps must be consecutive).
//   - SaveCheckpoint and LoadCheckpoint save and restore a custom loop: a
//     network's parameters and layer states (nn.Stateful), an optimiser's
//     state (Optimizer.State, OptimizerRestorer), the step and metadata.
//   - Runner runs a whole experiment — evaluation, records, memory figures,
//     checkpoints and bit-identical resumption — for a registered model
//     (NewRunner) or for any network on any data set of package datasets
//     (NewNetworkRunner).
package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
)

// MaxIters and MaxBatch bound the run length and the batch size a
// configuration may ask for, so that a mistyped number is refused at once
// instead of overflowing a size computation. NewRunner further checks the
// batch against the training set and the memory available.
const (
	MaxIters = 1_000_000_000
	MaxBatch = 1 << 16
)

// Config is everything a training run needs. Zero values take the model's
// defaults where noted.
type Config struct {
	Model     string           // registered model name
	Dataset   string           // data set name; "" = the model's default
	Estimator inject.Estimator // gradient estimator of the Dense/Conv2D layers
	Dropout   float64          // forward dropout probability (0 = none)
	Iters     int              // iterations; 0 = the model's default
	Batch     int              // batch size
	LR        float64          // initial learning rate; 0 = the model's default
	WD        float64          // weight decay (L2)
	Optimizer string           // "adam" (default) or "sgd"
	Momentum  float64          // SGD momentum
	LRFactor  float64          // step-decay factor (0.6)
	LRSteps   int              // decays over the run (10: every 10% of the iterations)
	Seed      uint64           // seeds weights, data order and every random draw
	Threads   int              // kernel threads (0 = all cores)
	EvalEvery int              // iterations between test evaluations (0 = 10 per run)
	Bootstrap int              // >0: train on bootstrap resample number Bootstrap of the training set
	TrainSize int              // >0: use only the first TrainSize training samples
	TestSize  int              // >0: evaluate on only the first TestSize test samples
	Chunk     int              // samples per forward/backward call (0 = automatic)
	Data      datasets.Options // where the data comes from

	// LRDecayEvery, when > 0, decays the learning rate by LRFactor every
	// LRDecayEvery iterations counted from 0, whatever the run's length
	// (the paper's "×0.6 every 10,000 iterations"), instead of LRSteps
	// times over the run. Only such an absolute schedule lets a finished
	// run be continued to a longer horizon.
	LRDecayEvery int `json:",omitempty"`
	// TrainEvalSize, when > 0, also evaluates every EvalEvery iterations
	// on the first TrainEvalSize samples of the training set (the whole
	// set, not a bootstrap resample): train loss and accuracy measured as
	// the test set's are.
	TrainEvalSize int `json:",omitempty"`

	CheckpointEvery int    // >0: write a checkpoint every so many iterations
	CheckpointPath  string // where checkpoints go (required with CheckpointEvery)

	Progress io.Writer // progress output (nil = none)
	Terminal bool      // Progress is a terminal: draw a bar instead of lines
}

// Defaults fills the zero fields of c from the model's spec and the paper's
// protocol and returns the result.
func (c Config) Defaults() (Config, error) {
	if c.Model == "" {
		c.Model = "smallfc"
	}
	spec, err := models.Get(c.Model)
	if err != nil {
		return c, err
	}
	if c.Dataset == "" {
		c.Dataset = spec.Dataset
	}
	if c.Iters == 0 {
		c.Iters = spec.Iters
	}
	if c.Batch == 0 {
		c.Batch = 150
	}
	if c.LR == 0 {
		c.LR = spec.LR
	}
	return c.protocolDefaults(), nil
}

// protocolDefaults fills the zero fields that do not depend on a model:
// optimiser, learning-rate decay and evaluation cadence.
func (c Config) protocolDefaults() Config {
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	if c.LRFactor == 0 {
		c.LRFactor = 0.6
	}
	if c.LRSteps == 0 {
		c.LRSteps = 10
	}
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, c.Iters/10)
	}
	return c
}

// Validate reports the first invalid setting with a one-line message.
func (c Config) Validate() error {
	switch {
	case c.Iters < 1 || c.Iters > MaxIters:
		return fmt.Errorf("iters must be in [1, %d], got %d", MaxIters, c.Iters)
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("batch must be in [1, %d], got %d", MaxBatch, c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate must be a positive number, got %g", c.LR)
	case !(c.WD >= 0 && c.WD < 1):
		// An L2 coefficient of 1 or more outweighs the gradient of any
		// loss the networks reach: Adam shrinks the weights to zero (a
		// uniform guess), SGD blows up. Neither is a run.
		return fmt.Errorf("weight decay must be in [0, 1), got %g", c.WD)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum must be in [0, 1), got %g", c.Momentum)
	case c.Momentum != 0 && strings.ToLower(c.Optimizer) != "sgd":
		return fmt.Errorf("momentum %g needs optimizer sgd (%s has no momentum)", c.Momentum, c.Optimizer)
	case !(c.LRFactor > 0 && c.LRFactor <= 1):
		return fmt.Errorf("learning-rate decay factor must be in (0, 1], got %g", c.LRFactor)
	case c.LRSteps < 1:
		return fmt.Errorf("learning-rate decay steps must be ≥ 1, got %d", c.LRSteps)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("dropout must be in [0, 1), got %g", c.Dropout)
	case c.Threads < 0:
		return fmt.Errorf("threads must be ≥ 0, got %d", c.Threads)
	case c.EvalEvery < 1:
		return fmt.Errorf("eval-every must be ≥ 1, got %d", c.EvalEvery)
	case c.Bootstrap < 0 || c.TrainSize < 0 || c.TestSize < 0 || c.Chunk < 0:
		return errors.New("bootstrap, train-size, test-size and chunk must be ≥ 0")
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint-every must be ≥ 0, got %d", c.CheckpointEvery)
	case c.CheckpointEvery > 0 && c.CheckpointPath == "":
		return errors.New("checkpoint-every needs a checkpoint path")
	case c.LRDecayEvery < 0:
		return fmt.Errorf("lr-decay-every must be ≥ 0, got %d", c.LRDecayEvery)
	case c.TrainEvalSize < 0:
		return fmt.Errorf("train-eval-size must be ≥ 0, got %d", c.TrainEvalSize)
	}
	if _, err := NewOptimizer(c.Optimizer, c.Momentum, c.WD); err != nil {
		return err
	}
	if err := c.Estimator.Validate(); err != nil {
		var fe *inject.FieldError
		if errors.As(err, &fe) {
			return fmt.Errorf("estimator %s %s: %s", fe.Field, fe.Value, fe.Reason)
		}
		return err
	}
	return nil
}

// Point is one evaluation of a run's learning curves.
type Point struct {
	Iter         int     `json:"iter"`
	TrainLoss    float64 `json:"train_loss"`
	TestLoss     float64 `json:"test_loss"`
	TestAccuracy float64 `json:"test_accuracy"`
	LR           float64 `json:"lr"`
	// TrainEvalLoss and TrainEvalAccuracy are measured on the fixed
	// training subset (Config.TrainEvalSize); absent when it is 0.
	TrainEvalLoss     float64 `json:"train_eval_loss,omitempty"`
	TrainEvalAccuracy float64 `json:"train_eval_accuracy,omitempty"`
}

// RecordVersion is the format version of run.json (Record.FormatVersion).
// Version 2 added format_version, status and args; files without
// format_version are version 1.
const RecordVersion = 2

// The states a run record can be in (Record.Status).
const (
	StatusRunning     = "running"     // a snapshot taken during the run
	StatusCompleted   = "completed"   // every iteration done
	StatusInterrupted = "interrupted" // stopped by a signal or a cancelled context; resumable
	StatusDiverged    = "diverged"    // stopped: loss not finite, or above the divergence bound
	StatusFailed      = "failed"      // stopped by an error (writing a checkpoint, for example)
)

// Record is the outcome of a run, written as run.json.
type Record struct {
	FormatVersion int `json:"format_version"`
	// Status is one of StatusCompleted, StatusInterrupted, StatusDiverged,
	// StatusFailed (StatusRunning in a snapshot); StopReason says why a run
	// stopped early and StoppedAt how many iterations it had done then.
	Status     string `json:"status"`
	StopReason string `json:"stop_reason,omitempty"`
	StoppedAt  int    `json:"stopped_at,omitempty"`
	// Args is the command line that started the run, when it came from
	// one (cmd/train sets it): with the settings below, how to redo it.
	Args []string `json:"args,omitempty"`

	Model         string  `json:"model"`
	Dataset       string  `json:"dataset"`
	Estimator     string  `json:"estimator"`
	EstimatorMode string  `json:"estimator_mode"`
	RADKind       string  `json:"rad_kind,omitempty"`
	Keep          float64 `json:"keep,omitempty"`
	KMax          int     `json:"kmax,omitempty"`
	M             int     `json:"m,omitempty"`
	Eps           float64 `json:"eps,omitempty"`
	SPADVariant   string  `json:"spad_variant,omitempty"`
	Dropout       float64 `json:"dropout"`
	Iters         int     `json:"iters"`
	Batch         int     `json:"batch"`
	Seed          uint64  `json:"seed"`
	LR            float64 `json:"lr"`
	WD            float64 `json:"wd"`
	Optimizer     string  `json:"optimizer"`
	Momentum      float64 `json:"momentum"`
	LRFactor      float64 `json:"lr_decay"`
	LRSteps       int     `json:"lr_steps,omitempty"`
	LRDecayEvery  int     `json:"lr_decay_every,omitempty"`
	Bootstrap     int     `json:"bootstrap"`
	TrainSize     int     `json:"train_size"`
	TestSize      int     `json:"test_size"`
	TrainEvalSize int     `json:"train_eval_size,omitempty"`
	EvalEvery     int     `json:"eval_every"`
	Chunk         int     `json:"chunk"`
	Threads       int     `json:"threads"`
	KernelPath    string  `json:"kernel_path"`
	CPU           string  `json:"cpu"`
	Params        int     `json:"params"`

	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	TrainLoss    float64 `json:"train_loss"`
	MsPerIter    float64 `json:"ms_per_iter"`
	WallSeconds  float64 `json:"wall_seconds"`

	PeakHeapBytes  uint64 `json:"peak_heap_bytes"`
	BaseHeapBytes  uint64 `json:"base_heap_bytes"`
	TrainHeapBytes uint64 `json:"train_heap_bytes"`
	SavedBytesPeak int64  `json:"saved_bytes_peak"`
	WorkBytes      int64  `json:"work_bytes"`
	DataBytes      int64  `json:"data_bytes"`

	// What the operating system sees. PeakRSSBytes is the process's peak
	// resident set since it started (ProcessMemory; 0 where the platform
	// does not tell), GoRuntimeBytes the largest Go runtime total sampled
	// (MemMeter.PeakRuntime: heap, stacks, GC metadata). DataMode says
	// whether the data sets were held in memory or streamed from disk;
	// GOGC and MemLimitBytes are the collector's settings at the end
	// (MemLimitBytes 0: no limit).
	PeakRSSBytes   uint64 `json:"peak_rss_bytes"`
	GoRuntimeBytes uint64 `json:"go_runtime_bytes"`
	DataMode       string `json:"data_mode,omitempty"`
	GOGC           int    `json:"gogc"`
	MemLimitBytes  int64  `json:"mem_limit_bytes,omitempty"`

	// ResumedAt lists the iterations at which the run was resumed from a
	// checkpoint; ExtendedFrom the horizons of finished runs it continued
	// (a 20,000-iteration run extended to 40,000 has ExtendedFrom [20000]).
	ResumedAt    []int `json:"resumed_at,omitempty"`
	ExtendedFrom []int `json:"extended_from,omitempty"`

	Curves []Point `json:"curves"`
}

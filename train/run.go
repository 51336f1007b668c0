package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Runner holds a training run in progress: the network, the optimiser, the
// data iterators and the measurements. NewRunner (a registered model) or
// NewNetworkRunner (any network, any data set) plans everything; Step and
// Evaluate then run without allocating.
type Runner struct {
	Cfg   Config
	Spec  models.Spec
	Net   *nn.Network
	Opt   Optimizer
	Train *datasets.Dataset // TrainData when it is a Dataset, else nil
	Test  *datasets.Dataset // TestData when it is a Dataset, else nil
	Meter *MemMeter
	Sched StepDecay
	// Iter is the number of iterations done so far.
	Iter int

	// TrainData and TestData are the samples the run trains and evaluates
	// on: any datasets.Source (after Config.TrainSize and TestSize).
	TrainData, TestData datasets.Source

	batcher     *datasets.Batcher
	trainIdx    []int32
	evalIt      *datasets.EvalIterator
	trainEvalIt *datasets.EvalIterator // fixed training subset (nil: none)
	x           []float32
	y           []uint8
	sample      func()

	winLoss  float64 // summed mean batch losses since the last evaluation
	winSteps int
	curves   []Point
	elapsed  time.Duration
	baseHeap uint64

	// What earlier segments of a resumed run measured and did.
	prevPeak, prevTrainHeap uint64
	resumedAt, extendedFrom []int

	status, stopReason string
	stoppedAt          int

	ownLayers bool // NewNetworkRunner: the layers' estimators are their own
}

// PerLayer is the estimator and estimator mode a run record of
// NewNetworkRunner gives: the network's layers carry their own estimators.
const PerLayer = "per-layer"

// NewRunner loads the data, builds the network and the optimiser for cfg
// (after Defaults and Validate): a registered model (models.Get) on a data
// set that datasets.Load knows. NewNetworkRunner runs any network on any
// data set.
func NewRunner(cfg Config) (*Runner, error) {
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec, _ := models.Get(cfg.Model)
	kernels.SetThreads(cfg.Threads)
	trainSet, testSet, err := datasets.Load(cfg.Dataset, cfg.Data)
	if err != nil {
		return nil, err
	}
	if got := (nn.Shape{trainSet.C, trainSet.H, trainSet.W}); got.Size() != spec.Input.Size() {
		return nil, fmt.Errorf("model %s takes %v samples but data set %s has %v", spec.Name, spec.Input, cfg.Dataset, got)
	}
	if err := checkSizes(cfg, trainSet, testSet); err != nil {
		return nil, err
	}
	if err := CheckBatchMemory(cfg, trainSet.Bytes()+testSet.Bytes()); err != nil {
		return nil, err
	}
	return planRunner(cfg, spec, nil, trainSet, testSet)
}

// NewNetworkRunner returns a Runner that trains net, a network of any
// layers (each with its own estimator, which the runner leaves as set),
// on trainSet and evaluates it on testSet: any datasets.Source — a
// Dataset of bytes held in memory or streamed from disk, float32 samples
// (datasets.FromFloats, datasets.ReadCSV), an image folder
// (datasets.LoadImageFolder) or a type of the caller's. The runner then
// offers everything NewRunner's does: evaluation, records, memory figures
// and checkpoints (SaveCheckpoint, LoadCheckpoint; cfg.CheckpointEvery in
// Run). NewModelRunner puts a registered model on such data.
//
// cfg is used as for NewRunner, except that nothing comes from a model
// registry: Model is a free name for records and checkpoints ("custom"
// when empty), Dataset defaults to trainSet's name, Iters and LR must be
// set, Batch defaults to 150, and Estimator and Dropout must be left zero
// (they describe the registered models; net's layers carry their own, and
// the run record says PerLayer).
// Data, TrainSize, TestSize, TrainEvalSize and Bootstrap apply to the
// data sets given.
//
// net may be unbuilt — it is then built at cfg.Batch, cfg.Chunk and
// cfg.Seed after the data, so that the memory figures count the network
// and optimiser alone — or built at batch cfg.Batch. Unlike NewRunner's,
// the batch is not checked against the memory available beforehand
// (CheckBatchMemory measures a registered model).
func NewNetworkRunner(cfg Config, net *nn.Network, trainSet, testSet datasets.Source) (*Runner, error) {
	switch {
	case net == nil:
		return nil, errors.New("train: NewNetworkRunner needs a network")
	case isNilSource(trainSet) || isNilSource(testSet):
		return nil, errors.New("train: NewNetworkRunner needs a training and a test set")
	case cfg.Estimator != (inject.Estimator{}) || cfg.Dropout != 0:
		return nil, errors.New("train: NewNetworkRunner takes the estimators and dropout of the network's layers; leave Config.Estimator and Config.Dropout zero")
	case cfg.Iters == 0 || cfg.LR == 0:
		return nil, fmt.Errorf("train: NewNetworkRunner needs Config.Iters and Config.LR (there is no model default), got %d and %g", cfg.Iters, cfg.LR)
	}
	if cfg.Model == "" {
		cfg.Model = "custom"
	}
	if cfg.Dataset == "" {
		cfg.Dataset = trainSet.Info().Name
	}
	if cfg.Batch == 0 {
		cfg.Batch = 150
	}
	cfg = cfg.protocolDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, d := range []datasets.Source{trainSet, testSet} {
		if err := datasets.CheckSource(d); err != nil {
			return nil, err
		}
		if in := d.Info(); in.SampleSize() != net.In.Size() {
			return nil, fmt.Errorf("train: the network takes %v samples but data set %s has %d×%d×%d", net.In, in.Name, in.C, in.H, in.W)
		}
	}
	if net.Batch() != 0 && net.Batch() != cfg.Batch {
		return nil, fmt.Errorf("train: the network is built at batch %d, the run has batch %d (pass an unbuilt network, or build it at the run's batch)", net.Batch(), cfg.Batch)
	}
	kernels.SetThreads(cfg.Threads)
	if err := checkSizes(cfg, trainSet, testSet); err != nil {
		return nil, err
	}
	spec := models.Spec{Name: cfg.Model, Dataset: cfg.Dataset, Input: net.In, Iters: cfg.Iters, LR: cfg.LR}
	r, err := planRunner(cfg, spec, net, trainSet, testSet)
	if err != nil {
		return nil, err
	}
	r.ownLayers = true
	for _, d := range []datasets.Source{trainSet, testSet} {
		if in := d.Info(); in.Classes > r.Net.Classes() {
			return nil, fmt.Errorf("train: data set %s has %d classes, the network's output has %d", in.Name, in.Classes, r.Net.Classes())
		}
	}
	return r, nil
}

// planRunner plans a run of cfg (defaults filled, validated) on the data
// sets: subsets, iterators, the network (spec.New when net is nil; net
// built when it is not), the optimiser.
func planRunner(cfg Config, spec models.Spec, net *nn.Network, trainSet, testSet datasets.Source) (*Runner, error) {
	var err error
	r := &Runner{Cfg: cfg, Spec: spec, TrainData: trainSet, TestData: testSet, Meter: NewMemMeter(), status: StatusRunning}
	if cfg.TrainSize > 0 && cfg.TrainSize < trainSet.Info().N {
		if r.TrainData, err = datasets.Slice(trainSet, 0, cfg.TrainSize); err != nil {
			return nil, err
		}
	}
	if cfg.TestSize > 0 && cfg.TestSize < testSet.Info().N {
		if r.TestData, err = datasets.Slice(testSet, 0, cfg.TestSize); err != nil {
			return nil, err
		}
	}
	r.Train, _ = r.TrainData.(*datasets.Dataset)
	r.Test, _ = r.TestData.(*datasets.Dataset)
	if cfg.Bootstrap > 0 {
		r.trainIdx = datasets.Bootstrap(r.TrainData.Info().N, datasets.BootstrapKey(cfg.Seed, cfg.Bootstrap))
	}
	if r.batcher, err = datasets.NewBatcher(r.TrainData, r.trainIdx, cfg.Batch, datasets.TailWrap, datasets.ShuffleKey(cfg.Seed)); err != nil {
		return nil, err
	}
	if r.evalIt, err = datasets.NewEvalIterator(r.TestData, nil, cfg.Batch); err != nil {
		return nil, err
	}
	if cfg.TrainEvalSize > 0 {
		sub, err := datasets.Slice(trainSet, 0, cfg.TrainEvalSize)
		if err != nil {
			return nil, err
		}
		if r.trainEvalIt, err = datasets.NewEvalIterator(sub, nil, cfg.Batch); err != nil {
			return nil, err
		}
	}
	r.x = make([]float32, cfg.Batch*spec.Input.Size())
	r.y = make([]uint8, cfg.Batch)

	// Everything allocated so far is data and I/O buffers; what the
	// network and optimiser add on top is the training memory.
	runtime.GC()
	r.baseHeap = r.Meter.HeapInuse()

	if net == nil {
		net = spec.New(models.Options{Dropout: cfg.Dropout, Estimator: cfg.Estimator})
	}
	r.Net = net
	if r.Net.Batch() == 0 {
		if err := r.Net.Build(cfg.Batch, cfg.Chunk, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if r.Opt, err = NewOptimizer(cfg.Optimizer, cfg.Momentum, cfg.WD); err != nil {
		return nil, err
	}
	if o, ok := r.Opt.(optInit); ok {
		o.Init(r.Net.Params())
	}
	r.Sched = StepDecay{Base: cfg.LR, Factor: cfg.LRFactor, Every: max(1, cfg.Iters/cfg.LRSteps)}
	if cfg.LRDecayEvery > 0 {
		r.Sched.Every = cfg.LRDecayEvery
	}
	r.sample = r.Meter.Sample
	// Evaluations beyond the first few thousand grow the slice at an
	// evaluation, never at a step.
	r.curves = make([]Point, 0, min(cfg.Iters/cfg.EvalEvery+2, 4096))
	r.Meter.Sample()
	return r, nil
}

// Step runs one training iteration: next batch, forward, backward, update.
// It returns the batch's mean loss. The heap is sampled after the forward
// and after the backward pass.
func (r *Runner) Step() float64 {
	n := r.batcher.Next(r.x, r.y)
	loss, _ := r.Net.TrainStep(r.x, r.y, n, int64(r.Iter), r.sample)
	r.Meter.Sample()
	r.Opt.Step(r.Net.Params(), r.Sched.At(r.Iter))
	r.Iter++
	mean := loss / float64(n)
	r.winLoss += mean
	r.winSteps++
	return mean
}

// Evaluate returns the mean loss and the accuracy over the test set.
func (r *Runner) Evaluate() (loss, acc float64) { return r.evaluate(r.evalIt) }

// EvaluateTrain returns the mean loss and the accuracy over the fixed
// training subset (Config.TrainEvalSize); ok is false when there is none.
func (r *Runner) EvaluateTrain() (loss, acc float64, ok bool) {
	if r.trainEvalIt == nil {
		return 0, 0, false
	}
	loss, acc = r.evaluate(r.trainEvalIt)
	return loss, acc, true
}

// TestCorrect reports, for every sample of the test set in order, whether
// the network's prediction (the class of the largest logit, the first one
// on ties, dropout off: the prediction Evaluate counts) is its label. These
// per-sample outcomes are what a paired test of two trained networks on the
// same test set needs (bench.PairedTest). It allocates its result and one
// batch of logits.
func (r *Runner) TestCorrect() ([]bool, error) {
	classes := r.Net.Classes()
	logits := make([]float32, r.Cfg.Batch*classes)
	out := make([]bool, 0, r.TestData.Info().N)
	it := r.evalIt
	it.Reset()
	for {
		n := it.Next(r.x, r.y)
		if n == 0 {
			return out, nil
		}
		if err := r.Net.Predict(r.x, n, logits, nn.Logits); err != nil {
			return nil, err
		}
		for i := range n {
			z := logits[i*classes : (i+1)*classes]
			arg := 0
			for c := 1; c < classes; c++ {
				if z[c] > z[arg] {
					arg = c
				}
			}
			out = append(out, arg == int(r.y[i]))
		}
	}
}

func (r *Runner) evaluate(it *datasets.EvalIterator) (loss, acc float64) {
	it.Reset()
	var sum float64
	correct, count := 0, 0
	for {
		n := it.Next(r.x, r.y)
		if n == 0 {
			break
		}
		l, c := r.Net.Evaluate(r.x, r.y, n)
		sum += l
		correct += c
		count += n
	}
	return sum / float64(count), float64(correct) / float64(count)
}

// record appends an evaluation point to the curves.
func (r *Runner) record() Point {
	tl, ta := r.Evaluate()
	p := Point{Iter: r.Iter, TestLoss: tl, TestAccuracy: ta, LR: r.Sched.At(max(0, r.Iter-1))}
	if l, a, ok := r.EvaluateTrain(); ok {
		p.TrainEvalLoss, p.TrainEvalAccuracy = l, a
	}
	if r.winSteps > 0 {
		p.TrainLoss = r.winLoss / float64(r.winSteps)
	} else {
		p.TrainLoss = math.NaN()
	}
	r.winLoss, r.winSteps = 0, 0
	r.curves = append(r.curves, p)
	return p
}

// SizeError is a size the data set or the machine cannot honour: a
// training or test subset larger than the set, a batch larger than the
// training set, or a batch whose buffers would not fit in memory. Setting
// names the configuration field.
type SizeError struct {
	Setting string
	Msg     string
}

func (e *SizeError) Error() string { return e.Setting + ": " + e.Msg }

// checkSizes checks the subset sizes and the batch against the data sets
// loaded, before anything is allocated for them.
func checkSizes(cfg Config, trainSet, testSet datasets.Source) error {
	nTrain, nTest := trainSet.Info().N, testSet.Info().N
	switch {
	case cfg.TrainSize > nTrain:
		return &SizeError{"train-size", fmt.Sprintf("%d exceeds the %d training samples of %s", cfg.TrainSize, nTrain, cfg.Dataset)}
	case cfg.TestSize > nTest:
		return &SizeError{"test-size", fmt.Sprintf("%d exceeds the %d test samples of %s", cfg.TestSize, nTest, cfg.Dataset)}
	case cfg.TrainEvalSize > nTrain:
		return &SizeError{"train-eval-size", fmt.Sprintf("%d exceeds the %d training samples of %s", cfg.TrainEvalSize, nTrain, cfg.Dataset)}
	}
	n := nTrain
	if cfg.TrainSize > 0 {
		n = cfg.TrainSize
	}
	if cfg.Batch > n {
		return &SizeError{"batch", fmt.Sprintf("%d exceeds the %d training samples used (every batch would repeat samples)", cfg.Batch, n)}
	}
	return nil
}

// EstimateBatchBytes estimates the heap a network for cfg (model,
// estimator, dropout, chunk) needs at batch cfg.Batch, beyond its
// parameters: what Build allocates per sample, measured by building the
// network at batches 1 and 2, times the batch, plus the runner's batch
// buffers. Networks that process large batches in chunks need less; the
// estimate errs on the safe side.
func EstimateBatchBytes(cfg Config) (int64, error) {
	spec, err := models.Get(cfg.Model)
	if err != nil {
		return 0, err
	}
	var allocs [1]metrics.Sample
	allocs[0].Name = "/gc/heap/allocs:bytes"
	built := func(batch int) (uint64, error) {
		metrics.Read(allocs[:])
		before := allocs[0].Value.Uint64()
		net := spec.New(models.Options{Dropout: cfg.Dropout, Estimator: cfg.Estimator})
		if err := net.Build(batch, min(batch, max(cfg.Chunk, 0)), cfg.Seed); err != nil {
			return 0, err
		}
		metrics.Read(allocs[:])
		return allocs[0].Value.Uint64() - before, nil
	}
	one, err := built(1)
	if err != nil {
		return 0, err
	}
	two, err := built(2)
	if err != nil {
		return 0, err
	}
	perSample := int64(4*spec.Input.Size() + 1) // the runner's x and y
	if two > one {
		perSample += int64(two - one)
	}
	return perSample * int64(cfg.Batch), nil
}

// AvailableMemory returns the memory a run may still use, in bytes: the
// smaller of the Go memory limit (GOMEMLIMIT, when set) and, on Linux, the
// kernel's MemAvailable. ok is false when neither is known.
func AvailableMemory() (avail uint64, ok bool) {
	avail = math.MaxUint64
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
		avail, ok = uint64(l), true
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemAvailable:" {
				if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					avail, ok = min(avail, kb*1024), true
				}
			}
		}
	}
	return avail, ok
}

// CheckBatchMemory refuses a batch whose buffers (EstimateBatchBytes)
// would not fit in the memory available (AvailableMemory) beside
// dataBytes of data already loaded (counted when the memory available is
// a Go memory limit, which counts the whole heap). It returns nil when the
// available memory is unknown.
func CheckBatchMemory(cfg Config, dataBytes int64) error {
	avail, ok := AvailableMemory()
	if !ok {
		return nil
	}
	need, err := EstimateBatchBytes(cfg)
	if err != nil {
		return err
	}
	if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 && uint64(l) == avail {
		need += dataBytes
	}
	if need > 0 && uint64(need) > avail {
		return &SizeError{"batch", fmt.Sprintf("%d needs about %.1f GB for the network's buffers, more than the %.1f GB of memory available", cfg.Batch, float64(need)/1e9, float64(avail)/1e9)}
	}
	return nil
}

// ErrDiverged is matched (errors.Is) by the errors that stop a diverging
// run: NonFiniteError and LossBoundError.
var ErrDiverged = errors.New("training diverged")

// NonFiniteError reports a loss that became NaN or infinite.
type NonFiniteError struct {
	Iter int
	Loss float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("training diverged: loss is %v at iteration %d (try a lower learning rate)", e.Loss, e.Iter)
}

// Is makes errors.Is(err, ErrDiverged) true.
func (e *NonFiniteError) Is(target error) bool { return target == ErrDiverged }

// A run whose loss stays above DivergenceFactor × ln(classes) — ten times
// the loss of a uniform guess, 23.0 for ten classes — for DivergenceEvals
// evaluations in a row has blown up: it is stopped as diverged. An
// evaluation counts when its test loss or its mean training loss since the
// previous evaluation is above the bound. A network that guesses at
// random scores ln(classes); one ten times worse predicts the wrong class
// with near certainty, which training does not recover from.
const (
	DivergenceFactor = 10
	DivergenceEvals  = 3
)

// LossBoundError reports a finite blow-up: the loss stayed above Bound for
// Evals evaluations in a row, ending with Loss at iteration Iter.
type LossBoundError struct {
	Iter        int
	Loss, Bound float64
	Evals       int
}

func (e *LossBoundError) Error() string {
	return fmt.Sprintf("training diverged: loss %.4g at iteration %d, above %.4g (%d × the loss of a uniform guess) for %d evaluations in a row (try a lower learning rate)",
		e.Loss, e.Iter, e.Bound, DivergenceFactor, e.Evals)
}

// Is makes errors.Is(err, ErrDiverged) true.
func (e *LossBoundError) Is(target error) bool { return target == ErrDiverged }

// lossBound is the divergence bound of the network's loss.
func (r *Runner) lossBound() float64 {
	return DivergenceFactor * math.Log(float64(max(2, r.Net.Classes())))
}

// blownUp returns a LossBoundError when the last DivergenceEvals curve
// points are all above the bound.
func (r *Runner) blownUp() error {
	bound := r.lossBound()
	n := len(r.curves)
	if n < DivergenceEvals {
		return nil
	}
	for _, p := range r.curves[n-DivergenceEvals:] {
		if !(p.TestLoss > bound || p.TrainLoss > bound) {
			return nil
		}
	}
	p := r.curves[n-1]
	return &LossBoundError{Iter: p.Iter, Loss: max(p.TestLoss, p.TrainLoss), Bound: bound, Evals: DivergenceEvals}
}

// stop marks the run stopped with status and err and returns its record.
func (r *Runner) stop(status string, err error) *Record {
	r.status, r.stopReason, r.stoppedAt = status, err.Error(), r.Iter
	return r.Record()
}

// ErrInterrupted is returned (wrapped) by RunContext when its context is
// cancelled: the step in progress was finished and, when the run has a
// checkpoint path, a checkpoint written, so the same run can resume.
var ErrInterrupted = errors.New("training interrupted")

// Run trains for the configured number of iterations, evaluating every
// EvalEvery iterations and at the end, and returns the run record. When
// training diverges (a loss that is not finite, or above the divergence
// bound: see DivergenceFactor) it returns the record so far, marked
// StatusDiverged, with an error matching ErrDiverged.
func (r *Runner) Run() (*Record, error) { return r.RunContext(context.Background()) }

// RunContext is Run stopping at the first step boundary after ctx is
// cancelled. It then writes a checkpoint (when Config.CheckpointPath is
// set) and returns the record so far, marked StatusInterrupted, with an
// error wrapping ErrInterrupted. Every error comes with the record so far.
func (r *Runner) RunContext(ctx context.Context) (*Record, error) {
	cfg := r.Cfg
	done := ctx.Done()
	var bar *progressbar.ProgressBar
	if cfg.Progress != nil && cfg.Terminal {
		bar = progressbar.NewOptions(cfg.Iters-r.Iter,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription(fmt.Sprintf("%s/%s", cfg.Model, cfg.Estimator.Mode)),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("it"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	start := time.Now()
	last := start
	for r.Iter < cfg.Iters {
		select {
		case <-done:
			r.elapsed += time.Since(last)
			if bar != nil {
				_ = bar.Exit()
			}
			var err error
			if cfg.CheckpointPath != "" {
				if cerr := r.SaveCheckpoint(cfg.CheckpointPath); cerr != nil {
					err = fmt.Errorf("%w at iteration %d; %v", ErrInterrupted, r.Iter, cerr)
				} else {
					err = fmt.Errorf("%w at iteration %d (checkpoint %s)", ErrInterrupted, r.Iter, cfg.CheckpointPath)
				}
			} else {
				err = fmt.Errorf("%w at iteration %d", ErrInterrupted, r.Iter)
			}
			rec := r.stop(StatusInterrupted, err)
			rec.WallSeconds = time.Since(start).Seconds()
			return rec, err
		default:
		}
		loss := r.Step()
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			r.elapsed += time.Since(last)
			err := &NonFiniteError{Iter: r.Iter - 1, Loss: loss}
			rec := r.stop(StatusDiverged, err)
			rec.WallSeconds = time.Since(start).Seconds()
			return rec, err
		}
		if bar != nil {
			_ = bar.Add(1)
		}
		if r.Iter%cfg.EvalEvery == 0 || r.Iter == cfg.Iters {
			r.elapsed += time.Since(last)
			p := r.record()
			last = time.Now()
			if err := r.blownUp(); err != nil {
				rec := r.stop(StatusDiverged, err)
				rec.WallSeconds = time.Since(start).Seconds()
				return rec, err
			}
			if bar != nil {
				bar.Describe(fmt.Sprintf("%s/%s loss %.4f acc %.2f%%", cfg.Model, cfg.Estimator.Mode, p.TestLoss, 100*p.TestAccuracy))
			} else if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "iter %6d/%d  train loss %.4f  test loss %.4f  test acc %.2f%%  lr %.3g  %.2f ms/iter\n",
					p.Iter, cfg.Iters, p.TrainLoss, p.TestLoss, 100*p.TestAccuracy, p.LR, r.msPerIter())
			}
		}
		if cfg.CheckpointEvery > 0 && (r.Iter%cfg.CheckpointEvery == 0 || r.Iter == cfg.Iters) {
			r.elapsed += time.Since(last)
			if err := r.SaveCheckpoint(cfg.CheckpointPath); err != nil {
				rec := r.stop(StatusFailed, err)
				rec.WallSeconds = time.Since(start).Seconds()
				return rec, err
			}
			last = time.Now()
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	r.elapsed += time.Since(last)
	r.status = StatusCompleted
	rec := r.Record()
	rec.WallSeconds = time.Since(start).Seconds()
	return rec, nil
}

func durationNs(ns int64) time.Duration { return time.Duration(ns) }

func (r *Runner) msPerIter() float64 {
	if r.Iter == 0 {
		return 0
	}
	return float64(r.elapsed.Microseconds()) / 1000 / float64(r.Iter)
}

// Record returns the run record as of now.
func (r *Runner) Record() *Record {
	cfg := r.Cfg
	e := cfg.Estimator
	rec := &Record{
		FormatVersion: RecordVersion, Status: r.status, StopReason: r.stopReason, StoppedAt: r.stoppedAt,
		Model: cfg.Model, Dataset: cfg.Dataset, Estimator: e.String(), EstimatorMode: e.Mode.String(),
		Dropout: cfg.Dropout, Iters: cfg.Iters, Batch: cfg.Batch, Seed: cfg.Seed,
		LR: cfg.LR, WD: cfg.WD, Optimizer: r.Opt.Name(), Momentum: cfg.Momentum,
		LRFactor: cfg.LRFactor, LRSteps: cfg.LRSteps, LRDecayEvery: cfg.LRDecayEvery,
		Bootstrap: cfg.Bootstrap, TrainSize: cfg.TrainSize, TestSize: cfg.TestSize,
		TrainEvalSize: cfg.TrainEvalSize, EvalEvery: cfg.EvalEvery, Chunk: r.Net.Chunk(),
		ResumedAt: r.resumedAt, ExtendedFrom: r.extendedFrom,
		Threads: kernels.Threads(), KernelPath: kernels.Active().String(), CPU: kernels.CPUName(),
		Params: r.Net.ParamCount(), MsPerIter: r.msPerIter(),
		PeakHeapBytes: r.Meter.Peak, BaseHeapBytes: r.baseHeap,
		SavedBytesPeak: r.Net.SavedBytes(), WorkBytes: r.Net.WorkBytes(),
		DataBytes: datasets.Bytes(r.TrainData) + datasets.Bytes(r.TestData),
		Curves:    r.curves,
	}
	if r.ownLayers {
		// The network's layers carry their own estimators.
		rec.Estimator, rec.EstimatorMode = PerLayer, PerLayer
	}
	if cfg.Dropout > 0 {
		rec.EstimatorMode = "dropout"
		rec.Estimator = fmt.Sprintf("dropout(p=%g)", cfg.Dropout)
	}
	if e.Mode != inject.Baseline {
		rec.RADKind, rec.Keep = e.Kind.String(), e.Keep
	}
	if e.Mode == inject.SPAD {
		rec.KMax, rec.M, rec.Eps, rec.SPADVariant = e.KMax, e.M, e.Eps, e.Variant.String()
	}
	if r.Meter.Peak > r.baseHeap {
		rec.TrainHeapBytes = r.Meter.Peak - r.baseHeap
	}
	r.recordProcessMemory(rec)
	// A resumed run's figures are the largest of its segments', each
	// measured from a clean heap after its own start.
	rec.PeakHeapBytes = max(rec.PeakHeapBytes, r.prevPeak)
	rec.TrainHeapBytes = max(rec.TrainHeapBytes, r.prevTrainHeap)
	if n := len(r.curves); n > 0 {
		p := r.curves[n-1]
		rec.TestAccuracy, rec.TestLoss, rec.TrainLoss = p.TestAccuracy, p.TestLoss, p.TrainLoss
	}
	return rec
}

package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// Runner holds a training run in progress: the network, the optimiser, the
// data iterators and the measurements. NewRunner plans everything; Step and
// Evaluate then run without allocating.
type Runner struct {
	Cfg   Config
	Spec  models.Spec
	Net   *nn.Network
	Opt   Optimizer
	Train *datasets.Dataset
	Test  *datasets.Dataset
	Meter *MemMeter
	Sched StepDecay
	// Iter is the number of iterations done so far.
	Iter int

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
}

// NewRunner loads the data, builds the network and the optimiser for cfg
// (after Defaults and Validate).
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
	r := &Runner{Cfg: cfg, Spec: spec, Train: trainSet, Test: testSet, Meter: NewMemMeter()}
	if cfg.TrainSize > 0 && cfg.TrainSize < trainSet.N {
		if r.Train, err = trainSet.Slice(0, cfg.TrainSize); err != nil {
			return nil, err
		}
	}
	if cfg.TestSize > 0 && cfg.TestSize < testSet.N {
		if r.Test, err = testSet.Slice(0, cfg.TestSize); err != nil {
			return nil, err
		}
	}
	if cfg.Bootstrap > 0 {
		r.trainIdx = datasets.Bootstrap(r.Train.N, datasets.BootstrapKey(cfg.Seed, cfg.Bootstrap))
	}
	if r.batcher, err = datasets.NewBatcher(r.Train, r.trainIdx, cfg.Batch, datasets.TailWrap, datasets.ShuffleKey(cfg.Seed)); err != nil {
		return nil, err
	}
	if r.evalIt, err = datasets.NewEvalIterator(r.Test, nil, cfg.Batch); err != nil {
		return nil, err
	}
	if cfg.TrainEvalSize > 0 {
		if cfg.TrainEvalSize > trainSet.N {
			return nil, fmt.Errorf("train-eval-size %d exceeds the %d training samples of %s", cfg.TrainEvalSize, trainSet.N, cfg.Dataset)
		}
		sub, err := trainSet.Slice(0, cfg.TrainEvalSize)
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

	r.Net = spec.New(models.Options{Dropout: cfg.Dropout, Estimator: cfg.Estimator})
	if err := r.Net.Build(cfg.Batch, cfg.Chunk, cfg.Seed); err != nil {
		return nil, err
	}
	if r.Opt, err = NewOptimizer(cfg.Optimizer, cfg.Momentum, cfg.WD); err != nil {
		return nil, err
	}
	switch o := r.Opt.(type) {
	case *Adam:
		o.Init(r.Net.Params())
	case *SGD:
		o.Init(r.Net.Params())
	}
	r.Sched = StepDecay{Base: cfg.LR, Factor: cfg.LRFactor, Every: max(1, cfg.Iters/cfg.LRSteps)}
	if cfg.LRDecayEvery > 0 {
		r.Sched.Every = cfg.LRDecayEvery
	}
	r.sample = r.Meter.Sample
	r.curves = make([]Point, 0, cfg.Iters/cfg.EvalEvery+2)
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

// NonFiniteError reports a loss that became NaN or infinite.
type NonFiniteError struct {
	Iter int
	Loss float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("training diverged: loss is %v at iteration %d (try a lower learning rate)", e.Loss, e.Iter)
}

// ErrInterrupted is returned (wrapped) by RunContext when its context is
// cancelled: the step in progress was finished and, when the run has a
// checkpoint path, a checkpoint written, so the same run can resume.
var ErrInterrupted = errors.New("training interrupted")

// Run trains for the configured number of iterations, evaluating every
// EvalEvery iterations and at the end, and returns the run record.
func (r *Runner) Run() (*Record, error) { return r.RunContext(context.Background()) }

// RunContext is Run stopping at the first step boundary after ctx is
// cancelled. It then writes a checkpoint (when Config.CheckpointPath is
// set) and returns the record so far with an error wrapping
// ErrInterrupted.
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
			if cfg.CheckpointPath != "" {
				if err := r.SaveCheckpoint(cfg.CheckpointPath); err != nil {
					return r.Record(), fmt.Errorf("%w at iteration %d; %v", ErrInterrupted, r.Iter, err)
				}
				return r.Record(), fmt.Errorf("%w at iteration %d (checkpoint %s)", ErrInterrupted, r.Iter, cfg.CheckpointPath)
			}
			return r.Record(), fmt.Errorf("%w at iteration %d", ErrInterrupted, r.Iter)
		default:
		}
		loss := r.Step()
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, &NonFiniteError{Iter: r.Iter - 1, Loss: loss}
		}
		if bar != nil {
			_ = bar.Add(1)
		}
		if r.Iter%cfg.EvalEvery == 0 || r.Iter == cfg.Iters {
			r.elapsed += time.Since(last)
			p := r.record()
			last = time.Now()
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
				return nil, err
			}
			last = time.Now()
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	r.elapsed += time.Since(last)
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
		DataBytes: r.Train.Bytes() + r.Test.Bytes(),
		Curves:    r.curves,
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

package bench

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/train"
)

// PerfOptions configure Perf.
type PerfOptions struct {
	MinTime time.Duration // least time measured per case (0: 1s)
	Threads []int         // GEMM thread counts (nil: 1 and every power of two up to the cores, and the cores)
	Models  []string      // models of the step benchmarks (nil: every registered model)
	Batch   int           // batch of the step benchmarks (0: 150)
	ConvN   int           // samples per conv call (0: 16)
	// Paths are the kernel paths measured side by side (nil: every path
	// this machine can run; the step benchmarks then leave out the
	// generic path when an assembly path exists).
	Paths []kernels.Path
}

// PerfRow is one line of the performance table; zero measures are blank.
type PerfRow struct {
	Kind    string // gemm, conv or step
	Path    string // kernel path (kernels.Path name)
	Case    string
	Threads int
	GFLOPS  float64
	Ms      float64 // per call or per step
	Allocs  float64 // per step
	HeapMB  float64 // train heap above the pre-build heap
	SavedMB float64 // bytes saved for backward
}

// Machine describes where the benchmarks run.
func Machine() string {
	return fmt.Sprintf("%s; %s/%s, %d cores, GOMAXPROCS %d, %s; kernels %s",
		kernels.CPUName(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), kernels.Active())
}

// measure calls f until at least min has passed (and at least once after a
// warm-up call) and returns the mean duration of a call.
func measure(min time.Duration, f func()) time.Duration {
	f()
	n := 0
	start := time.Now()
	for n == 0 || time.Since(start) < min {
		f()
		n++
	}
	return time.Since(start) / time.Duration(n)
}

// gemmCases are SmallFCNet's products at batch 150 and one square product.
var gemmCases = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"fc1 forward 150×300×784", false, true, 150, 300, 784},
	{"fc2 forward 150×300×300", false, true, 150, 300, 300},
	{"fc1 dX 150×784×300", false, false, 150, 784, 300},
	{"fc1 dW 300×784×150", true, false, 300, 784, 150},
	{"fc1 dW RAD keep 0.1 300×79×150", true, false, 300, 79, 150},
	{"square 512×512×512", false, false, 512, 512, 512},
}

func randFloats(src *rng.Source, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	return x
}

func defaultThreads() []int {
	var ts []int
	for t := 1; t < runtime.NumCPU(); t *= 2 {
		ts = append(ts, t)
	}
	return append(ts, runtime.NumCPU())
}

// onPaths runs f once on each path of paths, with that path active, and
// restores the active path.
func onPaths(paths []kernels.Path, f func(p kernels.Path)) {
	saved := kernels.Active()
	defer func() { _ = kernels.SetPath(saved) }()
	for _, p := range paths {
		if kernels.SetPath(p) != nil {
			continue
		}
		f(p)
	}
}

// PerfGEMM measures Sgemm GFLOP/s per shape, thread count and path.
func PerfGEMM(o PerfOptions) []PerfRow {
	o = o.defaults()
	var rows []PerfRow
	defer kernels.SetThreads(0)
	onPaths(o.Paths, func(p kernels.Path) { rows = append(rows, perfGEMM(o, p)...) })
	return rows
}

func perfGEMM(o PerfOptions, p kernels.Path) []PerfRow {
	src := rng.New(rng.Key{Seed: 1})
	var rows []PerfRow
	for _, c := range gemmCases {
		a := randFloats(src, c.m*c.k)
		b := randFloats(src, c.k*c.n)
		out := make([]float32, c.m*c.n)
		lda, ldb := c.k, c.n
		if c.transA {
			lda = c.m
		}
		if c.transB {
			ldb = c.k
		}
		for _, t := range o.Threads {
			kernels.SetThreads(t)
			d := measure(o.MinTime, func() {
				kernels.Sgemm(c.transA, c.transB, c.m, c.n, c.k, 1, a, lda, b, ldb, 0, out, c.n)
			})
			fl := 2 * float64(c.m) * float64(c.n) * float64(c.k)
			rows = append(rows, PerfRow{Kind: "gemm", Path: p.String(), Case: c.name, Threads: t, GFLOPS: fl / d.Seconds() / 1e9, Ms: ms(d)})
		}
	}
	return rows
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// convLayers are SmallConvNet's convolutions.
var convLayers = []struct {
	name string
	s    kernels.ConvShape
}{
	{"conv1 3→16 32×32", kernels.ConvShape{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 1, Pad: 2}},
	{"conv2 16→32 32×32", kernels.ConvShape{C: 16, H: 32, W: 32, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}},
	{"conv3 32→32 16×16", kernels.ConvShape{C: 32, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}},
	{"conv4 32→32 16×16", kernels.ConvShape{C: 32, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}},
}

// PerfConv measures the forward, backward-data and backward-filter
// convolutions of each SmallConvNet layer with all cores, on each path.
func PerfConv(o PerfOptions) []PerfRow {
	o = o.defaults()
	kernels.SetThreads(0)
	var rows []PerfRow
	onPaths(o.Paths, func(p kernels.Path) { rows = append(rows, perfConv(o, p)...) })
	return rows
}

func perfConv(o PerfOptions, p kernels.Path) []PerfRow {
	src := rng.New(rng.Key{Seed: 2})
	var rows []PerfRow
	n := o.ConvN
	for _, l := range convLayers {
		s := l.s
		x := randFloats(src, n*s.InSize())
		w := randFloats(src, s.WeightSize())
		bias := randFloats(src, s.K)
		y := make([]float32, n*s.OutSize())
		dy := randFloats(src, n*s.OutSize())
		dx := make([]float32, n*s.InSize())
		dw := make([]float32, s.WeightSize())
		db := make([]float32, s.K)
		scratch := make([]float32, kernels.ConvScratchSize(s, n))
		fl := 2 * float64(n) * float64(s.OutSize()) * float64(s.C*s.KH*s.KW)
		for _, pass := range []struct {
			name string
			f    func()
		}{
			{"forward", func() { kernels.Conv2DForward(s, n, x, w, bias, y, scratch) }},
			{"backward data", func() { kernels.Conv2DBackwardData(s, n, dy, w, dx, scratch) }},
			{"backward filter", func() { kernels.Conv2DBackwardFilter(s, n, x, dy, dw, db, scratch) }},
		} {
			d := measure(o.MinTime, pass.f)
			rows = append(rows, PerfRow{Kind: "conv", Path: p.String(), Case: fmt.Sprintf("%s %s ×%d", l.name, pass.name, n),
				Threads: kernels.Threads(), GFLOPS: fl / d.Seconds() / 1e9, Ms: ms(d)})
		}
	}
	return rows
}

// StepEstimators are the estimator settings of the step benchmarks.
var StepEstimators = []struct {
	Name      string
	Estimator inject.Estimator
	Dropout   float64
}{
	{"baseline", inject.Estimator{}, 0},
	{"dropout-0.1", inject.Estimator{}, 0.1},
	{"rad-project", inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}, 0},
	{"rad-same-sample", inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.1}, 0},
	{"rad-diff-sample", inject.Estimator{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1}, 0},
	{"spad-k10-m10", inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 10, M: 10}, 0},
}

// PerfStep measures one training step (forward, backward, Adam) on random
// input for each model, estimator and path, with all cores: ms per step,
// allocations per step, the train heap and the bytes saved for backward.
// SPAD is timed over whole k_max cycles.
func PerfStep(o PerfOptions) ([]PerfRow, error) {
	paths := o.Paths
	o = o.defaults()
	if paths == nil && len(o.Paths) > 1 {
		paths = o.Paths[1:] // AvailablePaths lists generic first
	} else {
		paths = o.Paths
	}
	kernels.SetThreads(0)
	var rows []PerfRow
	var err error
	onPaths(paths, func(p kernels.Path) {
		if err == nil {
			var r []PerfRow
			r, err = perfSteps(o, p)
			rows = append(rows, r...)
		}
	})
	return rows, err
}

func perfSteps(o PerfOptions, p kernels.Path) ([]PerfRow, error) {
	var rows []PerfRow
	for _, model := range o.Models {
		spec, err := models.Get(model)
		if err != nil {
			return nil, err
		}
		for _, e := range StepEstimators {
			row, err := perfStep(spec, e.Estimator, e.Dropout, o)
			if err != nil {
				return nil, err
			}
			row.Case = model + " " + e.Name
			row.Path = p.String()
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func perfStep(spec models.Spec, est inject.Estimator, dropout float64, o PerfOptions) (PerfRow, error) {
	// A batch is refused before anything is allocated for it when it is
	// beyond train.MaxBatch or its buffers would not fit in memory.
	if o.Batch > train.MaxBatch {
		return PerfRow{}, fmt.Errorf("batch %d exceeds the largest batch, %d", o.Batch, train.MaxBatch)
	}
	if err := train.CheckBatchMemory(train.Config{Model: spec.Name, Estimator: est, Dropout: dropout, Batch: o.Batch, Seed: 1}, 0); err != nil {
		return PerfRow{}, err
	}
	r, err := NewStepRig(spec, est, dropout, o.Batch)
	if err != nil {
		return PerfRow{}, err
	}
	r.WarmUp()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	steps := 0
	for steps == 0 || time.Since(start) < o.MinTime {
		for i := 0; i < r.Cycle; i++ {
			r.Step()
		}
		steps += r.Cycle
	}
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	return PerfRow{Kind: "step", Threads: kernels.Threads(), Ms: ms(d) / float64(steps),
		Allocs:  float64(m1.Mallocs-m0.Mallocs) / float64(steps),
		HeapMB:  r.HeapMB(),
		SavedMB: r.SavedMB()}, nil
}

func (o PerfOptions) defaults() PerfOptions {
	if o.MinTime <= 0 {
		o.MinTime = time.Second
	}
	if len(o.Threads) == 0 {
		o.Threads = defaultThreads()
	}
	if len(o.Models) == 0 {
		o.Models = models.Names()
	}
	if o.Batch <= 0 {
		o.Batch = 150
	}
	if o.ConvN <= 0 {
		o.ConvN = 16
	}
	if len(o.Paths) == 0 {
		o.Paths = kernels.AvailablePaths()
	}
	return o
}

// WritePerfTable prints the machine line and rows as one aligned table.
func WritePerfTable(w io.Writer, machine string, rows []PerfRow) error {
	fmt.Fprintf(w, "machine: %s\n\n", machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\tpath\tcase\tthreads\tGFLOP/s\tms\tallocs/step\ttrain heap MB\tsaved MB\t")
	num := func(v float64, prec int) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprintf("%.*f", prec, v)
	}
	for _, r := range rows {
		allocs := ""
		if r.Kind == "step" {
			allocs = fmt.Sprintf("%.1f", r.Allocs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Kind, r.Path, r.Case, r.Threads,
			num(r.GFLOPS, 1), num(r.Ms, 3), allocs, num(r.HeapMB, 2), num(r.SavedMB, 2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return nil
}

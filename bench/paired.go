package bench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// Paired is the paired comparison of two finished runs' final networks on
// the same test set: which test samples each gets right, the exact McNemar
// test of "both networks have the same accuracy" and a 95% interval for
// the difference of their accuracies.
//
// It is a statement about the two trained networks and the test-set
// sampling only: the run-to-run variation of training (seeds, bootstrap
// resamples) is not in it, so a small p-value says these two networks
// differ, not that the two settings would in every run. That needs
// repeats (the sweep's mean ± standard deviation).
type Paired struct {
	A, B       string  // run IDs; differences are B − A
	N          int     // test samples
	BothRight  int     // samples both get right
	OnlyA      int     // samples only A gets right
	OnlyB      int     // samples only B gets right
	BothWrong  int     // samples neither gets right
	AccA, AccB float64 // test accuracies recomputed from the final states
	// RecordedA and RecordedB are the final test accuracies the runs
	// recorded; they equal AccA and AccB unless the evaluation ran other
	// kernels than the training (SPAD_KERNELS) and a near-tie flipped.
	RecordedA, RecordedB float64
	Diff                 float64 // AccB − AccA
	Lo, Hi               float64 // 95% interval of Diff (paired, normal approximation)
	P                    float64 // two-sided exact McNemar p-value
}

// McNemarP returns the two-sided p-value of the exact McNemar test for
// paired binary outcomes with onlyA samples where only the first is right
// and onlyB where only the second is: under the null hypothesis of equal
// accuracies each discordant sample is equally likely to go either way,
// so min(onlyA, onlyB) is Binomial(onlyA+onlyB, 1/2) in its lower tail;
// the p-value is twice that tail, at most 1. With no discordant samples
// it is 1.
func McNemarP(onlyA, onlyB int) float64 {
	if onlyA < 0 || onlyB < 0 {
		return math.NaN()
	}
	n, k := onlyA+onlyB, min(onlyA, onlyB)
	if n == 0 {
		return 1
	}
	// log P(X = i) = log C(n, i) − n log 2, summed in log space so that
	// thousands of discordant samples neither underflow nor overflow.
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	top := lg(n) - float64(n)*math.Ln2
	logs := make([]float64, k+1)
	mx := math.Inf(-1)
	for i := 0; i <= k; i++ {
		logs[i] = top - lg(i) - lg(n-i)
		mx = max(mx, logs[i])
	}
	var s float64
	for _, l := range logs {
		s += math.Exp(l - mx)
	}
	return min(1, 2*math.Exp(mx+math.Log(s)))
}

// HolmAdjust returns Holm's step-down adjustment of the p-values of a
// family of tests, in their order: rejecting every hypothesis whose
// adjusted p-value is at most α keeps the probability of any false
// rejection in the family at most α.
func HolmAdjust(ps []float64) []float64 {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	out := make([]float64, len(ps))
	run := 0.0
	for rank, i := range idx {
		run = max(run, min(1, float64(len(ps)-rank)*ps[i]))
		out[i] = run
	}
	return out
}

// PairOutcomes compares the per-sample outcomes of two networks on the same
// samples (true: right) and fills every field of Paired but the IDs and
// the recorded accuracies.
func PairOutcomes(a, b []bool) (Paired, error) {
	if len(a) != len(b) {
		return Paired{}, fmt.Errorf("paired test: %d outcomes against %d", len(a), len(b))
	}
	if len(a) == 0 {
		return Paired{}, errors.New("paired test: no samples")
	}
	var p Paired
	p.N = len(a)
	for i := range a {
		switch {
		case a[i] && b[i]:
			p.BothRight++
		case a[i]:
			p.OnlyA++
		case b[i]:
			p.OnlyB++
		default:
			p.BothWrong++
		}
	}
	n := float64(p.N)
	p.AccA = float64(p.BothRight+p.OnlyA) / n
	p.AccB = float64(p.BothRight+p.OnlyB) / n
	p.Diff = float64(p.OnlyB-p.OnlyA) / n
	// The per-sample difference takes +1, −1 or 0; its variance is
	// (OnlyA+OnlyB)/n − Diff².
	se := math.Sqrt(max(0, float64(p.OnlyA+p.OnlyB)/n-p.Diff*p.Diff) / n)
	p.Lo, p.Hi = p.Diff-1.959963984540054*se, p.Diff+1.959963984540054*se
	p.P = McNemarP(p.OnlyA, p.OnlyB)
	return p, nil
}

// FinalRun finds the job of the sweep in dir named by name (a run ID, or
// a setting name with the given repeat) and checks that it finished and
// kept its final state (suites with an absolute learning-rate schedule
// keep it in dir/final).
func FinalRun(dir, name string, repeat int, data datasets.Options) (Job, Line, error) {
	info, err := ReadSweepInfo(dir)
	if err != nil {
		return Job{}, Line{}, err
	}
	var job *Job
	jobs := info.Suite.Jobs(info.Quick, data)
	for i := range jobs {
		if jobs[i].ID == name || (jobs[i].Setting == name && jobs[i].Repeat == repeat) {
			job = &jobs[i]
			break
		}
	}
	if job == nil {
		var names []string
		for _, s := range info.Suite.Settings {
			names = append(names, s.Name)
		}
		return Job{}, Line{}, fmt.Errorf("%s: no run %q (repeat %d) in suite %s; settings: %v", dir, name, repeat, info.Suite.Name, names)
	}
	lines, _, err := LoadLines(dir)
	if err != nil && !errors.Is(err, ErrNoRuns) {
		return Job{}, Line{}, err
	}
	var line *Line
	for i := range lines {
		if lines[i].ID == job.ID {
			line = &lines[i]
		}
	}
	if line == nil {
		return Job{}, Line{}, fmt.Errorf("run %s has not finished (bench status --in %s)", job.ID, dir)
	}
	path := FinalCheckpointPath(dir, job.ID)
	ck, err := train.PeekCheckpoint(path)
	if errors.Is(err, os.ErrNotExist) {
		return Job{}, Line{}, fmt.Errorf("run %s kept no final state in %s (only suites with lr_decay_every keep one)", job.ID, path)
	}
	if err != nil {
		return Job{}, Line{}, err
	}
	if ck.Iter != line.Record.Iters {
		return Job{}, Line{}, fmt.Errorf("run %s: final state at iteration %d, record at %d", job.ID, ck.Iter, line.Record.Iters)
	}
	job.Config.Iters = line.Record.Iters
	return *job, *line, nil
}

// testOutcomes loads the final state of job in dir and returns its
// per-sample outcomes on the test set.
func testOutcomes(dir string, job Job, threads int) ([]bool, error) {
	cfg := job.Config
	cfg.Threads = threads
	cfg.CheckpointPath, cfg.CheckpointEvery = "", 0
	r, err := train.NewRunner(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.LoadCheckpoint(FinalCheckpointPath(dir, job.ID)); err != nil {
		return nil, err
	}
	return r.TestCorrect()
}

// PairedTest compares the final networks of two finished runs of the sweep
// in dir (a and b name a run ID, or a setting with the given repeat) on
// the suite's test set: see Paired. threads is the kernel thread count of
// the evaluation (0: all cores).
func PairedTest(dir, a, b string, repeat, threads int, data datasets.Options) (Paired, error) {
	ps, err := PairedTests(dir, a, []string{b}, repeat, threads, data)
	if err != nil {
		return Paired{}, err
	}
	return ps[0], nil
}

// PairedTests is PairedTest of ref against each of others, evaluating
// ref's network once. Every run is checked before any is evaluated.
func PairedTests(dir, ref string, others []string, repeat, threads int, data datasets.Options) ([]Paired, error) {
	jr, lr, err := FinalRun(dir, ref, repeat, data)
	if err != nil {
		return nil, err
	}
	type run struct {
		job  Job
		line Line
	}
	var rs []run
	for _, o := range others {
		j, l, err := FinalRun(dir, o, repeat, data)
		if err != nil {
			return nil, err
		}
		rs = append(rs, run{j, l})
	}
	or, err := testOutcomes(dir, jr, threads)
	if err != nil {
		return nil, fmt.Errorf("run %s: %v", jr.ID, err)
	}
	var out []Paired
	for _, r := range rs {
		ob, err := testOutcomes(dir, r.job, threads)
		if err != nil {
			return nil, fmt.Errorf("run %s: %v", r.job.ID, err)
		}
		p, err := PairOutcomes(or, ob)
		if err != nil {
			return nil, err
		}
		p.A, p.B = jr.ID, r.job.ID
		p.RecordedA, p.RecordedB = lr.Record.TestAccuracy, r.line.Record.TestAccuracy
		out = append(out, p)
	}
	return out, nil
}

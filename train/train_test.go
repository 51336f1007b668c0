package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
)

// tinyConfig is a short MNIST run on a subset.
func tinyConfig(e inject.Estimator, dropout float64) Config {
	return Config{
		Model: "smallfc", Estimator: e, Dropout: dropout, Iters: 24, Batch: 32, EvalEvery: 8,
		TrainSize: 2000, TestSize: 300, Seed: 3, Data: datasets.Options{NoDownload: true},
	}
}

func newRunner(t *testing.T, c Config) *Runner {
	t.Helper()
	r, err := NewRunner(c)
	if err != nil {
		if strings.Contains(err.Error(), "MNIST") {
			t.Skipf("MNIST not available: %v", err)
		}
		t.Fatal(err)
	}
	return r
}

func paramsOf(r *Runner) [][]float32 {
	var out [][]float32
	for _, p := range r.Net.Params() {
		out = append(out, append([]float32(nil), p.Value...))
	}
	return out
}

// resumeRun loads the checkpoint at path into r, checks that it resumes at
// iteration iter and runs it to the end.
func resumeRun(t *testing.T, r *Runner, path string, iter int) *Record {
	t.Helper()
	if err := r.LoadCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if r.Iter != iter {
		t.Fatalf("resumed at iteration %d, want %d", r.Iter, iter)
	}
	rec, err := r.Run()
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// sameCurves fails t unless the records a and b hold the same curve
// points, bit for bit.
func sameCurves(t *testing.T, a, b *Record) {
	t.Helper()
	if len(a.Curves) != len(b.Curves) {
		t.Fatalf("curves: %d points vs %d", len(a.Curves), len(b.Curves))
	}
	for i := range a.Curves {
		if p, q := a.Curves[i], b.Curves[i]; p != q {
			t.Fatalf("curve point %d: %+v vs %+v", i, p, q)
		}
	}
}

// A run stopped at a checkpoint and resumed in a new Runner ends
// bit-identical to an uninterrupted run with the same seed and threads: the
// parameters, the optimiser state and the curves.
func TestResumeBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	ests := map[string]struct {
		e inject.Estimator
		d float64
	}{
		"baseline":   {inject.Estimator{}, 0},
		"dropout":    {inject.Estimator{}, 0.2},
		"spad-exact": {inject.Estimator{Mode: inject.SPAD, Kind: inject.DiffSample, Keep: 0.2, KMax: 5, M: 3, Eps: 0.2, Variant: inject.Exact}, 0},
		"spad":       {inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 4, M: 4}, 0},
	}
	for name, tc := range ests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			full := newRunner(t, tinyConfig(tc.e, tc.d))
			recFull, err := full.Run()
			if err != nil {
				t.Fatal(err)
			}

			// Interrupted: stop after 13 iterations (mid-block for SPAD),
			// checkpointing every 13.
			c := tinyConfig(tc.e, tc.d)
			c.CheckpointEvery, c.CheckpointPath = 13, filepath.Join(dir, "ck")
			c.Iters = 24
			first := newRunner(t, c)
			for first.Iter < 13 {
				first.Step()
				if first.Iter%c.EvalEvery == 0 {
					first.record()
				}
			}
			if err := first.SaveCheckpoint(c.CheckpointPath); err != nil {
				t.Fatal(err)
			}
			second := newRunner(t, c)
			recRes := resumeRun(t, second, c.CheckpointPath, 13)
			a, b := paramsOf(full), paramsOf(second)
			for i := range a {
				for j := range a[i] {
					if a[i][j] != b[i][j] {
						t.Fatalf("param %d[%d]: uninterrupted %g, resumed %g", i, j, a[i][j], b[i][j])
					}
				}
			}
			sameCurves(t, recFull, recRes)
		})
	}
}

// Corrupt, truncated and foreign checkpoints give clear errors.
func TestCheckpointErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds networks")
	}
	dir := t.TempDir()
	c := tinyConfig(inject.Estimator{}, 0)
	c.Iters = 4
	r := newRunner(t, c)
	r.Step()
	good := filepath.Join(dir, "good")
	if err := r.SaveCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	cases := map[string]struct {
		path string
		cfg  Config
		want string
	}{
		"truncated": {write("trunc", data[:len(data)-100]), c, "checksum mismatch"},
		"flipped":   {write("flip", flipped), c, "checksum mismatch"},
		"empty":     {write("empty", nil), c, "not a checkpoint"},
		"text":      {write("text", []byte("hello, this is not a checkpoint at all")), c, "not a checkpoint"},
	}
	other := c
	other.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}
	cases["estimator"] = struct {
		path string
		cfg  Config
		want string
	}{good, other, "was made with estimator baseline"}
	seed := c
	seed.Seed = 99
	cases["seed"] = struct {
		path string
		cfg  Config
		want string
	}{good, seed, "seed 3"}
	for name, tc := range cases {
		r := newRunner(t, tc.cfg)
		err := r.LoadCheckpoint(tc.path)
		var ce *CheckpointError
		if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: error %v, want a CheckpointError naming the file and containing %q", name, err, tc.want)
		}
	}
	// A checkpoint of non-finite parameters is refused and the old one kept.
	r.Net.Params()[0].Value[0] = float32(nan())
	if err := r.SaveCheckpoint(good); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("saving NaN parameters: %v", err)
	}
	if now, _ := os.ReadFile(good); !bytes.Equal(now, data) {
		t.Fatal("the good checkpoint was changed")
	}
}

func nan() float64 { var z float64; return z / z }

// A diverging run stops with an error naming the iteration, and the last
// good checkpoint stays as it was.
func TestNonFiniteLossStops(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	c := tinyConfig(inject.Estimator{}, 0)
	c.CheckpointEvery, c.CheckpointPath = 4, filepath.Join(t.TempDir(), "ck")
	r := newRunner(t, c)
	for r.Iter < 4 {
		r.Step()
	}
	if err := r.SaveCheckpoint(c.CheckpointPath); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(c.CheckpointPath)
	r.Net.Params()[7].Value[3] = float32(nan()) // an output bias: the loss turns NaN
	rec, err := r.Run()
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Iter != 4 || !strings.Contains(err.Error(), "at iteration 4") || !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want a NonFiniteError at iteration 4", err)
	}
	// The record so far comes with the error, marked diverged.
	if rec == nil || rec.Status != StatusDiverged || rec.StopReason != err.Error() {
		t.Fatalf("record of the diverged run: %+v", rec)
	}
	if after, _ := os.ReadFile(c.CheckpointPath); !bytes.Equal(before, after) {
		t.Fatal("the last good checkpoint was changed")
	}
}

func TestConfigValidate(t *testing.T) {
	base, err := Config{}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Batch = 0 }, "batch must be in [1, 65536], got 0"},
		{func(c *Config) { c.Batch = MaxBatch + 1 }, "batch must be in [1, 65536], got 65537"},
		{func(c *Config) { c.Iters = math.MaxInt }, "iters must be in [1, 1000000000]"},
		{func(c *Config) { c.Momentum = 0.9 }, "momentum 0.9 needs optimizer sgd (adam has no momentum)"},
		{func(c *Config) { c.LR = -1 }, "learning rate must be a positive number"},
		{func(c *Config) { c.WD = -1 }, "weight decay must be in [0, 1), got -1"},
		{func(c *Config) { c.WD = 1e30 }, "weight decay must be in [0, 1), got 1e+30"},
		{func(c *Config) { c.Dropout = 1 }, "dropout must be in [0, 1)"},
		{func(c *Config) { c.Optimizer = "x" }, `unknown optimizer "x"`},
		{func(c *Config) { c.CheckpointEvery = 5 }, "needs a checkpoint path"},
		{func(c *Config) {
			c.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, M: 0, KMax: 1}
		}, "estimator m 0: must be ≥ 1"},
	}
	for _, tc := range cases {
		c := base
		tc.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if _, err := (Config{Model: "nope"}).Defaults(); err == nil || !strings.Contains(err.Error(), "unknown model") {
		t.Errorf("unknown model: %v", err)
	}
}

func TestStepDecay(t *testing.T) {
	s := StepDecay{Base: 1, Factor: 0.6, Every: 10}
	for _, c := range []struct {
		it   int
		want float64
	}{{0, 1}, {9, 1}, {10, 0.6}, {25, 0.36}} {
		if got := s.At(c.it); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("At(%d) = %g, want %g", c.it, got, c.want)
		}
	}
}

// Adam's first step moves every weight by lr·sign(g) (bias-corrected
// moments make the first update ±lr when ε is negligible).
func TestAdamFirstStep(t *testing.T) {
	p := nn.NewParam("w", 3)
	copy(p.Value, []float32{1, 2, 3})
	copy(p.Grad, []float32{0.5, -2, 1e-3})
	a := NewAdam(0)
	a.Step([]*nn.Param{p}, 0.1)
	want := []float32{0.9, 2.1, 2.9}
	for i := range want {
		if d := p.Value[i] - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("w[%d] = %g, want %g", i, p.Value[i], want[i])
		}
	}
}

// A finished run with an absolute learning-rate schedule, continued from
// its final checkpoint to a longer horizon, ends bit-identical to a run
// made at the longer horizon from the start, and its record says so.
func TestExtendHorizonBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	e := inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 4, M: 3}
	cfg := func(iters int) Config {
		c := tinyConfig(e, 0)
		c.Iters, c.LRDecayEvery, c.TrainEvalSize = iters, 6, 200
		return c
	}
	full := newRunner(t, cfg(24))
	recFull, err := full.Run()
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "ck")
	short := cfg(16)
	short.CheckpointEvery, short.CheckpointPath = 1000, ck // only the final one
	if _, err := newRunner(t, short).Run(); err != nil {
		t.Fatal(err)
	}
	long := cfg(24)
	long.CheckpointEvery, long.CheckpointPath = 1000, ck
	ext := newRunner(t, long)
	if err := ext.LoadCheckpoint(ck); err != nil {
		t.Fatal(err)
	}
	recExt, err := ext.Run()
	if err != nil {
		t.Fatal(err)
	}
	a, b := paramsOf(full), paramsOf(ext)
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("param %d[%d]: uninterrupted %g, extended %g", i, j, a[i][j], b[i][j])
			}
		}
	}
	sameCurves(t, recFull, recExt)
	for i := range recFull.Curves {
		if recFull.Curves[i].TrainEvalLoss == 0 || recFull.Curves[i].TrainEvalAccuracy == 0 {
			t.Fatalf("curve point %d has no train-subset evaluation: %+v", i, recFull.Curves[i])
		}
	}
	if len(recExt.ExtendedFrom) != 1 || recExt.ExtendedFrom[0] != 16 || len(recExt.ResumedAt) != 1 || recExt.ResumedAt[0] != 16 {
		t.Fatalf("extended record says extended_from %v, resumed_at %v; want [16], [16]", recExt.ExtendedFrom, recExt.ResumedAt)
	}
	if recFull.ExtendedFrom != nil || recFull.ResumedAt != nil {
		t.Fatalf("uninterrupted record claims extension %v / resumption %v", recFull.ExtendedFrom, recFull.ResumedAt)
	}
	// Without an absolute schedule the horizon cannot change.
	rel := tinyConfig(e, 0)
	rel.Iters, rel.TrainEvalSize = 24, 200
	if err := newRunner(t, rel).LoadCheckpoint(ck); err == nil || !strings.Contains(err.Error(), "lr-decay-every") {
		t.Fatalf("relative schedule accepted a checkpoint made with an absolute one: %v", err)
	}
}

// cancelWriter cancels a context on its first write: the first progress
// line, printed after the first evaluation.
type cancelWriter struct{ cancel func() }

func (w cancelWriter) Write(p []byte) (int, error) { w.cancel(); return len(p), nil }

// A cancelled run stops at a step boundary, writes its checkpoint and
// says it was interrupted; resuming it gives the uninterrupted result.
func TestRunContextInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	e := inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.2}
	full := newRunner(t, tinyConfig(e, 0))
	recFull, err := full.Run()
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(e, 0)
	c.CheckpointEvery, c.CheckpointPath = 100, filepath.Join(t.TempDir(), "ck")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Progress = cancelWriter{cancel}
	first := newRunner(t, c)
	rec, err := first.RunContext(ctx)
	if !errors.Is(err, ErrInterrupted) || rec == nil {
		t.Fatalf("RunContext after cancel: %v, record %v", err, rec != nil)
	}
	if rec.Status != StatusInterrupted || rec.StoppedAt != c.EvalEvery || len(rec.Curves) != 1 || rec.FormatVersion != RecordVersion {
		t.Errorf("interrupted record: status %q, stopped at %d, %d curve points, format %d", rec.Status, rec.StoppedAt, len(rec.Curves), rec.FormatVersion)
	}
	if first.Iter != c.EvalEvery {
		t.Fatalf("stopped at iteration %d, want %d (the first step boundary after the cancel)", first.Iter, c.EvalEvery)
	}
	info, err := PeekCheckpoint(c.CheckpointPath)
	if err != nil || info.Iter != c.EvalEvery || info.Iters != c.Iters {
		t.Fatalf("checkpoint after interrupt: %+v, %v", info, err)
	}
	c.Progress = nil
	second := newRunner(t, c)
	if err := second.LoadCheckpoint(c.CheckpointPath); err != nil {
		t.Fatal(err)
	}
	recRes, err := second.Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(recRes.Curves) != len(recFull.Curves) || recRes.TestLoss != recFull.TestLoss || recRes.TrainLoss != recFull.TrainLoss {
		t.Fatalf("resumed run differs: loss %v/%v vs %v/%v", recRes.TestLoss, recRes.TrainLoss, recFull.TestLoss, recFull.TrainLoss)
	}
	// A checkpoint is refused under a setting that changes the run.
	bad := c
	bad.LR = 2 * recFull.LR
	if err := newRunner(t, bad).LoadCheckpoint(c.CheckpointPath); err == nil || !strings.Contains(err.Error(), "was made with lr 0.000527, this run has lr 0.001054") {
		t.Fatalf("resume with another learning rate: %v", err)
	}
	long := c
	long.Iters = 48
	if err := newRunner(t, long).LoadCheckpoint(c.CheckpointPath); err == nil || !strings.Contains(err.Error(), "iters 48") {
		t.Fatalf("resume with another horizon and a relative schedule: %v", err)
	}
}

func TestTrainEvalSizeTooLarge(t *testing.T) {
	c := tinyConfig(inject.Estimator{}, 0)
	c.TrainEvalSize = 70000
	_, err := NewRunner(c)
	if err == nil || !strings.Contains(err.Error(), "train-eval-size") {
		if err != nil && strings.Contains(err.Error(), "MNIST") {
			t.Skip(err)
		}
		t.Fatalf("train-eval-size beyond the set: %v", err)
	}
}

// A finite blow-up (Adam at lr 1e6: losses near 1e31) stops the run once
// the loss has been above DivergenceFactor·ln(10) for DivergenceEvals
// evaluations in a row, with the record so far marked diverged.
func TestLossBoundStops(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	c := tinyConfig(inject.Estimator{}, 0)
	c.LR, c.EvalEvery = 1e6, 1
	rec, err := newRunner(t, c).Run()
	var lb *LossBoundError
	if !errors.As(err, &lb) || !errors.Is(err, ErrDiverged) || lb.Evals != DivergenceEvals || lb.Bound != DivergenceFactor*math.Log(10) {
		t.Fatalf("err = %v, want a LossBoundError", err)
	}
	if rec == nil || rec.Status != StatusDiverged || len(rec.Curves) < DivergenceEvals || rec.StoppedAt != lb.Iter || rec.StoppedAt >= c.Iters {
		t.Fatalf("record: %+v", rec)
	}
	for _, p := range rec.Curves[len(rec.Curves)-DivergenceEvals:] {
		if !(p.TestLoss > lb.Bound || p.TrainLoss > lb.Bound) {
			t.Errorf("point %+v is below the bound %g", p, lb.Bound)
		}
	}
}

// TestCorrect's per-sample outcomes add up to Evaluate's accuracy, with
// dropout on in training (Predict and Evaluate both run without it) and a
// test set that is not a whole number of batches (300 = 9×32 + 12).
func TestTestCorrectMatchesEvaluate(t *testing.T) {
	c := tinyConfig(inject.Estimator{Mode: inject.Baseline}, 0.2)
	r := newRunner(t, c)
	if _, err := r.Run(); err != nil {
		t.Fatal(err)
	}
	got, err := r.TestCorrect()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != c.TestSize {
		t.Fatalf("%d outcomes, want %d", len(got), c.TestSize)
	}
	right := 0
	for _, ok := range got {
		if ok {
			right++
		}
	}
	_, acc := r.Evaluate()
	if want := int(math.Round(acc * float64(c.TestSize))); right != want {
		t.Fatalf("TestCorrect counts %d right, Evaluate %d", right, want)
	}
	if right == 0 || right == c.TestSize {
		t.Fatalf("%d of %d right: the test says nothing", right, c.TestSize)
	}
	// Twice in a row gives the same outcomes (the iterator is reset).
	again, _ := r.TestCorrect()
	for i := range got {
		if got[i] != again[i] {
			t.Fatalf("sample %d: %v then %v", i, got[i], again[i])
		}
	}
}

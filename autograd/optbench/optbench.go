// Package optbench runs the optimisation experiments of the SPAD paper on
// autograd programs: the ε-success Tables 1–2 and the curves of Figures 3 and 7.
//
// Every run minimises a test function with Adam (learning rate 0.01, β₁ 0.9,
// β₂ 0.999) from an initial point drawn uniformly from the function's search
// domain (autograd.TestFunction.Lo, Hi: Ackley [−5, 5]², Beale [−4.5, 4.5]²,
// Levi [−10, 10]², Schaffer2 [−100, 100]²). Run r of a function starts from
// the same point whatever the estimator, so estimators are compared on paired
// initialisations. All randomness comes from nn/rng keys derived from the
// seed, the function, the estimator and the run number, so results depend on
// neither the number of workers nor the order runs are scheduled in.
package optbench

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"

	"github.com/spadlab/spad/autograd"
	"github.com/spadlab/spad/nn/rng"
)

// Config is one row-column cell of a table: a function minimised with an
// estimator.
type Config struct {
	Function  autograd.TestFunction
	Estimator autograd.Estimator
}

// Settings are the experiment parameters shared by all configurations.
type Settings struct {
	Runs  int    // runs per configuration (paper: 1000)
	Steps int    // Adam steps per run, T (paper: 2000)
	Seed  uint64 // master seed
	// Workers is the number of goroutines; 0 means runtime.NumCPU().
	Workers int
	// Progress, if not nil, is called with the number of runs just
	// completed. It is called from several goroutines.
	Progress func(n int)
}

// DefaultSettings returns the paper's settings: 1000 runs of 2000 steps.
func DefaultSettings() Settings { return Settings{Runs: 1000, Steps: 2000, Seed: 1} }

func (s Settings) validate() error {
	if s.Runs < 1 {
		return fmt.Errorf("optbench: runs must be ≥ 1, got %d", s.Runs)
	}
	if s.Steps < 1 {
		return fmt.Errorf("optbench: steps must be ≥ 1, got %d", s.Steps)
	}
	if s.Workers < 0 {
		return fmt.Errorf("optbench: workers must be ≥ 0, got %d", s.Workers)
	}
	return nil
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// InitialPoint writes into x (of length tf.Dim) the initial point of run
// number run under seed: each coordinate uniform in [tf.Lo, tf.Hi).
func InitialPoint(tf autograd.TestFunction, seed uint64, run int, x []float64) {
	src := rng.New(rng.Key{Seed: seed, Stream: hash("init/" + tf.Name), Draw: uint64(run)})
	for i := range x[:tf.Dim] {
		x[i] = tf.Lo + (tf.Hi-tf.Lo)*src.Float64()
	}
}

// samplerKey is the key of the estimator's random draws in run number run.
func samplerKey(cfg Config, seed uint64, run int) rng.Key {
	return rng.Key{Seed: seed, Stream: hash("estimator/" + cfg.Function.Name + "/" + cfg.Estimator.String()), Draw: uint64(run)}
}

// Run performs s.Runs minimisations of every configuration, spread over
// s.Workers goroutines, and returns f(X_T) − min f, the final excess value,
// indexed by configuration then run.
func Run(cfgs []Config, s Settings) ([][]float64, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	compiled := make([]*autograd.Compiled, len(cfgs))
	for i, cfg := range cfgs {
		if err := cfg.Estimator.Validate(); err != nil {
			return nil, err
		}
		c, err := cfg.Function.Compile()
		if err != nil {
			return nil, err
		}
		compiled[i] = c
	}
	out := make([][]float64, len(cfgs))
	for i := range out {
		out[i] = make([]float64, s.Runs)
	}
	// Jobs are chunks of consecutive runs of one configuration.
	const chunk = 25
	type job struct{ cfg, from, to int }
	var jobs []job
	for i := range cfgs {
		for r := 0; r < s.Runs; r += chunk {
			jobs = append(jobs, job{i, r, min(r+chunk, s.Runs)})
		}
	}
	workers := s.Workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(jobs) {
					return
				}
				j := jobs[k]
				cfg := cfgs[j.cfg]
				smp, _ := autograd.NewSampler(compiled[j.cfg], cfg.Estimator)
				tf := cfg.Function
				opt := autograd.NewAdam(tf.Dim)
				theta, grad := make([]float64, tf.Dim), make([]float64, tf.Dim)
				for r := j.from; r < j.to; r++ {
					InitialPoint(tf, s.Seed, r, theta)
					smp.Reset(samplerKey(cfg, s.Seed, r))
					opt.Reset()
					out[j.cfg][r] = autograd.Minimize(smp, opt, theta, grad, s.Steps, nil) - tf.Min
				}
				if s.Progress != nil {
					s.Progress(j.to - j.from)
				}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// Rate is the ε-success rate of one configuration (Definition 4: a run
// succeeds when f(X_T) − min f < ε), with its 95% Wilson score interval.
type Rate struct {
	Function, Estimator string
	Successes, Runs     int
	Rate, Low, High     float64
}

// Wilson returns the 95% Wilson score interval of a binomial proportion with
// k successes out of n trials.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// Rates counts the ε-successes of the excess values returned by Run. A NaN
// final value counts as a failure.
func Rates(cfgs []Config, excess [][]float64, eps float64) []Rate {
	rates := make([]Rate, len(cfgs))
	for i, cfg := range cfgs {
		k := 0
		for _, d := range excess[i] {
			if d < eps {
				k++
			}
		}
		n := len(excess[i])
		lo, hi := Wilson(k, n)
		rates[i] = Rate{Function: cfg.Function.Name, Estimator: cfg.Estimator.String(),
			Successes: k, Runs: n, Rate: float64(k) / float64(n), Low: lo, High: hi}
	}
	return rates
}

// TableEstimators returns the columns of Tables 1 and 2: the full gradient,
// RAD (one uniformly drawn path, scaled by N; Adam is invariant to that
// constant per-parameter scale up to its ε, so the unscaled variant follows
// the same trajectories), and practical SPAD (Algorithm 2) with k_max = 5 and
// 50 and m candidates (0: all N paths of each parameter, one per branch).
func TableEstimators(m int) []autograd.Estimator {
	return []autograd.Estimator{
		{Kind: autograd.Baseline},
		{Kind: autograd.RAD, Normalize: true},
		{Kind: autograd.SPADPractical, KMax: 5, M: m},
		{Kind: autograd.SPADPractical, KMax: 50, M: m},
	}
}

// Grid returns every (function, estimator) configuration, functions major.
func Grid(fns []autograd.TestFunction, ests []autograd.Estimator) []Config {
	var cfgs []Config
	for _, f := range fns {
		for _, e := range ests {
			cfgs = append(cfgs, Config{Function: f, Estimator: e})
		}
	}
	return cfgs
}

// WriteTable prints rates as a table, one row per function and one column
// per estimator, each cell "rate% [low, high]".
func WriteTable(w io.Writer, title string, rates []Rate) error {
	var fns, ests []string
	cell := map[[2]string]Rate{}
	for _, r := range rates {
		if !contains(fns, r.Function) {
			fns = append(fns, r.Function)
		}
		if !contains(ests, r.Estimator) {
			ests = append(ests, r.Estimator)
		}
		cell[[2]string{r.Function, r.Estimator}] = r
	}
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "function\t%s\t\n", strings.Join(ests, "\t"))
	for _, f := range fns {
		fmt.Fprintf(tw, "%s", f)
		for _, e := range ests {
			r, ok := cell[[2]string{f, e}]
			if !ok {
				fmt.Fprint(tw, "\t-")
				continue
			}
			fmt.Fprintf(tw, "\t%.1f%% [%.1f, %.1f]", 100*r.Rate, 100*r.Low, 100*r.High)
		}
		fmt.Fprintln(tw, "\t")
	}
	return tw.Flush()
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// WriteCSV writes rates as CSV with the header function, estimator,
// successes, runs, rate, ci_low, ci_high (rates and bounds as fractions).
func WriteCSV(w io.Writer, rates []Rate) error {
	if _, err := fmt.Fprintln(w, "function,estimator,successes,runs,rate,ci_low,ci_high"); err != nil {
		return err
	}
	for _, r := range rates {
		if _, err := fmt.Fprintf(w, "%s,%s,%d,%d,%.6f,%.6f,%.6f\n", r.Function, r.Estimator,
			r.Successes, r.Runs, r.Rate, r.Low, r.High); err != nil {
			return err
		}
	}
	return nil
}

// Claim is one of the paper's qualitative claims checked against our rates.
type Claim struct {
	Text string
	Held bool
	// Detail gives the numbers behind the verdict.
	Detail string
}

func find(rates []Rate, fn, est string) (Rate, bool) {
	for _, r := range rates {
		if r.Function == fn && r.Estimator == est {
			return r, true
		}
	}
	return Rate{}, false
}

// CheckClaims evaluates, on the rates of one table, the paper's claims of
// §III-A: on Levi the baseline never succeeds while SPAD (k_max 5 or 50)
// sometimes does, and on Beale SPAD with k_max = 50 beats the baseline (a
// higher rate; whether the 95% intervals separate is reported in Detail).
func CheckClaims(rates []Rate) ([]Claim, error) {
	get := func(fn, est string) (Rate, error) {
		r, ok := find(rates, fn, est)
		if !ok {
			return r, fmt.Errorf("optbench: no rate for %s with %s", fn, est)
		}
		return r, nil
	}
	lb, err1 := get("Levi", "baseline")
	l5, err2 := get("Levi", "SPAD_kmax=5")
	l50, err3 := get("Levi", "SPAD_kmax=50")
	bb, err4 := get("Beale", "baseline")
	b50, err5 := get("Beale", "SPAD_kmax=50")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	sep := "intervals overlap"
	if b50.Low > bb.High {
		sep = "intervals separate"
	} else if bb.Low > b50.High {
		sep = "intervals separate, the other way"
	}
	return []Claim{
		{
			Text:   "Levi: the baseline never succeeds",
			Held:   lb.Successes == 0,
			Detail: fmt.Sprintf("baseline %d/%d", lb.Successes, lb.Runs),
		},
		{
			Text: "Levi: SPAD sometimes succeeds",
			Held: l5.Successes > 0 || l50.Successes > 0,
			Detail: fmt.Sprintf("SPAD_kmax=5 %d/%d, SPAD_kmax=50 %d/%d",
				l5.Successes, l5.Runs, l50.Successes, l50.Runs),
		},
		{
			Text: "Beale: SPAD k_max=50 beats the baseline",
			Held: b50.Rate > bb.Rate,
			Detail: fmt.Sprintf("SPAD_kmax=50 %.1f%% [%.1f, %.1f] vs baseline %.1f%% [%.1f, %.1f]; %s",
				100*b50.Rate, 100*b50.Low, 100*b50.High, 100*bb.Rate, 100*bb.Low, 100*bb.High, sep),
		},
	}, nil
}

// WriteClaims prints one line per claim: "held" or "NOT held", the claim and
// its numbers.
func WriteClaims(w io.Writer, claims []Claim) error {
	for _, c := range claims {
		v := "held    "
		if !c.Held {
			v = "NOT held"
		}
		if _, err := fmt.Fprintf(w, "  %s  %s (%s)\n", v, c.Text, c.Detail); err != nil {
			return err
		}
	}
	return nil
}

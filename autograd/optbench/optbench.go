// Package optbench runs the optimisation experiments of the SPAD paper on
// autograd programs: the ε-success Tables 1–2, the f₁ runs of Figure 3 and
// the k_max sweep of Figure 7, under an explicit, versioned Protocol.
//
// Every run minimises a test function with Adam from an initial point drawn
// uniformly from the function's initial box (a Protocol choice: the paper
// does not state it). Run r of a function starts from the same point
// whatever the estimator, so estimators are compared on paired
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

// Box is the initial-point distribution of a function: each coordinate i
// uniform in [Center[i] − HalfWidth, Center[i] + HalfWidth).
type Box struct {
	Center    []float64
	HalfWidth float64
}

// TextbookBox returns the search domain usually quoted for tf, [tf.Lo,
// tf.Hi]^Dim, as a Box.
func TextbookBox(tf autograd.TestFunction) Box {
	c := make([]float64, tf.Dim)
	for i := range c {
		c[i] = (tf.Lo + tf.Hi) / 2
	}
	return Box{Center: c, HalfWidth: (tf.Hi - tf.Lo) / 2}
}

// Config is one row-column cell of a table: a function minimised with an
// estimator from initial points drawn in Box (the textbook box when
// Box.Center is nil).
type Config struct {
	Function  autograd.TestFunction
	Estimator autograd.Estimator
	Box       Box
}

// AdamSettings are Adam's hyper-parameters.
type AdamSettings struct {
	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	Eps   float64 `json:"eps"`
}

// PaperAdam returns Adam's default values, which the paper uses: learning
// rate 0.01, β₁ 0.9, β₂ 0.999 (and ε = 1e-8).
func PaperAdam() AdamSettings { return AdamSettings{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

func (a AdamSettings) validate() error {
	switch {
	case !(a.LR > 0) || math.IsInf(a.LR, 0):
		return fmt.Errorf("optbench: Adam lr must be > 0 and finite, got %g", a.LR)
	case !(a.Beta1 >= 0 && a.Beta1 < 1):
		return fmt.Errorf("optbench: Adam beta1 must be in [0, 1), got %g", a.Beta1)
	case !(a.Beta2 >= 0 && a.Beta2 < 1):
		return fmt.Errorf("optbench: Adam beta2 must be in [0, 1), got %g", a.Beta2)
	case !(a.Eps > 0) || math.IsInf(a.Eps, 0):
		return fmt.Errorf("optbench: Adam eps must be > 0 and finite, got %g", a.Eps)
	}
	return nil
}

func (a AdamSettings) new(n int) *autograd.Adam {
	opt := autograd.NewAdam(n)
	opt.LR, opt.Beta1, opt.Beta2, opt.Eps = a.LR, a.Beta1, a.Beta2, a.Eps
	return opt
}

// MaxSteps bounds Settings.Steps (and the f₁ steps): it keeps traces and
// run times within reason.
const MaxSteps = 1_000_000

// MaxRuns bounds Settings.Runs.
const MaxRuns = 1_000_000

// Settings are the experiment parameters shared by all configurations.
type Settings struct {
	Runs  int    // runs per configuration (paper: 1000)
	Steps int    // Adam steps per run, T (paper: 2000)
	Seed  uint64 // master seed
	// Adam holds the optimiser's settings; the zero value means PaperAdam.
	Adam AdamSettings
	// Workers is the number of goroutines; 0 means runtime.NumCPU().
	Workers int
	// Progress, if not nil, is called with the number of runs just
	// completed. It is called from several goroutines.
	Progress func(n int)
}

// DefaultSettings returns the paper's settings: 1000 runs of 2000 steps.
func DefaultSettings() Settings {
	return Settings{Runs: 1000, Steps: 2000, Seed: 1, Adam: PaperAdam()}
}

func (s Settings) adam() AdamSettings {
	if s.Adam == (AdamSettings{}) {
		return PaperAdam()
	}
	return s.Adam
}

func (s Settings) validate() error {
	if s.Runs < 1 || s.Runs > MaxRuns {
		return fmt.Errorf("optbench: runs must be in [1, %d], got %d", MaxRuns, s.Runs)
	}
	if s.Steps < 1 || s.Steps > MaxSteps {
		return fmt.Errorf("optbench: steps must be in [1, %d], got %d", MaxSteps, s.Steps)
	}
	if s.Workers < 0 {
		return fmt.Errorf("optbench: workers must be ≥ 0, got %d", s.Workers)
	}
	return s.adam().validate()
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// InitialPoint writes into x (of length tf.Dim) the initial point of run
// number run under seed: each coordinate uniform in the box. The unit draws
// depend on the seed, the function's name and the run only, so boxes of
// different sizes scale the same draws.
func InitialPoint(tf autograd.TestFunction, box Box, seed uint64, run int, x []float64) {
	if box.Center == nil {
		box = TextbookBox(tf)
	}
	src := rng.New(rng.Key{Seed: seed, Stream: hash("init/" + tf.Name), Draw: uint64(run)})
	for i := range x[:tf.Dim] {
		x[i] = box.Center[i] + box.HalfWidth*(2*src.Float64()-1)
	}
}

// SamplerKey is the key of the estimator's random draws in run number run
// of configuration cfg: Run resets the run's sampler with it.
func SamplerKey(cfg Config, seed uint64, run int) rng.Key {
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
		if b := cfg.Box; b.Center != nil && (len(b.Center) != cfg.Function.Dim || !(b.HalfWidth >= 0) || math.IsInf(b.HalfWidth, 0)) {
			return nil, fmt.Errorf("optbench: %s: bad initial box %v ± %g", cfg.Function.Name, b.Center, b.HalfWidth)
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
	workers = min(workers, len(jobs)) // no idle goroutines, whatever is asked
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
				opt := s.adam().new(tf.Dim)
				theta, grad := make([]float64, tf.Dim), make([]float64, tf.Dim)
				for r := j.from; r < j.to; r++ {
					InitialPoint(tf, cfg.Box, s.Seed, r, theta)
					smp.Reset(SamplerKey(cfg, s.Seed, r))
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
	Function string
	// Estimator is the estimator's table column (autograd.Estimator.Column),
	// Reading "per-path" or "per-node" ("" for the baseline), Est the
	// estimator itself.
	Estimator, Reading string
	Est                autograd.Estimator
	Successes, Runs    int
	Rate, Low, High    float64
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
		rates[i] = Rate{Function: cfg.Function.Name, Estimator: cfg.Estimator.Column(),
			Reading: readingOf(cfg.Estimator), Est: cfg.Estimator,
			Successes: k, Runs: n, Rate: float64(k) / float64(n), Low: lo, High: hi}
	}
	return rates
}

// readingOf returns the reading's name, "" for the baseline.
func readingOf(e autograd.Estimator) string {
	if e.Kind == autograd.Baseline {
		return ""
	}
	return e.Reading.String()
}

// TableEstimators returns the columns of Tables 1 and 2 under a reading:
// the full gradient, RAD (one uniformly drawn path or branch, scaled by N or
// b when scaled is set; Adam is invariant to a constant per-parameter scale
// up to its ε, so on the table functions the unscaled variant follows almost
// the same trajectories), and practical SPAD (Algorithm 2) with each k_max
// of kmaxes and m candidates (0: all of them, one per branch).
func TableEstimators(r autograd.Reading, scaled bool, kmaxes []int, m int) []autograd.Estimator {
	ests := []autograd.Estimator{
		{Kind: autograd.Baseline},
		{Kind: autograd.RAD, Normalize: scaled, Reading: r},
	}
	for _, k := range kmaxes {
		ests = append(ests, autograd.Estimator{Kind: autograd.SPADPractical, KMax: k, M: m, Reading: r})
	}
	return ests
}

// Grid returns every (function, estimator) configuration, functions major,
// with the textbook boxes.
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

// CSVHeader is the header line of WriteCSV.
const CSVHeader = "function,reading,estimator,successes,runs,rate,ci_low,ci_high,paper,paper_inside,protocol"

// WriteCSV writes rates as CSV with the header CSVHeader (rates and bounds
// as fractions). paper gives the paper's value of a cell (see PaperCell; nil
// for none): the paper column holds it, or is empty, and paper_inside says
// whether it lies in the rate's 95% interval. protocol names the protocol
// that produced the rates (recorded on every line).
func WriteCSV(w io.Writer, rates []Rate, paper func(fn, column string) (float64, bool), protocol string) error {
	if _, err := fmt.Fprintln(w, CSVHeader); err != nil {
		return err
	}
	for _, r := range rates {
		pv, inside := "", ""
		if paper != nil {
			if v, ok := paper(r.Function, r.Estimator); ok {
				pv = fmt.Sprintf("%.4f", v)
				inside = fmt.Sprint(r.Low <= v && v <= r.High)
			}
		}
		if _, err := fmt.Fprintf(w, "%s,%s,%s,%d,%d,%.6f,%.6f,%.6f,%s,%s,%s\n", r.Function, r.Reading, r.Estimator,
			r.Successes, r.Runs, r.Rate, r.Low, r.High, pv, inside, protocol); err != nil {
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

// find returns the rate of function fn whose estimator satisfies match.
func find(rates []Rate, fn string, match func(autograd.Estimator) bool) (Rate, bool) {
	for _, r := range rates {
		if r.Function == fn && match(r.Est) {
			return r, true
		}
	}
	return Rate{}, false
}

func isKind(k autograd.Kind) func(autograd.Estimator) bool {
	return func(e autograd.Estimator) bool { return e.Kind == k }
}

func isSPAD(kmax int) func(autograd.Estimator) bool {
	return func(e autograd.Estimator) bool { return e.Kind == autograd.SPADPractical && e.KMax == kmax }
}

func pct(r Rate) string {
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*r.Rate, 100*r.Low, 100*r.High)
}

// separation describes how the 95% intervals of a and b relate.
func separation(a, b Rate) string {
	switch {
	case a.Low > b.High:
		return "intervals separate"
	case b.Low > a.High:
		return "intervals separate, the other way"
	}
	return "intervals overlap"
}

// CheckClaims evaluates, on the rates of one table under one reading, the
// paper's claims of Section IV-C (its §III-A): on Levi the baseline never
// succeeds while SPAD (k_max 5 or 50) sometimes does, and on Beale SPAD with
// k_max = 50 beats the baseline (a higher rate; whether the 95% intervals
// separate is reported in Detail). The estimators are looked up by kind and
// k_max, whatever their m.
func CheckClaims(rates []Rate) ([]Claim, error) {
	get := func(fn string, match func(autograd.Estimator) bool, what string) (Rate, error) {
		r, ok := find(rates, fn, match)
		if !ok {
			return r, fmt.Errorf("optbench: no rate for %s with %s", fn, what)
		}
		return r, nil
	}
	lb, err1 := get("Levi", isKind(autograd.Baseline), "baseline")
	l5, err2 := get("Levi", isSPAD(5), "SPAD k_max=5")
	l50, err3 := get("Levi", isSPAD(50), "SPAD k_max=50")
	bb, err4 := get("Beale", isKind(autograd.Baseline), "baseline")
	b50, err5 := get("Beale", isSPAD(50), "SPAD k_max=50")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
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
			Text:   "Beale: SPAD k_max=50 beats the baseline",
			Held:   b50.Rate > bb.Rate,
			Detail: fmt.Sprintf("SPAD_kmax=50 %s vs baseline %s; %s", pct(b50), pct(bb), separation(b50, bb)),
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

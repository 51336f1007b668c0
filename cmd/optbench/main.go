// Command optbench runs the SPAD paper's optimisation experiments under an
// explicit protocol: Tables 1–2 (ε-success rates, side by side with the
// paper's cells), Figure 7 (k_max sweep on Beale and Levi) and Figure 3 (f₁
// from x₀ = 5: single-seed curves and escape rates over many seeds).
//
// Every choice the paper leaves open — initial boxes, function
// formulations, T, runs, Adam, ε, k_max, m, the estimator reading
// (per tupling node or per path), seeds — is a field of a versioned JSON
// protocol (-protocol NAME or FILE; the built-in "calibrated" by default,
// whose boxes were calibrated on the paper's baseline column only). Flags
// override single fields; every output records the protocol it ran
// (name@hash, and protocol.json with -out). -calibrate recalibrates the
// boxes and prints the new protocol. Bad flags or protocol values: one-line
// error, exit 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/spadlab/spad/autograd"
	"github.com/spadlab/spad/autograd/optbench"
)

type options struct {
	proto                   optbench.Protocol
	protoArg                string
	workers                 int
	out                     string
	sweep, f1, tables       bool
	calibrate, showProtocol bool
	calibIters              int
	figExt                  string

	// -expr mode.
	expr              string
	x0                []float64
	target, halfWidth float64
	parsed            *autograd.Expr
}

func parseInts(flagName, s string) ([]int, error) {
	var ks []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive integer", flagName, f)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

func parseFloats(flagName, s string) ([]float64, error) {
	var xs []float64
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("-%s: %q is not a number", flagName, f)
		}
		xs = append(xs, x)
	}
	return xs, nil
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("optbench", flag.ContinueOnError)
	fs.StringVar(&o.protoArg, "protocol", optbench.DefaultProtocolName,
		"protocol: a built-in name ("+strings.Join(optbench.BuiltinProtocols(), ", ")+") or a JSON file")
	runs := fs.Int("runs", 0, "override the protocol's runs per configuration")
	steps := fs.Int("steps", 0, "override the protocol's Adam steps per run (T)")
	seed := fs.Uint64("seed", 0, "override the protocol's master seed")
	m := fs.Int("m", 0, "override SPAD's candidates per selection (0: all branches/paths)")
	lr := fs.Float64("lr", 0, "override Adam's learning rate")
	readings := fs.String("readings", "", "override the estimator readings: per-node, per-path or both, comma-separated")
	radScaled := fs.Bool("rad-scaled", true, "override whether RAD scales its sample by 1/p (-rad-scaled=false: unscaled; unset: the protocol's rad_scaled)")
	kmax := fs.String("kmax", "", "override the tables' SPAD k_max values, comma-separated")
	kv := fs.String("kmax-values", "", "override the sweep's k_max values, comma-separated")
	succ := fs.String("success-eps", "", "override the tables' ε values, comma-separated")
	exact := fs.String("spad-exact-eps", "", "add exact SPAD columns with these exploration ε, comma-separated (\"\" for none)")
	x0 := fs.String("x0", "", "starting point: f1's (one value), or -expr's (one value per variable, comma-separated)")
	f1lrs := fs.String("f1-lrs", "", "override f1's Adam learning rates, comma-separated")
	f1seeds := fs.Int("f1-seeds", 0, "override the number of seeds of f1's escape rates")
	f1steps := fs.Int("f1-steps", 0, "override f1's steps")
	f1hold := fs.Int("f1-hold", 0, "override k_max of f1's held random selection")
	fs.IntVar(&o.workers, "workers", 0, "goroutines running the runs (0: one per CPU)")
	fs.StringVar(&o.out, "out", "", "directory for protocol.json, table1.csv, table2.csv, sweep.csv, f1_escape.csv and the figures")
	fs.StringVar(&o.figExt, "fig", "png", "figure format: png or svg")
	fs.BoolVar(&o.sweep, "kmax-sweep", false, "run Figure 7: ε-success of SPAD against k_max on the sweep functions")
	fs.BoolVar(&o.f1, "f1", false, "run Figure 3: f1 from x0 with the full gradient, random selection (fresh and held) and g_{x,1}, g_{x,2}")
	fs.BoolVar(&o.tables, "tables", true, "run Tables 1 and 2 (on by default unless -kmax-sweep, -f1 or -calibrate is given)")
	fs.BoolVar(&o.calibrate, "calibrate", false, "calibrate the initial boxes on the paper's Table 1 baseline column and print the protocol")
	fs.IntVar(&o.calibIters, "calibrate-iters", 16, "bisection steps per function of -calibrate")
	fs.BoolVar(&o.showProtocol, "show-protocol", false, "print the protocol (after overrides) as JSON and exit")
	fs.StringVar(&o.expr, "expr", "", "minimise this expression instead (e.g. 'x*x*(2+cos(4*x))'; variables, + - * / ^, sin cos exp log sqrt abs, pi, e, bindings 'a = ...;')")
	fs.Float64Var(&o.target, "target", math.NaN(), "-expr: the known minimum value; prints the ε-success rates (ε: the protocol's success_eps)")
	fs.Float64Var(&o.halfWidth, "half-width", 1, "-expr without -x0: initial points uniform in [-h, h] per variable")
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "Usage: optbench [flags]\n\nRuns Tables 1-2 and Figures 3 and 7 of the SPAD paper under a protocol.\n\nFlags:\n")
		fs.PrintDefaults()
		return o, err
	}
	if err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["tables"] && (o.sweep || o.f1 || o.calibrate || o.expr != "") {
		o.tables = false
	}
	if o.workers < 0 {
		return o, fmt.Errorf("-workers must be ≥ 0, got %d", o.workers)
	}
	if o.calibIters < 0 || o.calibIters > 60 {
		return o, fmt.Errorf("-calibrate-iters must be in [0, 60], got %d", o.calibIters)
	}
	if o.figExt != "png" && o.figExt != "svg" {
		return o, fmt.Errorf("-fig must be png or svg, got %q", o.figExt)
	}
	p, err := optbench.LoadProtocol(o.protoArg)
	if err != nil {
		return o, err
	}
	// Overrides, each checked by the protocol's validation below.
	if set["runs"] {
		p.Runs = *runs
	}
	if set["steps"] {
		p.Steps = *steps
	}
	if set["seed"] {
		p.Seed = *seed
	}
	if set["m"] {
		p.M = *m
	}
	if set["lr"] {
		p.Adam.LR = *lr
	}
	if set["rad-scaled"] {
		p.RADScaled = *radScaled
	}
	if set["readings"] {
		p.Readings = nil
		for _, r := range strings.Split(*readings, ",") {
			p.Readings = append(p.Readings, strings.TrimSpace(r))
		}
	}
	if set["kmax"] {
		if p.KMax, err = parseInts("kmax", *kmax); err != nil {
			return o, err
		}
	}
	if set["kmax-values"] {
		if p.Sweep.KMax, err = parseInts("kmax-values", *kv); err != nil {
			return o, err
		}
	}
	if set["success-eps"] {
		if p.SuccessEps, err = parseFloats("success-eps", *succ); err != nil {
			return o, err
		}
	}
	if set["spad-exact-eps"] {
		p.SPADExactEps = nil
		if *exact != "" {
			if p.SPADExactEps, err = parseFloats("spad-exact-eps", *exact); err != nil {
				return o, err
			}
		}
	}
	if set["x0"] {
		if o.x0, err = parseFloats("x0", *x0); err != nil {
			return o, err
		}
		for _, v := range o.x0 {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return o, fmt.Errorf("-x0: %g is not finite", v)
			}
		}
		if o.expr == "" {
			if len(o.x0) != 1 {
				return o, fmt.Errorf("-x0: f1 has one variable, got %d values", len(o.x0))
			}
			p.F1.X0 = o.x0[0]
		}
	}
	if set["f1-lrs"] {
		if p.F1.LRs, err = parseFloats("f1-lrs", *f1lrs); err != nil {
			return o, err
		}
	}
	if set["f1-seeds"] {
		p.F1.Seeds = *f1seeds
	}
	if set["f1-steps"] {
		p.F1.Steps = *f1steps
	}
	if set["f1-hold"] {
		p.F1.Hold = *f1hold
	}
	if err := p.Validate(); err != nil {
		return o, fmt.Errorf("protocol %s after flags: %w", o.protoArg, err)
	}
	o.proto = p
	if o.expr != "" {
		if err := o.parseExpr(set); err != nil {
			return o, err
		}
	} else if set["target"] || set["half-width"] {
		return o, errors.New("-target and -half-width apply to -expr only")
	}
	return o, nil
}

func main() {
	o, err := parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "optbench:", err)
		os.Exit(2)
	}
	if err := prepareOut(o.out); err != nil {
		fmt.Fprintln(os.Stderr, "optbench:", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "optbench:", err)
		os.Exit(1)
	}
}

// prepareOut creates the output directory before any work, so that a bad
// -out fails at once.
func prepareOut(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("-out %s: not a directory", dir)
	}
	return os.MkdirAll(dir, 0o755)
}

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// settings returns the experiment settings with a progress bar over total
// runs when stdout and stderr (where the bar goes) are terminals, and a
// function finishing the bar.
func settings(o options, total int, what string) (optbench.Settings, func()) {
	s := o.proto.Settings()
	s.Workers = o.workers
	if !isTerminal(os.Stdout) || !isTerminal(os.Stderr) {
		return s, func() {}
	}
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what), progressbar.OptionClearOnFinish(),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true))
	s.Progress = func(n int) { bar.Add(n) }
	return s, func() { bar.Finish() }
}

func writeFile(dir, name string, write func(io.Writer) error) error {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func run(o options, w io.Writer) error {
	p := o.proto
	if o.showProtocol {
		_, err := w.Write(p.JSON())
		return err
	}
	fmt.Fprintf(w, "protocol %s (%s): %d runs × %d steps, Adam lr %g, readings %s, seed %d\n",
		p.ID(), o.protoArg, p.Runs, p.Steps, p.Adam.LR, strings.Join(p.Readings, "+"), p.Seed)
	if o.out != "" {
		if err := writeFile(o.out, "protocol.json", func(f io.Writer) error { _, err := f.Write(p.JSON()); return err }); err != nil {
			return err
		}
	}
	if o.expr != "" {
		if err := runExpr(o, w); err != nil {
			return err
		}
	}
	if o.calibrate {
		if err := runCalibrate(o, w); err != nil {
			return err
		}
	}
	if o.tables {
		if err := runTables(o, w); err != nil {
			return err
		}
	}
	if o.sweep {
		if err := runSweep(o, w); err != nil {
			return err
		}
	}
	if o.f1 {
		if err := runF1(o, w); err != nil {
			return err
		}
	}
	return nil
}

func runCalibrate(o options, w io.Writer) error {
	start := time.Now()
	name := o.proto.Name
	if !strings.HasPrefix(name, "calibrated") {
		name = "calibrated-from-" + name
	}
	fmt.Fprintf(w, "\nCalibration of the initial boxes on the paper's Table 1 baseline column (baseline runs only)\n")
	cp, err := optbench.CalibrateProtocol(o.proto, name, 1, o.calibIters, o.workers, func(r optbench.CalibrationRecord) {
		fmt.Fprintf(w, "  %-10s target %5.1f%%  half-width %-10.6g rate %5.1f%%  (%d evaluations)\n",
			r.Function, 100*r.Target, r.HalfWidth, 100*r.Rate, r.Iterations)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "calibrated in %.1f s; protocol %s:\n", time.Since(start).Seconds(), cp.ID())
	if _, err := w.Write(cp.JSON()); err != nil {
		return err
	}
	if o.out != "" {
		return writeFile(o.out, "protocol-calibrated.json", func(f io.Writer) error { _, err := f.Write(cp.JSON()); return err })
	}
	return nil
}

func runTables(o options, w io.Writer) error {
	p := o.proto
	cfgs := p.TableConfigs()
	s, done := settings(o, len(cfgs)*p.Runs, "tables")
	start := time.Now()
	excess, err := optbench.Run(cfgs, s)
	done()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for i, eps := range p.SuccessEps {
		table := i + 1
		rates := optbench.Rates(cfgs, excess, eps)
		var paper func(fn, col string) (float64, bool)
		if table <= 2 && eps == []float64{0.05, 0.01}[i] {
			paper = optbench.PaperLookup(table)
		}
		for _, r := range p.ReadingList() {
			rr := optbench.FilterReading(rates, r)
			title := fmt.Sprintf("\nTable %d, %s reading: ε-success rate, ε = %g (%d runs × %d Adam steps; 95%% Wilson intervals)",
				table, r, eps, p.Runs, p.Steps)
			if paper != nil {
				cells := optbench.SideBySide(table, rr)
				if err := optbench.WriteSideBySide(w, title, cells); err != nil {
					return err
				}
				if o.out != "" {
					path := filepath.Join(o.out, fmt.Sprintf("table%d_vs_paper_%s.%s", table, r, o.figExt))
					t := fmt.Sprintf("Table %d (ε = %g), %s reading, protocol %s", table, eps, r, p.Name)
					if err := optbench.PlotSideBySide(path, t, cells); err != nil {
						return err
					}
				}
				// Columns the paper does not have.
				var extra []optbench.Rate
				for _, x := range rr {
					if _, ok := paper(x.Function, x.Estimator); !ok {
						extra = append(extra, x)
					}
				}
				if len(extra) > 0 {
					if err := optbench.WriteTable(w, "Columns the paper does not have:", extra); err != nil {
						return err
					}
				}
			} else if err := optbench.WriteTable(w, title, rr); err != nil {
				return err
			}
			claims, err := optbench.CheckClaims(rr)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "Paper's claims (Section IV-C):")
			optbench.WriteClaims(w, claims)
		}
		if o.out != "" {
			name := fmt.Sprintf("table%d.csv", table)
			if err := writeFile(o.out, name, func(f io.Writer) error { return optbench.WriteCSV(f, rates, paper, p.ID()) }); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(w, "\n%d configurations × %d runs × %d steps in %.2f s\n", len(cfgs), p.Runs, p.Steps, elapsed.Seconds())
	return nil
}

func runSweep(o options, w io.Writer) error {
	p := o.proto
	cfgs := p.SweepConfigs()
	if len(cfgs) == 0 {
		return errors.New("the protocol's sweep has no functions")
	}
	s, done := settings(o, len(cfgs)*p.Runs, "k_max sweep")
	start := time.Now()
	excess, err := optbench.Run(cfgs, s)
	done()
	if err != nil {
		return err
	}
	eps := p.Sweep.SuccessEps
	rates := optbench.Rates(cfgs, excess, eps)
	title := fmt.Sprintf("\nFigure 7: ε-success rate against k_max, ε = %g (%d runs × %d Adam steps; 95%% Wilson intervals)",
		eps, p.Runs, p.Steps)
	if err := writeSweep(w, title, rates); err != nil {
		return err
	}
	fmt.Fprintln(w, "Paper's claims (Figure 7):")
	optbench.WriteClaims(w, optbench.SweepClaims(rates))
	fmt.Fprintf(w, "%d configurations in %.2f s\n", len(cfgs), time.Since(start).Seconds())
	if o.out != "" {
		if err := writeFile(o.out, "sweep.csv", func(f io.Writer) error { return optbench.WriteCSV(f, rates, nil, p.ID()) }); err != nil {
			return err
		}
		for _, fn := range p.Sweep.Functions {
			path := filepath.Join(o.out, "fig7_"+strings.ToLower(fn)+"."+o.figExt)
			if err := optbench.PlotSweep(path, fn, eps, rates); err != nil {
				return err
			}
		}
	}
	return nil
}

func runF1(o options, w io.Writer) error {
	p := o.proto
	f := p.F1
	var csv strings.Builder
	csv.WriteString("lr,gradient,global,below_full,runs,global_rate,global_low,global_high,below_rate,below_low,below_high,median_f1,protocol\n")
	for _, lr := range f.LRs {
		adam := p.Adam
		adam.LR = lr
		traces, err := optbench.F1Traces(f.X0, f.Steps, adam, f.Hold, p.RADScaled, p.Seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nFigure 3: f1(x) = x²(2 + cos 4x) minimised with Adam (lr %g) from x = %g, %d steps, seed %d\n", lr, f.X0, f.Steps, p.Seed)
		optbench.WriteF1(w, traces)
		fmt.Fprintln(w, "Paper's claims (Figure 3), this seed:")
		optbench.WriteClaims(w, optbench.F1Claims(traces))
		esc, err := optbench.F1Escapes(f.X0, f.Steps, adam, f.Hold, p.RADScaled, p.Seed, f.Seeds, f.SuccessEps)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Escapes over %d seeds (global minimum: f1(x_T) < %g; 95%% Wilson intervals):\n", f.Seeds, f.SuccessEps)
		optbench.WriteEscapes(w, esc)
		for _, e := range esc {
			glo, ghi := optbench.Wilson(e.Global, e.Runs)
			blo, bhi := optbench.Wilson(e.Below, e.Runs)
			fmt.Fprintf(&csv, "%g,%s,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%s\n", lr, e.Label, e.Global, e.Below, e.Runs,
				float64(e.Global)/float64(e.Runs), glo, ghi, float64(e.Below)/float64(e.Runs), blo, bhi, e.MedianF, p.ID())
		}
		if o.out != "" {
			path := filepath.Join(o.out, fmt.Sprintf("fig3_f1_lr%g.%s", lr, o.figExt))
			title := fmt.Sprintf("f1(x) = x²(2 + cos 4x), Adam lr %g from x = %g (seed %d)", lr, f.X0, p.Seed)
			if err := optbench.PlotF1(path, title, traces); err != nil {
				return err
			}
		}
	}
	if o.out != "" {
		return writeFile(o.out, "f1_escape.csv", func(fw io.Writer) error { _, err := io.WriteString(fw, csv.String()); return err })
	}
	return nil
}

// writeSweep prints the sweep as a table with one row per estimator and one
// column per function.
func writeSweep(w io.Writer, title string, rates []optbench.Rate) error {
	// Transpose: the table writer puts functions in rows.
	t := make([]optbench.Rate, len(rates))
	for i, r := range rates {
		t[i] = r
		t[i].Function, t[i].Estimator = r.Est.String(), r.Function
	}
	return optbench.WriteTable(w, title, t)
}

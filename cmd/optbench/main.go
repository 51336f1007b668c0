// Command optbench reproduces the SPAD paper's optimisation experiments:
// Tables 1–2 (ε-success rates), Figure 7 (k_max sweep) and Figure 3 (f₁).
//
// By default it prints Tables 1 and 2: Ackley, Beale, Levi and Schaffer2
// minimised with Adam (lr 0.01, β₁ 0.9, β₂ 0.999) for -steps steps from -runs
// initial points drawn uniformly from each function's search domain (Ackley
// [−5, 5]², Beale [−4.5, 4.5]², Levi [−10, 10]², Schaffer2 [−100, 100]²),
// with the full gradient, RAD and practical SPAD (k_max 5 and 50), each rate
// with its 95% Wilson interval. -kmax-sweep prints Figure 7's curves for
// Beale and Levi, -f1 Figure 3's runs from x = 5 (either replaces the tables
// unless -tables is also given). With -out DIR it writes table1.csv,
// table2.csv, sweep.csv and the figures as PNG files.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	runs, steps, workers, m int
	seed                    uint64
	out                     string
	sweep, f1, tables       bool
	kmaxes                  []int
}

func parseInts(s string) ([]int, error) {
	var ks []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("-kmax-values: %q is not a positive integer", f)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("optbench", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 1000, "runs per configuration, each from its own seeded initial point")
	fs.IntVar(&o.steps, "steps", 2000, "Adam steps per run (T)")
	fs.Uint64Var(&o.seed, "seed", 1, "master seed; initial points and path draws derive from it")
	fs.IntVar(&o.workers, "workers", 0, "goroutines running the runs (0: one per CPU)")
	fs.IntVar(&o.m, "m", 0, "SPAD candidate paths per selection (0: all N paths of each parameter)")
	fs.StringVar(&o.out, "out", "", "directory for table1.csv, table2.csv, sweep.csv and the PNG figures")
	fs.BoolVar(&o.sweep, "kmax-sweep", false, "print Figure 7: ε-success (ε = 0.05) of SPAD against k_max on Beale and Levi")
	fs.BoolVar(&o.f1, "f1", false, "print Figure 3: f1 minimised from x = 5 with the full gradient, random paths, g_{x,1} and g_{x,2}")
	fs.BoolVar(&o.tables, "tables", true, "print Tables 1 and 2 (on by default unless -kmax-sweep or -f1 is given)")
	kv := fs.String("kmax-values", "1,2,5,10,20,50,100,200,500,1000,2000", "comma-separated k_max values of the sweep")
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "Usage: optbench [flags]\n\nReproduces Tables 1-2 and Figures 3 and 7 of the SPAD paper.\n\nFlags:\n")
		fs.PrintDefaults()
		return o, err
	}
	if err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	explicitTables := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tables" {
			explicitTables = true
		}
	})
	if !explicitTables && (o.sweep || o.f1) {
		o.tables = false
	}
	switch {
	case o.runs < 1:
		return o, fmt.Errorf("-runs must be ≥ 1, got %d", o.runs)
	case o.steps < 1:
		return o, fmt.Errorf("-steps must be ≥ 1, got %d", o.steps)
	case o.workers < 0:
		return o, fmt.Errorf("-workers must be ≥ 0, got %d", o.workers)
	case o.m < 0:
		return o, fmt.Errorf("-m must be ≥ 0, got %d", o.m)
	}
	if o.kmaxes, err = parseInts(*kv); err != nil {
		return o, err
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
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "optbench:", err)
			os.Exit(1)
		}
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "optbench:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// settings returns the experiment settings with a progress bar over total
// runs when stdout and stderr (where the bar goes) are terminals, and a
// function finishing the bar.
func settings(o options, total int, what string) (optbench.Settings, func()) {
	s := optbench.Settings{Runs: o.runs, Steps: o.steps, Seed: o.seed, Workers: o.workers}
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
	if o.tables {
		fns := autograd.TableFunctions()
		cfgs := optbench.Grid(fns, optbench.TableEstimators(o.m))
		s, done := settings(o, len(cfgs)*o.runs, "tables")
		start := time.Now()
		excess, err := optbench.Run(cfgs, s)
		done()
		if err != nil {
			return err
		}
		elapsed := time.Since(start)
		for i, eps := range []float64{0.05, 0.01} {
			rates := optbench.Rates(cfgs, excess, eps)
			title := fmt.Sprintf("\nTable %d: ε-success rate, ε = %g (%d runs × %d Adam steps; 95%% Wilson intervals)",
				i+1, eps, o.runs, o.steps)
			if err := optbench.WriteTable(w, title, rates); err != nil {
				return err
			}
			claims, err := optbench.CheckClaims(rates)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "Paper's claims:")
			optbench.WriteClaims(w, claims)
			if o.out != "" {
				name := fmt.Sprintf("table%d.csv", i+1)
				if err := writeFile(o.out, name, func(f io.Writer) error { return optbench.WriteCSV(f, rates) }); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(w, "\n%d configurations × %d runs × %d steps in %.2f s\n", len(cfgs), o.runs, o.steps, elapsed.Seconds())
	}
	if o.sweep {
		const eps = 0.05
		fns := []autograd.TestFunction{autograd.Beale, autograd.Levi}
		cfgs := optbench.Grid(fns, optbench.SweepEstimators(o.kmaxes, o.m))
		s, done := settings(o, len(cfgs)*o.runs, "k_max sweep")
		start := time.Now()
		excess, err := optbench.Run(cfgs, s)
		done()
		if err != nil {
			return err
		}
		rates := optbench.Rates(cfgs, excess, eps)
		title := fmt.Sprintf("\nFigure 7: ε-success rate against k_max, ε = %g (%d runs × %d Adam steps; 95%% Wilson intervals)",
			eps, o.runs, o.steps)
		if err := writeSweep(w, title, rates); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d configurations in %.2f s\n", len(cfgs), time.Since(start).Seconds())
		if o.out != "" {
			if err := writeFile(o.out, "sweep.csv", func(f io.Writer) error { return optbench.WriteCSV(f, rates) }); err != nil {
				return err
			}
			for _, f := range fns {
				path := filepath.Join(o.out, "fig7_"+strings.ToLower(f.Name)+".png")
				if err := optbench.PlotSweep(path, f.Name, eps, rates, o.kmaxes, o.m); err != nil {
					return err
				}
			}
		}
	}
	if o.f1 {
		traces, err := optbench.F1Traces(5, o.steps, o.seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nFigure 3: f1(x) = x²(2 + cos 4x) minimised with Adam from x = 5, %d steps\n", o.steps)
		optbench.WriteF1(w, traces)
		fmt.Fprintln(w, "Paper's claims:")
		optbench.WriteClaims(w, optbench.F1Claims(traces))
		if o.out != "" {
			if err := optbench.PlotF1(filepath.Join(o.out, "fig3_f1.png"), traces); err != nil {
				return err
			}
		}
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
		t[i].Function, t[i].Estimator = r.Estimator, r.Function
	}
	return optbench.WriteTable(w, title, t)
}

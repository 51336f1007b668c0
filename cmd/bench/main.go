// Command bench runs the memory-versus-accuracy sweeps of the SPAD paper's
// Figure 8 and the performance suite, and turns a sweep into figures and
// summary tables.
//
//	bench sweep  --suite mnist-fig8 [--quick] [--jobs N] [--out DIR] [--iters N]
//	bench status --in DIR
//	bench report --in DIR
//	bench perf   [--min-time 1s] [--only gemm,conv,step]
//
// Run "bench <command> -h" for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/spadlab/spad/bench"
	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
)

// usageError is a bad command line: one line and exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const topUsage = `Usage: bench <command> [flags]

Commands:
  sweep    run a grid of training runs (memory versus accuracy, the paper's Figure 8)
  status   list a sweep's finished, partial (with their iteration) and missing runs
  report   write fig8.png, curves.png, summary.csv and summary.md for a sweep
  perf     print GEMM, convolution and training-step performance

Run "bench <command> -h" for the flags of a command.
`

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "sweep":
		err = sweep(ctx, args[1:], stdout, stderr)
	case "status":
		err = status(args[1:], stdout, stderr)
	case "report":
		err = report(args[1:], stdout, stderr)
	case "perf":
		err = perf(args[1:], stdout, stderr)
	case "run-one": // hidden: the child process of a sweep
		err = bench.RunOne(ctx, stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, topUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown command %q (valid: sweep, status, report, perf)\n", args[0])
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
}

// newFlags returns a flag set that reports errors in one line and prints
// its documentation only for -h.
func newFlags(name, doc string, stderr io.Writer) (*flag.FlagSet, func([]string) error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	parse := func(args []string) error {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stderr, "Usage: bench %s [flags]\n\n%s\nFlags:\n", name, doc)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return err
			}
			return usageError{err.Error()}
		}
		if fs.NArg() > 0 {
			return usageError{fmt.Sprintf("unexpected argument %q (flags start with -)", fs.Arg(0))}
		}
		return nil
	}
	return fs, parse
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const sweepDoc = `Runs every setting of a suite on bootstrap resamples 1..repeats of the
training set, each run in a child process (so that its peak heap is its
own), up to --jobs at once. Each finished run is appended to DIR/runs.jsonl
at once. Every run checkpoints into DIR/checkpoints every --checkpoint-every
iterations; running the same command again skips finished runs and resumes
partial ones from their last checkpoint, bit-identical to an uninterrupted
run with the same thread count. Ctrl-C (or SIGTERM) makes every running run
write its checkpoint before the sweep exits. Runs of suites with an absolute
learning-rate schedule (lr_decay_every) keep their final state in DIR/final,
and --iters with a longer horizon continues them from it. Progress lines of
each run go to DIR/logs/<run>.log. With --report (the default) the figures
and summaries are written to DIR at the end.
`

func sweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("sweep", sweepDoc, stderr)
	var (
		suite     = fs.String("suite", "", "built-in suite: "+strings.Join(bench.SuiteNames(), ", "))
		suiteFile = fs.String("suite-file", "", "suite file (JSON, see bench/suites/) instead of --suite")
		out       = fs.String("out", "", "output directory (default out/bench/<suite>, with -quick appended for --quick)")
		jobs      = fs.Int("jobs", bench.DefaultJobs(), "runs at once; each gets cores/jobs kernel threads (at least 1)")
		quick     = fs.Bool("quick", false, "shrink every run (the suite's quick settings: few iterations, small subsets) for CI")
		doReport  = fs.Bool("report", true, "write the report (figures, summary.csv, summary.md) when the sweep ends")
		data      = fs.String("data", "", "data directory (default: search, see the README)")
		noDL      = fs.Bool("no-download", false, "never download data; fail if it is not found")
		list      = fs.Bool("list", false, "print the runs of the suite and whether they are done, then exit")
		iters     = fs.Int("iters", 0, "horizon of every run instead of the suite's (a longer one continues finished runs of an absolute-schedule suite)")
		ckEvery   = fs.Int("checkpoint-every", bench.DefaultCheckpointEvery, "iterations between a run's checkpoints (0: none)")
	)
	if err := parse(args); err != nil {
		return err
	}
	if (*suite == "") == (*suiteFile == "") {
		return usageError{"give exactly one of --suite NAME or --suite-file PATH"}
	}
	if *jobs < 1 {
		return usageError{fmt.Sprintf("--jobs must be ≥ 1, got %d", *jobs)}
	}
	if *iters < 0 {
		return usageError{fmt.Sprintf("--iters must be ≥ 1, got %d", *iters)}
	}
	if *ckEvery < 0 {
		return usageError{fmt.Sprintf("--checkpoint-every must be ≥ 0, got %d", *ckEvery)}
	}
	if *data != "" {
		if st, err := os.Stat(*data); err != nil || !st.IsDir() {
			return usageError{fmt.Sprintf("--data %s: not a directory", *data)}
		}
	}
	var s *bench.Suite
	var err error
	if *suite != "" {
		s, err = bench.LoadSuite(*suite)
	} else {
		s, err = bench.LoadSuiteFile(*suiteFile)
	}
	if err != nil {
		return usageError{err.Error()}
	}
	if *iters > 0 {
		s.Iters = *iters
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", "bench", s.Label(*quick))
	}
	jl := s.Jobs(*quick, datasets.Options{Dir: *data, NoDownload: *noDL})
	if *list {
		lines, _, _, err := bench.ReadRuns(filepath.Join(dir, bench.RunsFile))
		if err != nil {
			return err
		}
		done := map[string]bool{}
		for _, l := range lines {
			done[l.ID] = true
		}
		for _, j := range jl {
			mark := "todo"
			if done[j.ID] {
				mark = "done"
			}
			fmt.Fprintf(stdout, "%s  %s  %s iters=%d batch=%d lr=%g wd=%g\n", mark, j.ID, j.Config.Estimator, j.Config.Iters, j.Config.Batch, j.Config.LR, j.Config.WD)
		}
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	threads := bench.ThreadsPerRun(*jobs)
	fmt.Fprintf(stdout, "sweep %s: %d runs (%d settings), %d at once with %d kernel thread(s) each, into %s\n",
		s.Label(*quick), len(jl), len(s.Settings), *jobs, threads, filepath.Join(dir, bench.RunsFile))
	every := *ckEvery
	if every == 0 {
		every = -1
	}
	res, err := bench.Sweep(ctx, jl, bench.SweepOptions{
		Dir: dir, Jobs: *jobs, Out: stdout, Terminal: isTerminal(stdout), CheckpointEvery: every,
		Info: &bench.SweepInfo{Suite: s, Quick: *quick},
		Exec: bench.ChildExecutor{Path: self, Args: []string{"run-one"}, LogDir: filepath.Join(dir, "logs")},
	})
	fmt.Fprintf(stdout, "%d runs done now (%d resumed from a checkpoint, %d extended), %d already done, %d failed, in %s\n",
		res.Done, res.Resumed, res.Extended, res.Skipped, res.Failed, res.Wall.Round(time.Second))
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: finished runs are in %s, partial ones checkpointed in %s; run the same command again to resume",
			filepath.Join(dir, bench.RunsFile), filepath.Join(dir, "checkpoints"))
	}
	if err != nil {
		return err
	}
	if *doReport {
		return writeReport(dir, stdout)
	}
	return nil
}

func writeReport(dir string, stdout io.Writer) error {
	s, warn, err := bench.Report(dir)
	if warn != "" {
		fmt.Fprintln(stdout, "warning:", warn)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s", s.Markdown())
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join([]string{
		filepath.Join(dir, "fig8.png"), filepath.Join(dir, "curves.png"),
		filepath.Join(dir, "summary.csv"), filepath.Join(dir, "summary.md")}, ", "))
	return nil
}

const statusDoc = `Lists the runs of the sweep in DIR: finished (with their horizon),
partial (with the iteration of their last checkpoint) and missing, from
DIR/runs.jsonl, DIR/checkpoints and the suite the sweep recorded in
DIR/sweep.json.
`

func status(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("status", statusDoc, stderr)
	in := fs.String("in", "", "sweep directory")
	if err := parse(args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{"--in DIR is required"}
	}
	if st, err := os.Stat(*in); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--in %s: not a directory", *in)}
	}
	sts, err := bench.Status(*in)
	if err != nil {
		return err
	}
	n := map[string]int{}
	for _, st := range sts {
		n[st.State]++
		fmt.Fprintf(stdout, "%-8s %-40s %s\n", st.State, st.ID, st.Detail)
	}
	fmt.Fprintf(stdout, "%d finished, %d partial, %d missing\n", n[bench.StateFinished], n[bench.StatePartial], n[bench.StateMissing])
	return nil
}

const reportDoc = `Reads DIR/runs.jsonl and writes beside it fig8.png (test accuracy versus
memory as a fraction of the baseline's, per run), curves.png (learning
curves per setting), summary.csv and summary.md (mean ± standard deviation
per setting).
`

func report(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("report", reportDoc, stderr)
	in := fs.String("in", "", "sweep directory holding runs.jsonl")
	if err := parse(args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{"--in DIR is required"}
	}
	if st, err := os.Stat(*in); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--in %s: not a directory", *in)}
	}
	return writeReport(*in, stdout)
}

const perfDoc = `Prints one table: SGEMM GFLOP/s per shape and thread count, convolution
GFLOP/s per SmallConvNet layer and pass, and ms, allocations, train heap
and saved bytes per training step for each model and estimator, with the
machine it ran on. Timings are means over at least --min-time per case.
`

func perf(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("perf", perfDoc, stderr)
	var (
		minTime = fs.Duration("min-time", time.Second, "least time measured per case")
		only    = fs.String("only", "gemm,conv,step", "comma-separated parts to run: gemm, conv, step")
		threads = fs.String("threads", "", "comma-separated GEMM thread counts (default 1, powers of two, all cores)")
		mods    = fs.String("models", strings.Join(models.Names(), ","), "comma-separated models of the step benchmarks")
		batch   = fs.Int("batch", 150, "batch size of the step benchmarks")
	)
	if err := parse(args); err != nil {
		return err
	}
	if *minTime <= 0 {
		return usageError{fmt.Sprintf("--min-time must be > 0, got %v", *minTime)}
	}
	if *batch < 1 {
		return usageError{fmt.Sprintf("--batch must be ≥ 1, got %d", *batch)}
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		p = strings.TrimSpace(p)
		if p != "gemm" && p != "conv" && p != "step" {
			return usageError{fmt.Sprintf("--only: unknown part %q (valid: gemm, conv, step)", p)}
		}
		parts[p] = true
	}
	o := bench.PerfOptions{MinTime: *minTime, Batch: *batch}
	if *threads != "" {
		for _, t := range strings.Split(*threads, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(t))
			if err != nil || n < 1 {
				return usageError{fmt.Sprintf("--threads: %q is not a positive integer", t)}
			}
			o.Threads = append(o.Threads, n)
		}
	}
	for _, m := range strings.Split(*mods, ",") {
		m = strings.TrimSpace(m)
		if _, err := models.Get(m); err != nil {
			return usageError{"--models: " + err.Error()}
		}
		o.Models = append(o.Models, m)
	}
	var rows []bench.PerfRow
	if parts["gemm"] {
		rows = append(rows, bench.PerfGEMM(o)...)
	}
	if parts["conv"] {
		rows = append(rows, bench.PerfConv(o)...)
	}
	if parts["step"] {
		r, err := bench.PerfStep(o)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	return bench.WritePerfTable(stdout, bench.Machine(), rows)
}

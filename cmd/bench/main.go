// Command bench runs the memory-versus-accuracy sweeps of the SPAD paper's
// Figure 8 and the performance suite, and turns a sweep into figures and
// summary tables.
//
//	bench sweep   --suite mnist-fig8 [--quick] [--jobs N] [--out DIR] [--iters N]
//	bench list    --suite mnist-fig8 [--quick] [--out DIR]
//	bench run     --suite mnist-fig8 --index I --out DIR
//	bench slurm   --suite cifar-fig9 --out DIR [--partition P --time T --cpus N --submit]
//	bench k8s     --suite cifar-fig9 --out DIR --image IMG --claim PVC
//	bench status  --in DIR
//	bench report  --in DIR
//	bench compare --in DIR --against DIR2
//	bench perf    [--min-time 1s] [--only gemm,conv,step]
//
// Run "bench <command> -h" for every flag.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/spadlab/spad/bench"
	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/train"
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
  list     print a suite's runs with their index (and state, with --out)
  run      run one run of a suite, by index (a job array's task)
  slurm    write (and with --submit, submit) a sweep as a Slurm job array and its report job
  k8s      write a sweep as a Kubernetes Indexed Job manifest
  status   list a sweep's finished, partial (with their iteration) and missing runs
  report   write fig8.png, curves.png, summary.csv and summary.md for a sweep
  compare  check that two sweeps' common runs have bit-identical results
  paired   test whether finished runs' final networks differ in test accuracy (exact McNemar)
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
	case "list":
		err = list(args[1:], stdout, stderr)
	case "run":
		err = runIndex(ctx, args[1:], stdout, stderr)
	case "slurm":
		err = slurm(ctx, args[1:], stdout, stderr)
	case "k8s":
		err = k8s(args[1:], stdout, stderr)
	case "compare":
		err = compare(args[1:], stdout, stderr)
	case "status":
		err = status(args[1:], stdout, stderr)
	case "paired":
		err = paired(args[1:], stdout, stderr)
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
		fmt.Fprintf(stderr, "bench: unknown command %q (valid: sweep, list, run, slurm, k8s, status, report, compare, paired, perf)\n", args[0])
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
// its documentation only for -h. Its parse refuses arguments that are not
// flags.
func newFlags(name, doc string, stderr io.Writer) (*flag.FlagSet, func([]string) error) {
	fs, parseArgs := newFlagsArgs(name, doc, stderr)
	parse := func(args []string) error {
		rest, err := parseArgs(args)
		if err == nil && len(rest) > 0 {
			err = usageError{fmt.Sprintf("unexpected argument %q (flags start with -)", rest[0])}
		}
		return err
	}
	return fs, parse
}

// newFlagsArgs is newFlags for a command with positional arguments: its
// parse returns them, in order, and accepts flags before, between and
// after them.
func newFlagsArgs(name, doc string, stderr io.Writer) (*flag.FlagSet, func([]string) ([]string, error)) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	parse := func(args []string) ([]string, error) {
		var rest []string
		for {
			if err := fs.Parse(args); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					fmt.Fprintf(stderr, "Usage: bench %s [flags]\n\n%s\nFlags:\n", name, doc)
					fs.SetOutput(stderr)
					fs.PrintDefaults()
					fs.SetOutput(io.Discard)
					return nil, err
				}
				return nil, usageError{err.Error()}
			}
			if fs.NArg() == 0 {
				return rest, nil
			}
			rest = append(rest, fs.Arg(0))
			args = fs.Args()[1:]
		}
	}
	return fs, parse
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const sweepDoc = `Runs every setting of a suite on bootstrap resamples 1..repeats of the
training set, each run in a child process (so that its peak heap is its
own), up to --jobs at once. Each finished run is recorded at once in its own
file, DIR/runs/<run>.json (the layout of "bench run", so runs made here and
on a cluster mix; finished runs in DIR/runs.jsonl, written by earlier
versions, count too). Every run checkpoints into DIR/checkpoints every --checkpoint-every
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
		dataMode  = fs.String("data-mode", "auto", dataModeDoc)
		list      = fs.Bool("list", false, "print the runs of the suite and whether they are done, then exit")
		iters     = fs.Int("iters", 0, "horizon of every run instead of the suite's (a longer one continues finished runs of an absolute-schedule suite)")
		repeats   = fs.Int("repeats", 0, "bootstrap repeats of every setting instead of the suite's (more keep the runs done, r1 … rN)")
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
	if *repeats < 0 {
		return usageError{fmt.Sprintf("--repeats must be ≥ 1, got %d", *repeats)}
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
	if *repeats > 0 {
		setRepeats(s, *repeats)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", "bench", s.Label(*quick))
	}
	mode, err := datasets.ParseMode(*dataMode)
	if err != nil {
		return usageError{"--data-mode: " + err.Error()}
	}
	jl := s.Jobs(*quick, datasets.Options{Dir: *data, NoDownload: *noDL, Mode: mode})
	if *list {
		lines, _, err := bench.LoadLines(dir)
		if err != nil && !errors.Is(err, bench.ErrNoRuns) {
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
		s.Label(*quick), len(jl), len(s.Settings), *jobs, threads, filepath.Join(dir, bench.RunsDir))
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
			filepath.Join(dir, bench.RunsDir), filepath.Join(dir, "checkpoints"))
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
DIR/runs (and DIR/runs.jsonl of earlier versions), DIR/checkpoints and the
suite the sweep recorded in DIR/sweep.json.
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

const pairedDoc = `Arguments: REF OTHER... (bench paired --in DIR [flags] REF OTHER...)

Loads the final state of finished run REF and of each OTHER (setting names
of the sweep in DIR, with --repeat, or run IDs), evaluates each network on
the suite's test set and compares it with REF sample by sample: the
accuracies, their difference OTHER − REF with a 95% interval (paired,
normal approximation), the samples only one of the two gets right, and
the two-sided exact McNemar p-value of "equal accuracy", with Holm's
adjustment over the OTHERs. Needs suites that keep final states
(lr_decay_every, e.g. cifar-fig9).

The test is about the trained networks and the test-set sampling only: it
leaves out the run-to-run variation of training, which needs repeats.
`

func paired(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlagsArgs("paired", pairedDoc, stderr)
	in := fs.String("in", "", "sweep directory")
	repeat := fs.Int("repeat", 1, "repeat of the runs named by setting")
	threads := fs.Int("threads", 0, "kernel threads of the evaluation (0: all cores)")
	dataDir := fs.String("data", "", "data directory (default: search, see the README)")
	names, err := parse(args)
	if err != nil {
		return err
	}
	if *in == "" {
		return usageError{"--in DIR is required"}
	}
	if st, err := os.Stat(*in); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--in %s: not a directory", *in)}
	}
	if len(names) < 2 {
		return usageError{"paired needs a reference run and at least one other: bench paired --in DIR REF OTHER..."}
	}
	if *repeat < 1 || *threads < 0 {
		return usageError{"--repeat must be ≥ 1 and --threads ≥ 0"}
	}
	data := datasets.Options{Dir: *dataDir, NoDownload: true}
	res, err := bench.PairedTests(*in, names[0], names[1:], *repeat, *threads, data)
	if err != nil {
		return err
	}
	ps := make([]float64, len(res))
	for i, p := range res {
		ps[i] = p.P
	}
	holm := bench.HolmAdjust(ps)
	fmt.Fprintf(stdout, "Paired on the %d test samples against %s (exact McNemar, two-sided; Holm over %d comparison(s)):\n\n", res[0].N, res[0].A, len(res))
	fmt.Fprintln(stdout, "| run | accuracy (%) | reference (%) | difference (points, 95% interval) | only it right | only reference right | p | Holm p |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, p := range res {
		fmt.Fprintf(stdout, "| %s | %.2f | %.2f | %+.2f [%+.2f, %+.2f] | %d | %d | %.3g | %.3g |\n",
			p.B, 100*p.AccB, 100*p.AccA, 100*p.Diff, 100*p.Lo, 100*p.Hi, p.OnlyB, p.OnlyA, p.P, holm[i])
	}
	for _, p := range res {
		for _, c := range []struct {
			id           string
			now, written float64
		}{{p.A, p.AccA, p.RecordedA}, {p.B, p.AccB, p.RecordedB}} {
			if c.now != c.written {
				fmt.Fprintf(stdout, "note: %s recomputed %.2f%%, recorded %.2f%% (other kernels than in training? SPAD_KERNELS)\n", c.id, 100*c.now, 100*c.written)
			}
		}
	}
	return nil
}

const reportDoc = `Reads the finished runs of DIR (DIR/runs, and DIR/runs.jsonl of earlier
versions) and writes beside them fig8.png (test accuracy versus
memory as a fraction of the baseline's, per run), curves.png (learning
curves per setting), summary.csv and summary.md (mean ± standard deviation
per setting).
`

func report(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("report", reportDoc, stderr)
	in := fs.String("in", "", "sweep directory")
	progress := fs.Bool("progress", false, "a sweep still running: finished runs and, from their checkpoints, partial ones into progress.md and progress-curves.png")
	if err := parse(args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{"--in DIR is required"}
	}
	if st, err := os.Stat(*in); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--in %s: not a directory", *in)}
	}
	if *progress {
		s, warn, err := bench.ReportProgress(*in)
		if warn != "" {
			fmt.Fprintln(stdout, "warning:", warn)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s", s.Markdown())
		fmt.Fprintf(stdout, "wrote %s, %s\n", filepath.Join(*in, "progress.md"), filepath.Join(*in, "progress-curves.png"))
		return nil
	}
	return writeReport(*in, stdout)
}

const perfDoc = `Prints one table: SGEMM GFLOP/s per shape and thread count, convolution
GFLOP/s per SmallConvNet layer and pass, and ms, allocations, train heap
and saved bytes per training step for each model and estimator, with the
machine it ran on. Timings are means over at least --min-time per case.
Every kernel path the machine can run is measured, side by side (the step
benchmarks leave out the pure-Go path when an assembly path exists).
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

const dataModeDoc = "memory (samples held in memory), stream (read from disk per batch: far less resident memory, the same batches bit for bit) or auto (each data set's default: stream)"

// suiteFlags are the flags that choose a suite and its runs, shared by
// list, run, slurm and k8s.
type suiteFlags struct {
	suite, suiteFile, data  *string
	dataMode                *string
	quick, noDL             *bool
	iters, repeats, ckEvery *int
}

func addSuiteFlags(fs *flag.FlagSet) *suiteFlags {
	return &suiteFlags{
		suite:     fs.String("suite", "", "built-in suite: "+strings.Join(bench.SuiteNames(), ", ")),
		suiteFile: fs.String("suite-file", "", "suite file (JSON, see bench/suites/) instead of --suite"),
		quick:     fs.Bool("quick", false, "the suite's quick settings (few iterations, small subsets), for CI"),
		iters:     fs.Int("iters", 0, "horizon of every run instead of the suite's"),
		repeats:   fs.Int("repeats", 0, "bootstrap repeats of every setting instead of the suite's (more keep the runs done, r1 … rN)"),
		data:      fs.String("data", "", "data directory (default: search, see the README)"),
		noDL:      fs.Bool("no-download", false, "never download data; fail if it is not found"),
		dataMode:  fs.String("data-mode", "auto", dataModeDoc),
		ckEvery:   fs.Int("checkpoint-every", bench.DefaultCheckpointEvery, "iterations between a run's checkpoints (0: none)"),
	}
}

// load validates the flags and returns the suite, its runs and the
// arguments that select the same runs in another process (paths made
// absolute).
func (f *suiteFlags) load() (*bench.Suite, []bench.Job, []string, error) {
	if (*f.suite == "") == (*f.suiteFile == "") {
		return nil, nil, nil, usageError{"give exactly one of --suite NAME or --suite-file PATH"}
	}
	if *f.iters < 0 {
		return nil, nil, nil, usageError{fmt.Sprintf("--iters must be ≥ 1, got %d", *f.iters)}
	}
	if *f.ckEvery < 0 {
		return nil, nil, nil, usageError{fmt.Sprintf("--checkpoint-every must be ≥ 0, got %d", *f.ckEvery)}
	}
	if *f.repeats < 0 {
		return nil, nil, nil, usageError{fmt.Sprintf("--repeats must be ≥ 1, got %d", *f.repeats)}
	}
	var args []string
	var s *bench.Suite
	var err error
	if *f.suite != "" {
		s, err = bench.LoadSuite(*f.suite)
		args = append(args, "--suite", *f.suite)
	} else {
		s, err = bench.LoadSuiteFile(*f.suiteFile)
		abs, _ := filepath.Abs(*f.suiteFile)
		args = append(args, "--suite-file", abs)
	}
	if err != nil {
		return nil, nil, nil, usageError{err.Error()}
	}
	if *f.data != "" {
		if st, err := os.Stat(*f.data); err != nil || !st.IsDir() {
			return nil, nil, nil, usageError{fmt.Sprintf("--data %s: not a directory", *f.data)}
		}
		abs, _ := filepath.Abs(*f.data)
		args = append(args, "--data", abs)
	}
	if *f.quick {
		args = append(args, "--quick")
	}
	if *f.iters > 0 {
		s.Iters = *f.iters
		args = append(args, "--iters", strconv.Itoa(*f.iters))
	}
	if *f.repeats > 0 {
		setRepeats(s, *f.repeats)
		args = append(args, "--repeats", strconv.Itoa(*f.repeats))
	}
	if *f.noDL {
		args = append(args, "--no-download")
	}
	mode, err := datasets.ParseMode(*f.dataMode)
	if err != nil {
		return nil, nil, nil, usageError{"--data-mode: " + err.Error()}
	}
	if *f.dataMode != "auto" {
		args = append(args, "--data-mode", *f.dataMode)
	}
	if *f.ckEvery != bench.DefaultCheckpointEvery {
		args = append(args, "--checkpoint-every", strconv.Itoa(*f.ckEvery))
	}
	return s, s.Jobs(*f.quick, datasets.Options{Dir: *f.data, NoDownload: *f.noDL, Mode: mode}), args, nil
}

// loadLauncher parses args with parse, loads the suite as load does and
// checks the launcher's --grace (seconds, ≥ 1; read after parsing): the
// common start of the slurm and k8s commands.
func (f *suiteFlags) loadLauncher(parse func([]string) error, args []string, grace *int) (*bench.Suite, []bench.Job, []string, error) {
	if err := parse(args); err != nil {
		return nil, nil, nil, err
	}
	s, jobs, runArgs, err := f.load()
	if err != nil {
		return nil, nil, nil, err
	}
	if *grace < 1 {
		return nil, nil, nil, usageError{fmt.Sprintf("--grace must be ≥ 1, got %d", *grace)}
	}
	return s, jobs, runArgs, nil
}

// every is the checkpoint cadence as SweepOptions and RunOptions take it.
func (f *suiteFlags) every() int {
	if *f.ckEvery == 0 {
		return -1
	}
	return *f.ckEvery
}

// setRepeats makes every setting of s run on bootstrap resamples 1..n,
// with --quick too.
func setRepeats(s *bench.Suite, n int) {
	s.Repeats = n
	if s.Quick != nil {
		s.Quick.Repeats = n
	}
}

func defaultDir(s *bench.Suite, quick bool) string {
	return filepath.Join("out", "bench", s.Label(quick))
}

const listDoc = `Prints the runs of a suite in order, one per line: the index that
"bench run --index" and the array jobs of "bench slurm" and "bench k8s"
take, the run ID, and with --out the run's state in that sweep directory
(finished, partial or missing, as "bench status" says).
`

func list(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("list", listDoc, stderr)
	sf := addSuiteFlags(fs)
	out := fs.String("out", "", "sweep directory whose state to show")
	if err := parse(args); err != nil {
		return err
	}
	_, jobs, _, err := sf.load()
	if err != nil {
		return err
	}
	state := map[string]bench.RunStatus{}
	if *out != "" {
		if _, err := os.Stat(*out); err == nil {
			sts, err := bench.StatusOf(*out, jobs)
			if err != nil {
				return err
			}
			for _, st := range sts {
				state[st.ID] = st
			}
		}
	}
	for i, j := range jobs {
		line := fmt.Sprintf("%4d  %-40s %-8s iters=%d batch=%d lr=%g wd=%g", i, j.ID, j.Config.Estimator.Mode, j.Config.Iters, j.Config.Batch, j.Config.LR, j.Config.WD)
		if *out != "" {
			st, ok := state[j.ID]
			if !ok {
				st = bench.RunStatus{State: bench.StateMissing, Detail: "not started"}
			}
			line += fmt.Sprintf("  %s: %s", st.State, st.Detail)
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

const runDoc = `Runs run --index of a suite (see "bench list") in this process, the
task of a job array: a run already finished in DIR is skipped, a partial one
resumes from its checkpoint in DIR/checkpoints, and the finished run is
recorded in its own file DIR/runs/<run>.json, written whole and renamed into
place, so that any number of runs of a sweep can execute at once on many
machines sharing DIR. SIGTERM (a scheduler's cancellation, preemption or
requeue) makes the run finish its step and write its checkpoint; running the
same command again continues it, bit-identical to an uninterrupted run with
the same thread count. Progress goes to standard error and DIR/logs/<run>.log.
`

func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("run", runDoc, stderr)
	sf := addSuiteFlags(fs)
	var (
		index   = fs.Int("index", -1, "index of the run in the suite (see bench list)")
		out     = fs.String("out", "", "sweep directory (default out/bench/<suite>, with -quick appended for --quick)")
		threads = fs.Int("threads", defaultThreads(), "kernel threads of the run (default $SLURM_CPUS_PER_TASK, else the number of cores)")
	)
	if err := parse(args); err != nil {
		return err
	}
	s, jobs, _, err := sf.load()
	if err != nil {
		return err
	}
	if *index < 0 {
		return usageError{fmt.Sprintf("--index I is required: 0 to %d (see bench list)", len(jobs)-1)}
	}
	if *index >= len(jobs) {
		return usageError{fmt.Sprintf("--index %d out of range: the suite has %d runs, 0 to %d", *index, len(jobs), len(jobs)-1)}
	}
	if *threads < 1 {
		return usageError{fmt.Sprintf("--threads must be ≥ 1, got %d", *threads)}
	}
	dir := *out
	if dir == "" {
		dir = defaultDir(s, *sf.quick)
	}
	res, err := bench.RunIndex(ctx, jobs, *index, bench.RunOptions{
		Dir: dir, Threads: *threads, CheckpointEvery: sf.every(),
		Info: &bench.SweepInfo{Suite: s, Quick: *sf.quick}, Progress: stderr,
	})
	id := jobs[*index].ID
	switch {
	case errors.Is(err, train.ErrInterrupted):
		return fmt.Errorf("run %s: %v; the same command resumes it", id, err)
	case err != nil:
		return fmt.Errorf("run %s: %v", id, err)
	case res.Skipped:
		fmt.Fprintf(stdout, "%s: finished already (%s)\n", id, bench.RecordPath(dir, id))
		return nil
	}
	how := "from the start"
	switch {
	case res.Extended:
		how = "extended from its final checkpoint"
	case res.Resumed:
		how = fmt.Sprintf("resumed at iteration(s) %v", res.Line.Record.ResumedAt)
	}
	r := res.Line.Record
	fmt.Fprintf(stdout, "%s: %d iterations (%s), test accuracy %.2f%%, test loss %.4f, %.2f ms/iter with %d thread(s); recorded in %s\n",
		id, r.Iters, how, 100*r.TestAccuracy, r.TestLoss, r.MsPerIter, r.Threads, bench.RecordPath(dir, id))
	return nil
}

// defaultThreads is the kernel thread count of a single run: the cores
// Slurm gave the task, else all of this machine's.
func defaultThreads() int {
	if n, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && n > 0 {
		return n
	}
	return bench.ThreadsPerRun(1)
}

// selfPath is this program's path for scripts that other machines run.
func selfPath(given string) (string, error) {
	p := given
	if p == "" {
		var err error
		if p, err = os.Executable(); err != nil {
			return "", err
		}
		if strings.Contains(p, "go-build") {
			return "", usageError{"this program runs from a temporary build (go run): build it (go build -o bench ./cmd/bench) where the nodes can read it, or give --bench PATH"}
		}
	}
	return filepath.Abs(p)
}

const slurmDoc = `Writes DIR/slurm/<suite>-array.sbatch, a Slurm job array with one task
per run of the suite not yet finished in DIR (--array=<indices>%K), each task
running this program's "run --index $SLURM_ARRAY_TASK_ID", and
DIR/slurm/<suite>-report.sbatch, the job that writes the report when the
array has ended (submit it with --dependency=afterany:<array id>). The
tasks read a copy of the suite frozen at submission,
DIR/slurm/<suite>-<hash>.suite.json, so an index keeps meaning one run.
Tasks are requeued when preempted or when their node fails, and near their
time limit they checkpoint and requeue themselves, so runs longer than --time
finish over several allocations; a requeued task resumes from its checkpoint. DIR
and this program must be on a file system the compute nodes share. With
--submit, both are submitted (sbatch --parsable) and their job ids printed.
`

func slurm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("slurm", slurmDoc, stderr)
	sf := addSuiteFlags(fs)
	var (
		out       = fs.String("out", "", "sweep directory on the shared file system (default out/bench/<suite>)")
		partition = fs.String("partition", "", "partition (default: the cluster's)")
		account   = fs.String("account", "", "account to charge")
		tlimit    = fs.String("time", "", "time limit per task, HH:MM:SS or D-HH:MM:SS (default: the partition's)")
		cpus      = fs.Int("cpus", 2, "cores per task (--cpus-per-task), also the run's kernel threads")
		mem       = fs.String("mem", "", "memory per task, e.g. 4G (default: the partition's)")
		maxPar    = fs.Int("max-parallel", 0, "tasks running at once (the array's %K; 0: no limit)")
		grace     = fs.Int("grace", 300, "seconds before the time limit at which a task checkpoints and requeues itself")
		benchPath = fs.String("bench", "", "path of this program on the cluster (default: this executable)")
		submit    = fs.Bool("submit", false, "submit the array and the report job with sbatch and print their job ids")
	)
	s, jobs, runArgs, err := sf.loadLauncher(parse, args, grace)
	if err != nil {
		return err
	}
	self, err := selfPath(*benchPath)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = defaultDir(s, *sf.quick)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	o := bench.SlurmOptions{Bench: self, Dir: dir, RunArgs: runArgs, Label: s.Label(*sf.quick),
		Partition: *partition, Account: *account, Time: *tlimit, Mem: *mem, CPUs: *cpus, MaxParallel: *maxPar, Grace: *grace}
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if o.Indices, err = bench.Unfinished(dir, jobs); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "slurm"), 0o755); err != nil {
		return err
	}
	if err := bench.WriteSweepInfo(dir, bench.SweepInfo{Suite: s, Quick: *sf.quick}); err != nil {
		return err
	}
	// The tasks read a frozen copy of the suite (with --iters and
	// --repeats applied), named by its content, so that an index means the
	// same run however long a task waits in the queue, even if the suite
	// file or this program is changed, or another array is submitted.
	frozen, err := freezeSuite(filepath.Join(dir, "slurm"), o.Label, s)
	if err != nil {
		return err
	}
	o.RunArgs = append([]string{"--suite-file", frozen}, dropArgs(o.RunArgs, "--suite", "--suite-file", "--iters", "--repeats")...)
	arrayPath := filepath.Join(dir, "slurm", o.Label+"-array.sbatch")
	reportPath := filepath.Join(dir, "slurm", o.Label+"-report.sbatch")
	if err := os.WriteFile(reportPath, []byte(o.ReportScript()), 0o755); err != nil {
		return err
	}
	if len(o.Indices) == 0 {
		os.Remove(arrayPath)
		fmt.Fprintf(stdout, "all %d runs of %s are finished in %s; nothing to submit (bench report --in %s)\n", len(jobs), o.Label, dir, dir)
		return nil
	}
	if err := os.WriteFile(arrayPath, []byte(o.ArrayScript()), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d of %d runs to do (array %s), %d core(s) each\nwrote %s\nwrote %s\n",
		o.Label, len(o.Indices), len(jobs), bench.ArrayRanges(o.Indices), o.CPUs, arrayPath, reportPath)
	if !*submit {
		fmt.Fprintf(stdout, "submit with:\n  jid=$(sbatch --parsable %s) && sbatch --dependency=afterany:${jid%%%%;*} %s\n", arrayPath, reportPath)
		return nil
	}
	arrayID, err := sbatch(ctx, arrayPath)
	if err != nil {
		return err
	}
	reportID, err := sbatch(ctx, "--dependency=afterany:"+arrayID, reportPath)
	if err != nil {
		return fmt.Errorf("array job %s submitted, but the report job was not: %v", arrayID, err)
	}
	fmt.Fprintf(stdout, "array job %s (%d tasks), report job %s (after the array)\n", arrayID, len(o.Indices), reportID)
	fmt.Fprintf(stdout, "follow with: squeue -j %s,%s; bench status --in %s\n", arrayID, reportID, dir)
	return nil
}

// freezeSuite writes s to dir/<label>-<content hash>.suite.json (once)
// and returns the path.
func freezeSuite(dir, label string, s *bench.Suite) (string, error) {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	js = append(js, '\n')
	sum := sha256.Sum256(js)
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.suite.json", label, hex.EncodeToString(sum[:6])))
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, js) {
		return path, nil
	}
	return path, train.WriteFileAtomic(path, js)
}

// dropArgs removes from args each flag named in flags with its value.
func dropArgs(args []string, flags ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		drop := false
		for _, f := range flags {
			if args[i] == f {
				drop = true
			}
		}
		if drop {
			i++ // and its value
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// sbatch submits a script and returns the job id.
func sbatch(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "sbatch", append([]string{"--parsable"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("sbatch %s: %s", strings.Join(args, " "), msg)
	}
	return bench.ParseJobID(out.String())
}

const k8sDoc = `Prints a Kubernetes Indexed Job manifest (apply it with kubectl apply -f)
that runs every run of the suite: pod i runs this program's "run --index i"
(JOB_COMPLETION_INDEX) with DIR on a PersistentVolumeClaim mounted in every
pod. Finished runs are skipped at once, partial ones resume from their
checkpoint; evictions and preemptions (SIGTERM, then the grace period to
write the checkpoint) do not count against --retries. When the Job is
complete, run "bench report --in DIR" in a pod that mounts the claim.
`

func k8s(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("k8s", k8sDoc, stderr)
	sf := addSuiteFlags(fs)
	var (
		out       = fs.String("out", "", "sweep directory inside the containers, under --mount (default MOUNT/<suite>)")
		name      = fs.String("name", "", "the Job's name (default spad-<suite>)")
		namespace = fs.String("namespace", "", "namespace (default: the current one)")
		image     = fs.String("image", "", "container image holding the bench program (required)")
		benchPath = fs.String("bench", "/usr/local/bin/bench", "path of the bench program in the image")
		claim     = fs.String("claim", "", "PersistentVolumeClaim holding the sweep directory (required)")
		mount     = fs.String("mount", "/results", "where the claim is mounted")
		cpus      = fs.Int("cpus", 2, "cores per pod, also the run's kernel threads")
		mem       = fs.String("mem", "", "memory per pod (request and limit), e.g. 4Gi")
		maxPar    = fs.Int("max-parallel", 0, "pods running at once (0: all)")
		retries   = fs.Int("retries", 3, "failures of one run before it is given up (evictions do not count)")
		grace     = fs.Int("grace", 120, "seconds between SIGTERM and SIGKILL: time to write the checkpoint")
	)
	s, jobs, runArgs, err := sf.loadLauncher(parse, args, grace)
	if err != nil {
		return err
	}
	label := s.Label(*sf.quick)
	o := bench.K8sOptions{Name: *name, Namespace: *namespace, Image: *image, Bench: *benchPath,
		Claim: *claim, Mount: filepath.Clean(*mount), Dir: *out, RunArgs: runArgs, Runs: len(jobs),
		Parallelism: *maxPar, CPUs: *cpus, Mem: *mem, Retries: *retries, Grace: *grace}
	if o.Name == "" {
		o.Name = "spad-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(label), "-"), "-")
	}
	if o.Dir == "" {
		o.Dir = filepath.Join(o.Mount, label)
	}
	o.Dir = filepath.Clean(o.Dir)
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	_, err = io.WriteString(stdout, o.IndexedJob())
	return err
}

const compareDoc = `Compares the runs that the sweep directories DIR and DIR2 both hold:
their results (learning curves, final losses and accuracies, horizon and
configuration hash) must be bit-identical, as runs with the same
configuration and seeds are wherever they ran (with the same kernel path
and thread count). Runs in only one directory are listed. Exit status 1 if
any run differs or is missing from either.
`

func compare(args []string, stdout, stderr io.Writer) error {
	fs, parse := newFlags("compare", compareDoc, stderr)
	a := fs.String("in", "", "sweep directory")
	b := fs.String("against", "", "sweep directory to compare with")
	if err := parse(args); err != nil {
		return err
	}
	if *a == "" || *b == "" {
		return usageError{"--in DIR and --against DIR2 are required"}
	}
	load := func(dir string) (map[string]bench.Line, []string, error) {
		lines, _, err := bench.LoadLines(dir)
		if err != nil {
			return nil, nil, err
		}
		m := map[string]bench.Line{}
		var ids []string
		for _, l := range lines {
			m[l.ID] = l
			ids = append(ids, l.ID)
		}
		return m, ids, nil
	}
	la, ida, err := load(*a)
	if err != nil {
		return err
	}
	lb, idb, err := load(*b)
	if err != nil {
		return err
	}
	same, bad := 0, 0
	for _, id := range ida {
		y, ok := lb[id]
		if !ok {
			bad++
			fmt.Fprintf(stdout, "only in %s: %s\n", *a, id)
			continue
		}
		if d := resultDiff(la[id], y); d != "" {
			bad++
			fmt.Fprintf(stdout, "DIFFERS %s: %s\n", id, d)
			continue
		}
		same++
	}
	for _, id := range idb {
		if _, ok := la[id]; !ok {
			bad++
			fmt.Fprintf(stdout, "only in %s: %s\n", *b, id)
		}
	}
	fmt.Fprintf(stdout, "%d run(s) bit-identical, %d differing or missing\n", same, bad)
	if bad > 0 {
		return fmt.Errorf("%d run(s) differ or are missing", bad)
	}
	return nil
}

// resultDiff names the first result of two records of one run that
// differs, or returns "". Floating-point figures are compared bit for bit
// (NaN equals NaN of the same bits; 0 and -0 differ).
func resultDiff(a, b bench.Line) string {
	if a.Hash != b.Hash {
		return fmt.Sprintf("configuration hash %s vs %s", a.Hash, b.Hash)
	}
	ra, rb := a.Record, b.Record
	for _, c := range []struct {
		what string
		x, y any
	}{
		{"iterations", ra.Iters, rb.Iters},
		{"test accuracy", ra.TestAccuracy, rb.TestAccuracy},
		{"test loss", ra.TestLoss, rb.TestLoss},
		{"train loss", ra.TrainLoss, rb.TrainLoss},
		{"number of curve points", len(ra.Curves), len(rb.Curves)},
	} {
		if !sameBits(reflect.ValueOf(c.x), reflect.ValueOf(c.y)) {
			return fmt.Sprintf("%s %v vs %v", c.what, c.x, c.y)
		}
	}
	for i := range ra.Curves {
		if !sameBits(reflect.ValueOf(ra.Curves[i]), reflect.ValueOf(rb.Curves[i])) {
			return fmt.Sprintf("curve point %d: %+v vs %+v", i, ra.Curves[i], rb.Curves[i])
		}
	}
	return ""
}

// sameBits reports whether a and b, of one type, are equal with floats
// compared by their bits.
func sameBits(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !sameBits(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameBits(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// Command train trains one of the paper's models (SmallFCNet on MNIST,
// SmallConvNet on CIFAR-10) with the baseline, RAD, SPAD or dropout, then
// prints test accuracy beside peak heap and the exact bytes saved for
// backward, and writes <out>/run.json and <out>/curves.csv.
//
// With no flags it trains SmallFCNet on the real MNIST shipped in the Go
// module cache. Run with -h for every flag.
//
// Everything is checked before training starts, and nothing is replaced
// that this program did not write: --out must be a directory (created if
// needed) that no other training holds (a lock file, .train.lock), the
// checkpoint path must be free or hold a checkpoint of a finished run.
// Exit status: 0 done; 2 bad input, nothing trained; 1 diverged or results
// not written (run.json marked "diverged" with the curves so far); 130
// after SIGINT or SIGTERM (run.json marked "interrupted", curves and a
// checkpoint to resume from).
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

	"golang.org/x/term"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/safetensors"
	"github.com/spadlab/spad/train"
)

// usageError is a bad flag value: one line and exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	// The first SIGINT or SIGTERM stops the run at the end of its step
	// (record, curves and checkpoint written, exit 130); the handler is
	// then removed, so a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	os.Exit(runContext(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run stopping as an interrupted run when ctx is cancelled.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, out, resume, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return exitUsage
	}
	release, stale, err := prepareOutputs(out, cfg.CheckpointPath)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return exitUsage
	}
	defer release()
	if err := checkUnfinished(cfg.CheckpointPath, resume); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return exitUsage
	}
	if stale > 0 {
		fmt.Fprintf(stdout, "removed %d temporary file(s) left by an earlier run that was killed\n", stale)
	}
	budget.apply()
	cfg.Progress = stdout
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Terminal = true
	}
	r, err := newRunner(cfg)
	if err != nil {
		// Everything NewRunner refuses is input: the configuration, the
		// data set (missing, corrupt, not matching the model), the sizes.
		fmt.Fprintf(stderr, "train: %v\n", err)
		return exitUsage
	}
	if resume != "" {
		if err := r.LoadCheckpoint(resume); err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "resumed from %s at iteration %d\n", resume, r.Iter)
	}
	fmt.Fprintf(stdout, "training %s on %s (%d train / %d test samples), estimator %s, %d iterations, batch %d, network chunk %d\n",
		r.Cfg.Model, r.Cfg.Dataset, r.TrainData.Info().N, r.TestData.Info().N, estimatorName(r.Cfg), r.Cfg.Iters, r.Cfg.Batch, r.Net.Chunk())
	rec, err := r.RunContext(ctx)
	if rec != nil {
		rec.Args = append([]string{}, args...)
	}
	if err != nil {
		return stopped(rec, err, out, cfg.CheckpointPath, stdout, stderr)
	}
	fmt.Fprint(stdout, rec.Summary())
	if err := rec.Save(out); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	weights := filepath.Join(out, "model.safetensors")
	meta := map[string]string{"model": r.Cfg.Model, "dataset": r.Cfg.Dataset,
		"dropout": strconv.FormatFloat(r.Cfg.Dropout, 'g', -1, 64), "estimator": r.Cfg.Estimator.String(), "seed": strconv.FormatUint(r.Cfg.Seed, 10)}
	for k, v := range customMeta {
		meta[k] = v
	}
	if err := safetensors.Save(weights, r.Net, meta); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s, %s and %s\n", filepath.Join(out, "run.json"), filepath.Join(out, "curves.csv"), weights)
	return 0
}

// stopped saves the record of a run that stopped early (interrupted,
// diverged or failed) and returns the exit status.
func stopped(rec *train.Record, err error, out, ckpt string, stdout, stderr io.Writer) int {
	saved := ""
	if rec != nil {
		if serr := rec.Save(out); serr != nil {
			fmt.Fprintf(stderr, "train: %v; and the record could not be saved: %v\n", err, serr)
			return exitFailed
		}
		fmt.Fprint(stdout, rec.Summary())
		saved = fmt.Sprintf("; wrote %s (status %s) and %s", filepath.Join(out, "run.json"), rec.Status, filepath.Join(out, "curves.csv"))
	}
	if errors.Is(err, train.ErrInterrupted) {
		how := ""
		if _, serr := os.Stat(ckpt); ckpt != "" && serr == nil {
			how = "; resume with --resume " + ckpt
		}
		fmt.Fprintf(stderr, "train: %v%s%s\n", err, saved, how)
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "train: %v%s\n", err, saved)
	return exitFailed
}

func estimatorName(c train.Config) string {
	if c.Dropout > 0 {
		return "dropout"
	}
	return c.Estimator.Mode.String()
}

func parse(args []string, stderr io.Writer) (cfg train.Config, out, resume string, err error) {
	cfg, out, resume, err = parseFlags(args, stderr)
	return
}

func parseFlags(args []string, stderr io.Writer) (train.Config, string, string, error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		model     = fs.String("model", "smallfc", "model: "+strings.Join(models.Names(), ", "))
		dataset   = fs.String("dataset", "", "data set: mnist or cifar10 (default: the model's)")
		estimator = fs.String("estimator", "baseline", "gradient estimator: baseline, rad, spad or dropout")
		keep      = fs.Float64("keep", 0.1, "rad/spad: fraction of each layer input kept for backward, in (0,1]")
		radKind   = fs.String("rad-kind", "project", "rad/spad: projection family: project, same-sample or diff-sample")
		kmax      = fs.Int("kmax", 10, "spad: iterations a selected projection stays in force (k_max ≥ 1)")
		m         = fs.Int("m", 10, "spad: candidate projections scored at each selection (1..256)")
		eps       = fs.Float64("eps", 0, "spad: exploration probability ε in [0,1)")
		variant   = fs.String("spad-variant", "practical", "spad: practical (Algorithm 2) or exact (Algorithm 1, unbiased)")
		drop      = fs.Float64("drop", 0.1, "dropout: drop probability in (0,1)")
		iters     = fs.Int("iters", 0, "training iterations (default: the model's, 20000 for smallfc, 100000 for smallconv)")
		batch     = fs.Int("batch", 150, "batch size")
		lr        = fs.Float64("lr", 0, "initial learning rate (default: the model's, 5.27e-4 for smallfc)")
		wd        = fs.Float64("wd", 0, "weight decay (L2)")
		opt       = fs.String("optimizer", "adam", "optimizer: adam or sgd")
		momentum  = fs.Float64("momentum", 0, "sgd momentum in [0,1)")
		decay     = fs.Float64("lr-decay", 0.6, "learning-rate factor applied every 10% of the iterations")
		seed      = fs.Uint64("seed", 1, "seed of weights, data order and every random draw")
		threads   = fs.Int("threads", 0, "kernel threads (0: all cores)")
		data      = fs.String("data", "", "data directory (default: search the module cache, SPAD_MNIST_DIR/SPAD_CIFAR10_DIR, shared data, the user cache; then download)")
		noDL      = fs.Bool("no-download", false, "never download data; fail if it is not found")
		out       = fs.String("out", "", "output directory for run.json and curves.csv (default out/<model>-<estimator>-seed<seed>)")
		evalEvery = fs.Int("eval-every", 0, "iterations between test evaluations (default: 10 per run)")
		bootstrap = fs.Int("bootstrap", 0, "train on bootstrap resample number N of the training set (0: the training set itself)")
		trainSize = fs.Int("train-size", 0, "use only the first N training samples (0: all)")
		testSize  = fs.Int("test-size", 0, "evaluate on only the first N test samples (0: all)")
		chunk     = fs.Int("chunk", 0, "samples per forward/backward call (0: automatic)")
		ckEvery   = fs.Int("checkpoint-every", 0, "write a checkpoint every N iterations (0: never)")
		ckPath    = fs.String("checkpoint", "", "checkpoint file (default <out>/checkpoint.ckpt)")
		resume    = fs.String("resume", "", "resume from this checkpoint (same model, estimator, batch, seed and data flags)")
		dataMode  = fs.String("data-mode", "auto", "data: memory (read at start), stream (read from disk per batch; .gz decompressed once into the cache) or auto (the data set's default: stream)")
		memLimit  = fs.String("mem-limit", "0", "soft memory limit of the Go runtime, e.g. 200MiB (0: none; default $GOMEMLIMIT)")
		gogc      = fs.String("gogc", strconv.Itoa(train.DefaultGCPercent), "GOGC percentage for the run, or off (needs --mem-limit); default $GOGC when set")
		trainData = fs.String("train-data", "", trainDataHelp)
		testData  = fs.String("test-data", "", testDataHelp)
		lean      = fs.Bool("lean", false, "run the layers that allow it depth-first in pieces: the same results in less memory, 15-40% more time per step")
	)
	usage := func() {
		fmt.Fprintf(stderr, "Usage: train [flags]\n\nTrains a model with the baseline, RAD, SPAD or dropout and reports test accuracy,\npeak heap and the bytes saved for backward.\n\nFlags:\n")
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	fs.Usage = func() {} // errors are reported in one line below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return train.Config{}, "", "", err
		}
		return train.Config{}, "", "", usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return train.Config{}, "", "", usageError{fmt.Sprintf("unexpected argument %q (flags start with -)", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if _, err := models.Get(*model); err != nil {
		return train.Config{}, "", "", usageError{err.Error()}
	}
	mode, merr := parseDataMode(*dataMode)
	if merr == nil {
		budget, merr = parseBudget(*gogc, set["gogc"], *memLimit, set["mem-limit"])
	}
	if merr != nil {
		return train.Config{}, "", "", usageError{merr.Error()}
	}
	custom = dataFlags{train: *trainData, test: *testData}
	customName, cerr := custom.check(set)
	if cerr != nil {
		return train.Config{}, "", "", cerr
	}
	if customName != "" {
		*dataset = customName
	}
	nn.Pieces = *lean
	cfg := train.Config{
		Model: *model, Dataset: *dataset, Iters: *iters, Batch: *batch, LR: *lr, WD: *wd,
		Optimizer: *opt, Momentum: *momentum, LRFactor: *decay, Seed: *seed, Threads: *threads,
		EvalEvery: *evalEvery, Bootstrap: *bootstrap, TrainSize: *trainSize, TestSize: *testSize, Chunk: *chunk,
		Data:            datasets.Options{Dir: *data, NoDownload: *noDL, Mode: mode},
		CheckpointEvery: *ckEvery, CheckpointPath: *ckPath,
	}
	if *ckEvery < 0 {
		return cfg, "", "", usageError{fmt.Sprintf("--checkpoint-every must be ≥ 0, got %d", *ckEvery)}
	}
	if *resume != "" {
		if st, err := os.Stat(*resume); err != nil || st.IsDir() {
			return cfg, "", "", usageError{fmt.Sprintf("--resume %s: no such checkpoint file", *resume)}
		}
	}
	if set["batch"] && *batch < 1 {
		return cfg, "", "", usageError{fmt.Sprintf("--batch must be ≥ 1, got %d", *batch)}
	}
	if set["iters"] && *iters < 1 {
		return cfg, "", "", usageError{fmt.Sprintf("--iters must be ≥ 1, got %d", *iters)}
	}
	if set["lr"] && !(*lr > 0) {
		return cfg, "", "", usageError{fmt.Sprintf("--lr must be > 0, got %g", *lr)}
	}
	if set["eval-every"] && *evalEvery < 1 {
		return cfg, "", "", usageError{fmt.Sprintf("--eval-every must be ≥ 1, got %d", *evalEvery)}
	}
	if *data != "" {
		if st, err := os.Stat(*data); err != nil || !st.IsDir() {
			return cfg, "", "", usageError{fmt.Sprintf("--data %s: not a directory", *data)}
		}
	}
	var err error
	cfg.Estimator, cfg.Dropout, err = parseEstimator(estimatorFlags{name: *estimator, kind: *radKind, variant: *variant,
		keep: *keep, eps: *eps, drop: *drop, kmax: *kmax, m: *m}, set)
	if err != nil {
		return cfg, "", "", err
	}
	if err := checkRunFlags(set, *decay, *momentum, *opt, *threads); err != nil {
		return cfg, "", "", err
	}
	cfg, err = cfg.Defaults()
	if err != nil {
		return cfg, "", "", usageError{err.Error()}
	}
	if *out == "" {
		*out = defaultOut(fs, cfg.Model, estimatorName(cfg), cfg.Seed)
	}
	if cfg.CheckpointPath == "" {
		// Also without --checkpoint-every: an interrupted run writes one.
		cfg.CheckpointPath = filepath.Join(*out, "checkpoint.ckpt")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", "", usageError{err.Error()}
	}
	return cfg, *out, *resume, nil
}

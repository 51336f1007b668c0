package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/train"
)

// Exit statuses: 0 done; 1 training failed (diverged, or results could not
// be written); 2 bad input, nothing trained (flags, data sets, model/data
// mismatch, sizes, checkpoints, output paths); 130 interrupted by SIGINT or
// SIGTERM (run.json marked "interrupted", curves and a checkpoint written).
const (
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// estimatorFlag is the flag of each estimator field.
var estimatorFlag = map[inject.Field]string{
	inject.FieldMode: "estimator", inject.FieldKind: "rad-kind", inject.FieldKeep: "keep",
	inject.FieldKMax: "kmax", inject.FieldM: "m", inject.FieldEps: "eps", inject.FieldVariant: "spad-variant",
}

// estimatorFlags holds the estimator flags as parsed.
type estimatorFlags struct {
	name, kind, variant string
	keep, eps, drop     float64
	kmax, m             int
}

// parseEstimator turns the estimator flags into the estimator and the
// dropout probability, through inject.ParseConfig (the parser suite files
// use too). A flag the chosen estimator does not use is an error.
func parseEstimator(f estimatorFlags, set map[string]bool) (inject.Estimator, float64, error) {
	name := strings.ToLower(f.name)
	spec := inject.Spec{Mode: name, Kind: f.kind, Keep: f.keep, KMax: f.kmax, M: f.m, Eps: f.eps, Variant: f.variant}
	for field, fl := range estimatorFlag {
		if field != inject.FieldMode && set[fl] {
			spec.Given = append(spec.Given, field)
		}
	}
	if name != "dropout" && set["drop"] {
		return inject.Estimator{}, 0, usageError{"--drop needs --estimator dropout"}
	}
	switch name {
	case "dropout":
		for _, fl := range []string{"rad-kind", "keep", "kmax", "m", "eps", "spad-variant"} {
			if set[fl] {
				return inject.Estimator{}, 0, usageError{fmt.Sprintf("--%s needs --estimator rad or spad (dropout does not use it)", fl)}
			}
		}
		if !(f.drop > 0 && f.drop < 1) {
			return inject.Estimator{}, 0, usageError{fmt.Sprintf("--drop must be in (0, 1), got %g", f.drop)}
		}
		return inject.Estimator{Mode: inject.Baseline}, f.drop, nil
	case "baseline", "rad", "spad":
	default:
		return inject.Estimator{}, 0, usageError{fmt.Sprintf("unknown --estimator %q (valid: baseline, rad, spad, dropout)", f.name)}
	}
	e, err := inject.ParseConfig(spec)
	var fe *inject.FieldError
	if errors.As(err, &fe) {
		reason := strings.NewReplacer("needs estimator ", "needs --estimator ").Replace(fe.Reason)
		return e, 0, usageError{fmt.Sprintf("--%s %s: %s", estimatorFlag[fe.Field], strings.Trim(fe.Value, `"`), reason)}
	}
	if err != nil {
		return e, 0, usageError{err.Error()}
	}
	return e, 0, nil
}

// checkRunFlags refuses values the configuration cannot tell apart from a
// default or that would be ignored: --lr-decay 0 (0 means "the default"
// to train.Config), --momentum with Adam, more threads than cores.
func checkRunFlags(set map[string]bool, decay, momentum float64, optimizer string, threads int) error {
	if set["lr-decay"] && !(decay > 0 && decay <= 1) {
		return usageError{fmt.Sprintf("--lr-decay must be in (0, 1], got %g", decay)}
	}
	if set["momentum"] && momentum != 0 && strings.ToLower(optimizer) != "sgd" {
		return usageError{fmt.Sprintf("--momentum needs --optimizer sgd (%s has no momentum)", optimizer)}
	}
	if n := runtime.NumCPU(); threads > n {
		return usageError{fmt.Sprintf("--threads %d exceeds the %d cores of this machine (0 uses them all)", threads, n)}
	}
	return nil
}

// runFlags are the flags that change a run's results or its records, in
// the order the default output directory names them.
var runFlags = []string{"dataset", "rad-kind", "keep", "kmax", "m", "eps", "spad-variant", "drop",
	"iters", "batch", "lr", "wd", "optimizer", "momentum", "lr-decay", "bootstrap",
	"train-size", "test-size", "eval-every", "chunk"}

// defaultOut is out/<model>-<estimator>[-<flag><value>...]-seed<seed>: every
// run-changing flag whose value differs from its default is named, so two
// runs that differ never share a directory.
func defaultOut(fs *flag.FlagSet, model, estimator string, seed uint64) string {
	parts := []string{model, estimator}
	for _, name := range runFlags {
		f := fs.Lookup(name)
		if v := f.Value.String(); v != f.DefValue {
			parts = append(parts, name+strings.NewReplacer("/", "_", " ", "_", string(filepath.Separator), "_").Replace(v))
		}
	}
	parts = append(parts, fmt.Sprintf("seed%d", seed))
	return filepath.Join("out", strings.Join(parts, "-"))
}

// lockName is the lock file of an output directory.
const lockName = ".train.lock"

// prepareOutputs checks, before any work, that the run's results can be
// written and will replace nothing that is not ours: out is a directory
// (created if needed) that no other training holds, the checkpoint path is
// free or holds a checkpoint. It takes the locks, removes the temporary
// files that killed writers left behind, and returns how to release the
// locks and how many stale files it removed.
func prepareOutputs(out, ckpt string) (release func(), stale int, err error) {
	var held []func()
	release = func() {
		for _, r := range held {
			r()
		}
	}
	fail := func(err error) (func(), int, error) { release(); return nil, 0, err }
	if err := train.CheckOutDir(out); err != nil {
		return fail(usageError{fmt.Sprintf("--out %s: %v", out, err)})
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(usageError{fmt.Sprintf("--out %s: cannot create the directory: %v", out, unwrapPath(err))})
	}
	lock := func(dir, file, what string) error {
		r, err := lockFile(filepath.Join(dir, file))
		if errors.Is(err, errLocked) {
			return usageError{fmt.Sprintf("%s is in use by another training (%v); wait for it or choose another --out", what, err)}
		}
		if err != nil {
			return usageError{fmt.Sprintf("%s is not writable: %v", what, unwrapPath(err))}
		}
		held = append(held, r)
		return nil
	}
	if err := lock(out, lockName, "--out "+out); err != nil {
		return fail(err)
	}
	if ckpt != "" {
		if err := train.CheckCheckpointPath(ckpt); err != nil {
			return fail(usageError{"--checkpoint: " + err.Error()})
		}
		dir := filepath.Dir(ckpt)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(usageError{fmt.Sprintf("--checkpoint %s: cannot create its directory: %v", ckpt, unwrapPath(err))})
		}
		if !samePath(dir, out) {
			if err := lock(dir, "."+filepath.Base(ckpt)+".lock", "--checkpoint "+ckpt); err != nil {
				return fail(err)
			}
		}
		stale += train.CleanTemps(ckpt)
	}
	stale += train.CleanTemps(filepath.Join(out, "run.json")) + train.CleanTemps(filepath.Join(out, "curves.csv"))
	return release, stale, nil
}

// checkUnfinished refuses to start a run that would overwrite the
// checkpoint of an unfinished one (one that resume does not continue):
// its progress would be lost at the first checkpoint or interrupt.
func checkUnfinished(ckpt, resume string) error {
	if ckpt == "" || (resume != "" && samePath(ckpt, resume)) {
		return nil
	}
	info, err := train.PeekCheckpoint(ckpt)
	if err != nil || info.Iter == 0 || info.Iter >= info.Iters {
		return nil // none, unreadable, not started or finished: nothing to lose
	}
	return usageError{fmt.Sprintf("%s holds an unfinished run (iteration %d of %d): continue it with --resume %s, or remove the file to start afresh",
		ckpt, info.Iter, info.Iters, ckpt)}
}

func samePath(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}

// unwrapPath drops the operation and path of a *PathError (the message
// names the path already).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errLocked is returned (wrapped, with the holder) by lockFile when another
// process holds the lock.
var errLocked = errors.New("locked")

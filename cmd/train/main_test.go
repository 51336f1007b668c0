package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every bad flag value gives exactly one line on stderr and status 2.
func TestFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "0"}, "--batch must be ≥ 1, got 0"},
		{[]string{"--lr", "-1"}, "--lr must be > 0, got -1"},
		{[]string{"--iters", "0"}, "--iters must be ≥ 1, got 0"},
		{[]string{"--data", "/nonexistent/dir"}, "--data /nonexistent/dir: not a directory"},
		{[]string{"--estimator", "magic"}, `unknown --estimator "magic" (valid: baseline, rad, spad, dropout)`},
		{[]string{"--model", "resnet"}, `unknown model "resnet" (valid: smallconv, smallfc)`},
		{[]string{"--estimator", "rad", "--keep", "0"}, "--keep 0: must be in (0, 1]"},
		{[]string{"--estimator", "rad", "--keep", "1.5"}, "--keep 1.5: must be in (0, 1]"},
		{[]string{"--estimator", "rad", "--rad-kind", "zip"}, `--rad-kind zip: unknown projection kind (valid: project, same-sample, diff-sample)`},
		{[]string{"--estimator", "spad", "--m", "0"}, "--m 0: must be ≥ 1"},
		{[]string{"--estimator", "spad", "--kmax", "0"}, "--kmax 0: must be ≥ 1"},
		{[]string{"--estimator", "spad", "--eps", "1"}, "must be in [0, 1)"},
		{[]string{"--estimator", "spad", "--spad-variant", "fast"}, "--spad-variant"},
		{[]string{"--estimator", "dropout", "--drop", "1"}, "--drop must be in (0, 1), got 1"},
		{[]string{"--drop", "0.2"}, "--drop needs --estimator dropout"},
		{[]string{"--wd", "-1"}, "weight decay must be in [0, 1), got -1"},
		{[]string{"--wd", "1e30"}, "weight decay must be in [0, 1), got 1e+30"},
		{[]string{"--optimizer", "lbfgs"}, `unknown optimizer "lbfgs"`},
		{[]string{"--threads", "-2"}, "threads must be ≥ 0"},
		{[]string{"--eval-every", "0"}, "--eval-every must be ≥ 1, got 0"},
		{[]string{"--batch", "x"}, `invalid value "x" for flag -batch`},
		{[]string{"--nosuchflag"}, "flag provided but not defined: -nosuchflag"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--checkpoint-every", "-1"}, "--checkpoint-every must be ≥ 0, got -1"},
		{[]string{"--resume", "/nonexistent.ckpt"}, "--resume /nonexistent.ckpt: no such checkpoint file"},
	}
	for _, c := range cases {
		var errb bytes.Buffer
		code := run(c.args, io.Discard, &errb)
		oneLine(t, strings.Join(c.args, " "), code, errb.String(), 2, c.want)
	}
}

// -h documents every flag and exits 0.
func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, f := range []string{"model", "dataset", "estimator", "keep", "rad-kind", "kmax", "m", "eps", "spad-variant", "drop", "iters", "batch", "lr", "wd", "seed", "threads", "data", "out", "eval-every", "bootstrap", "checkpoint-every", "resume", "checkpoint"} {
		if !strings.Contains(errb.String(), "  -"+f+" ") && !strings.Contains(errb.String(), "  -"+f+"\n") {
			t.Errorf("-h does not document -%s", f)
		}
	}
}

// A short run on the embedded MNIST writes run.json and curves.csv with the
// documented keys.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"--iters", "30", "--eval-every", "15", "--train-size", "3000", "--test-size", "500", "--no-download", "--estimator", "spad", "--kmax", "3", "--m", "4", "--out", dir}
	if code := run(args, &out, &errb); code != 0 {
		if strings.Contains(errb.String(), "not found") || strings.Contains(errb.String(), "no MNIST") {
			t.Skipf("MNIST not available: %s", errb.String())
		}
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rec := readRecord(t, dir)
	for _, k := range []string{"model", "dataset", "estimator", "iters", "batch", "seed", "test_accuracy", "test_loss", "train_loss", "ms_per_iter", "peak_heap_bytes", "saved_bytes_peak", "curves", "kmax", "m", "rad_kind", "keep"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("run.json lacks %q", k)
		}
	}
	if n := len(rec["curves"].([]any)); n != 2 {
		t.Errorf("%d curve points, want 2", n)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "curves.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csv), "\n"); lines != 3 {
		t.Errorf("curves.csv has %d lines, want 3:\n%s", lines, csv)
	}
	if !strings.Contains(out.String(), "test accuracy") || !strings.Contains(out.String(), "peak heap") {
		t.Errorf("summary missing from output:\n%s", out.String())
	}
}

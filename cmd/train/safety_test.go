package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spadlab/spad/train"
)

// The cases of "nothing lost, nothing overwritten": each test is named
// after one. Runs train SmallFCNet on 300 MNIST samples for a few dozen
// iterations (the MNIST of the module cache; skipped when it is absent).

// tiny returns the arguments of a short run writing to out.
func tiny(out string, extra ...string) []string {
	return append([]string{"--iters", "20", "--eval-every", "10", "--train-size", "300", "--test-size", "100", "--no-download", "--out", out}, extra...)
}

// cmd runs the command in process.
func cmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cmdContext(t, context.Background(), nil, args...)
}

func cmdContext(t *testing.T, ctx context.Context, stdout io.Writer, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	w := io.Writer(&out)
	if stdout != nil {
		w = io.MultiWriter(&out, stdout)
	}
	code := runContext(ctx, args, w, &errb)
	if strings.Contains(errb.String(), "no MNIST") || strings.Contains(errb.String(), "not found") {
		t.Skipf("MNIST not available: %s", errb.String())
	}
	return code, out.String(), errb.String()
}

// oneLine checks an error exit: the status and one line naming want.
func oneLine(t *testing.T, what string, code int, stderr string, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, code, wantCode, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "train: ") || !strings.Contains(stderr, want) {
		t.Errorf("%s: stderr %q, want one line containing %q", what, stderr, want)
	}
}

func readRecord(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// --checkpoint never replaces a path that is not a checkpoint this program
// wrote: a foreign file, a directory, a device. Nothing is trained.
func TestCheckpointRefusesForeignPaths(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{notes, "refusing to replace " + notes + ": it is not a checkpoint written by this program"},
		{sub, "refusing to replace " + sub + ": it is a directory"},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases, struct{ path, want string }{os.DevNull, "refusing to replace /dev/null: it is not a regular file"})
	}
	for _, c := range cases {
		code, stdout, stderr := cmd(t, tiny(filepath.Join(dir, "out"), "--checkpoint", c.path, "--checkpoint-every", "1")...)
		oneLine(t, c.path, code, stderr, 2, c.want)
		if strings.Contains(stdout, "training") {
			t.Errorf("%s: training started:\n%s", c.path, stdout)
		}
	}
	if data, _ := os.ReadFile(notes); string(data) != "my notes\n" {
		t.Errorf("notes.txt changed: %q", data)
	}
	if st, err := os.Stat(sub); err != nil || !st.IsDir() {
		t.Errorf("directory changed: %v", err)
	}
	if st, err := os.Stat(os.DevNull); runtime.GOOS != "windows" && (err != nil || st.Mode()&os.ModeDevice == 0) {
		t.Errorf("%s is no longer a device: %v", os.DevNull, err)
	}
}

// --out is validated before any work: an existing file, a path under a
// file, a directory holding a foreign run.json.
func TestOutValidatedBeforeWork(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "run.json"), []byte("not ours"), 0o644)
	cases := []struct{ out, want string }{
		{file, "--out " + file + ": " + file + " exists and is not a directory"},
		{filepath.Join(file, "sub"), "not a directory"},
		{foreign, "refusing to replace " + filepath.Join(foreign, "run.json") + ": it is not a run record written by this program"},
	}
	if os.Getuid() != 0 && runtime.GOOS != "windows" { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		cases = append(cases, struct{ out, want string }{filepath.Join(ro, "out"), "cannot create the directory: permission denied"})
	} else if runtime.GOOS == "linux" { // but not in /proc
		cases = append(cases, struct{ out, want string }{"/proc/spad-test-out", "--out /proc/spad-test-out: cannot create the directory"})
	}
	for _, c := range cases {
		code, stdout, stderr := cmd(t, tiny(c.out)...)
		oneLine(t, c.out, code, stderr, 2, c.want)
		if strings.Contains(stdout, "training") {
			t.Errorf("%s: training started before --out was checked", c.out)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(foreign, "run.json")); string(data) != "not ours" {
		t.Errorf("foreign run.json replaced: %q", data)
	}
}

// The default --out names every flag that changes the run: two runs that
// differ in any of them never share a directory.
func TestDefaultOutNamesEverySetting(t *testing.T) {
	outOf := func(args ...string) string {
		_, out, _, err := parse(args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	base := outOf()
	if base != filepath.Join("out", "smallfc-baseline-seed1") {
		t.Errorf("default out %q", base)
	}
	variants := map[string][]string{
		"dataset":      {"--dataset", "cifar10"},
		"rad-kind":     {"--estimator", "rad", "--rad-kind", "same-sample"},
		"keep":         {"--estimator", "rad", "--keep", "0.2"},
		"kmax":         {"--estimator", "spad", "--kmax", "3"},
		"m":            {"--estimator", "spad", "--m", "4"},
		"eps":          {"--estimator", "spad", "--eps", "0.1"},
		"spad-variant": {"--estimator", "spad", "--spad-variant", "exact"},
		"drop":         {"--estimator", "dropout", "--drop", "0.3"},
		"iters":        {"--iters", "100"},
		"batch":        {"--batch", "64"},
		"lr":           {"--lr", "0.001"},
		"wd":           {"--wd", "0.0001"},
		"optimizer":    {"--optimizer", "sgd"},
		"momentum":     {"--optimizer", "sgd", "--momentum", "0.9"},
		"lr-decay":     {"--lr-decay", "0.5"},
		"bootstrap":    {"--bootstrap", "2"},
		"train-size":   {"--train-size", "1000"},
		"test-size":    {"--test-size", "500"},
		"eval-every":   {"--eval-every", "7"},
		"chunk":        {"--chunk", "50"},
	}
	if len(variants) != len(runFlags) {
		t.Fatalf("%d variants for %d run flags", len(variants), len(runFlags))
	}
	seen := map[string]string{base: "defaults"}
	for _, name := range runFlags {
		args := variants[name]
		out := outOf(args...)
		if !strings.Contains(out, name+strings.ReplaceAll(args[len(args)-1], "/", "_")) {
			t.Errorf("%v: default out %q does not name --%s", args, out, name)
		}
		if other, dup := seen[out]; dup {
			t.Errorf("%v and %s share the default out %q", args, other, out)
		}
		seen[out] = strings.Join(args, " ")
	}
	// Two values of one flag, and the seed.
	if outOf("--lr", "0.001") == outOf("--lr", "0.002") || outOf("--seed", "2") == base {
		t.Error("different values share a default out")
	}
	// Flags that change nothing of the results do not split runs.
	if outOf("--threads", "1") != base || outOf("--checkpoint-every", "10") != base {
		t.Error("--threads or --checkpoint-every changed the default out")
	}
}

// cancelOnEval cancels a context when the progress shows an evaluation.
type cancelOnEval struct {
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (c *cancelOnEval) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte("iter ")) {
		c.cancel()
	}
	return len(p), nil
}

// An interrupt (Ctrl-C, SIGTERM: a cancelled context here) writes run.json
// marked interrupted, the curves and a checkpoint, and exits 130; resuming
// from the checkpoint ends exactly where an uninterrupted run ends.
func TestInterruptWritesRecordCurvesCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	full, part := filepath.Join(dir, "full"), filepath.Join(dir, "part")
	args := func(out string) []string {
		return []string{"--iters", "40", "--eval-every", "5", "--train-size", "300", "--test-size", "100", "--no-download", "--out", out}
	}
	if code, _, stderr := cmd(t, args(full)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code, _, stderr := cmdContext(t, ctx, &cancelOnEval{cancel: cancel}, args(part)...)
	oneLine(t, "interrupt", code, stderr, 130, "training interrupted at iteration 5")
	rec := readRecord(t, part)
	if rec["status"] != "interrupted" || rec["stopped_at"] != 5.0 || len(rec["curves"].([]any)) != 1 {
		t.Errorf("record after interrupt: status %v, stopped_at %v, %d curve points", rec["status"], rec["stopped_at"], len(rec["curves"].([]any)))
	}
	if csv, err := os.ReadFile(filepath.Join(part, "curves.csv")); err != nil || strings.Count(string(csv), "\n") != 2 {
		t.Errorf("curves.csv after interrupt: %v\n%s", err, csv)
	}
	ck := filepath.Join(part, "checkpoint.ckpt")
	if info, err := train.PeekCheckpoint(ck); err != nil || info.Iter != 5 {
		t.Fatalf("checkpoint after interrupt: %+v, %v", info, err)
	}
	if !strings.Contains(stderr, "resume with --resume "+ck) {
		t.Errorf("stderr does not say how to resume: %q", stderr)
	}
	// A fresh run into the same place would lose the unfinished run.
	code, _, stderr = cmd(t, args(part)...)
	oneLine(t, "fresh run over an unfinished checkpoint", code, stderr, 2, ck+" holds an unfinished run (iteration 5 of 40): continue it with --resume "+ck)
	if code, _, stderr := cmd(t, append(args(part), "--resume", ck)...); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	a, b := readRecord(t, full), readRecord(t, part)
	if a["test_loss"] != b["test_loss"] || a["train_loss"] != b["train_loss"] || b["status"] != "completed" {
		t.Errorf("resumed run ends at %v/%v (%v), uninterrupted at %v/%v", b["test_loss"], b["train_loss"], b["status"], a["test_loss"], a["train_loss"])
	}
}

// On divergence — a loss that is not finite, or above 10·ln(classes) for 3
// evaluations in a row — run.json is written marked diverged with the
// curves so far, and the exit status is 1.
func TestDivergenceWritesRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"adam lr 1e6 (finite blow-up)", []string{"--lr", "1e6"}, "for 3 evaluations in a row"},
		{"sgd lr 1e30 (finite blow-up)", []string{"--optimizer", "sgd", "--lr", "1e30"}, "for 3 evaluations in a row"},
		{"adam lr 1e308 (not finite)", []string{"--lr", "1e308"}, "training diverged: loss is NaN"},
	}
	for i, c := range cases {
		out := filepath.Join(dir, strconv.Itoa(i))
		args := append([]string{"--iters", "200", "--eval-every", "1", "--train-size", "300", "--test-size", "100", "--no-download", "--out", out}, c.args...)
		code, _, stderr := cmd(t, args...)
		oneLine(t, c.name, code, stderr, 1, c.want)
		if !strings.Contains(stderr, "(status diverged)") {
			t.Errorf("%s: stderr does not name the record: %q", c.name, stderr)
		}
		rec := readRecord(t, out)
		if rec["status"] != "diverged" || !strings.Contains(rec["stop_reason"].(string), "diverged") {
			t.Errorf("%s: status %v, reason %v", c.name, rec["status"], rec["stop_reason"])
		}
		if at := rec["stopped_at"].(float64); at < 1 || at >= 200 {
			t.Errorf("%s: stopped at %v", c.name, at)
		}
		if _, err := os.Stat(filepath.Join(out, "curves.csv")); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Two trainings into one --out: the second is refused with a clear message
// while the first holds the directory's lock.
func TestTwoTrainingsOneOutRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	release, err := lockFile(filepath.Join(out, lockName))
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cmd(t, tiny(out)...)
	oneLine(t, "second training", code, stderr, 2, "--out "+out+" is in use by another training (locked by process "+strconv.Itoa(os.Getpid()))
	release()
	// A checkpoint outside --out is locked too.
	ck := filepath.Join(t.TempDir(), "c.ckpt")
	release, err = lockFile(filepath.Join(filepath.Dir(ck), ".c.ckpt.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, _, stderr = cmd(t, tiny(out, "--checkpoint", ck)...)
	oneLine(t, "shared checkpoint", code, stderr, 2, "--checkpoint "+ck+" is in use by another training")
}

// Sizes that would panic or exhaust memory are refused before anything is
// allocated: huge --iters with --eval-every 1, huge --batch, a batch larger
// than the training set or than the memory available.
func TestHugeSizesRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--iters", "9223372036854775807", "--eval-every", "1"}, "iters must be in [1, 1000000000], got 9223372036854775807"},
		{[]string{"--batch", "9223372036854775807"}, "batch must be in [1, 65536]"},
		{[]string{"--batch", "1000000", "--train-size", "300"}, "batch must be in [1, 65536], got 1000000"},
		{[]string{"--batch", "1000", "--train-size", "300"}, "batch: 1000 exceeds the 300 training samples used"},
	}
	for _, c := range cases {
		args := append([]string{"--no-download", "--out", out}, c.args...)
		code, _, stderr := cmd(t, args...)
		oneLine(t, strings.Join(c.args, " "), code, stderr, 2, c.want)
	}
	// Within the bounds, but more than the memory available (a 32 MiB
	// Go memory limit here).
	old := debug.SetMemoryLimit(32 << 20)
	code, _, stderr := cmd(t, "--batch", "60000", "--no-download", "--out", out)
	debug.SetMemoryLimit(old)
	oneLine(t, "batch 60000 under a 32 MiB limit", code, stderr, 2, "batch: 60000 needs about")
}

// The largest run length with an evaluation at every iteration sets up
// without a panic (the curves are not sized for a billion points).
func TestHugeItersEvalEvery1(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop at once: only the set-up is under test
	code, _, stderr := cmdContext(t, ctx, nil, "--iters", "1000000000", "--eval-every", "1", "--train-size", "300", "--test-size", "100", "--no-download", "--out", out)
	oneLine(t, "iters 1e9", code, stderr, 130, "interrupted at iteration 0")
}

// Values that were silently changed or ignored are errors: --lr-decay 0,
// --momentum with Adam, estimator flags the estimator does not use, more
// threads than cores.
func TestIgnoredFlagsAreErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--lr-decay", "0"}, "--lr-decay must be in (0, 1], got 0"},
		{[]string{"--lr-decay", "1.5"}, "--lr-decay must be in (0, 1], got 1.5"},
		{[]string{"--momentum", "0.9"}, "--momentum needs --optimizer sgd (adam has no momentum)"},
		{[]string{"--keep", "0.2"}, "--keep 0.2: needs --estimator rad or spad (baseline does not use it)"},
		{[]string{"--rad-kind", "same-sample"}, "--rad-kind same-sample: needs --estimator rad or spad"},
		{[]string{"--spad-variant", "exact"}, "--spad-variant exact: needs --estimator rad or spad"},
		{[]string{"--estimator", "rad", "--kmax", "3"}, "--kmax 3: needs --estimator spad (rad does not use it)"},
		{[]string{"--estimator", "rad", "--eps", "0.1"}, "--eps 0.1: needs --estimator spad"},
		{[]string{"--estimator", "rad", "--m", "4"}, "--m 4: needs --estimator spad"},
		{[]string{"--estimator", "dropout", "--keep", "0.2"}, "--keep needs --estimator rad or spad (dropout does not use it)"},
		{[]string{"--estimator", "spad", "--drop", "0.2"}, "--drop needs --estimator dropout"},
		{[]string{"--threads", strconv.Itoa(runtime.NumCPU() + 1)}, fmt.Sprintf("--threads %d exceeds the %d cores of this machine", runtime.NumCPU()+1, runtime.NumCPU())},
	}
	for _, c := range cases {
		code, _, stderr := cmd(t, c.args...)
		oneLine(t, strings.Join(c.args, " "), code, stderr, 2, c.want)
	}
}

// --train-size and --test-size larger than the set are errors (exit 2),
// as are data sets that are missing or do not fit the model.
func TestDataErrorsExit2(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	empty := t.TempDir()
	cifar := t.TempDir()
	rec := make([]byte, 2*3073) // two records of label 0
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		os.WriteFile(filepath.Join(cifar, f), rec, 0o644)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--train-size", "70000"}, "train-size: 70000 exceeds the 60000 training samples of mnist"},
		{[]string{"--test-size", "20000"}, "test-size: 20000 exceeds the 10000 test samples of mnist"},
		{[]string{"--data", empty}, ""},
		{[]string{"--dataset", "cifar10", "--data", cifar}, ""},
	}
	for _, c := range cases {
		var errb bytes.Buffer
		code := run(append([]string{"--no-download", "--out", out}, c.args...), io.Discard, &errb)
		oneLine(t, strings.Join(c.args, " "), code, errb.String(), 2, c.want)
	}
}

// Resuming under a setting that changes the run is refused, naming it;
// the thread count may differ (results do not depend on it).
func TestResumeWithDifferentSettingsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	out := filepath.Join(t.TempDir(), "out")
	ck := filepath.Join(out, "checkpoint.ckpt")
	base := []string{"--optimizer", "sgd", "--momentum", "0.5", "--lr", "0.01", "--iters", "20", "--eval-every", "10",
		"--train-size", "300", "--test-size", "100", "--no-download", "--out", out, "--checkpoint-every", "10"}
	if code, _, stderr := cmd(t, base...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	with := func(flag, v string) []string {
		a := append([]string{}, base...)
		for i := range a {
			if a[i] == "--"+flag {
				a[i+1] = v
				return append(a, "--resume", ck)
			}
		}
		return append(a, "--"+flag, v, "--resume", ck)
	}
	cases := []struct{ flag, value, want string }{
		{"lr", "0.02", "was made with lr 0.01, this run has lr 0.02"},
		{"wd", "0.001", "was made with wd 0, this run has wd 0.001"},
		{"iters", "30", "was made with iters 20, this run has iters 30"},
		{"lr-decay", "0.5", "was made with lr-decay 0.6, this run has lr-decay 0.5"},
		{"momentum", "0.6", "was made with momentum 0.5, this run has momentum 0.6"},
		{"test-size", "50", "was made with test-size 100, this run has test-size 50"},
		{"eval-every", "5", "was made with eval-every 10, this run has eval-every 5"},
		{"chunk", "50", "was made with chunk 150, this run has chunk 50"},
		{"batch", "100", "was made with batch 150, this run has batch 100"},
	}
	for _, c := range cases {
		code, _, stderr := cmd(t, with(c.flag, c.value)...)
		oneLine(t, "--"+c.flag+" "+c.value, code, stderr, 2, c.want)
	}
	if code, _, stderr := cmd(t, with("threads", "1")...); code != 0 {
		t.Errorf("resume with another thread count: exit %d: %s", code, stderr)
	}
}

// Temporary files left by killed writers are removed at start.
func TestStaleTempsCleaned(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	stale := []string{".checkpoint.ckpt.tmp123", ".run.json.tmpabc", ".curves.csv.tmp9"}
	for _, n := range stale {
		os.WriteFile(filepath.Join(out, n), []byte("partial"), 0o600)
	}
	keep := filepath.Join(out, ".other.tmp1")
	os.WriteFile(keep, nil, 0o600)
	code, stdout, stderr := cmd(t, tiny(out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "removed 3 temporary file(s)") {
		t.Errorf("no message about the stale files:\n%s", stdout)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(out, n)); err == nil {
			t.Errorf("%s not removed", n)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file not ours was removed: %v", err)
	}
}

// run.json holds every setting needed to reproduce the run, a format
// version and the command line: running that command line again gives the
// same results.
func TestRunJSONReproducesTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	first := filepath.Join(dir, "a")
	if code, _, stderr := cmd(t, tiny(first, "--estimator", "spad", "--kmax", "3", "--m", "2", "--lr-decay", "0.5", "--seed", "7")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rec := readRecord(t, first)
	for _, k := range []string{"format_version", "status", "args", "model", "dataset", "estimator", "rad_kind", "keep", "kmax", "m",
		"spad_variant", "dropout", "iters", "batch", "seed", "lr", "wd", "optimizer", "momentum", "lr_decay", "lr_steps",
		"bootstrap", "train_size", "test_size", "eval_every", "chunk", "threads"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("run.json lacks %q", k)
		}
	}
	if rec["format_version"] != float64(train.RecordVersion) || rec["status"] != "completed" {
		t.Errorf("format_version %v, status %v", rec["format_version"], rec["status"])
	}
	var args []string
	for _, a := range rec["args"].([]any) {
		args = append(args, a.(string))
	}
	second := filepath.Join(dir, "b")
	for i := range args[:len(args)-1] {
		if args[i] == "--out" {
			args[i+1] = second
		}
	}
	if code, _, stderr := cmd(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	again := readRecord(t, second)
	for _, k := range []string{"test_loss", "train_loss", "test_accuracy", "estimator", "lr_decay"} {
		if rec[k] != again[k] {
			t.Errorf("%s: %v, rerun from run.json's args %v", k, rec[k], again[k])
		}
	}
}

// The thread count may differ on resume because results do not depend on
// it: two runs that differ only in --threads end bitwise equal.
func TestThreadsDoNotChangeResults(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one core")
	}
	dir := t.TempDir()
	var recs []map[string]any
	for _, th := range []string{"1", "2"} {
		out := filepath.Join(dir, th)
		if code, _, stderr := cmd(t, tiny(out, "--threads", th, "--estimator", "spad", "--kmax", "3")...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs = append(recs, readRecord(t, out))
	}
	for _, k := range []string{"test_loss", "train_loss", "test_accuracy"} {
		if recs[0][k] != recs[1][k] {
			t.Errorf("%s: %v with 1 thread, %v with 2", k, recs[0][k], recs[1][k])
		}
	}
}

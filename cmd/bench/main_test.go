package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spadlab/spad/bench"
	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// childEnv makes the test binary act as the bench command, so that a sweep
// started by a test can re-execute it for its runs.
const childEnv = "SPAD_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: bench <command>"},
		{[]string{"fly"}, `bench: unknown command "fly" (valid: sweep, list, run, slurm, k8s, status, report, compare, paired, perf)`},
		{[]string{"sweep"}, "bench: give exactly one of --suite NAME or --suite-file PATH"},
		{[]string{"sweep", "--suite", "a", "--suite-file", "b"}, "bench: give exactly one of"},
		{[]string{"sweep", "--suite", "nope"}, `bench: unknown suite "nope" (valid: cifar-fig8, cifar-fig9, mnist-fig8, mnist-fig8-short)`},
		{[]string{"sweep", "--suite-file", "../../bench/testdata/fuzz/FuzzSuite/empty"}, "FuzzSuite/empty: line 1, column 1: invalid character 'g'"},
		{[]string{"sweep", "--suite", "mnist-fig8", "--jobs", "0"}, "bench: --jobs must be ≥ 1, got 0"},
		{[]string{"sweep", "--suite", "mnist-fig8", "--jobs", "x"}, `bench: invalid value "x" for flag -jobs`},
		{[]string{"sweep", "--suite", "mnist-fig8", "--data", "/no/such/dir"}, "bench: --data /no/such/dir: not a directory"},
		{[]string{"sweep", "--bogus"}, "bench: flag provided but not defined: -bogus"},
		{[]string{"sweep", "--suite", "mnist-fig8", "extra"}, `bench: unexpected argument "extra"`},
		{[]string{"report"}, "bench: --in DIR is required"},
		{[]string{"paired", "baseline", "spad"}, "bench: --in DIR is required"},
		{[]string{"paired", "--in", ".", "baseline"}, "bench: paired needs a reference run and at least one other"},
		{[]string{"paired", "--in", ".", "--repeat", "0", "a", "b"}, "bench: --repeat must be ≥ 1"},
		{[]string{"report", "--in", "/no/such/dir"}, "bench: --in /no/such/dir: not a directory"},
		{[]string{"perf", "--only", "gemm,disk"}, `bench: --only: unknown part "disk" (valid: gemm, conv, step)`},
		{[]string{"perf", "--threads", "1,0"}, `bench: --threads: "0" is not a positive integer`},
		{[]string{"perf", "--models", "big"}, `bench: --models: unknown model "big"`},
		{[]string{"perf", "--min-time", "0s"}, "bench: --min-time must be > 0, got 0s"},
		{[]string{"perf", "--batch", "0"}, "bench: --batch must be ≥ 1, got 0"},
		{[]string{"run", "--suite", "mnist-fig8"}, "bench: --index I is required: 0 to 44 (see bench list)"},
		{[]string{"run", "--suite", "mnist-fig8", "--index", "45"}, "bench: --index 45 out of range: the suite has 45 runs, 0 to 44"},
		{[]string{"run", "--suite", "mnist-fig8", "--index", "0", "--threads", "0"}, "bench: --threads must be ≥ 1, got 0"},
		{[]string{"run", "--index", "0"}, "bench: give exactly one of --suite NAME or --suite-file PATH"},
		{[]string{"list", "--suite", "mnist-fig8", "--iters", "-1"}, "bench: --iters must be ≥ 1, got -1"},
		{[]string{"slurm", "--suite", "mnist-fig8", "--bench", "/x/bench", "--cpus", "0"}, "bench: --cpus must be ≥ 1, got 0"},
		{[]string{"slurm", "--suite", "mnist-fig8", "--bench", "/x/bench", "--time", "1 day"}, `bench: --time "1 day": want HH:MM:SS`},
		{[]string{"slurm", "--suite", "mnist-fig8", "--bench", "/x/bench", "--grace", "0"}, "bench: --grace must be ≥ 1, got 0"},
		{[]string{"slurm", "--suite", "mnist-fig8"}, "bench: this program runs from a temporary build (go run)"},
		{[]string{"k8s", "--suite", "mnist-fig8", "--claim", "c"}, "bench: --image is required"},
		{[]string{"k8s", "--suite", "mnist-fig8", "--image", "i"}, `bench: --claim "": the name of a PersistentVolumeClaim is required`},
		{[]string{"k8s", "--suite", "mnist-fig8", "--image", "i", "--claim", "c", "--out", "/data/x"}, "bench: --out /data/x must be under the volume's mount point /results"},
		{[]string{"compare", "--in", "a"}, "bench: --in DIR and --against DIR2 are required"},
		{[]string{"list", "--suite", "mnist-fig8", "--repeats", "-2"}, "bench: --repeats must be ≥ 1, got -2"},
		{[]string{"sweep", "--suite", "mnist-fig8", "--repeats", "-2"}, "bench: --repeats must be ≥ 1, got -2"},
	} {
		code, _, stderr := runCmd(context.Background(), c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("bench %v: status %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
		if c.args != nil && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("bench %v: error is not one line: %q", c.args, stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	for cmd, flags := range map[string][]string{
		"sweep":   {"-suite", "-suite-file", "-out", "-jobs", "-quick", "-report", "-data", "-no-download", "-list"},
		"report":  {"-in"},
		"run":     {"-suite", "-suite-file", "-index", "-out", "-threads", "-checkpoint-every", "-quick", "-iters"},
		"list":    {"-suite", "-out", "-quick"},
		"slurm":   {"-suite", "-out", "-partition", "-account", "-time", "-cpus", "-mem", "-max-parallel", "-grace", "-bench", "-submit"},
		"k8s":     {"-suite", "-out", "-name", "-namespace", "-image", "-bench", "-claim", "-mount", "-cpus", "-mem", "-max-parallel", "-retries", "-grace"},
		"compare": {"-in", "-against"},
		"perf":    {"-min-time", "-only", "-threads", "-models", "-batch"},
	} {
		code, _, stderr := runCmd(context.Background(), cmd, "-h")
		if code != 0 {
			t.Errorf("%s -h: status %d", cmd, code)
		}
		for _, f := range flags {
			if !strings.Contains(stderr, "  "+f+" ") && !strings.Contains(stderr, "  "+f+"\n") {
				t.Errorf("%s -h does not document %s:\n%s", cmd, f, stderr)
			}
		}
	}
}

func TestList(t *testing.T) {
	code, stdout, stderr := runCmd(context.Background(), "sweep", "--suite", "mnist-fig8", "--list", "--out", t.TempDir())
	if code != 0 || strings.Count(stdout, "todo  mnist-fig8/") != 45 {
		t.Errorf("status %d, %s\n%s", code, stderr, stdout)
	}
	// --repeats changes the number of runs per setting, with --quick too,
	// and keeps the indices of repeat r of each setting in suite order.
	code, stdout, _ = runCmd(context.Background(), "list", "--suite", "mnist-fig8", "--quick", "--repeats", "3")
	if code != 0 || strings.Count(stdout, "\n") != 27 || !strings.Contains(stdout, "   5  mnist-fig8-quick/dropout-0.1/r3 ") {
		t.Errorf("list --repeats 3: status %d\n%s", code, stdout)
	}
}

// TestSweepKillAndResume runs a real sweep of child processes, cancels it
// once the first runs are in runs.jsonl (killing the runs in progress),
// runs the same command again and checks that every run is in the file
// exactly once; then the report.
func TestSweepKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST in child processes")
	}
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	args := []string{"sweep", "--suite-file", "../../bench/testdata/tiny.json", "--out", dir, "--jobs", "2", "--no-download", "--report=false"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if lines, _, _ := bench.LoadLines(dir); len(lines) >= 2 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	code, stdout, stderr := runCmd(ctx, args...)
	lines, _, err := bench.LoadLines(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := len(lines)
	if code != 1 || !strings.Contains(stderr, "interrupted: finished runs are in") {
		t.Logf("first sweep finished before the cancellation (status %d, %d runs): %s%s", code, first, stdout, stderr)
	}
	if first < 2 {
		t.Fatalf("first sweep wrote %d runs: %s%s", first, stdout, stderr)
	}

	code, stdout, stderr = runCmd(context.Background(), append(args, "--report=true")...)
	if code != 0 {
		t.Fatalf("resumed sweep: status %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "already done") || !strings.Contains(stdout, "wrote ") {
		t.Errorf("resumed sweep output:\n%s", stdout)
	}
	lines, warn, err := bench.LoadLines(dir)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	count := map[string]int{}
	for _, l := range lines {
		count[l.ID]++
		if l.Record.Threads != 1 || l.Record.PeakHeapBytes == 0 || len(l.Record.Curves) != 2 {
			t.Errorf("%s: threads %d, peak heap %d, %d curve points", l.ID, l.Record.Threads, l.Record.PeakHeapBytes, len(l.Record.Curves))
		}
	}
	for _, set := range []string{"baseline", "rad", "spad"} {
		for _, r := range []string{"r1", "r2"} {
			if id := "tiny/" + set + "/" + r; count[id] != 1 {
				t.Errorf("%s appears %d times", id, count[id])
			}
		}
	}
	if len(lines) != 6 {
		t.Errorf("%d lines, want 6", len(lines))
	}
	for _, f := range []string{"fig8.png", "curves.png", "summary.csv", "summary.md"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, stdout, _ = runCmd(context.Background(), "report", "--in", dir)
	if code != 0 || !strings.Contains(stdout, "| baseline | 2 |") {
		t.Errorf("report: status %d\n%s", code, stdout)
	}
}

func TestPerfCommand(t *testing.T) {
	code, stdout, stderr := runCmd(context.Background(), "perf", "--only", "gemm", "--threads", "1", "--min-time", "1ms")
	if code != 0 || !strings.Contains(stdout, "machine: ") || !strings.Contains(stdout, "square 512×512×512") {
		t.Errorf("status %d\n%s%s", code, stdout, stderr)
	}
}

// onlyRecord reads the single run of a sweep directory.
func onlyRecord(t *testing.T, dir string) bench.Line {
	t.Helper()
	lines, warn, err := bench.LoadLines(dir)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	if len(lines) != 1 {
		t.Fatalf("%s: %d runs, want 1", dir, len(lines))
	}
	return lines[0]
}

func sameCurves(t *testing.T, what string, a, b bench.Line) {
	t.Helper()
	ca, cb := a.Record.Curves, b.Record.Curves
	if len(ca) != len(cb) {
		t.Fatalf("%s: %d curve points vs %d", what, len(ca), len(cb))
	}
	for i := range ca {
		if ca[i] != cb[i] {
			t.Fatalf("%s: point %d differs: %+v vs %+v", what, i, ca[i], cb[i])
		}
	}
	if a.Record.TestLoss != b.Record.TestLoss || a.Record.TrainLoss != b.Record.TrainLoss {
		t.Fatalf("%s: final losses %v/%v vs %v/%v", what, a.Record.TestLoss, a.Record.TrainLoss, b.Record.TestLoss, b.Record.TrainLoss)
	}
}

// A sweep interrupted in the middle of a run (its child asked to stop,
// as Ctrl-C does) resumes that run from its checkpoint when the same
// command runs again, and the finished record equals an uninterrupted
// run's bit for bit. The finished run's checkpoint is then filed as its
// final state, and a longer horizon continues from it, equal again to a
// run made at that horizon from the start.
func TestSweepMidRunResumeAndExtend(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST in child processes")
	}
	t.Setenv(childEnv, "1")
	base := []string{"sweep", "--suite-file", "../../bench/testdata/long.json", "--jobs", "1", "--no-download", "--report=false", "--checkpoint-every", "50"}
	cut, whole := t.TempDir(), t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ck := bench.CheckpointPath(cut, "long/spad/r1")
	go func() {
		for ctx.Err() == nil {
			if info, err := train.PeekCheckpoint(ck); err == nil && info.Iter >= 300 {
				cancel()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	code, stdout, stderr := runCmd(ctx, append(base, "--out", cut)...)
	if code != 1 || !strings.Contains(stderr, "partial ones checkpointed in") {
		t.Fatalf("interrupted sweep: status %d\n%s%s", code, stdout, stderr)
	}
	info, err := train.PeekCheckpoint(ck)
	if err != nil || info.Iter < 300 || info.Iter >= 1500 {
		t.Fatalf("checkpoint after the interruption: %+v %v", info, err)
	}
	code, stdout, _ = runCmd(context.Background(), "status", "--in", cut)
	if code != 0 || !strings.Contains(stdout, "partial  long/spad/r1") || !strings.Contains(stdout, "0 finished, 1 partial, 0 missing") {
		t.Errorf("status of the interrupted sweep: %d\n%s", code, stdout)
	}

	code, stdout, _ = runCmd(context.Background(), "report", "--in", cut, "--progress")
	if code != 0 || !strings.Contains(stdout, "spad (at ") {
		t.Errorf("progress report of the interrupted sweep: %d\n%s", code, stdout)
	}
	for _, f := range []string{"progress.md", "progress-curves.png", "progress-curves.svg"} {
		if st, err := os.Stat(filepath.Join(cut, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}

	code, stdout, stderr = runCmd(context.Background(), append(base, "--out", cut)...)
	if code != 0 || !strings.Contains(stdout, "resuming at iteration") {
		t.Fatalf("resumed sweep: status %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr = runCmd(context.Background(), append(base, "--out", whole)...); code != 0 {
		t.Fatalf("uninterrupted sweep: status %d\n%s%s", code, stdout, stderr)
	}
	a, b := onlyRecord(t, cut), onlyRecord(t, whole)
	sameCurves(t, "resumed vs uninterrupted", a, b)
	if len(a.Record.ResumedAt) != 1 || a.Record.ResumedAt[0] != info.Iter || b.Record.ResumedAt != nil {
		t.Errorf("resumed_at: %v (want [%d]) and %v (want none)", a.Record.ResumedAt, info.Iter, b.Record.ResumedAt)
	}
	if _, err := os.Stat(ck); !os.IsNotExist(err) {
		t.Errorf("the finished run's mid-run checkpoint is still there: %v", err)
	}
	if _, err := os.Stat(bench.FinalCheckpointPath(cut, "long/spad/r1")); err != nil {
		t.Errorf("no final checkpoint: %v", err)
	}
	if logs, _ := os.ReadFile(filepath.Join(cut, "logs", "long_spad_r1.log")); !strings.Contains(string(logs), "resumed long/spad/r1 at iteration") {
		t.Errorf("run log:\n%s", logs)
	}

	// A longer horizon continues the finished run from its final state.
	if code, stdout, stderr = runCmd(context.Background(), append(base, "--out", cut, "--iters", "2000")...); code != 0 || !strings.Contains(stdout, "1 extended") {
		t.Fatalf("extended sweep: status %d\n%s%s", code, stdout, stderr)
	}
	long := t.TempDir()
	if code, stdout, stderr = runCmd(context.Background(), append(base, "--out", long, "--iters", "2000")...); code != 0 {
		t.Fatalf("2,000-iteration sweep: status %d\n%s%s", code, stdout, stderr)
	}
	ext := onlyRecord(t, cut)
	sameCurves(t, "extended vs made at 2,000", ext, onlyRecord(t, long))
	if len(ext.Record.ExtendedFrom) != 1 || ext.Record.ExtendedFrom[0] != 1500 || ext.Record.Iters != 2000 {
		t.Errorf("extended record: iters %d, extended_from %v", ext.Record.Iters, ext.Record.ExtendedFrom)
	}
	code, stdout, _ = runCmd(context.Background(), "status", "--in", cut)
	if code != 0 || !strings.Contains(stdout, "finished long/spad/r1") || !strings.Contains(stdout, "2000 iterations") {
		t.Errorf("status after the extension: %d\n%s", code, stdout)
	}
	// The paired test loads the final state: the run against itself
	// agrees on every test sample; a setting the suite lacks is named.
	code, stdout, stderr = runCmd(context.Background(), "paired", "--in", cut, "--threads", "1", "spad", "long/spad/r1")
	if code != 0 || !strings.Contains(stdout, "| long/spad/r1 | ") || !strings.Contains(stdout, "| +0.00 [+0.00, +0.00] | 0 | 0 | 1 | 1 |") {
		t.Errorf("paired: status %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr = runCmd(context.Background(), "paired", "--in", cut, "spad", "rad"); code != 1 || !strings.Contains(stderr, `no run "rad"`) {
		t.Errorf("paired with an unknown setting: status %d, %s", code, stderr)
	}
	// A shorter horizon than what is done is refused.
	if code, _, stderr = runCmd(context.Background(), append(base, "--out", cut, "--iters", "1000")...); code != 1 || !strings.Contains(stderr, "beyond the 1000 asked") {
		t.Errorf("shorter horizon: status %d, %s", code, stderr)
	}
}

// TestRunByIndex runs one run of the tiny suite by index, twice (the
// second is skipped), and checks status, list and compare on the result.
func TestRunByIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir := t.TempDir()
	args := []string{"run", "--suite-file", "../../bench/testdata/tiny.json", "--no-download", "--out", dir, "--index", "4", "--threads", "1"}
	code, stdout, stderr := runCmd(context.Background(), args...)
	if code != 0 || !strings.Contains(stdout, "tiny/spad/r1: 6 iterations (from the start)") || !strings.Contains(stdout, filepath.Join(dir, "runs", "tiny_spad_r1.json")) {
		t.Fatalf("run: status %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "iter      6/6") {
		t.Errorf("no progress on standard error:\n%s", stderr)
	}
	code, stdout, _ = runCmd(context.Background(), args...)
	if code != 0 || !strings.Contains(stdout, "tiny/spad/r1: finished already") {
		t.Errorf("second run: status %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(context.Background(), "status", "--in", dir)
	if code != 0 || !strings.Contains(stdout, "finished tiny/spad/r1") || !strings.Contains(stdout, "1 finished, 0 partial, 5 missing") {
		t.Errorf("status: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(context.Background(), "list", "--suite-file", "../../bench/testdata/tiny.json", "--out", dir)
	if code != 0 || !strings.Contains(stdout, "   4  tiny/spad/r1") || !strings.Contains(stdout, "finished: 6 iterations") || strings.Count(stdout, "missing: not started") != 5 {
		t.Errorf("list: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(context.Background(), "compare", "--in", dir, "--against", dir)
	if code != 0 || !strings.Contains(stdout, "1 run(s) bit-identical, 0 differing or missing") {
		t.Errorf("compare with itself: %d\n%s", code, stdout)
	}
	// A record with another result differs.
	other := t.TempDir()
	l := onlyRecord(t, dir)
	l.Record.Curves[0].TestLoss += 1e-12
	if err := bench.WriteLine(other, l); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCmd(context.Background(), "compare", "--in", dir, "--against", other)
	if code != 1 || !strings.Contains(stdout, "DIFFERS tiny/spad/r1: curve point 0:") {
		t.Errorf("compare with a changed record: %d\n%s", code, stdout)
	}
}

// TestSlurmCommand writes the scripts of a sweep with one run finished,
// submits them through a stand-in sbatch that records its arguments, and
// checks that nothing is submitted once every run is finished.
func TestSlurmCommand(t *testing.T) {
	dir := t.TempDir()
	bin := t.TempDir()
	sbatchLog := filepath.Join(bin, "args")
	fake := "#!/bin/sh\necho \"$@\" >> " + sbatchLog + "\nn=$(wc -l < " + sbatchLog + ")\nif [ \"$n\" = 1 ]; then echo '41;cluster'; else echo 42; fi\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	s, err := bench.LoadSuiteFile("../../bench/testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Jobs(false, datasets.Options{})
	finish := func(j bench.Job) {
		t.Helper()
		if err := bench.WriteLine(dir, bench.Line{ID: j.ID, Suite: j.Suite, Setting: j.Setting, Repeat: j.Repeat,
			Hash: bench.ConfigHash(j.Config), BaseHash: bench.BaseHash(j.Config), Record: &train.Record{Iters: j.Config.Iters}}); err != nil {
			t.Fatal(err)
		}
	}
	finish(jobs[1])
	args := []string{"slurm", "--suite-file", "../../bench/testdata/tiny.json", "--out", dir, "--bench", "/shared/bench",
		"--cpus", "3", "--max-parallel", "2", "--time", "01:00:00", "--partition", "short"}
	code, stdout, stderr := runCmd(context.Background(), args...)
	if code != 0 || !strings.Contains(stdout, "tiny: 5 of 6 runs to do (array 0,2-5), 3 core(s) each") || !strings.Contains(stdout, "submit with:") {
		t.Fatalf("slurm: status %d\n%s%s", code, stdout, stderr)
	}
	arr, err := os.ReadFile(filepath.Join(dir, "slurm", "tiny-array.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	frozen, _ := filepath.Glob(filepath.Join(dir, "slurm", "tiny-*.suite.json"))
	if len(frozen) != 1 {
		t.Fatalf("frozen suites: %v", frozen)
	}
	for _, want := range []string{"#SBATCH --array=0,2-5%2\n", "#SBATCH --partition=short\n", "bench=/shared/bench\n",
		`"$bench" run --suite-file ` + frozen[0] + ` --index "$idx" --out "$dir" --threads 3 &`} {
		if !strings.Contains(string(arr), want) {
			t.Errorf("array script lacks %q:\n%s", want, arr)
		}
	}
	// The frozen suite gives the same runs.
	fs, err := bench.LoadSuiteFile(frozen[0])
	if err != nil {
		t.Fatal(err)
	}
	fj := fs.Jobs(false, datasets.Options{})
	if len(fj) != len(jobs) {
		t.Fatalf("frozen suite: %d runs, want %d", len(fj), len(jobs))
	}
	for i := range fj {
		if fj[i].ID != jobs[i].ID || bench.ConfigHash(fj[i].Config) != bench.ConfigHash(jobs[i].Config) {
			t.Errorf("frozen run %d: %s %s, want %s %s", i, fj[i].ID, bench.ConfigHash(fj[i].Config), jobs[i].ID, bench.ConfigHash(jobs[i].Config))
		}
	}
	// With --repeats the frozen suite has them and the tasks are not
	// given them again; the finished run keeps its place (tiny/baseline/r2
	// is now index 1 of 9).
	code, _, stderr = runCmd(context.Background(), append(args, "--repeats", "3")...)
	arr, _ = os.ReadFile(filepath.Join(dir, "slurm", "tiny-array.sbatch"))
	if code != 0 || strings.Contains(string(arr), "--repeats") || !strings.Contains(string(arr), "--array=0,2-8%2") {
		t.Errorf("--repeats 3: status %d %s\n%s", code, stderr, arr)
	}
	// A horizon the finished run cannot be continued to (its schedule is
	// relative) is refused before anything is written.
	if code, _, stderr = runCmd(context.Background(), append(args, "--iters", "9")...); code != 1 || !strings.Contains(stderr, "already holds run tiny/baseline/r2 with another configuration") {
		t.Errorf("--iters 9: status %d %s", code, stderr)
	}
	if frozen, _ = filepath.Glob(filepath.Join(dir, "slurm", "tiny-*.suite.json")); len(frozen) != 2 {
		t.Errorf("frozen suites after a second submission: %v", frozen)
	}
	for _, f := range frozen {
		if fs, err := bench.LoadSuiteFile(f); err == nil && fs.Repeats == 3 && !strings.Contains(string(arr), f) {
			t.Errorf("%s: repeats %d, used by the script: %v", f, fs.Repeats, strings.Contains(string(arr), f))
		}
	}
	code, _, stderr = runCmd(context.Background(), args...)
	if code != 0 {
		t.Fatal(stderr)
	}
	if info, err := bench.ReadSweepInfo(dir); err != nil || info.Suite.Name != "tiny" {
		t.Errorf("sweep.json: %v", err)
	}
	code, stdout, stderr = runCmd(context.Background(), append(args, "--submit")...)
	if code != 0 || !strings.Contains(stdout, "array job 41 (5 tasks), report job 42 (after the array)") {
		t.Fatalf("slurm --submit: status %d\n%s%s", code, stdout, stderr)
	}
	got, _ := os.ReadFile(sbatchLog)
	want := "--parsable " + filepath.Join(dir, "slurm", "tiny-array.sbatch") + "\n--parsable --dependency=afterany:41 " + filepath.Join(dir, "slurm", "tiny-report.sbatch") + "\n"
	if string(got) != want {
		t.Errorf("sbatch called with\n%s\nwant\n%s", got, want)
	}
	for _, j := range jobs {
		finish(j)
	}
	code, stdout, _ = runCmd(context.Background(), append(args, "--submit")...)
	if code != 0 || !strings.Contains(stdout, "all 6 runs of tiny are finished") {
		t.Errorf("finished sweep: status %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "slurm", "tiny-array.sbatch")); !os.IsNotExist(err) {
		t.Errorf("a stale array script is left: %v", err)
	}
	// sbatch failing is an error naming it.
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte("#!/bin/sh\necho 'sbatch: error: invalid partition specified: short' >&2\nexit 1\n"), 0o755)
	code, _, stderr = runCmd(context.Background(), "slurm", "--suite-file", "../../bench/testdata/tiny.json", "--out", t.TempDir(), "--bench", "/b", "--partition", "short", "--submit")
	if code != 1 || !strings.Contains(stderr, "sbatch: error: invalid partition specified: short") {
		t.Errorf("sbatch failure: %d %s", code, stderr)
	}
}

func TestK8sCommand(t *testing.T) {
	code, stdout, stderr := runCmd(context.Background(), "k8s", "--suite", "mnist-fig8", "--image", "reg/spad:1", "--claim", "sweeps", "--max-parallel", "9")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	for _, want := range []string{"name: \"spad-mnist-fig8\"", "completionMode: Indexed", "completions: 45", "parallelism: 9",
		"- \"$(JOB_COMPLETION_INDEX)\"", "- \"/results/mnist-fig8\"", "claimName: \"sweeps\""} {
		if !strings.Contains(stdout, want) {
			t.Errorf("manifest lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSameBits(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		a, b train.Point
		same bool
	}{
		{train.Point{Iter: 5, TestLoss: 0.25}, train.Point{Iter: 5, TestLoss: 0.25}, true},
		{train.Point{TestLoss: nan}, train.Point{TestLoss: nan}, true},
		{train.Point{TestLoss: nan}, train.Point{TestLoss: math.Inf(1)}, false},
		{train.Point{TestLoss: 0}, train.Point{TestLoss: math.Copysign(0, -1)}, false},
		{train.Point{TestLoss: 0.1}, train.Point{TestLoss: math.Nextafter(0.1, 1)}, false},
		{train.Point{Iter: 5}, train.Point{Iter: 6}, false},
	} {
		if got := sameBits(reflect.ValueOf(c.a), reflect.ValueOf(c.b)); got != c.same {
			t.Errorf("sameBits(%+v, %+v) = %v", c.a, c.b, got)
		}
	}
	a := bench.Line{ID: "x", Hash: "h", Record: &train.Record{Iters: 3, TestLoss: 1, Curves: []train.Point{{Iter: 3}}}}
	b := a
	rb := *a.Record
	rb.Curves = []train.Point{{Iter: 3, LR: 1e-3}}
	b.Record = &rb
	if d := resultDiff(a, b); !strings.HasPrefix(d, "curve point 0:") {
		t.Errorf("resultDiff: %q", d)
	}
	rb.Curves, rb.TestLoss = a.Record.Curves, math.Nextafter(1, 2)
	if d := resultDiff(a, b); d != "test loss 1 vs 1.0000000000000002" {
		t.Errorf("resultDiff: %q", d)
	}
	rb.TestLoss = 1
	if d := resultDiff(a, b); d != "" {
		t.Errorf("resultDiff of equal records: %q", d)
	}
}

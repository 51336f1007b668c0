package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// fakeJobs are n jobs of a one-setting suite.
func fakeJobs(t *testing.T, repeats int) []Job {
	t.Helper()
	s, err := ParseSuite("fake.json", fmt.Appendf(nil,
		`{"name":"fake","model":"smallfc","iters":5,"repeats":%d,"settings":[{"name":"a","estimator":"baseline","lr":1e-3},{"name":"b","estimator":"rad","keep":0.1,"lr":1e-3}]}`, repeats))
	if err != nil {
		t.Fatal(err)
	}
	return s.Jobs(false, datasets.Options{})
}

// fakeRecord is what the fake executor returns for job: numbers derived
// from the repeat so that a test can recognise them.
func fakeRecord(job Job) *train.Record {
	return &train.Record{Model: job.Config.Model, Estimator: job.Config.Estimator.String(),
		EstimatorMode: job.Config.Estimator.Mode.String(), Iters: job.Config.Iters, Batch: job.Config.Batch,
		TestAccuracy: 0.9 + 0.01*float64(job.Repeat), TrainHeapBytes: 1000, SavedBytesPeak: 100}
}

// countIDs reads the finished runs of dir and counts each run ID.
func countIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	lines, warn, err := LoadLines(dir)
	if errors.Is(err, ErrNoRuns) {
		return map[string]int{}
	}
	if err != nil || warn != "" {
		t.Fatalf("LoadLines: %v %q", err, warn)
	}
	n := map[string]int{}
	for _, l := range lines {
		n[l.ID]++
	}
	return n
}

// TestSweepResume interrupts a sweep after a few runs, reruns it and checks
// that every run is in runs.jsonl exactly once.
func TestSweepResume(t *testing.T) {
	dir := t.TempDir()
	jobs := fakeJobs(t, 5) // 10 jobs
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	exec := ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) {
		if started.Add(1) > 4 {
			cancel()
			<-ctx.Done() // a run in progress is killed
			return nil, ctx.Err()
		}
		return fakeRecord(job), nil
	})
	var out bytes.Buffer
	res, err := Sweep(ctx, jobs, SweepOptions{Dir: dir, Jobs: 2, Exec: exec, Out: &out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: err %v", err)
	}
	first := countIDs(t, dir)
	if res.Done != 4 || len(first) != 4 || res.Failed != 0 {
		t.Fatalf("interrupted sweep: done %d, file holds %v, failed %d", res.Done, first, res.Failed)
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Errorf("interrupted runs reported as failures:\n%s", out.String())
	}

	var ran sync.Map
	exec2 := ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) {
		if _, dup := ran.LoadOrStore(job.ID, true); dup {
			t.Errorf("job %s run twice", job.ID)
		}
		if first[job.ID] > 0 {
			t.Errorf("finished job %s run again", job.ID)
		}
		return fakeRecord(job), nil
	})
	res, err = Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Jobs: 3, Exec: exec2, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 4 || res.Done != 6 {
		t.Errorf("resumed sweep: skipped %d done %d, want 4 and 6", res.Skipped, res.Done)
	}
	all := countIDs(t, dir)
	for _, j := range jobs {
		if all[j.ID] != 1 {
			t.Errorf("%s appears %d times", j.ID, all[j.ID])
		}
	}
	if len(all) != len(jobs) {
		t.Errorf("file holds %d IDs, want %d", len(all), len(jobs))
	}

	// A third run does nothing.
	res, err = Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Exec: ExecutorFunc(func(context.Context, Job) (*train.Record, error) {
		t.Error("nothing should run")
		return nil, errors.New("no")
	})})
	if err != nil || res.Skipped != len(jobs) {
		t.Errorf("complete sweep: %v, skipped %d", err, res.Skipped)
	}
}

// TestSweepTruncatedLine: a last line of a legacy runs.jsonl cut by a
// crash is ignored with a warning, removed, and its run done again (and
// recorded in the per-run layout).
func TestSweepTruncatedLine(t *testing.T) {
	dir := t.TempDir()
	jobs := fakeJobs(t, 1)
	exec := ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) { return fakeRecord(job), nil })
	path := filepath.Join(dir, RunsFile)
	var data []byte
	for _, j := range jobs {
		js, _ := json.Marshal(Line{ID: j.ID, Suite: j.Suite, Setting: j.Setting, Repeat: j.Repeat,
			Hash: ConfigHash(j.Config), BaseHash: BaseHash(j.Config), Record: fakeRecord(j)})
		data = append(append(data, js...), '\n')
	}
	// Cut the second line in the middle.
	nl := bytes.IndexByte(data, '\n')
	cut := data[:nl+1+(len(data)-nl-1)/2]
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, good, warn, err := ReadRuns(path)
	if err != nil || len(lines) != 1 || good != int64(nl+1) || !strings.Contains(warn, "runs.jsonl:2: ignoring an incomplete last line") {
		t.Fatalf("ReadRuns of a cut file: %d lines, good %d, %q, %v", len(lines), good, warn, err)
	}
	var out bytes.Buffer
	res, err := Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Exec: exec, Out: &out})
	if err != nil || res.Done != 1 || res.Skipped != 1 {
		t.Fatalf("resume after a cut line: %+v %v", res, err)
	}
	if !strings.Contains(out.String(), "warning: ") {
		t.Errorf("no warning printed:\n%s", out.String())
	}
	if _, _, warn, _ := ReadRuns(path); warn != "" {
		t.Errorf("the torn line is still there: %s", warn)
	}
	if _, err := os.Stat(RecordPath(dir, jobs[1].ID)); err != nil {
		t.Errorf("the redone run is not in its own file: %v", err)
	}
	n := countIDs(t, dir)
	if len(n) != 2 || n[jobs[0].ID] != 1 || n[jobs[1].ID] != 1 {
		t.Errorf("IDs after resume: %v", n)
	}
}

func TestReadRunsCorruptMiddle(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	os.WriteFile(path, []byte("{\"id\":\"a\",\"record\":{}}\nnot json\n{\"id\":\"b\",\"record\":{}}\n"), 0o644)
	if _, _, _, err := ReadRuns(path); err == nil || !strings.Contains(err.Error(), "runs.jsonl:2: ") {
		t.Errorf("corrupt middle line: %v", err)
	}
	os.WriteFile(path, []byte("{\"id\":\"a\",\"record\":{}}\n\n{\"id\":\"b\"}\n"), 0o644)
	if lines, _, warn, err := ReadRuns(path); err != nil || len(lines) != 1 || warn == "" {
		t.Errorf("record-less last line: %d lines, %q, %v", len(lines), warn, err)
	}
}

// TestSweepFailures: a failed run is reported, not written, and done again
// by the next sweep; a changed configuration under the same ID is refused.
func TestSweepFailures(t *testing.T) {
	dir := t.TempDir()
	jobs := fakeJobs(t, 2)
	exec := ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) {
		if job.ID == "fake/b/r1" {
			return nil, errors.New("training diverged")
		}
		return fakeRecord(job), nil
	})
	var out bytes.Buffer
	res, err := Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Jobs: 1, Exec: exec, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "1 run(s) failed; first: fake/b/r1: training diverged") || res.Failed != 1 || res.Done != 3 {
		t.Fatalf("sweep with a failure: %+v %v", res, err)
	}
	if !strings.Contains(out.String(), "FAILED fake/b/r1: training diverged") {
		t.Errorf("output:\n%s", out.String())
	}
	if n := countIDs(t, dir); len(n) != 3 || n["fake/b/r1"] != 0 {
		t.Errorf("IDs: %v", n)
	}
	ok := ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) { return fakeRecord(job), nil })
	if res, err := Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Exec: ok}); err != nil || res.Done != 1 {
		t.Errorf("retry of the failed run: %+v %v", res, err)
	}
	jobs[0].Config.LR *= 2
	if _, err := Sweep(context.Background(), jobs, SweepOptions{Dir: dir, Exec: ok}); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("changed configuration: %v", err)
	}
	dup := append(fakeJobs(t, 1), fakeJobs(t, 1)[0])
	if _, err := Sweep(context.Background(), dup, SweepOptions{Dir: t.TempDir(), Exec: ok}); err == nil || !strings.Contains(err.Error(), "duplicate run ID") {
		t.Errorf("duplicate IDs: %v", err)
	}
}

func TestConfigHashIgnoresThreadsAndData(t *testing.T) {
	j := fakeJobs(t, 1)[0]
	c := j.Config
	h := ConfigHash(c)
	c.Threads = 7
	c.Data = datasets.Options{Dir: "/x"}
	if ConfigHash(c) != h {
		t.Error("threads or data directory change the hash")
	}
	c.Seed++
	if ConfigHash(c) == h {
		t.Error("the seed does not change the hash")
	}
}

// TestRunJobInProcess trains the tiny suite's first job for real.
func TestRunJobInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	s, err := LoadSuiteFile("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Jobs(false, datasets.Options{NoDownload: true})
	var in bytes.Buffer
	in.WriteString(`{"id":"x","config":{"Model":"smallfc","Iters":2,"Batch":10,"LR":0.001,"TrainSize":50,"TestSize":20,"Bootstrap":1,"Seed":1,"Data":{"NoDownload":true}}}`)
	var out bytes.Buffer
	if err := RunOne(context.Background(), &in, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"test_accuracy"`) {
		t.Errorf("RunOne printed %q", out.String())
	}
	if err := RunOne(context.Background(), strings.NewReader(`{"bogus":1}`), &out, nil); err == nil || !strings.Contains(err.Error(), "reading the job") {
		t.Errorf("bad job: %v", err)
	}
	res, err := Sweep(context.Background(), jobs[:2], SweepOptions{Dir: t.TempDir(), Jobs: 1, Exec: InProcess})
	if err != nil || res.Done != 2 {
		t.Errorf("in-process sweep: %+v %v", res, err)
	}
}

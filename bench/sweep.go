package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spadlab/spad/train"
)

// Executor runs one job to completion and returns its record. It must
// stop promptly, with an error, when ctx is cancelled.
type Executor interface {
	Execute(ctx context.Context, job Job) (*train.Record, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, job Job) (*train.Record, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, job Job) (*train.Record, error) {
	return f(ctx, job)
}

// ChildExecutor runs each job in a child process: Path with Args, the job
// as JSON on its standard input, the record as JSON on its standard
// output (see RunOne). Each run then has its own Go heap, so its peak heap
// is its own, and a crash loses only that run.
type ChildExecutor struct {
	Path string   // executable
	Args []string // arguments selecting the run-one mode
	Env  []string // extra environment variables
}

// Execute runs job in a child process.
func (c ChildExecutor) Execute(ctx context.Context, job Job) (*train.Record, error) {
	in, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	var rec train.Record
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		return nil, fmt.Errorf("child printed no run record: %v", err)
	}
	return &rec, nil
}

// InProcess runs jobs inside this process. Runs share the Go heap, so
// their peak heaps are only honest one at a time; it is meant for tests.
var InProcess = ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) {
	return RunJob(job)
})

// RunJob trains one job without progress output and returns its record.
func RunJob(job Job) (*train.Record, error) {
	cfg := job.Config
	cfg.Progress, cfg.Terminal = nil, false
	r, err := train.NewRunner(cfg)
	if err != nil {
		return nil, err
	}
	return r.Run()
}

// RunOne is the child side of ChildExecutor: it reads a Job as JSON from
// in, trains it and writes the record as JSON to out.
func RunOne(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	var job Job
	if err := dec.Decode(&job); err != nil {
		return fmt.Errorf("reading the job: %v", err)
	}
	rec, err := RunJob(job)
	if err != nil {
		return err
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = out.Write(append(js, '\n'))
	return err
}

// SweepOptions configure Sweep.
type SweepOptions struct {
	Dir      string   // output directory holding runs.jsonl
	Jobs     int      // runs at once (0: the number of cores)
	Exec     Executor // how a run executes
	Out      io.Writer
	Terminal bool // Out is a terminal: one progress bar instead of lines
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Total, Skipped, Done, Failed int
	Threads                      int // kernel threads per run
	Wall                         time.Duration
}

// DefaultJobs is the number of runs at once by default: one per core.
func DefaultJobs() int { return max(1, runtime.NumCPU()) }

// ThreadsPerRun is the kernel thread count each of jobs parallel runs gets
// so that jobs·threads does not exceed the cores.
func ThreadsPerRun(jobs int) int { return max(1, runtime.NumCPU()/max(1, jobs)) }

// Sweep runs every job not yet in Dir/runs.jsonl, Jobs at a time, and
// appends each finished run to the file at once. Re-running the same
// sweep skips finished runs, so an interrupted sweep resumes. Jobs whose
// ID is present with another configuration are an error: a different
// suite belongs in another directory. A failed run is reported and left
// out of the file; Sweep then returns an error after the other runs.
func Sweep(ctx context.Context, jobs []Job, o SweepOptions) (SweepResult, error) {
	start := time.Now()
	res := SweepResult{Total: len(jobs)}
	if o.Jobs < 1 {
		o.Jobs = DefaultJobs()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Exec == nil {
		return res, errors.New("sweep: no executor")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return res, err
	}
	path := filepath.Join(o.Dir, RunsFile)
	done, good, warn, err := ReadRuns(path)
	if err != nil {
		return res, err
	}
	if warn != "" {
		fmt.Fprintln(o.Out, "warning:", warn)
	}
	have := map[string]string{}
	for _, l := range done {
		have[l.ID] = l.Hash
	}
	res.Threads = ThreadsPerRun(o.Jobs)
	var todo []Job
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.ID] {
			return res, fmt.Errorf("sweep: duplicate run ID %s", j.ID)
		}
		seen[j.ID] = true
		j.Config.Threads = res.Threads
		if h, ok := have[j.ID]; ok {
			if h != ConfigHash(j.Config) {
				return res, fmt.Errorf("%s already holds run %s with another configuration; use another output directory", path, j.ID)
			}
			res.Skipped++
			continue
		}
		todo = append(todo, j)
	}
	log, err := OpenRunLog(path, good)
	if err != nil {
		return res, err
	}
	defer log.Close()

	var bar *progressbar.ProgressBar
	if o.Terminal && len(todo) > 0 {
		bar = progressbar.NewOptions(len(todo),
			progressbar.OptionSetWriter(o.Out),
			progressbar.OptionSetDescription("sweep"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(500*time.Millisecond),
		)
		_ = bar.RenderBlank()
	}
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		queue    = make(chan Job)
		appendMu error
	)
	finish := func(j Job, rec *train.Record, took time.Duration, runErr error) {
		mu.Lock()
		defer mu.Unlock()
		if runErr != nil {
			if ctx.Err() != nil {
				return // interrupted, not failed
			}
			res.Failed++
			failures = append(failures, j.ID+": "+runErr.Error())
			msg := fmt.Sprintf("FAILED %s: %v", j.ID, runErr)
			if bar != nil {
				_ = bar.Clear()
				fmt.Fprintln(o.Out, msg)
				_ = bar.Add(1)
			} else {
				fmt.Fprintln(o.Out, msg)
			}
			return
		}
		if err := log.Append(Line{ID: j.ID, Suite: j.Suite, Setting: j.Setting, Repeat: j.Repeat, Hash: ConfigHash(j.Config), Record: rec}); err != nil && appendMu == nil {
			appendMu = err
		}
		res.Done++
		if bar != nil {
			bar.Describe(fmt.Sprintf("sweep: %s %.2f%%", j.ID, 100*rec.TestAccuracy))
			_ = bar.Add(1)
			return
		}
		fmt.Fprintf(o.Out, "[%d/%d] %-34s acc %6.2f%%  test loss %.4f  train heap %7.2f MB  saved %6.2f MB  %6.2f ms/iter  %s\n",
			res.Done+res.Failed, len(todo), j.ID, 100*rec.TestAccuracy, rec.TestLoss,
			float64(rec.TrainHeapBytes)/1e6, float64(rec.SavedBytesPeak)/1e6, rec.MsPerIter, took.Round(time.Second))
	}
	for w := 0; w < o.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				t0 := time.Now()
				rec, err := o.Exec.Execute(ctx, j)
				finish(j, rec, time.Since(t0), err)
			}
		}()
	}
feed:
	for _, j := range todo {
		select {
		case queue <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(o.Out)
	}
	res.Wall = time.Since(start)
	switch {
	case appendMu != nil:
		return res, fmt.Errorf("writing %s: %v", path, appendMu)
	case ctx.Err() != nil:
		return res, ctx.Err()
	case len(failures) > 0:
		return res, fmt.Errorf("%d run(s) failed; first: %s", len(failures), failures[0])
	}
	return res, nil
}

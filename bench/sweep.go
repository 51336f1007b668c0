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
	"syscall"
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
// is its own, and a crash loses only that run. When ctx is cancelled the
// child is asked to stop (SIGTERM: it finishes its step and writes its
// checkpoint) and killed if it has not exited within a minute; a child
// whose parent dies is killed too (Linux).
type ChildExecutor struct {
	Path string   // executable
	Args []string // arguments selecting the run-one mode
	Env  []string // extra environment variables
	// LogDir, if set, receives each run's progress lines in
	// LogDir/<run>.log (appended, so a resumed run continues its log).
	LogDir string
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
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	setParentDeathSignal(cmd)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if c.LogDir != "" {
		if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(c.LogDir, fileSafe(job.ID)+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fmt.Fprintf(f, "== %s start %s\n", job.ID, time.Now().UTC().Format(time.RFC3339))
		cmd.Stderr = io.MultiWriter(&errb, f)
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := childError(errb.String())
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

// childError picks the line of a failed child's standard error that says
// what went wrong: the panic or fatal-error message when there is one
// (not the stack frame that follows it), else the last error line.
func childError(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return strings.TrimSpace(l)
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "iter ") && !strings.HasPrefix(l, "== ") {
			return l
		}
	}
	return ""
}

// fileSafe turns a run ID (suite/setting/rN) into a file name.
func fileSafe(id string) string { return strings.ReplaceAll(id, "/", "_") }

// InProcess runs jobs inside this process. Runs share the Go heap, so
// their peak heaps are only honest one at a time; it is meant for tests.
var InProcess = ExecutorFunc(func(ctx context.Context, job Job) (*train.Record, error) {
	return RunJobContext(ctx, job, nil)
})

// RunJob trains one job without progress output and returns its record.
func RunJob(job Job) (*train.Record, error) { return RunJobContext(context.Background(), job, nil) }

// RunJobContext trains one job, writing progress lines to progress (nil:
// none). When the job has a checkpoint path and a checkpoint exists
// there, the run resumes from it (a partial run, or a finished run being
// continued to a longer horizon). When ctx is cancelled the run stops at
// the next step boundary, writes its checkpoint and returns an error
// wrapping train.ErrInterrupted.
func RunJobContext(ctx context.Context, job Job, progress io.Writer) (*train.Record, error) {
	cfg := job.Config
	cfg.Progress, cfg.Terminal = progress, false
	r, err := train.NewRunner(cfg)
	if err != nil {
		return nil, err
	}
	if p := cfg.CheckpointPath; p != "" {
		if _, err := os.Stat(p); err == nil {
			if err := r.LoadCheckpoint(p); err != nil {
				return nil, fmt.Errorf("%v (remove the file to start run %s afresh)", err, job.ID)
			}
			if progress != nil {
				fmt.Fprintf(progress, "resumed %s at iteration %d of %d from %s\n", job.ID, r.Iter, cfg.Iters, p)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return r.RunContext(ctx)
}

// RunOne is the child side of ChildExecutor: it reads a Job as JSON from
// in, trains it (resuming from its checkpoint when there is one) and
// writes the record as JSON to out, progress lines to progress.
func RunOne(ctx context.Context, in io.Reader, out, progress io.Writer) error {
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	var job Job
	if err := dec.Decode(&job); err != nil {
		return fmt.Errorf("reading the job: %v", err)
	}
	rec, err := RunJobContext(ctx, job, progress)
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
	Dir      string   // output directory (see RunsDir)
	Jobs     int      // runs at once (0: the number of cores)
	Exec     Executor // how a run executes
	Out      io.Writer
	Terminal bool // Out is a terminal: one progress bar instead of lines
	// CheckpointEvery is the cadence, in iterations, of each run's
	// checkpoint in Dir/checkpoints (0: DefaultCheckpointEvery; < 0: none).
	CheckpointEvery int
	// Info, if set, is recorded in Dir/sweep.json for Status.
	Info *SweepInfo
}

// DefaultCheckpointEvery is a sweep's checkpoint cadence by default.
const DefaultCheckpointEvery = 1000

// checkpointEvery is the cadence that an option's CheckpointEvery asks for
// (0: DefaultCheckpointEvery; < 0: none).
func checkpointEvery(every int) int {
	if every == 0 {
		return DefaultCheckpointEvery
	}
	return every
}

// writeInfo records info, if not nil, in dir/sweep.json.
func writeInfo(dir string, info *SweepInfo) error {
	if info == nil {
		return nil
	}
	return WriteSweepInfo(dir, *info)
}

// configure sets the kernel threads of j's run and, for every > 0, the
// cadence and path (in the sweep directory dir) of its checkpoint.
func (j *Job) configure(dir string, threads, every int) {
	j.Config.Threads = threads
	if every > 0 {
		j.Config.CheckpointEvery = every
		j.Config.CheckpointPath = CheckpointPath(dir, j.ID)
	}
}

// line is the record of j's finished run.
func (j *Job) line(rec *train.Record) Line {
	return Line{ID: j.ID, Suite: j.Suite, Setting: j.Setting, Repeat: j.Repeat,
		Hash: ConfigHash(j.Config), BaseHash: BaseHash(j.Config), Record: rec}
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Total, Skipped, Done, Failed int
	Resumed, Extended            int // runs continued from a checkpoint, and from a finished run's final state
	Threads                      int // kernel threads per run
	Wall                         time.Duration
}

// DefaultJobs is the number of runs at once by default: one per core.
func DefaultJobs() int { return max(1, runtime.NumCPU()) }

// ThreadsPerRun is the kernel thread count each of jobs parallel runs gets
// so that jobs·threads does not exceed the cores.
func ThreadsPerRun(jobs int) int { return max(1, runtime.NumCPU()/max(1, jobs)) }

// CheckpointPath is where a sweep in dir keeps the mid-run checkpoint of
// run id; it is removed (or moved to FinalCheckpointPath) when the run
// finishes.
func CheckpointPath(dir, id string) string {
	return filepath.Join(dir, "checkpoints", fileSafe(id)+".ckpt")
}

// FinalCheckpointPath is where a sweep in dir keeps the final state of a
// finished run whose learning-rate schedule is absolute
// (Config.LRDecayEvery > 0), so that it can be continued to a longer
// horizon without redoing what is done.
func FinalCheckpointPath(dir, id string) string {
	return filepath.Join(dir, "final", fileSafe(id)+".ckpt")
}

// plan decides what each job needs given the finished lines: skip (done
// at this horizon), run (from scratch or from its mid-run checkpoint) or
// extend (continue a finished shorter run from its final checkpoint).
func plan(dir string, jobs []Job, done []Line) (todo []Job, skipped, extend int, err error) {
	last := map[string]Line{}
	for _, l := range Latest(done) {
		last[l.ID] = l
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.ID] {
			return nil, 0, 0, fmt.Errorf("sweep: duplicate run ID %s", j.ID)
		}
		seen[j.ID] = true
		l, ok := last[j.ID]
		if !ok {
			todo = append(todo, j)
			continue
		}
		if l.Hash == ConfigHash(j.Config) {
			skipped++
			tidyFinished(dir, j)
			continue
		}
		path := dir
		if l.BaseHash == "" || l.BaseHash != BaseHash(j.Config) {
			return nil, 0, 0, fmt.Errorf("%s already holds run %s with another configuration; use another output directory", path, j.ID)
		}
		switch have := l.Record.Iters; {
		case have > j.Config.Iters:
			return nil, 0, 0, fmt.Errorf("%s holds run %s at %d iterations, beyond the %d asked; use another output directory for a shorter horizon", path, j.ID, have, j.Config.Iters)
		case j.Config.LRDecayEvery == 0:
			return nil, 0, 0, fmt.Errorf("%s holds run %s at %d iterations; its learning-rate schedule depends on the run length, so %d iterations is another run: use another output directory", path, j.ID, have, j.Config.Iters)
		}
		mid, final := CheckpointPath(dir, j.ID), FinalCheckpointPath(dir, j.ID)
		if _, err := os.Stat(mid); err != nil {
			if _, err := os.Stat(final); err != nil {
				return nil, 0, 0, fmt.Errorf("run %s finished at %d iterations but its final checkpoint %s is missing, so it cannot be continued to %d; use another output directory", j.ID, l.Record.Iters, final, j.Config.Iters)
			}
			if err := copyFile(final, mid); err != nil {
				return nil, 0, 0, err
			}
		}
		extend++
		todo = append(todo, j)
	}
	return todo, skipped, extend, nil
}

// tidyFinished removes or files away the checkpoint a finished run may
// have left when the sweep stopped between its record and its cleanup.
func tidyFinished(dir string, j Job) {
	mid := CheckpointPath(dir, j.ID)
	info, err := train.PeekCheckpoint(mid)
	if err != nil || info.Iter != j.Config.Iters {
		return // absent, or a longer extension in progress: leave it
	}
	finishCheckpoint(dir, j)
}

// finishCheckpoint moves a finished run's last checkpoint to its final
// place when the run can be extended, and removes it otherwise.
func finishCheckpoint(dir string, j Job) error {
	mid := CheckpointPath(dir, j.ID)
	if j.Config.LRDecayEvery > 0 {
		final := FinalCheckpointPath(dir, j.ID)
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		if err := os.Rename(mid, final); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.Remove(mid); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return train.WriteFileAtomic(to, data)
}

// Sweep runs every job not yet finished in Dir, Jobs at a time, and
// records each finished run at once in its own file (WriteLine, the
// layout RunIndex uses too, so local and cluster runs mix; finished runs
// of the legacy Dir/runs.jsonl count as well, and the file is no longer
// appended to: one file per run needs no appender, never loses a run to a
// torn last line and is safe on shared file systems). Each run checkpoints
// into Dir/checkpoints every CheckpointEvery iterations, so re-running
// the same sweep skips finished runs and resumes partial ones from their
// last checkpoint. A job whose ID finished at a shorter horizon with the
// same configuration and an absolute learning-rate schedule is continued
// from its final checkpoint. Jobs whose ID is present with another
// configuration are an error: a different suite belongs in another
// directory. A failed run is reported and not recorded; Sweep then
// returns an error after the other runs. Two sweeps cannot share Dir at
// once.
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
	every := checkpointEvery(o.CheckpointEvery)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return res, err
	}
	unlock, err := lockDir(o.Dir)
	if err != nil {
		return res, err
	}
	defer unlock()
	if err := writeInfo(o.Dir, o.Info); err != nil {
		return res, err
	}
	done, warn, err := LoadLines(o.Dir)
	if err != nil && !errors.Is(err, ErrNoRuns) {
		return res, err
	}
	if warn != "" {
		fmt.Fprintln(o.Out, "warning:", warn)
		// The legacy file's torn last line (a sweep of an older version
		// killed mid-write) is cut, as that version did, under the
		// directory's exclusive lock.
		if _, good, _, err := ReadRuns(filepath.Join(o.Dir, RunsFile)); err == nil {
			if err := os.Truncate(filepath.Join(o.Dir, RunsFile), good); err != nil {
				return res, err
			}
		}
	}
	res.Threads = ThreadsPerRun(o.Jobs)
	for i := range jobs {
		jobs[i].configure(o.Dir, res.Threads, every)
	}
	todo, skipped, extend, err := plan(o.Dir, jobs, done)
	if err != nil {
		return res, err
	}
	res.Skipped, res.Extended = skipped, extend
	if every > 0 {
		if err := os.MkdirAll(filepath.Join(o.Dir, "checkpoints"), 0o755); err != nil {
			return res, err
		}
		cleanTemp(filepath.Join(o.Dir, "checkpoints"))
		for _, j := range todo {
			if info, err := train.PeekCheckpoint(j.Config.CheckpointPath); err == nil {
				res.Resumed++
				fmt.Fprintf(o.Out, "%s: resuming at iteration %d of %d\n", j.ID, info.Iter, j.Config.Iters)
			}
		}
	}
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
		writeErr error
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
		line := j.line(rec)
		if err := WriteLine(o.Dir, line); err != nil {
			if writeErr == nil {
				writeErr = err
			}
		} else if every > 0 {
			if err := finishCheckpoint(o.Dir, j); err != nil && writeErr == nil {
				writeErr = err
			}
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
	case writeErr != nil:
		return res, writeErr
	case ctx.Err() != nil:
		return res, ctx.Err()
	case len(failures) > 0:
		return res, fmt.Errorf("%d run(s) failed; first: %s", len(failures), failures[0])
	}
	return res, nil
}

// cleanTemp removes temporary files left by checkpoint writes that were
// killed before their rename (".<name>.tmp…"); only ours, in dir.
func cleanTemp(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, ".") && strings.Contains(n, ".ckpt.tmp") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

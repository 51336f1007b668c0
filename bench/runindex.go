package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// RunsDir is the folder of a sweep's directory that holds one record
// file per finished run, RunsDir/<run>.json (the run ID with "/" turned
// into "_"). Each file is one Line, written whole and renamed into place,
// so many processes on many machines can finish runs in one directory at
// once. Directories written before this layout keep their finished runs
// in RunsFile; both are read (LoadLines).
const RunsDir = "runs"

// ErrNoRuns is LoadLines's error (wrapped) for a directory without any
// record of finished runs.
var ErrNoRuns = errors.New("no runs file")

func isNoRuns(err error) bool { return errors.Is(err, ErrNoRuns) }

// RecordPath is where the finished run id of the sweep in dir is
// recorded.
func RecordPath(dir, id string) string {
	return filepath.Join(dir, RunsDir, fileSafe(id)+".json")
}

// WriteLine records the finished run l in dir atomically (a temporary
// file renamed over RecordPath), replacing an earlier record of the same
// run (a shorter horizon it was extended from).
func WriteLine(dir string, l Line) error {
	if l.ID == "" || l.Record == nil {
		return errors.New("bench: a run record needs an id and a record")
	}
	if l.Finished == "" {
		l.Finished = time.Now().UTC().Format(time.RFC3339)
	}
	js, err := json.Marshal(l)
	if err != nil {
		return err
	}
	path := RecordPath(dir, l.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return train.WriteFileAtomic(path, append(js, '\n'))
}

// ReadLine reads one record file of RunsDir.
func ReadLine(path string) (Line, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Line{}, err
	}
	var l Line
	if err := json.Unmarshal(bytes.TrimSpace(data), &l); err != nil {
		return Line{}, fmt.Errorf("%s: %v", path, err)
	}
	if l.ID == "" || l.Record == nil {
		return Line{}, fmt.Errorf("%s: missing id or record", path)
	}
	return l, nil
}

// LoadLines returns the latest record of every finished run of the sweep
// in dir, from both layouts: the legacy RunsFile (one line per finished
// run, a run extended to a longer horizon appended again) and the
// per-run files of RunsDir. When a run is in both, the longer horizon
// wins, and the per-run file at equal horizons. Runs come in the order of
// the suite recorded in dir/sweep.json when there is one, then in order
// of first appearance in RunsFile, then by finishing time and ID. warning
// reports an incomplete last line of RunsFile (an interrupted write; that
// run counts as not finished). A directory with neither is an error.
func LoadLines(dir string) (lines []Line, warning string, err error) {
	legacyPath := filepath.Join(dir, RunsFile)
	legacy, _, warning, err := ReadRuns(legacyPath)
	if err != nil {
		return nil, warning, err
	}
	_, legacyErr := os.Stat(legacyPath)
	ents, dirErr := os.ReadDir(filepath.Join(dir, RunsDir))
	if dirErr != nil && !errors.Is(dirErr, os.ErrNotExist) {
		return nil, warning, dirErr
	}
	if legacyErr != nil && dirErr != nil {
		return nil, warning, fmt.Errorf("%s: %w and no %s folder (run a sweep first)", legacyPath, ErrNoRuns, RunsDir)
	}
	best := map[string]Line{}
	order := map[string]int{} // position of first appearance in RunsFile
	for _, l := range Latest(legacy) {
		order[l.ID] = len(order)
		best[l.ID] = l
	}
	var perRun []Line
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") || !e.Type().IsRegular() {
			continue // temporary files of writes in progress, locks
		}
		l, err := ReadLine(filepath.Join(dir, RunsDir, n))
		if err != nil {
			return nil, warning, err
		}
		if fileSafe(l.ID)+".json" != n {
			return nil, warning, fmt.Errorf("%s: holds run %s, whose record file is %s", filepath.Join(dir, RunsDir, n), l.ID, fileSafe(l.ID)+".json")
		}
		perRun = append(perRun, l)
	}
	for _, l := range perRun {
		if old, ok := best[l.ID]; !ok || l.Record.Iters >= old.Record.Iters {
			best[l.ID] = l
		}
	}
	suiteAt := map[string]int{}
	if info, err := ReadSweepInfo(dir); err == nil {
		for i, j := range info.Suite.Jobs(info.Quick, datasets.Options{}) {
			suiteAt[j.ID] = i
		}
	}
	for _, l := range best {
		lines = append(lines, l)
	}
	rank := func(l Line) (int, int) {
		if i, ok := suiteAt[l.ID]; ok {
			return 0, i
		}
		if i, ok := order[l.ID]; ok {
			return 1, i
		}
		return 2, 0
	}
	sort.Slice(lines, func(a, b int) bool {
		ka, ia := rank(lines[a])
		kb, ib := rank(lines[b])
		if ka != kb {
			return ka < kb
		}
		if ia != ib {
			return ia < ib
		}
		if lines[a].Finished != lines[b].Finished {
			return lines[a].Finished < lines[b].Finished
		}
		return lines[a].ID < lines[b].ID
	})
	return lines, warning, nil
}

// RunOptions configure RunIndex.
type RunOptions struct {
	Dir     string // the sweep's directory
	Threads int    // kernel threads of the run (0: ThreadsPerRun(1), all cores)
	// CheckpointEvery is the cadence, in iterations, of the run's
	// checkpoint in Dir/checkpoints (0: DefaultCheckpointEvery; < 0: none).
	CheckpointEvery int
	// Info, if set, is recorded in Dir/sweep.json.
	Info *SweepInfo
	// Progress receives the run's progress lines (nil: none); they are
	// also appended to Dir/logs/<run>.log.
	Progress io.Writer
}

// RunOutcome says what RunIndex did.
type RunOutcome struct {
	Job      Job
	Skipped  bool // finished already at this horizon
	Resumed  bool // continued from a mid-run checkpoint
	Extended bool // continued from a finished shorter run
	Line     Line // the record (also when skipped)
}

// RunIndex runs jobs[index], one run of a sweep, in this process: the
// unit of a Slurm job array or a Kubernetes Indexed Job. It skips a run
// already finished at its horizon, resumes one from its mid-run
// checkpoint, continues a finished shorter run of an absolute-schedule
// suite from its final state, and records the finished run in its own
// file (WriteLine), so that any number of runs of one sweep can execute
// at once in one directory on a shared file system. Two processes never
// run the same run at once (a lock file per run), and none runs while a
// local Sweep holds the directory. When ctx is cancelled (SIGTERM from a
// scheduler) the run stops at the next step boundary and writes its
// checkpoint; the error then wraps train.ErrInterrupted.
func RunIndex(ctx context.Context, jobs []Job, index int, o RunOptions) (RunOutcome, error) {
	if index < 0 || index >= len(jobs) {
		return RunOutcome{}, fmt.Errorf("run index %d out of range: the suite has %d runs, 0 to %d", index, len(jobs), len(jobs)-1)
	}
	job := jobs[index]
	out := RunOutcome{Job: job}
	every := checkpointEvery(o.CheckpointEvery)
	if err := os.MkdirAll(filepath.Join(o.Dir, RunsDir), 0o755); err != nil {
		return out, err
	}
	unlockDir, err := lockDirShared(o.Dir)
	if err != nil {
		return out, err
	}
	defer unlockDir()
	unlockRun, err := lockRun(o.Dir, job.ID)
	if err != nil {
		return out, err
	}
	defer unlockRun()
	if err := writeInfo(o.Dir, o.Info); err != nil {
		return out, err
	}
	done, _, err := LoadLines(o.Dir)
	if err != nil {
		return out, err
	}
	threads := o.Threads
	if threads < 1 {
		threads = ThreadsPerRun(1)
	}
	job.configure(o.Dir, threads, every)
	out.Job = job
	todo, skipped, extend, err := plan(o.Dir, []Job{job}, done)
	if err != nil {
		return out, err
	}
	if skipped == 1 {
		out.Skipped = true
		for _, l := range done {
			if l.ID == job.ID {
				out.Line = l
			}
		}
		return out, nil
	}
	job = todo[0]
	out.Extended = extend == 1
	if every > 0 {
		if err := os.MkdirAll(filepath.Join(o.Dir, "checkpoints"), 0o755); err != nil {
			return out, err
		}
		cleanTempOf(filepath.Join(o.Dir, "checkpoints"), fileSafe(job.ID)+".ckpt")
		if _, err := train.PeekCheckpoint(job.Config.CheckpointPath); err == nil && !out.Extended {
			out.Resumed = true
		}
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	logDir := filepath.Join(o.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return out, err
	}
	f, err := os.OpenFile(filepath.Join(logDir, fileSafe(job.ID)+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return out, err
	}
	defer f.Close()
	host, _ := os.Hostname()
	fmt.Fprintf(f, "== %s start %s on %s\n", job.ID, time.Now().UTC().Format(time.RFC3339), host)
	rec, err := RunJobContext(ctx, job, io.MultiWriter(progress, f))
	if err != nil {
		return out, err
	}
	out.Line = job.line(rec)
	if err := WriteLine(o.Dir, out.Line); err != nil {
		return out, err
	}
	if every > 0 {
		if err := finishCheckpoint(o.Dir, job); err != nil {
			return out, err
		}
	}
	return out, nil
}

// cleanTempOf removes temporary files left in dir by killed atomic writes
// of the file called name (".<name>.tmp…"); files of other runs, which
// may be writing at this moment, are left alone.
func cleanTempOf(dir, name string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, "."+name+".tmp") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

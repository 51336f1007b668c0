package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// SweepInfoFile records, in a sweep's directory, the suite it runs.
const SweepInfoFile = "sweep.json"

// SweepInfo is what a sweep records about itself so that its directory
// can be read without the command line that made it.
type SweepInfo struct {
	Suite *Suite `json:"suite"`
	Quick bool   `json:"quick"`
}

// WriteSweepInfo writes dir/sweep.json atomically.
func WriteSweepInfo(dir string, info SweepInfo) error {
	js, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return train.WriteFileAtomic(filepath.Join(dir, SweepInfoFile), append(js, '\n'))
}

// ReadSweepInfo reads and validates dir/sweep.json.
func ReadSweepInfo(dir string) (*SweepInfo, error) {
	path := filepath.Join(dir, SweepInfoFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Suite json.RawMessage `json:"suite"`
		Quick bool            `json:"quick"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	s, err := ParseSuite(path, raw.Suite)
	if err != nil {
		return nil, err
	}
	return &SweepInfo{Suite: s, Quick: raw.Quick}, nil
}

// The states Status reports.
const (
	StateFinished = "finished"
	StatePartial  = "partial"
	StateMissing  = "missing"
)

// RunStatus is one run of a sweep as Status sees it.
type RunStatus struct {
	ID     string
	State  string // StateFinished, StatePartial or StateMissing
	Iter   int    // iterations done (finished: the record's horizon; partial: the checkpoint's)
	Iters  int    // the horizon the sweep asks for
	Detail string // one line for people
}

// Status lists the runs of the sweep in dir: those of the suite recorded
// in dir/sweep.json in suite order, then any other finished run found
// (LoadLines: dir/runs and the legacy runs.jsonl). A finished run at a
// shorter horizon than the suite's is partial (it can be continued from
// its final checkpoint).
func Status(dir string) ([]RunStatus, error) {
	var jobs []Job
	info, err := ReadSweepInfo(dir)
	switch {
	case err == nil:
		jobs = info.Suite.Jobs(info.Quick, datasets.Options{})
	case errors.Is(err, os.ErrNotExist):
		// A directory written before sweeps recorded their suite: the
		// records alone tell what is finished.
	default:
		return nil, err
	}
	return StatusOf(dir, jobs)
}

// StatusOf is Status for the runs jobs (in their order), then any other
// finished run in dir.
func StatusOf(dir string, jobs []Job) ([]RunStatus, error) {
	lines, _, err := LoadLines(dir)
	if err != nil && !errors.Is(err, ErrNoRuns) {
		return nil, err
	}
	last := map[string]Line{}
	for _, l := range lines {
		last[l.ID] = l
	}
	var out []RunStatus
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[j.ID] = true
		st := RunStatus{ID: j.ID, Iters: j.Config.Iters}
		l, done := last[j.ID]
		ck, ckErr := train.PeekCheckpoint(CheckpointPath(dir, j.ID))
		switch {
		case done && l.Record.Iters >= j.Config.Iters:
			st.State, st.Iter = StateFinished, l.Record.Iters
			st.Detail = fmt.Sprintf("%d iterations, test accuracy %.2f%%, test loss %.4f", l.Record.Iters, 100*l.Record.TestAccuracy, l.Record.TestLoss)
		case ckErr == nil:
			st.State, st.Iter = StatePartial, ck.Iter
			st.Detail = fmt.Sprintf("checkpoint at iteration %d of %d", ck.Iter, j.Config.Iters)
		case done:
			st.State, st.Iter = StatePartial, l.Record.Iters
			st.Detail = fmt.Sprintf("finished at %d iterations; %d asked (continues from %s)", l.Record.Iters, j.Config.Iters, FinalCheckpointPath(dir, j.ID))
		default:
			st.State = StateMissing
			st.Detail = "not started"
			if !errors.Is(ckErr, os.ErrNotExist) {
				st.Detail = "unusable checkpoint: " + ckErr.Error()
			}
		}
		out = append(out, st)
	}
	for _, l := range lines {
		if seen[l.ID] {
			continue
		}
		out = append(out, RunStatus{ID: l.ID, State: StateFinished, Iter: l.Record.Iters, Iters: l.Record.Iters,
			Detail: fmt.Sprintf("%d iterations, test accuracy %.2f%%, test loss %.4f", l.Record.Iters, 100*l.Record.TestAccuracy, l.Record.TestLoss)})
	}
	return out, nil
}

// PartialLines returns, for every run of the sweep in dir (as recorded in
// dir/sweep.json) that is not finished at its horizon but has a mid-run
// checkpoint, a line whose record holds what the checkpoint knows: the
// learning curves so far and the memory measured so far. Its Setting
// says how far the run is ("baseline (at 3,000 of 20,000)"), so that
// progress figures cannot be mistaken for finished results.
func PartialLines(dir string) ([]Line, error) {
	info, err := ReadSweepInfo(dir)
	if err != nil {
		return nil, err
	}
	sts, err := Status(dir)
	if err != nil {
		return nil, err
	}
	partial := map[string]bool{}
	for _, st := range sts {
		partial[st.ID] = st.State == StatePartial
	}
	var out []Line
	for _, j := range info.Suite.Jobs(info.Quick, datasets.Options{}) {
		if !partial[j.ID] {
			continue
		}
		ck, err := train.PeekCheckpoint(CheckpointPath(dir, j.ID))
		if err != nil || len(ck.Curves) == 0 {
			continue
		}
		last := ck.Curves[len(ck.Curves)-1]
		rec := &train.Record{Model: ck.Model, Dataset: ck.Dataset, Estimator: ck.Estimator,
			EstimatorMode: j.Config.Estimator.Mode.String(), Dropout: ck.Dropout, Iters: ck.Iters, Batch: ck.Batch, Bootstrap: j.Config.Bootstrap,
			TrainEvalSize: j.Config.TrainEvalSize, PeakHeapBytes: ck.PeakHeap, TrainHeapBytes: ck.TrainHeap,
			TestAccuracy: last.TestAccuracy, TestLoss: last.TestLoss, TrainLoss: last.TrainLoss, Curves: ck.Curves}
		out = append(out, Line{ID: j.ID, Suite: j.Suite, Repeat: j.Repeat, Record: rec,
			Setting: fmt.Sprintf("%s (at %s of %s)", j.Setting, thousands(int64(ck.Iter)), thousands(int64(ck.Iters)))})
	}
	return out, nil
}

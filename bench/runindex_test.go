package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

func mkLine(j Job, iters int, finished string) Line {
	r := fakeRecord(j)
	r.Iters = iters
	return Line{ID: j.ID, Suite: j.Suite, Setting: j.Setting, Repeat: j.Repeat,
		Hash: ConfigHash(j.Config), BaseHash: BaseHash(j.Config), Finished: finished, Record: r}
}

func writeLegacy(t *testing.T, dir string, lines ...Line) {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		js, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(js, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, RunsFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ids(lines []Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.ID)
	}
	return out
}

// TestLoadLinesLayouts: both layouts are read; the longer horizon wins,
// the per-run file at equal horizons; the suite's order when sweep.json
// says it, else legacy order then finishing time.
func TestLoadLinesLayouts(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadLines(dir); !errors.Is(err, ErrNoRuns) || !strings.Contains(err.Error(), "no runs file") {
		t.Fatalf("empty directory: %v", err)
	}
	jobs := fakeJobs(t, 2) // fake/a/r1 a/r2 b/r1 b/r2
	writeLegacy(t, dir, mkLine(jobs[3], 5, "2026-01-01T00:00:00Z"), mkLine(jobs[1], 5, "2026-01-01T00:00:01Z"),
		mkLine(jobs[1], 3, "2026-01-01T00:00:02Z")) // the last line of a run wins within the file
	for _, l := range []Line{mkLine(jobs[0], 5, "2026-01-02T00:00:00Z"), mkLine(jobs[2], 5, "2026-01-01T00:00:00Z"), mkLine(jobs[3], 8, "")} {
		if err := WriteLine(dir, l); err != nil {
			t.Fatal(err)
		}
	}
	lines, warn, err := LoadLines(dir)
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	want := []string{"fake/b/r2", "fake/a/r2", "fake/b/r1", "fake/a/r1"} // legacy order, then by finishing time
	if got := ids(lines); !reflect.DeepEqual(got, want) {
		t.Errorf("order without sweep.json: %v, want %v", got, want)
	}
	for _, l := range lines {
		switch l.ID {
		case "fake/b/r2":
			if l.Record.Iters != 8 || l.Finished == "" {
				t.Errorf("b/r2: the per-run file at 8 iterations should win over the legacy line at 5: %d %q", l.Record.Iters, l.Finished)
			}
		case "fake/a/r2":
			if l.Record.Iters != 3 {
				t.Errorf("a/r2: the legacy file's last line should win: %d", l.Record.Iters)
			}
		}
	}
	s, _ := ParseSuite("fake.json", []byte(`{"name":"fake","model":"smallfc","iters":5,"repeats":2,"settings":[{"name":"a","estimator":"baseline","lr":1e-3},{"name":"b","estimator":"rad","keep":0.1,"lr":1e-3}]}`))
	if err := WriteSweepInfo(dir, SweepInfo{Suite: s}); err != nil {
		t.Fatal(err)
	}
	lines, _, _ = LoadLines(dir)
	if got := ids(lines); !reflect.DeepEqual(got, []string{"fake/a/r1", "fake/a/r2", "fake/b/r1", "fake/b/r2"}) {
		t.Errorf("order with sweep.json: %v", got)
	}

	// Equal horizons: the per-run file wins.
	l := mkLine(jobs[1], 3, "")
	l.Record.TestAccuracy = 0.5
	if err := WriteLine(dir, l); err != nil {
		t.Fatal(err)
	}
	lines, _, _ = LoadLines(dir)
	if lines[1].Record.TestAccuracy != 0.5 {
		t.Errorf("equal horizons: %v", lines[1].Record.TestAccuracy)
	}

	// Temporary files and locks are ignored; a bad record is an error
	// naming it, and so is a record under another run's name.
	os.WriteFile(filepath.Join(dir, RunsDir, ".fake_a_r1.json.tmp123"), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, RunsDir, ".fake_a_r1.lock"), nil, 0o644)
	if _, _, err := LoadLines(dir); err != nil {
		t.Errorf("temporary files: %v", err)
	}
	os.WriteFile(filepath.Join(dir, RunsDir, "x.json"), []byte(`{"id":"x"}`), 0o644)
	if _, _, err := LoadLines(dir); err == nil || !strings.Contains(err.Error(), "x.json: missing id or record") {
		t.Errorf("record-less file: %v", err)
	}
	js, _ := json.Marshal(mkLine(jobs[0], 5, ""))
	os.WriteFile(filepath.Join(dir, RunsDir, "x.json"), js, 0o644)
	if _, _, err := LoadLines(dir); err == nil || !strings.Contains(err.Error(), "holds run fake/a/r1, whose record file is fake_a_r1.json") {
		t.Errorf("misnamed file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, RunsDir, "x.json"), []byte("{"), 0o644)
	if _, _, err := LoadLines(dir); err == nil || !strings.Contains(err.Error(), "x.json: ") {
		t.Errorf("corrupt file: %v", err)
	}
}

// TestRunIndexFake: runs by index skip what is finished, refuse an index
// out of range and a run another process holds, and record each run in
// its own file; many at once in one directory lose nothing.
func TestRunIndexFake(t *testing.T) {
	dir := t.TempDir()
	jobs := fakeJobs(t, 4) // 8 runs
	if _, err := RunIndex(context.Background(), jobs, 8, RunOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "run index 8 out of range: the suite has 8 runs, 0 to 7") {
		t.Errorf("index out of range: %v", err)
	}
	// A local sweep holding the directory keeps single runs out.
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunIndex(context.Background(), jobs, 0, RunOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use by a local sweep") {
		t.Errorf("directory held by a sweep: %v", err)
	}
	unlock()
	// A run held by another process is refused.
	os.MkdirAll(filepath.Join(dir, RunsDir), 0o755)
	unlockRun, err := lockRun(dir, jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunIndex(context.Background(), jobs, 0, RunOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "run fake/a/r1 is running in another process") {
		t.Errorf("run held elsewhere: %v", err)
	}
	unlockRun()
	// Finished runs of the legacy file are skipped, not run again.
	writeLegacy(t, dir, mkLine(jobs[0], 5, ""))
	res, err := RunIndex(context.Background(), jobs, 0, RunOptions{Dir: dir})
	if err != nil || !res.Skipped || res.Line.ID != jobs[0].ID {
		t.Fatalf("legacy finished run: %+v %v", res, err)
	}
	idx, err := Unfinished(dir, jobs)
	if err != nil || !reflect.DeepEqual(idx, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("Unfinished: %v %v", idx, err)
	}
	changed := append([]Job(nil), jobs...)
	changed[0].Config.LR *= 2
	if _, err := Unfinished(dir, changed); err == nil || !strings.Contains(err.Error(), "with another configuration") {
		t.Errorf("Unfinished with a changed configuration: %v", err)
	}
}

// legacySuite is a three-run suite with an absolute schedule, short
// enough to train in a test.
const legacySuite = `{"name":"legacy","model":"smallfc","dataset":"mnist","iters":60,"eval_every":20,"repeats":1,
 "batch":20,"train_size":200,"test_size":100,"lr_decay_every":30,
 "settings":[{"name":"a","estimator":"baseline","lr":1e-3},{"name":"b","estimator":"rad","keep":0.1,"lr":1e-3},
  {"name":"c","estimator":"spad","keep":0.1,"kmax":2,"m":2,"lr":1e-3}]}`

// sameResult fails unless two records of one run have bit-identical
// results.
func sameResult(t *testing.T, what string, a, b *train.Record) {
	t.Helper()
	ja, _ := json.Marshal([]any{a.Iters, a.TestAccuracy, a.TestLoss, a.TrainLoss, a.Curves})
	jb, _ := json.Marshal([]any{b.Iters, b.TestAccuracy, b.TestLoss, b.TrainLoss, b.Curves})
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s: results differ:\n%s\n%s", what, ja, jb)
	}
}

// cancelWriter cancels a context at the first progress line of a
// training (its first evaluation), so that a run stops at a known point.
type cancelWriter struct {
	once   sync.Once
	cancel func()
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("iter ")) {
		w.once.Do(w.cancel)
	}
	return len(p), nil
}

// TestLegacyDirectory builds a sweep directory as the previous version
// wrote it (finished runs in runs.jsonl, a finished run's final state in
// final/, a partial run's checkpoint in checkpoints/, sweep.json, .lock,
// logs/) and checks that status, report, Unfinished, single runs and the
// sweep read it as it is: the finished run counts, the partial one
// resumes from its checkpoint bit-identical to an uninterrupted run, the
// missing one runs, runs.jsonl is left untouched, and a longer horizon
// continues the legacy run from its final state.
func TestLegacyDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	s, err := ParseSuite("legacy.json", []byte(legacySuite))
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Jobs(false, datasets.Options{NoDownload: true})
	ctx := context.Background()

	// Uninterrupted reference runs.
	ref := t.TempDir()
	if _, err := Sweep(ctx, jobs, SweepOptions{Dir: ref, Jobs: 1, Exec: InProcess, CheckpointEvery: 20}); err != nil {
		t.Fatal(err)
	}
	refLines, _, err := LoadLines(ref)
	if err != nil || len(refLines) != 3 {
		t.Fatalf("reference: %d runs, %v", len(refLines), err)
	}

	// The legacy directory: a finished, b partial, c missing.
	leg := t.TempDir()
	if err := WriteSweepInfo(leg, SweepInfo{Suite: s}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(leg, ".lock"), nil, 0o644)
	os.MkdirAll(filepath.Join(leg, "logs"), 0o755)
	os.WriteFile(filepath.Join(leg, "logs", "legacy_a_r1.log"), []byte("== legacy/a/r1 start\n"), 0o644)
	writeLegacy(t, leg, refLines[0])
	if err := copyFile(FinalCheckpointPath(ref, jobs[0].ID), FinalCheckpointPath(leg, jobs[0].ID)); err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	_, err = RunIndex(cctx, jobs, 1, RunOptions{Dir: scratch, CheckpointEvery: 20, Progress: &cancelWriter{cancel: cancel}})
	cancel()
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := copyFile(CheckpointPath(scratch, jobs[1].ID), CheckpointPath(leg, jobs[1].ID)); err != nil {
		t.Fatal(err)
	}
	ck, err := train.PeekCheckpoint(CheckpointPath(leg, jobs[1].ID))
	if err != nil || ck.Iter < 20 || ck.Iter >= 60 {
		t.Fatalf("partial checkpoint: %+v %v", ck, err)
	}
	legacyBytes, _ := os.ReadFile(filepath.Join(leg, RunsFile))

	// Status and report read it.
	sts, err := Status(leg)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, st := range sts {
		states = append(states, fmt.Sprintf("%s %s %d", st.ID, st.State, st.Iter))
	}
	want := []string{"legacy/a/r1 finished 60", fmt.Sprintf("legacy/b/r1 partial %d", ck.Iter), "legacy/c/r1 missing 0"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("status: %v, want %v", states, want)
	}
	sum, _, err := Report(leg)
	if err != nil || len(sum.Groups) != 1 || sum.Groups[0].Setting != "a" {
		t.Fatalf("report of the legacy directory: %v", err)
	}
	if idx, err := Unfinished(leg, jobs); err != nil || !reflect.DeepEqual(idx, []int{1, 2}) {
		t.Errorf("Unfinished: %v %v", idx, err)
	}

	// Resume: a single run continues b from its legacy checkpoint; the
	// sweep skips a and b and runs c.
	res, err := RunIndex(ctx, jobs, 1, RunOptions{Dir: leg, CheckpointEvery: 20})
	if err != nil || !res.Resumed {
		t.Fatalf("resumed run: %+v %v", res, err)
	}
	sameResult(t, "resumed legacy partial run vs uninterrupted", res.Line.Record, refLines[1].Record)
	if r := res.Line.Record.ResumedAt; len(r) != 1 || r[0] != ck.Iter {
		t.Errorf("resumed_at %v, want [%d]", r, ck.Iter)
	}
	if res, err := RunIndex(ctx, jobs, 0, RunOptions{Dir: leg}); err != nil || !res.Skipped {
		t.Errorf("legacy finished run by index: %+v %v", res, err)
	}
	sw, err := Sweep(ctx, jobs, SweepOptions{Dir: leg, Jobs: 1, Exec: InProcess, CheckpointEvery: 20})
	if err != nil || sw.Skipped != 2 || sw.Done != 1 {
		t.Fatalf("sweep over the legacy directory: %+v %v", sw, err)
	}
	lines, _, err := LoadLines(leg)
	if err != nil || len(lines) != 3 {
		t.Fatalf("%d runs, %v", len(lines), err)
	}
	for i := range lines {
		sameResult(t, lines[i].ID, lines[i].Record, refLines[i].Record)
	}
	if now, _ := os.ReadFile(filepath.Join(leg, RunsFile)); !bytes.Equal(now, legacyBytes) {
		t.Error("runs.jsonl was modified")
	}

	// A longer horizon continues the legacy run a from final/.
	s.Iters = 90
	long := s.Jobs(false, datasets.Options{NoDownload: true})
	res, err = RunIndex(ctx, long, 0, RunOptions{Dir: leg, CheckpointEvery: 20})
	if err != nil || !res.Extended || res.Line.Record.Iters != 90 || !reflect.DeepEqual(res.Line.Record.ExtendedFrom, []int{60}) {
		t.Fatalf("extended legacy run: %+v %v", res, err)
	}
	refLong := t.TempDir()
	r90, err := RunIndex(ctx, long, 0, RunOptions{Dir: refLong, CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "legacy run extended to 90 vs made at 90", res.Line.Record, r90.Line.Record)
	if lines, _, _ := LoadLines(leg); lines[0].Record.Iters != 90 {
		t.Errorf("after the extension LoadLines gives %d iterations", lines[0].Record.Iters)
	}
}

// TestConfigHashStable pins the hashes of runs recorded by earlier
// versions: a change to the configuration's JSON (a field added to
// train.Config without omitempty, to inject.Estimator, or to
// datasets.Options) must not make finished runs look like other
// configurations.
func TestConfigHashStable(t *testing.T) {
	for _, c := range []struct {
		suite string
		quick bool
		index int
		hash  string
	}{
		{"mnist-fig8", true, 0, "068338272fda1f58"},
		{"cifar-fig9", false, 0, "f5c65950c7954a7e"}, // the 20,000-iteration campaign's first run
	} {
		s, err := LoadSuite(c.suite)
		if err != nil {
			t.Fatal(err)
		}
		j := s.Jobs(c.quick, datasets.Options{Dir: "/data", NoDownload: true})[c.index]
		if h := ConfigHash(j.Config); h != c.hash {
			t.Errorf("%s: hash %s, recorded runs have %s", j.ID, h, c.hash)
		}
	}
}

package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/inject"
)

// rewriteCheckpoint edits the header of the checkpoint at path and writes
// it back with a recomputed checksum: a file that passes every framing
// check but whose state is inconsistent.
func rewriteCheckpoint(t *testing.T, path, to string, edit func(h *ckptHeader)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := readCheckpoint(path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	edit(h)
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var floats []float32
	for i := 0; i < len(payload); i += 4 {
		floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(payload[i:])))
	}
	if err := os.WriteFile(to, minimalCheckpoint(string(hdr), floats), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint whose state disagrees with itself — a scheduler step, the
// optimiser step or the data order not matching its iteration, curves out
// of order — is an error on load, never a panic on the next step; and the
// runner is left as it was.
func TestCheckpointStateCrossChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	c := tinyConfig(inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 3, M: 2}, 0)
	c.Iters, c.EvalEvery, c.CheckpointEvery, c.CheckpointPath = 8, 4, 4, filepath.Join(dir, "good.ckpt")
	r := newRunner(t, c)
	for r.Iter < 4 {
		r.Step()
	}
	good := filepath.Join(dir, "kept.ckpt")
	if err := r.SaveCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(h *ckptHeader)
		want string
	}{
		{"scheduler step", func(h *ckptHeader) {
			for _, s := range h.Schedulers {
				if s != nil {
					s.Step += 5
					break
				}
			}
		}, "scheduler is at step 8, the run at iteration 4"},
		{"scheduler before any step", func(h *ckptHeader) {
			for _, s := range h.Schedulers {
				if s != nil {
					s.Step = -1
				}
			}
		}, "scheduler is at step -1"},
		{"optimiser step", func(h *ckptHeader) { h.OptStep = 99 }, "optimiser step 99 disagrees with iteration 4"},
		{"data order position", func(h *ckptHeader) { h.Batcher.Pos++ }, "data order state"},
		{"data order key", func(h *ckptHeader) { h.Batcher.Key.Seed++ }, "data order key"},
		{"data order epoch", func(h *ckptHeader) { h.Batcher.Epoch = -1 }, "data order state"},
		{"iteration", func(h *ckptHeader) { h.Iter = 5 }, "disagrees with iteration 5"},
		{"curves out of order", func(h *ckptHeader) { h.Curves = []Point{{Iter: 3}, {Iter: 2}} }, "curve point 1 is at iteration 2"},
		{"counters", func(h *ckptHeader) { h.WinSteps = -1 }, "invalid progress counters"},
		{"eval-every", func(h *ckptHeader) { h.EvalEvery = 3 }, "was made with eval-every 3, this run has eval-every 4"},
		{"chunk", func(h *ckptHeader) { h.Chunk = 7 }, "was made with chunk 7, this run has chunk 32"},
	}
	fresh := newRunner(t, c)
	for _, tc := range cases {
		bad := filepath.Join(dir, "bad.ckpt")
		rewriteCheckpoint(t, good, bad, tc.edit)
		err := fresh.LoadCheckpoint(bad)
		var ce *CheckpointError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadCheckpoint = %v, want a CheckpointError containing %q", tc.name, err, tc.want)
			continue
		}
		if fresh.Iter != 0 {
			t.Errorf("%s: runner moved to iteration %d", tc.name, fresh.Iter)
		}
	}
	// Nothing was restored by the failed loads: the runner trains from the
	// start exactly as a new one does.
	recA, errA := fresh.Run()
	recB, errB := newRunner(t, c).Run()
	if errA != nil || errB != nil || recA.TestLoss != recB.TestLoss || recA.TrainLoss != recB.TrainLoss {
		t.Errorf("after failed loads: %v/%v (%v); a new runner: %v/%v (%v)", recA.TestLoss, recA.TrainLoss, errA, recB.TestLoss, recB.TrainLoss, errB)
	}
	// The unedited file, rewritten the same way, loads: the edits are what
	// the checks catch.
	same := filepath.Join(dir, "same.ckpt")
	rewriteCheckpoint(t, good, same, func(*ckptHeader) {})
	if err := newRunner(t, c).LoadCheckpoint(same); err != nil {
		t.Errorf("unedited checkpoint: %v", err)
	}
}

// SaveCheckpoint replaces only checkpoints: a foreign file, a directory
// or a device at the path is left alone and named in the error.
func TestSaveCheckpointRefusesForeignPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a network")
	}
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)
	r := newRunner(t, tinyConfig(inject.Estimator{}, 0))
	for _, p := range []string{notes, dir, os.DevNull} {
		if err := r.SaveCheckpoint(p); err == nil || !strings.Contains(err.Error(), "refusing to replace "+p) {
			t.Errorf("SaveCheckpoint(%s) = %v", p, err)
		}
	}
	if data, _ := os.ReadFile(notes); string(data) != "mine" {
		t.Errorf("notes.txt replaced: %q", data)
	}
	ck := filepath.Join(dir, "ok.ckpt")
	for i := 0; i < 2; i++ { // a new file, then our own file replaced
		if err := r.SaveCheckpoint(ck); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzLoadCheckpointState: whatever the header of an otherwise well-framed
// checkpoint says, loading it is an error or a state the runner can train
// from — never a panic, at load or at the next step.
func FuzzLoadCheckpointState(f *testing.F) {
	dir := f.TempDir()
	c := tinyConfig(inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 3, M: 2}, 0)
	c.Iters, c.EvalEvery, c.TrainSize, c.TestSize = 8, 4, 200, 50
	r, err := NewRunner(c)
	if err != nil {
		f.Skipf("no runner: %v", err)
	}
	for r.Iter < 4 {
		r.Step()
	}
	good := filepath.Join(dir, "good.ckpt")
	if err := r.SaveCheckpoint(good); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	h, payload, err := readCheckpoint(good, bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	hdr, _ := json.Marshal(h)
	f.Add(hdr)
	f.Add(bytes.Replace(hdr, []byte(`"iter":4`), []byte(`"iter":5`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"Step":3`), []byte(`"Step":9`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"opt_step":4`), []byte(`"opt_step":0`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"pos":`), []byte(`"pos":1`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"Selected":0`), []byte(`"Selected":7`), 1))
	var floats []float32
	for i := 0; i < len(payload); i += 4 {
		floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(payload[i:])))
	}
	path := filepath.Join(dir, "fuzz.ckpt")
	f.Fuzz(func(t *testing.T, hdr []byte) {
		if err := os.WriteFile(path, minimalCheckpoint(string(hdr), floats), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.LoadCheckpoint(path); err != nil {
			return
		}
		if r.Iter < c.Iters {
			r.Step()
		}
	})
}

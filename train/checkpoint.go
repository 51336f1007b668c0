package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"runtime"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
)

// A checkpoint file is:
//
//	"SPADCKPT" | version uint32 | header length uint32 | header (JSON) |
//	tensors (little-endian float32, in header order) | CRC-32C of all before
//
// In version 1, a Runner's checkpoint, the header names the model and the
// settings that must match on resume, and holds the iteration, the
// optimiser step, each layer's scheduler state (the nn.Stateful state of a
// RAD or SPAD layer, null for the others), the data order state and the
// curves so far; the tensors are the parameters followed by the
// optimiser's buffers. Version 2 (netVersion) is a custom loop's checkpoint
// (SaveCheckpoint). Both are read; a Runner writes version 1.
const (
	ckptMagic   = "SPADCKPT"
	ckptVersion = 1
	// maxHeader bounds the JSON header a reader accepts.
	maxHeader = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type ckptTensor struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

type ckptHeader struct {
	Model      string                   `json:"model"`
	Dataset    string                   `json:"dataset"`
	Estimator  string                   `json:"estimator"`
	Dropout    float64                  `json:"dropout"`
	Batch      int                      `json:"batch"`
	Seed       uint64                   `json:"seed"`
	Iters      int                      `json:"iters"`
	Optimizer  string                   `json:"optimizer"`
	Bootstrap  int                      `json:"bootstrap"`
	TrainSize  int                      `json:"train_size"`
	Iter       int                      `json:"iter"`
	OptStep    int64                    `json:"opt_step"`
	Schedulers []*inject.SchedulerState `json:"schedulers"`
	// LayerStates holds, per layer, a state that is not an estimator
	// scheduler's (a layer of the caller's own implementing nn.Stateful);
	// absent when there is none, as in every file of the registered
	// models.
	LayerStates []json.RawMessage     `json:"layer_states,omitempty"`
	Batcher     datasets.BatcherState `json:"batcher"`
	Curves      []Point               `json:"curves"`
	WinLoss     float64               `json:"win_loss"`
	WinSteps    int                   `json:"win_steps"`
	ElapsedNs   int64                 `json:"elapsed_ns"`
	Tensors     []ckptTensor          `json:"tensors"`

	// Settings that change the trajectory, checked on resume (absent in
	// files written before they were recorded: then not checked).
	LR            *float64 `json:"lr,omitempty"`
	WD            *float64 `json:"wd,omitempty"`
	Momentum      *float64 `json:"momentum,omitempty"`
	LRFactor      *float64 `json:"lr_decay,omitempty"`
	LRSteps       int      `json:"lr_steps,omitempty"`
	LRDecayEvery  int      `json:"lr_decay_every,omitempty"`
	TestSize      int      `json:"test_size,omitempty"`
	TrainEvalSize int      `json:"train_eval_size,omitempty"`
	// Evaluation cadence and network chunk (absent in older files: then
	// not checked). The chunk changes the order of sums, hence the
	// results; the cadence changes the curves.
	EvalEvery int `json:"eval_every,omitempty"`
	Chunk     int `json:"chunk,omitempty"`
	// Memory measured by the segments before this checkpoint, and the
	// run's history of resumptions and extensions.
	PeakHeap     uint64 `json:"peak_heap,omitempty"`
	TrainHeap    uint64 `json:"train_heap,omitempty"`
	ResumedAt    []int  `json:"resumed_at,omitempty"`
	ExtendedFrom []int  `json:"extended_from,omitempty"`
}

// tensors lists the parameters then the optimiser buffers, with names.
func (r *Runner) tensors() ([]ckptTensor, [][]float32) {
	var meta []ckptTensor
	var data [][]float32
	for _, p := range r.Net.Params() {
		meta = append(meta, ckptTensor{p.Name, len(p.Value)})
		data = append(data, p.Value)
	}
	for i, b := range r.Opt.State().Buffers {
		meta = append(meta, ckptTensor{fmt.Sprintf("%s.buffer%d", r.Opt.Name(), i), len(b)})
		data = append(data, b)
	}
	return meta, data
}

func (r *Runner) header() (*ckptHeader, error) {
	c := r.Cfg
	h := &ckptHeader{
		Model: c.Model, Dataset: c.Dataset, Estimator: c.Estimator.String(), Dropout: c.Dropout,
		Batch: c.Batch, Seed: c.Seed, Iters: c.Iters, Optimizer: r.Opt.Name(), Bootstrap: c.Bootstrap,
		TrainSize: c.TrainSize, Iter: r.Iter, OptStep: r.Opt.State().Step, Batcher: r.batcher.State(),
		Curves: r.curves, WinLoss: r.winLoss, WinSteps: r.winSteps, ElapsedNs: r.elapsed.Nanoseconds(),
		LR: &c.LR, WD: &c.WD, Momentum: &c.Momentum, LRFactor: &c.LRFactor, LRSteps: c.LRSteps,
		LRDecayEvery: c.LRDecayEvery, TestSize: c.TestSize, TrainEvalSize: c.TrainEvalSize,
		EvalEvery: c.EvalEvery, Chunk: r.Net.Chunk(),
		ResumedAt: r.resumedAt, ExtendedFrom: r.extendedFrom,
	}
	rec := r.Record()
	h.PeakHeap, h.TrainHeap = rec.PeakHeapBytes, rec.TrainHeapBytes
	var err error
	if h.Schedulers, h.LayerStates, err = schedulerStates(r.Net); err != nil {
		return nil, err
	}
	h.Tensors, _ = r.tensors()
	return h, nil
}

// schedulerStates returns the layers' states (nn.Stateful) as the version-1
// header holds them: one inject.SchedulerState per layer, nil for a layer
// without state; and, when a layer keeps another kind of state, every
// layer's such state (others nil otherwise).
func schedulerStates(net *nn.Network) (scheds []*inject.SchedulerState, others []json.RawMessage, err error) {
	raw, err := net.States()
	if err != nil {
		return nil, nil, err
	}
	scheds = make([]*inject.SchedulerState, len(raw))
	for i, b := range raw {
		if len(b) == 0 || string(b) == "null" {
			continue
		}
		if st, ok := asSchedulerState(b); ok {
			scheds[i] = &st
			continue
		}
		if others == nil {
			others = make([]json.RawMessage, len(raw))
		}
		others[i] = b
	}
	return scheds, others, nil
}

// v1States merges a version-1 header's scheduler and other layer states
// into the layer states nn.Network.RestoreStates takes. A layer with both
// is an inconsistent file.
func v1States(h *ckptHeader) ([]json.RawMessage, error) {
	if len(h.LayerStates) != 0 && len(h.LayerStates) != len(h.Schedulers) {
		return nil, fmt.Errorf("has %d layer states for %d layers (inconsistent file)", len(h.LayerStates), len(h.Schedulers))
	}
	out := make([]json.RawMessage, len(h.Schedulers))
	for i, st := range h.Schedulers {
		var other json.RawMessage
		if len(h.LayerStates) != 0 && len(h.LayerStates[i]) != 0 && string(h.LayerStates[i]) != "null" {
			other = h.LayerStates[i]
		}
		switch {
		case st != nil && other != nil:
			return nil, fmt.Errorf("layer %d has both a scheduler state and another state (inconsistent file)", i)
		case other != nil:
			out[i] = other
		case st != nil:
			b, err := json.Marshal(st)
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
	}
	return out, nil
}

// CheckCheckpointPath reports whether a checkpoint may be written at path:
// nothing is there, or a checkpoint (a regular file starting with the
// checkpoint magic). Anything else — a device, a directory, a file this
// program did not write — is refused with an error naming it, so that
// writing a checkpoint never replaces someone's data.
func CheckCheckpointPath(path string) error {
	return checkOwnFile(path, "a checkpoint", func(head []byte) bool {
		return bytes.HasPrefix(head, []byte(ckptMagic))
	})
}

// checkOwnFile returns nil when path does not exist or is a regular file
// whose first bytes satisfy ours, and an error naming what is there
// otherwise.
func checkOwnFile(path, what string, ours func(head []byte) bool) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case st.IsDir():
		return fmt.Errorf("refusing to replace %s: it is a directory, not %s", path, what)
	case !st.Mode().IsRegular():
		return fmt.Errorf("refusing to replace %s: it is not a regular file (%v), not %s", path, st.Mode().Type(), what)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	if !ours(head[:n]) {
		return fmt.Errorf("refusing to replace %s: it is not %s written by this program", path, what)
	}
	return nil
}

// SaveCheckpoint writes the run's complete state to path atomically
// (temporary file, fsync, rename). It refuses to save non-finite
// parameters, so the last good checkpoint is never overwritten by a
// diverged state, and to replace anything but a checkpoint
// (CheckCheckpointPath).
func (r *Runner) SaveCheckpoint(path string) error {
	if err := CheckCheckpointPath(path); err != nil {
		return err
	}
	_, data := r.tensors()
	for i, p := range r.Net.Params() {
		for _, v := range data[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("checkpoint %s not written at iteration %d: parameter %s is not finite (training diverged)", path, r.Iter, p.Name)
			}
		}
	}
	h, err := r.header()
	if err != nil {
		return fmt.Errorf("checkpoint %s not written: %w", path, err)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error { return writeFrame(w, ckptVersion, hdr, data) })
}

// CheckpointError is a checkpoint that cannot be used: unreadable, corrupt,
// or from another run configuration.
type CheckpointError struct {
	Path string
	Msg  string
}

func (e *CheckpointError) Error() string { return fmt.Sprintf("checkpoint %s: %s", e.Path, e.Msg) }

// readFrame reads a checkpoint file of either version and verifies its
// framing: magic, version, checksum and header length. It returns the
// version, the JSON header and the tensor bytes that follow it.
func readFrame(path string, r io.Reader) (version uint32, hdr, payload []byte, err error) {
	bad := func(f string, a ...any) error { return &CheckpointError{path, fmt.Sprintf(f, a...)} }
	data, err := io.ReadAll(io.LimitReader(r, 1<<34))
	if err != nil {
		return 0, nil, nil, bad("%v", err)
	}
	if len(data) < len(ckptMagic)+12 || string(data[:len(ckptMagic)]) != ckptMagic {
		return 0, nil, nil, bad("not a checkpoint (bad magic or too short: %d bytes)", len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if v := binary.LittleEndian.Uint32(data[8:]); v != ckptVersion && v != netVersion {
		return 0, nil, nil, bad("version %d, this program reads versions %d and %d", v, ckptVersion, netVersion)
	}
	if crc32.Checksum(body, castagnoli) != sum {
		return 0, nil, nil, bad("corrupt or truncated (checksum mismatch)")
	}
	n := binary.LittleEndian.Uint32(data[12:])
	if n > maxHeader || int(n) > len(body)-16 {
		return 0, nil, nil, bad("header length %d exceeds the file", n)
	}
	return binary.LittleEndian.Uint32(data[8:]), body[16 : 16+n], body[16+n:], nil
}

// checkTensors checks that the tensors a header lists fill the payload
// exactly.
func checkTensors(path string, ts []ckptTensor, payload []byte) error {
	total := 0
	for _, t := range ts {
		if t.Len < 0 || t.Len > len(payload)/4 {
			return &CheckpointError{path, fmt.Sprintf("tensor %s has invalid length %d", t.Name, t.Len)}
		}
		total += t.Len
	}
	if total*4 != len(payload) {
		return &CheckpointError{path, fmt.Sprintf("tensor data is %d bytes, header describes %d", len(payload), total*4)}
	}
	return nil
}

// decodeHeader decodes a JSON header into h, refusing unknown fields.
func decodeHeader(path string, hdr []byte, h any) error {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return &CheckpointError{path, fmt.Sprintf("bad header: %v", err)}
	}
	return nil
}

// readCheckpoint parses and verifies a Runner's (version 1) checkpoint:
// framing and header.
func readCheckpoint(path string, r io.Reader) (*ckptHeader, []byte, error) {
	v, hdr, payload, err := readFrame(path, r)
	if err != nil {
		return nil, nil, err
	}
	if v != ckptVersion {
		return nil, nil, &CheckpointError{path, fmt.Sprintf("is a network checkpoint (version %d, written by train.SaveCheckpoint), not a Runner's; load it with train.LoadCheckpoint", v)}
	}
	var h ckptHeader
	if err := decodeHeader(path, hdr, &h); err != nil {
		return nil, nil, err
	}
	if err := checkTensors(path, h.Tensors, payload); err != nil {
		return nil, nil, err
	}
	return &h, payload, nil
}

// LoadCheckpoint restores the run state saved at path into r, which must
// have been created with the same model (for NewNetworkRunner: a network
// built the same way, with the same name), estimator, batch, seed and data
// settings. The run then continues exactly as the original would have.
// Every check is made before anything is restored: on an error (a
// *CheckpointError naming the file and the setting) r is unchanged.
func (r *Runner) LoadCheckpoint(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, payload, err := readCheckpoint(path, f)
	if err != nil {
		return err
	}
	bad := func(f string, a ...any) error { return &CheckpointError{path, fmt.Sprintf(f, a...)} }
	c := r.Cfg
	// Settings: any difference that changes the run is refused, naming
	// the setting. Threads and output paths may differ (the results are
	// the same for any thread count).
	differ := func(setting string, was, is any) error {
		return &CheckpointError{path, fmt.Sprintf("was made with %s %v, this run has %s %v (resume with the same %s)", setting, was, setting, is, setting)}
	}
	switch {
	case h.Model != c.Model:
		return differ("model", h.Model, c.Model)
	case h.Dataset != c.Dataset:
		return differ("dataset", h.Dataset, c.Dataset)
	case h.Estimator != c.Estimator.String():
		return differ("estimator", h.Estimator, c.Estimator)
	case h.Dropout != c.Dropout:
		return differ("dropout", h.Dropout, c.Dropout)
	case h.Batch != c.Batch:
		return differ("batch", h.Batch, c.Batch)
	case h.Seed != c.Seed:
		return differ("seed", h.Seed, c.Seed)
	case h.Bootstrap != c.Bootstrap:
		return differ("bootstrap", h.Bootstrap, c.Bootstrap)
	case h.TrainSize != c.TrainSize:
		return differ("train-size", h.TrainSize, c.TrainSize)
	case h.Optimizer != r.Opt.Name():
		return differ("optimizer", h.Optimizer, r.Opt.Name())
	case h.Iter < 0 || h.Iter > c.Iters:
		return bad("is at iteration %d, outside this run's 0..%d", h.Iter, c.Iters)
	case h.Iter > h.Iters:
		return bad("is at iteration %d beyond its own horizon %d (inconsistent file)", h.Iter, h.Iters)
	case h.LR != nil && *h.LR != c.LR:
		return differ("lr", *h.LR, c.LR)
	case h.WD != nil && *h.WD != c.WD:
		return differ("wd", *h.WD, c.WD)
	case h.Momentum != nil && *h.Momentum != c.Momentum:
		return differ("momentum", *h.Momentum, c.Momentum)
	case h.LRFactor != nil && *h.LRFactor != c.LRFactor:
		return differ("lr-decay", *h.LRFactor, c.LRFactor)
	case h.LRDecayEvery != c.LRDecayEvery:
		return differ("lr-decay-every", h.LRDecayEvery, c.LRDecayEvery)
	case c.LRDecayEvery == 0 && h.Iters != c.Iters:
		return bad("was made with iters %d, this run has iters %d (its learning-rate schedule depends on the run length; only runs with an absolute decay interval can change horizon)", h.Iters, c.Iters)
	case c.LRDecayEvery == 0 && h.LRSteps != 0 && h.LRSteps != c.LRSteps:
		return differ("lr-steps", h.LRSteps, c.LRSteps)
	case h.LR != nil && h.TestSize != c.TestSize:
		return differ("test-size", h.TestSize, c.TestSize)
	case h.LR != nil && h.TrainEvalSize != c.TrainEvalSize:
		return differ("train-eval-size", h.TrainEvalSize, c.TrainEvalSize)
	case h.EvalEvery != 0 && h.EvalEvery != c.EvalEvery:
		return differ("eval-every", h.EvalEvery, c.EvalEvery)
	case h.Chunk != 0 && h.Chunk != r.Net.Chunk():
		return differ("chunk", h.Chunk, r.Net.Chunk())
	case len(h.Schedulers) != len(r.Net.Layers):
		return bad("has %d layers, the network has %d", len(h.Schedulers), len(r.Net.Layers))
	}
	// State: cross-checked before anything is restored, so that an
	// inconsistent file is an error, never a panic later.
	switch seen := h.Batcher.Epoch*int64(h.Batcher.N) + int64(h.Batcher.Pos); {
	case h.OptStep != int64(h.Iter):
		return bad("optimiser step %d disagrees with iteration %d (inconsistent file)", h.OptStep, h.Iter)
	case h.Batcher.Key != datasets.ShuffleKey(c.Seed):
		return bad("data order key %+v is not the one of seed %d (inconsistent file)", h.Batcher.Key, c.Seed)
	case h.Batcher.Batch != c.Batch || h.Batcher.N < 1 || h.Batcher.Epoch < 0 || h.Batcher.Pos < 0 || h.Batcher.Pos > h.Batcher.N ||
		h.Batcher.Epoch > int64(h.Iter)*int64(c.Batch) || seen != int64(h.Iter)*int64(c.Batch):
		return bad("data order state (epoch %d, position %d of %d, batch %d) disagrees with iteration %d at batch %d (inconsistent file)",
			h.Batcher.Epoch, h.Batcher.Pos, h.Batcher.N, h.Batcher.Batch, h.Iter, c.Batch)
	case h.WinSteps < 0 || h.WinSteps > h.Iter || h.ElapsedNs < 0:
		return bad("has invalid progress counters (inconsistent file)")
	case len(h.Curves) > h.Iter+1:
		return bad("has %d curve points for %d iterations (inconsistent file)", len(h.Curves), h.Iter)
	}
	for i, p := range h.Curves {
		if p.Iter < 0 || p.Iter > h.Iter || (i > 0 && p.Iter <= h.Curves[i-1].Iter) {
			return bad("curve point %d is at iteration %d (inconsistent file)", i, p.Iter)
		}
	}
	meta, data := r.tensors()
	if len(meta) != len(h.Tensors) {
		return bad("has %d tensors, this run has %d", len(h.Tensors), len(meta))
	}
	for i, t := range h.Tensors {
		if t != meta[i] {
			return bad("tensor %d is %s[%d], this run has %s[%d]", i, t.Name, t.Len, meta[i].Name, meta[i].Len)
		}
	}
	cur, err := r.Net.States()
	if err != nil {
		return bad("%v", err)
	}
	saved, err := v1States(h)
	if err != nil {
		return bad("%v", err)
	}
	for i, l := range r.Net.Layers {
		has := len(cur[i]) != 0 && string(cur[i]) != "null"
		_, sched := asSchedulerState(cur[i])
		switch {
		case sched != (h.Schedulers[i] != nil):
			return bad("layer %d (%s) scheduler state does not match the network", i, l.Name())
		case has != (saved[i] != nil):
			return bad("layer %d (%s) state does not match the network", i, l.Name())
		case sched && h.Schedulers[i].Step != int64(h.Iter)-1:
			return bad("layer %d (%s) scheduler is at step %d, the run at iteration %d (inconsistent file)", i, l.Name(), h.Schedulers[i].Step, h.Iter)
		}
	}
	restorer, ok := r.Opt.(OptimizerRestorer)
	if !ok {
		return bad("optimizer %s cannot restore its state (it does not implement train.OptimizerRestorer)", r.Opt.Name())
	}
	// Restore; on a failure, put back what was restored already.
	undo := func() { _ = r.Net.RestoreStates(cur) }
	if err := r.Net.RestoreStates(saved); err != nil {
		undo()
		return bad("%v", err)
	}
	if err := r.batcher.SetState(h.Batcher); err != nil {
		undo()
		return bad("%v", err)
	}
	off := 0
	for _, d := range data {
		for j := range d {
			d[j] = math.Float32frombits(binary.LittleEndian.Uint32(payload[off:]))
			off += 4
		}
	}
	st := r.Opt.State()
	st.Step = h.OptStep
	if err := restorer.Restore(r.Net.Params(), st); err != nil {
		return bad("%v", err)
	}
	r.Iter = h.Iter
	r.curves = append(r.curves[:0], h.Curves...)
	r.winLoss, r.winSteps = h.WinLoss, h.WinSteps
	r.elapsed = durationNs(h.ElapsedNs)
	r.resumedAt = append(append([]int(nil), h.ResumedAt...), h.Iter)
	r.extendedFrom = append([]int(nil), h.ExtendedFrom...)
	if h.Iter == h.Iters && c.Iters > h.Iters {
		r.extendedFrom = append(r.extendedFrom, h.Iters)
	}
	r.prevPeak, r.prevTrainHeap = h.PeakHeap, h.TrainHeap
	// The file's bytes are garbage now: collect them and measure this
	// segment from the same clean state as an uninterrupted run.
	payload, data = nil, nil
	runtime.GC()
	r.Meter.Peak = 0
	r.Meter.Sample()
	return nil
}

// CheckpointInfo is what PeekCheckpoint reads from a checkpoint's header.
type CheckpointInfo struct {
	Model, Dataset, Estimator string
	Iter, Iters               int     // iteration reached, horizon of the run that wrote it
	Batch                     int     // batch size
	Dropout                   float64 // forward dropout probability
	Curves                    []Point // the evaluations so far
	PeakHeap, TrainHeap       uint64  // memory measured so far (0 in older files)
}

// PeekCheckpoint verifies the checkpoint at path and returns its header's
// main facts without restoring anything.
func PeekCheckpoint(path string) (CheckpointInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return CheckpointInfo{}, err
	}
	defer f.Close()
	h, _, err := readCheckpoint(path, f)
	if err != nil {
		return CheckpointInfo{}, err
	}
	return CheckpointInfo{Model: h.Model, Dataset: h.Dataset, Estimator: h.Estimator, Iter: h.Iter, Iters: h.Iters,
		Batch: h.Batch, Dropout: h.Dropout, Curves: h.Curves, PeakHeap: h.PeakHeap, TrainHeap: h.TrainHeap}, nil
}

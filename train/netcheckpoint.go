package train

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/spadlab/spad/nn"
)

// netVersion is the version of the checkpoints SaveCheckpoint writes: the
// same framing as a Runner's (version 1), with a header that describes a
// network, an optimiser and a step instead of a run configuration:
//
//	{"kind":"network","step":…,"optimizer":…,"opt_step":…,
//	 "layers":[layer state or null, …],"meta":{…},"tensors":[…]}
//
// The layer states are those of nn.Network.States; the tensors are the
// parameters followed by the optimiser's buffers, as in version 1.
const netVersion = 2

type netHeader struct {
	Kind      string            `json:"kind"`
	Step      int               `json:"step"`
	Optimizer string            `json:"optimizer,omitempty"`
	OptStep   int64             `json:"opt_step"`
	Layers    []json.RawMessage `json:"layers"`
	Meta      map[string]string `json:"meta,omitempty"`
	Tensors   []ckptTensor      `json:"tensors"`
}

// optInit is implemented by optimizers that allocate their buffers ahead
// of the first step (Adam, SGD).
type optInit interface{ Init(params []*nn.Param) }

// SaveCheckpoint writes the state of a custom training loop to path: the
// parameters and layer states (nn.Stateful) of net, the state of opt (nil:
// none saved), the number of steps done and meta, free-form metadata for
// the caller. The write is atomic (temporary file, fsync, rename) and the
// file checksummed (CRC-32C); it refuses non-finite parameters, so that a
// diverged state never replaces the last good checkpoint, and refuses to
// replace anything but a checkpoint (CheckCheckpointPath).
//
// Together with LoadCheckpoint and Fit's FitConfig.Start it makes a custom
// loop resumable: the step after the checkpoint is number step, and a
// network's steps must be consecutive (see Fit).
func SaveCheckpoint(path string, net *nn.Network, opt Optimizer, step int, meta map[string]string) error {
	switch {
	case net == nil || net.Batch() == 0:
		return fmt.Errorf("checkpoint %s not written: the network is not built", path)
	case step < 0:
		return fmt.Errorf("checkpoint %s not written: step %d is negative", path, step)
	}
	if err := CheckCheckpointPath(path); err != nil {
		return err
	}
	h := &netHeader{Kind: "network", Step: step, Meta: meta}
	var data [][]float32
	for _, p := range net.Params() {
		for _, v := range p.Value {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("checkpoint %s not written at step %d: parameter %s is not finite (training diverged)", path, step, p.Name)
			}
		}
		h.Tensors = append(h.Tensors, ckptTensor{p.Name, len(p.Value)})
		data = append(data, p.Value)
	}
	if opt != nil {
		if _, ok := opt.(OptimizerRestorer); !ok {
			return fmt.Errorf("checkpoint %s not written: optimizer %s cannot restore its state (it does not implement train.OptimizerRestorer)", path, opt.Name())
		}
		if o, ok := opt.(optInit); ok {
			o.Init(net.Params())
		}
		st := opt.State()
		h.Optimizer, h.OptStep = opt.Name(), st.Step
		for i, b := range st.Buffers {
			h.Tensors = append(h.Tensors, ckptTensor{fmt.Sprintf("%s.buffer%d", opt.Name(), i), len(b)})
			data = append(data, b)
		}
	}
	var err error
	if h.Layers, err = net.States(); err != nil {
		return fmt.Errorf("checkpoint %s not written: %w", path, err)
	}
	if i, last, ok := offStep(h.Layers, step); !ok {
		return fmt.Errorf("checkpoint %s not written: step %d, but layer %d (%s) has done steps up to %d (step is the number of steps done, the next step's index)",
			path, step, i, net.Layers[i].Name(), last)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("checkpoint %s not written: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return writeFrame(w, netVersion, hdr, data) })
}

// writeFrame writes a checkpoint: magic, version, header, tensors and the
// CRC-32C of all of it.
func writeFrame(w io.Writer, version uint32, hdr []byte, data [][]float32) error {
	h := crc32.New(castagnoli)
	mw := io.MultiWriter(w, h)
	buf := make([]byte, 0, 1<<15)
	buf = append(buf, ckptMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, version)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	if _, err := mw.Write(buf); err != nil {
		return err
	}
	if _, err := mw.Write(hdr); err != nil {
		return err
	}
	for _, d := range data {
		for len(d) > 0 {
			n := min(len(d), cap(buf)/4)
			buf = buf[:0]
			for _, v := range d[:n] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := mw.Write(buf); err != nil {
				return err
			}
			d = d[n:]
		}
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(buf[:0], h.Sum32()))
	return err
}

// LoadCheckpoint restores a checkpoint written by SaveCheckpoint into net,
// built the same way as the network saved (same layers, estimators and
// seed), and into opt (nil: the optimiser state in the file is ignored;
// otherwise the same kind of optimizer). It returns the number of steps
// done — the index of the next step — and the metadata saved.
//
// It also reads a Runner's checkpoint (version 1) into a network built as
// the Runner's model: the step is the run's iteration and the metadata
// holds its "model", "dataset" and "estimator".
//
// Every check is made before anything is restored: an error (a
// *CheckpointError naming the file and the field that does not match)
// leaves net and opt as they were.
func LoadCheckpoint(path string, net *nn.Network, opt Optimizer) (step int, meta map[string]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	bad := func(f string, a ...any) error { return &CheckpointError{path, fmt.Sprintf(f, a...)} }
	if net == nil || net.Batch() == 0 {
		return 0, nil, bad("cannot be loaded into a network that is not built (call Build first)")
	}
	v, raw, payload, err := readFrame(path, f)
	if err != nil {
		return 0, nil, err
	}
	var h netHeader
	if v == ckptVersion {
		var old ckptHeader
		if err := decodeHeader(path, raw, &old); err != nil {
			return 0, nil, err
		}
		h = netHeader{Kind: "network", Step: old.Iter, Optimizer: old.Optimizer, OptStep: old.OptStep, Tensors: old.Tensors,
			Meta: map[string]string{"model": old.Model, "dataset": old.Dataset, "estimator": old.Estimator}}
		if h.Layers, err = v1States(&old); err != nil {
			return 0, nil, bad("layer states: %v", err)
		}
	} else {
		if err := decodeHeader(path, raw, &h); err != nil {
			return 0, nil, err
		}
		if h.Kind != "network" {
			return 0, nil, bad("kind %q, want \"network\"", h.Kind)
		}
	}
	if err := checkTensors(path, h.Tensors, payload); err != nil {
		return 0, nil, err
	}
	params := net.Params()
	switch {
	case h.Step < 0:
		return 0, nil, bad("step %d is negative", h.Step)
	case len(h.Layers) != len(net.Layers):
		return 0, nil, bad("layers: the file has %d layer states, the network has %d layers", len(h.Layers), len(net.Layers))
	case !stepOK(h.Layers, h.Step):
		i, last, _ := offStep(h.Layers, h.Step)
		return 0, nil, bad("layer %d state is at step %d, the checkpoint at step %d (inconsistent file)", i, last, h.Step)
	case len(h.Tensors) < len(params):
		return 0, nil, bad("tensors: the file has %d, the network has %d parameters", len(h.Tensors), len(params))
	}
	for i, p := range params {
		if t := h.Tensors[i]; t.Name != p.Name || t.Len != len(p.Value) {
			return 0, nil, bad("tensor %d is %s[%d], the network's parameter %d is %s[%d]", i, t.Name, t.Len, i, p.Name, len(p.Value))
		}
	}
	// The optimiser's buffers, decoded after the parameters' values.
	var ost OptimizerState
	var restorer OptimizerRestorer
	if opt != nil {
		var ok bool
		if restorer, ok = opt.(OptimizerRestorer); !ok {
			return 0, nil, bad("optimizer %s cannot restore its state (it does not implement train.OptimizerRestorer)", opt.Name())
		}
		switch {
		case h.Optimizer == "":
			return 0, nil, bad("optimizer: the file holds no optimizer state (load it with a nil optimizer)")
		case h.Optimizer != opt.Name():
			return 0, nil, bad("optimizer: the file holds %s's state, the optimizer given is %s", h.Optimizer, opt.Name())
		}
		ost.Step = h.OptStep
		off := 0
		for _, p := range params {
			off += 4 * len(p.Value)
		}
		for _, t := range h.Tensors[len(params):] {
			b := make([]float32, t.Len)
			for j := range b {
				b[j] = math.Float32frombits(binary.LittleEndian.Uint32(payload[off:]))
				off += 4
			}
			ost.Buffers = append(ost.Buffers, b)
		}
	}
	// Restore, putting back what was restored when a later part fails.
	cur, err := net.States()
	if err != nil {
		return 0, nil, bad("%v", err)
	}
	if err := net.RestoreStates(h.Layers); err != nil {
		_ = net.RestoreStates(cur)
		return 0, nil, bad("layer states: %v", err)
	}
	if restorer != nil {
		before := opt.State()
		if o, ok := opt.(optInit); ok {
			o.Init(params)
			before = opt.State()
		}
		saved := OptimizerState{Step: before.Step}
		for _, b := range before.Buffers {
			saved.Buffers = append(saved.Buffers, append([]float32(nil), b...))
		}
		if err := restorer.Restore(params, ost); err != nil {
			_ = net.RestoreStates(cur)
			if len(saved.Buffers) > 0 {
				_ = restorer.Restore(params, saved)
			}
			return 0, nil, bad("optimizer: %v", err)
		}
	}
	off := 0
	for _, p := range params {
		for j := range p.Value {
			p.Value[j] = math.Float32frombits(binary.LittleEndian.Uint32(payload[off:]))
			off += 4
		}
	}
	return h.Step, h.Meta, nil
}

func stepOK(states []json.RawMessage, next int) bool { _, _, ok := offStep(states, next); return ok }

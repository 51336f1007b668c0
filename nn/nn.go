// Package nn is the core of the framework: parameters, the Layer contract,
// the Network that runs a batch forward and backward through planned,
// reusable buffers, and the softmax cross-entropy loss.
//
// A Network is built once for a batch size. Building plans every buffer —
// parameters, gradients, the tensors each layer saves for backward, and the
// transient activations — so a training step in steady state allocates
// nothing and the heap figures measured during training are exactly what the
// plan holds. The batch runs forward in chunks of samples (transient
// activations are chunk-sized) while each layer keeps, for the whole batch,
// only what its backward needs; what a layer keeps is the only thing a
// gradient estimator (package inject) changes. Layers whose results do not
// depend on how a chunk is split (Piecewise) run depth-first on smaller
// pieces, with bitwise the same results, and the activation buffers are
// placed in one arena by their lifetimes (element-wise layers, InPlace,
// share theirs).
//
// A trained network runs with Predict (logits or probabilities, dropout
// off, no allocation); BuildInference builds it for inference only, with
// parameters and one chunk of activations and nothing for backward. Layers
// that carry state between steps implement Stateful, which checkpoints save
// through Network.States. Weights files live in nn/safetensors; tensor
// interop (gorgonia.org/tensor) in package nn/tensorio, so that nn
// depends on nothing outside the standard library but its kernels' cpuid.
//
// Misuse that input from users can cause is reported as errors: Build and
// BuildInference refuse invalid shapes, estimators and layers that already
// belong to a network; Predict, CheckTrain and CheckEval say what is wrong
// with a call. TrainStep and Evaluate are on the hot path and return no
// error: called with what CheckTrain or CheckEval would refuse, they panic
// with that message (a programmer error).
package nn

import (
	"fmt"
)

// Shape is the shape of one sample: (features) for flat data, (C, H, W) for
// images. The batch dimension is never part of a Shape.
type Shape []int

// Size returns the number of elements of one sample.
func (s Shape) Size() int {
	if len(s) == 0 {
		return 0
	}
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t are the same shape.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// String formats the shape as "C×H×W".
func (s Shape) String() string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "×"
		}
		out += fmt.Sprint(d)
	}
	return out
}

// Param is a trainable parameter: its values, its gradient for the current
// step, and a name that is unique within a network (for checkpoints).
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
	// Overwrite is set by a layer whose Backward writes this gradient,
	// rather than adding to it, on the first backward chunk of a step
	// (Step.First): Network.TrainStep then does not zero it beforehand.
	Overwrite bool
}

// NewParam allocates a parameter of the given shape with zero values and
// gradient.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), Value: make([]float32, n), Grad: make([]float32, n)}
}

// NewInferenceParam allocates a parameter of the given shape with zero
// values and no gradient (Grad is nil): the parameters of a network built for
// inference only (see Network.BuildInference).
func NewInferenceParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), Value: make([]float32, n)}
}

// Step describes the work a layer is asked to do: which training iteration,
// whether this is training (save for backward) or evaluation, and which
// chunk [Off, Off+N) of a batch of Batch samples the call covers.
type Step struct {
	Iter  int64
	Train bool
	Batch int
	Off   int
	N     int
	// First is set in Backward on the first chunk of the step's backward
	// pass: gradients of parameters marked Overwrite hold nothing yet and
	// are to be written, not added to.
	First bool
}

// Layer is one stage of a Network. Forward and Backward work on one chunk of
// samples at a time; a layer keeps what backward needs for the whole batch
// (at sample offset Step.Off) in buffers it allocated in Build.
type Layer interface {
	// Name is a short human-readable description, such as "dense 784→300".
	Name() string
	// Build plans the layer for per-sample input shape in, batches of up to
	// batch samples and chunks of up to chunk samples. It allocates every
	// buffer the layer needs and returns the per-sample output shape.
	Build(in Shape, batch, chunk int) (Shape, error)
	// Forward computes y for the chunk's samples x (both chunk-major, N
	// samples). In training it saves what Backward will need.
	Forward(st *Step, x, y []float32)
	// Backward receives dy for the chunk and writes dx (nil for the first
	// layer, where the input gradient is not needed). It accumulates the
	// parameter gradients of the chunk.
	Backward(st *Step, dy, dx []float32)
	// Params lists the trainable parameters (nil when there are none).
	Params() []*Param
	// SavedBytes is the number of bytes this layer holds for backward with
	// a full batch (its planned buffers), including any extra copies an
	// estimator keeps at selection steps.
	SavedBytes() int64
}

// Starter is implemented by layers that must act once per training step
// before the first forward chunk (for example to draw the step's random
// projection).
type Starter interface {
	StartStep(st *Step)
}

// Finisher is implemented by layers that must act once per training step
// after the last backward chunk (for example to scale an estimate or score
// candidate projections).
type Finisher interface {
	FinishStep(st *Step)
}

// Seeded is implemented by layers that draw random numbers. The Network
// gives each one the run's seed and the layer's index, which together key
// every draw.
type Seeded interface {
	SetSeed(seed uint64, index int)
}

// Scratcher is implemented by layers that need temporary memory during a
// forward or backward call but keep nothing in it between calls. The Network
// allocates one scratch area, as large as the largest request, and shares it
// among all such layers (they never run at the same time).
type Scratcher interface {
	// ScratchFloats is the number of float32 the layer needs, known after
	// Build.
	ScratchFloats() int
	// UseScratch hands the layer its scratch area (at least ScratchFloats
	// long).
	UseScratch(s []float32)
}

// Selector is implemented by layers that need extra memory only at some
// steps: SPAD layers score candidate projections once every Period steps.
// The Network staggers their phases so that, as far as the periods allow, no
// two of them score at the same step, and lets layers of different phases
// share one arena.
type Selector interface {
	// SelectionNeed returns the float32 the layer needs at its selection
	// steps and the period of those steps; 0 for either means none.
	SelectionNeed() (floats, period int)
	// SetSelection gives the layer its phase (0 ≤ phase < period) and its
	// part of the arena, before the first training step.
	SetSelection(phase int, buf []float32)
}

// InferenceBuilder is implemented by layers that can be built for inference
// only (Network.BuildInference): parameters without gradients
// (NewInferenceParam), buffers for one chunk of samples, nothing kept for
// backward, no estimator state. A layer that does not implement it is built
// with Build(in, chunk, chunk) instead.
type InferenceBuilder interface {
	BuildInference(in Shape, chunk int) (Shape, error)
}

// Stateful is implemented by layers (and optimisers) that carry state from
// one training step to the next, so that a checkpoint can save it and a
// resumed run continue exactly. The state is small, self-describing data
// (JSON); it never includes parameters or buffers that the next step
// overwrites.
//
// Built-in implementations: layers.Dense and layers.Conv2D with a RAD or
// SPAD estimator (their scheduler: step, selected and pending candidate).
// Dropout does not implement it: its masks are keyed by (seed, layer,
// iteration) and need nothing saved. A checkpoint saves Network.States after
// a step and, on resume, calls Network.RestoreStates on a network built the
// same way (same layers, estimators and seed) before the next step.
type Stateful interface {
	// State returns the layer's state, or nil when it has none (for
	// example a Dense layer with the baseline estimator).
	State() ([]byte, error)
	// Restore sets the state returned by State of a layer built the same
	// way. Restore(nil) is valid only for a layer whose State is nil.
	Restore(state []byte) error
}

package inject

import (
	"fmt"
	"math"

	"github.com/spadlab/spad/nn/rng"
)

// drawStreamBit marks the stream of a scheduler's own per-step draws (the
// Exact variant's index I), keeping them apart from every projection key.
const drawStreamBit = 1 << 63

// Scheduler decides, for one injected layer and every training iteration t,
// which projection key the layer compresses with in forward and reconstructs
// with in backward (StepKey, the same at both ends), the gradient scale, and
// when a new candidate set is scored. See the package documentation for the
// schedule. Begin, StepKey, Scale, Selecting, CandidateKey, SubBatch and
// Select do not allocate.
//
// Typical use by a layer, at iteration t (after s.Begin(t)):
//
//	forward:  c = Compress(s.StepKey(), x)
//	          if s.Selecting(): cⱼ = Compress(s.CandidateKey(j), x[:s.SubBatch(B)]) for j < m
//	backward: dW += s.Scale()·δᵀ·Reconstruct(s.StepKey(), c)   (WeightGradScaled)
//	          if s.Selecting(): s.Select([GradNormSq(s.CandidateKey(j), δ[:sub], cⱼ) for j < m])
type Scheduler struct {
	est   Estimator
	seed  uint64
	layer int
	m     int // candidates per set (1 unless SPAD)
	kmax  int // steps per set (1 unless SPAD)
	phase int // blocks start at steps t with (t+phase) mod kmax = 0

	started  bool
	t        int64 // step begun last
	selected int   // winner of the set in force
	pending  int   // winner chosen at this selection step, −1 if none yet
	inForce  int   // candidate used at step t
	scale    float32
	src      rng.Source // Exact variant's per-step draw
}

// NewScheduler returns the scheduler of layer (its stream) for estimator e and
// run seed. It panics if e.Validate fails or layer < 0; validate
// configurations from users first.
func NewScheduler(e Estimator, seed uint64, layer int) *Scheduler {
	if err := e.Validate(); err != nil {
		panic(err.Error())
	}
	if layer < 0 {
		panic(fmt.Sprintf("inject: NewScheduler with layer %d < 0", layer))
	}
	s := &Scheduler{est: e, seed: seed, layer: layer, m: 1, kmax: 1, pending: -1, scale: 1}
	if e.Mode == SPAD {
		s.m, s.kmax = e.M, e.KMax
	}
	return s
}

// Estimator returns the scheduler's configuration.
func (s *Scheduler) Estimator() Estimator { return s.est }

// Begin starts iteration t. Iterations must be consecutive: after Begin(t)
// the next call is Begin(t+1). A scheduler that has never begun (new, or
// restored from a state taken before any step) may start at any t ≥ 0; if t
// is inside a block it uses candidate 0 of that block's set, since nothing
// scored it.
//
// At the first step of a block ((t+phase) mod k_max = 0, see SetPhase) the
// winner chosen by Select
// at step t−1 comes into force; if Select was not called, candidate 0 does.
func (s *Scheduler) Begin(t int64) {
	if t < 0 {
		panic(fmt.Sprintf("inject: Begin(%d) with a negative step", t))
	}
	if s.started && t != s.t+1 {
		panic(fmt.Sprintf("inject: Begin(%d) out of order, expected step %d", t, s.t+1))
	}
	if !s.started {
		s.selected = 0
	} else if (t+int64(s.phase))%int64(s.kmax) == 0 {
		s.selected = max(s.pending, 0)
	}
	s.started = true
	s.t = t
	s.pending = -1
	s.draw()
}

// draw sets inForce and scale for step s.t.
func (s *Scheduler) draw() {
	s.inForce, s.scale = s.selected, 1
	if s.est.Mode != SPAD || s.est.Variant != Exact || s.m == 1 {
		return
	}
	s.src.Reset(rng.Key{Seed: s.seed, Stream: uint64(s.layer) | drawStreamBit, Draw: uint64(s.t)})
	if s.src.Float64() >= 1-s.est.Eps {
		j := s.src.Intn(s.m - 1)
		if j >= s.selected {
			j++
		}
		s.inForce = j
	}
	p := exactProb(s.m, s.selected, s.inForce, s.est.Eps)
	s.scale = float32(1 / (float64(s.m) * p))
}

// Step returns the iteration begun last, or −1 before the first Begin.
func (s *Scheduler) Step() int64 {
	if !s.started {
		return -1
	}
	return s.t
}

// blockBase returns the first step of the block containing t (0 for the
// first, possibly shortened, block).
func (s *Scheduler) blockBase(t int64) int64 {
	k, p := int64(s.kmax), int64(s.phase)
	return max(0, (t+p)/k*k-p)
}

// SetPhase shifts this scheduler's blocks by phase steps (0 ≤ phase <
// k_max): blocks then start at the steps t with (t+phase) mod k_max = 0, and
// the first block is shortened to k_max−phase steps. Networks give their
// SPAD layers different phases so that no two layers score candidates at
// the same step, and the memory for scoring can be shared. It must be
// called before the first Begin.
func (s *Scheduler) SetPhase(phase int) {
	if phase < 0 || phase >= s.kmax {
		panic(fmt.Sprintf("inject: phase %d outside [0, %d)", phase, s.kmax))
	}
	if s.started {
		panic("inject: SetPhase after Begin")
	}
	s.phase = phase
}

// Phase returns the scheduler's phase (see SetPhase).
func (s *Scheduler) Phase() int { return s.phase }

// Period returns k_max for SPAD with m > 1 (the steps between two
// selections), and 0 when the scheduler never scores candidates.
func (s *Scheduler) Period() int {
	if s.est.Mode != SPAD || s.m == 1 {
		return 0
	}
	return s.kmax
}

// StepKey returns the key of the projection in force at this step: forward
// compresses with it and backward reconstructs with it. For RAD it is
// {Seed, layer, t<<8}; for SPAD it is candidate I of the set in force,
// {Seed, layer, b<<8 | I} with b = ⌊t/k_max⌋·k_max.
func (s *Scheduler) StepKey() rng.Key {
	if s.est.Mode != SPAD {
		return rng.Key{Seed: s.seed, Stream: uint64(s.layer), Draw: uint64(s.t) << 8}
	}
	return rng.Key{Seed: s.seed, Stream: uint64(s.layer), Draw: uint64(s.blockBase(s.t))<<8 | uint64(s.inForce)}
}

// Scale returns the factor of this step's weight gradient: 1, or 1/(m·p_I)
// for the Exact variant.
func (s *Scheduler) Scale() float32 { return s.scale }

// InForce returns the index I of the candidate used at this step (0 for RAD).
func (s *Scheduler) InForce() int { return s.inForce }

// Selected returns the index of the selected candidate of the set in force.
func (s *Scheduler) Selected() int { return s.selected }

// Selecting reports whether this step scores the next candidate set: SPAD
// with m > 1 at steps t with (t+1+phase) mod k_max = 0. With m = 1 the choice is
// forced and nothing is scored.
func (s *Scheduler) Selecting() bool {
	return s.started && s.est.Mode == SPAD && s.m > 1 && (s.t+1+int64(s.phase))%int64(s.kmax) == 0
}

// CandidateKey returns the key of candidate j (0 ≤ j < m) of the set scored
// at this step, which comes into force at step t+1: {Seed, layer,
// (t+1)<<8 | j}.
func (s *Scheduler) CandidateKey(j int) rng.Key {
	if j < 0 || j >= s.m {
		panic(fmt.Sprintf("inject: candidate %d out of range [0, %d)", j, s.m))
	}
	return rng.Key{Seed: s.seed, Stream: uint64(s.layer), Draw: uint64(s.t+1)<<8 | uint64(j)}
}

// SubBatch returns ⌈batch/m⌉, the number of leading rows of the batch each
// candidate is scored on, so that the m candidate copies together take about
// the memory of one compressed batch.
func (s *Scheduler) SubBatch(batch int) int { return (batch + s.m - 1) / s.m }

// Select records the scores ‖δ_subᵀ·x̂ⱼ‖² of the m candidates of this
// selection step and returns the winner, the argmax (ties and NaNs go to the
// lowest index; a NaN score never wins against a number). The winner is in
// force for the next k_max steps. Select panics if this is not a selection
// step or len(scores) != m.
func (s *Scheduler) Select(scores []float64) int {
	if !s.Selecting() {
		panic(fmt.Sprintf("inject: Select at step %d, which is not a selection step", s.Step()))
	}
	if len(scores) != s.m {
		panic(fmt.Sprintf("inject: Select with %d scores, want m = %d", len(scores), s.m))
	}
	best, bv := 0, math.Inf(-1)
	for j, v := range scores {
		if v > bv {
			best, bv = j, v
		}
	}
	s.pending = best
	return best
}

// SchedulerState is the whole state of a Scheduler, for exact checkpoint and
// resume; it is plain data and JSON-friendly.
type SchedulerState struct {
	Seed     uint64 // run seed, checked on Restore
	Layer    int    // layer (stream), checked on Restore
	Step     int64  // step begun last, −1 if none
	Selected int    // selected candidate of the set in force
	Pending  int    // winner chosen at Step if it is a selection step, else −1
}

// State returns the scheduler's state. Taken between steps (after the
// backward of step t), Restore followed by Begin(t+1) continues exactly.
func (s *Scheduler) State() SchedulerState {
	return SchedulerState{Seed: s.seed, Layer: s.layer, Step: s.Step(), Selected: s.selected, Pending: s.pending}
}

// Restore sets the scheduler to st, returned by State of a scheduler with the
// same estimator, seed and layer.
func (s *Scheduler) Restore(st SchedulerState) error {
	if st.Seed != s.seed || st.Layer != s.layer {
		return fmt.Errorf("inject: scheduler state is for seed %d layer %d, not seed %d layer %d", st.Seed, st.Layer, s.seed, s.layer)
	}
	if st.Step < -1 {
		return fmt.Errorf("inject: scheduler state has step %d < -1", st.Step)
	}
	if st.Selected < 0 || st.Selected >= s.m {
		return fmt.Errorf("inject: scheduler state has selected candidate %d, want [0, %d)", st.Selected, s.m)
	}
	if st.Pending < -1 || st.Pending >= s.m {
		return fmt.Errorf("inject: scheduler state has pending candidate %d, want [-1, %d)", st.Pending, s.m)
	}
	r := Scheduler{est: s.est, seed: s.seed, layer: s.layer, m: s.m, kmax: s.kmax, phase: s.phase, pending: -1, scale: 1}
	if st.Step >= 0 {
		r.started, r.t, r.selected = true, st.Step, st.Selected
		if st.Pending >= 0 && !r.Selecting() {
			return fmt.Errorf("inject: scheduler state has a pending candidate at step %d, which is not a selection step", st.Step)
		}
		r.pending = st.Pending
		r.draw()
	} else if st.Selected != 0 || st.Pending != -1 {
		return fmt.Errorf("inject: scheduler state before any step must have selected 0 and pending -1")
	}
	*s = r
	return nil
}

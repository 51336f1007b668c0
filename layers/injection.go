package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// injection is the part of a Dense or Conv2D layer that an estimator
// changes: what is saved of the layer input for the weight gradient. With
// the baseline (or keep = 1, which keeps everything) the input is saved as
// is; with RAD or SPAD each row of F features is compressed to K values
// under the key the layer's Scheduler has in force, and backward rebuilds
// the unbiased estimate under that same key.
//
// A row is a sample's input vector for Dense (F = in features) and one
// channel map of a sample for Conv2D (F = H·W), so a sample has rowsPer
// rows.
type injection struct {
	est     inject.Estimator
	active  bool // false: save the input as is
	proj    inject.Projector
	sched   *inject.Scheduler
	rowsPer int
	f       int // features per row of the input
	k       int // values saved per row (f when not active)

	saved []float32 // batch·rowsPer × k

	// SPAD selection steps: the first sub samples of the batch compressed
	// under each of the m candidate keys, and the scores.
	sub      int
	candLen  int       // floats of cands
	extraLen int       // floats the layer itself needs for scoring
	cands    []float32 // m × sub·rowsPer × k, from the selection arena
	extra    []float32 // the layer's own scoring memory, from the arena
	scores   []float64
}

// plan sizes the saved buffers for batch samples of rowsPer rows of f
// features.
func (in *injection) plan(e inject.Estimator, seed uint64, index, batch, rowsPer, f int) {
	in.est, in.rowsPer, in.f, in.k = e, rowsPer, f, f
	in.active = e.Mode != inject.Baseline && e.Keep < 1
	if in.active {
		in.proj = e.Projector(f)
		in.k = in.proj.K
		in.sched = inject.NewScheduler(e, seed, index)
		if e.Mode == inject.SPAD && e.M > 1 {
			in.sub = in.sched.SubBatch(batch)
			in.candLen = e.M * in.sub * rowsPer * in.k
			in.scores = make([]float64, e.M)
		}
	}
	in.saved = make([]float32, batch*rowsPer*in.k)
}

// projScratch is the scratch the projector needs for rows rows and out
// outputs (0 when not active).
func (in *injection) projScratch(rows, out int) int {
	if !in.active {
		return 0
	}
	return in.proj.ScratchSize(rows, out)
}

// savedBytes is the planned memory held for backward by the layer itself
// (the selection arena is counted by the Network).
func (in *injection) savedBytes() int64 { return int64(len(in.saved)) * 4 }

// selectionNeed implements nn.Selector for the layer.
func (in *injection) selectionNeed() (floats, period int) {
	if in.candLen == 0 {
		return 0, 0
	}
	return in.candLen + in.extraLen, in.sched.Period()
}

// setSelection implements nn.Selector for the layer.
func (in *injection) setSelection(phase int, buf []float32) {
	in.sched.SetPhase(phase)
	in.cands, in.extra = buf[:in.candLen], buf[in.candLen:in.candLen+in.extraLen]
}

// start begins a training step. A layer used outside a Network, which
// never received a selection arena, allocates its own once.
func (in *injection) start(st *nn.Step) {
	if !in.active {
		return
	}
	if in.candLen > 0 && in.cands == nil {
		buf := make([]float32, in.candLen+in.extraLen)
		in.cands, in.extra = buf[:in.candLen], buf[in.candLen:]
	}
	in.sched.Begin(st.Iter)
}

// selecting reports whether this step scores candidates.
func (in *injection) selecting() bool { return in.candLen > 0 && in.sched.Selecting() }

// candSamples returns how many of the chunk's samples belong to the scoring
// sub-batch [0, sub): they are the chunk's first ones.
func (in *injection) candSamples(st *nn.Step) int {
	if st.Off >= in.sub {
		return 0
	}
	return min(st.N, in.sub-st.Off)
}

// cand returns candidate j's compressed rows for samples [from, from+n).
func (in *injection) cand(j, from, n int) []float32 {
	base := j * in.sub * in.rowsPer * in.k
	return in.cands[base+from*in.rowsPer*in.k : base+(from+n)*in.rowsPer*in.k]
}

// chunk returns the saved rows of the chunk's samples.
func (in *injection) chunk(st *nn.Step) []float32 {
	return in.saved[st.Off*in.rowsPer*in.k : (st.Off+st.N)*in.rowsPer*in.k]
}

// save stores what backward needs of the chunk's input x.
func (in *injection) save(st *nn.Step, x, scratch []float32) {
	rows, off := st.N*in.rowsPer, st.Off*in.rowsPer
	if !in.active {
		kernels.Copy(in.chunk(st), x[:rows*in.f])
		return
	}
	in.proj.Compress(in.sched.StepKey(), x, rows, off, in.chunk(st), scratch)
	if in.selecting() {
		if ns := in.candSamples(st); ns > 0 {
			for j := 0; j < in.est.M; j++ {
				in.proj.Compress(in.sched.CandidateKey(j), x, ns*in.rowsPer, off, in.cand(j, st.Off, ns), scratch)
			}
		}
	}
}

// selectBest hands the candidates' scores to the scheduler.
func (in *injection) selectBest() { in.sched.Select(in.scores) }

// Scheduled is implemented by layers whose estimator keeps state between
// steps (a SPAD or RAD scheduler); checkpoints save and restore it. New code
// should use nn.Stateful (Network.States and RestoreStates), which needs no
// knowledge of the layer types.
type Scheduled interface {
	// Scheduler returns the layer's scheduler, or nil when the layer saves
	// its input as is.
	Scheduler() *inject.Scheduler
}

// Scheduler implements Scheduled.
func (d *Dense) Scheduler() *inject.Scheduler { return d.inj.sched }

// Scheduler implements Scheduled.
func (c *Conv2D) Scheduler() *inject.Scheduler { return c.inj.sched }

// SelectionNeed implements nn.Selector.
func (d *Dense) SelectionNeed() (floats, period int) { return d.inj.selectionNeed() }

// SetSelection implements nn.Selector.
func (d *Dense) SetSelection(phase int, buf []float32) { d.inj.setSelection(phase, buf) }

// SelectionNeed implements nn.Selector.
func (c *Conv2D) SelectionNeed() (floats, period int) { return c.inj.selectionNeed() }

// SetSelection implements nn.Selector.
func (c *Conv2D) SetSelection(phase int, buf []float32) { c.inj.setSelection(phase, buf) }

// checkEstimator validates the estimator of layer name. A RAD or SPAD
// estimator whose fields are left at zero is refused with an error naming
// every missing field (there are no hidden defaults; the command line's are
// keep 0.1, m 10, k_max 10).
func checkEstimator(name string, e inject.Estimator) error {
	var missing []string
	if e.Mode == inject.RAD || e.Mode == inject.SPAD {
		if e.Keep == 0 {
			missing = append(missing, "Keep")
		}
		if e.Mode == inject.SPAD {
			if e.M == 0 {
				missing = append(missing, "M")
			}
			if e.KMax == 0 {
				missing = append(missing, "KMax")
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: the %s estimator needs %s set (for example Keep 0.1, M 10, KMax 10, the command line's defaults)", name, e.Mode, strings.Join(missing, ", "))
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// State implements nn.Stateful: the scheduler's state as JSON, nil when the
// layer saves its input as is.
func (d *Dense) State() ([]byte, error) { return schedState(d.inj.sched) }

// Restore implements nn.Stateful.
func (d *Dense) Restore(b []byte) error { return schedRestore(d.inj.sched, b) }

// State implements nn.Stateful: the scheduler's state as JSON, nil when the
// layer saves its input as is.
func (c *Conv2D) State() ([]byte, error) { return schedState(c.inj.sched) }

// Restore implements nn.Stateful.
func (c *Conv2D) Restore(b []byte) error { return schedRestore(c.inj.sched, b) }

func schedState(s *inject.Scheduler) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return json.Marshal(s.State())
}

func schedRestore(s *inject.Scheduler, b []byte) error {
	if s == nil {
		if len(b) != 0 {
			return fmt.Errorf("state %.40q for a layer that keeps no estimator state", b)
		}
		return nil
	}
	if len(b) == 0 {
		return fmt.Errorf("no state for a layer whose %s estimator keeps one", s.Estimator().Mode)
	}
	var st inject.SchedulerState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("estimator state: %w", err)
	}
	return s.Restore(st)
}

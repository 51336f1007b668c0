package nn

import (
	"errors"
	"fmt"

	"github.com/spadlab/spad/nn/kernels"
)

// DefaultChunkFloats bounds the transient activation buffers: a Network
// whose largest per-sample activation has s elements runs its batch in
// chunks of max(1, DefaultChunkFloats/s) samples unless told otherwise.
const DefaultChunkFloats = 1 << 18

// Network is a sequence of layers ending in logits, trained with softmax
// cross-entropy. Build it once with Build; then TrainStep and Evaluate run
// without allocating.
type Network struct {
	In     Shape
	Layers []Layer
	// WholeChunks, set before Build, runs every layer on whole chunks even
	// when Pieces is set: the same results, with activation buffers and
	// scratch sized for a chunk (for comparisons).
	WholeChunks bool

	shapes  []Shape // shapes[i] is the input of layer i; shapes[len] the output
	batch   int
	chunk   int
	seed    uint64
	built   bool
	infer   bool    // built by BuildInference
	plan    actPlan // activation buffers between layers
	dlogits []float32
	scratch []float32
	arena   []float32 // shared by the Selectors, one phase at a time
	params  []*Param
	step    Step

	// The layers that are Starters and Finishers, found at build time:
	// a type assertion in each step could allocate (the runtime grows
	// its per-call-site cache of asserted types now and then).
	starters  []Starter
	finishers []Finisher
	firstOff  int // first sample of the chunk a step's backward runs first (Step.First)
}

// NewNetwork returns an unbuilt network taking samples of shape in through
// the given layers.
func NewNetwork(in Shape, layers ...Layer) *Network {
	return &Network{In: append(Shape(nil), in...), Layers: layers}
}

// Build plans every buffer for batches of up to batch samples, processed in
// chunks of up to chunk samples (chunk ≤ 0 chooses it from
// DefaultChunkFloats). The seed keys every random draw of the layers,
// including their initial weights.
//
// A layer object belongs to the first network that builds it: Build refuses
// a layer (embedding Membership, as every layer of package layers does)
// that another network has built, or that appears twice in this one.
func (n *Network) Build(batch, chunk int, seed uint64) error {
	if batch < 1 {
		return fmt.Errorf("nn: batch size must be ≥ 1, got %d", batch)
	}
	return n.build(batch, chunk, seed, false)
}

// BuildInference builds the network for inference only (Predict and
// Evaluate, never TrainStep): parameters without gradients, activations for
// one chunk of up to chunk samples (chunk ≤ 0 chooses it from
// DefaultChunkFloats), nothing saved for backward and no estimator state.
// The seed draws the initial weights, which loading a weights file then
// replaces. Layers that implement InferenceBuilder are built with it, others
// with Build(in, chunk, chunk).
func (n *Network) BuildInference(chunk int, seed uint64) error {
	return n.build(0, chunk, seed, true)
}

// build is Build (infer false) or BuildInference (infer true: batch is
// ignored and set to the chunk).
func (n *Network) build(batch, chunk int, seed uint64, infer bool) (err error) {
	if n.built {
		return errors.New("nn: network already built")
	}
	if len(n.Layers) == 0 {
		return errors.New("nn: network has no layers")
	}
	if n.In.Size() <= 0 {
		return fmt.Errorf("nn: invalid input shape %v", n.In)
	}
	if err := n.claim(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			n.release()
			n.shapes, n.params = nil, nil
			n.batch, n.chunk, n.infer = 0, 0, false
		}
	}()
	n.seed = seed
	// The chunk depends on the largest activation, known before Build from
	// the layers that implement ShapeInferer (a layer that does not ends
	// the probe; the chunk is then sized from the shapes seen so far).
	maxAct := n.In.Size()
	shapes := []Shape{n.In}
	for i, l := range n.Layers {
		sp, ok := l.(ShapeInferer)
		if !ok {
			break
		}
		out, err := sp.OutShape(shapes[i])
		if err != nil {
			return fmt.Errorf("nn: layer %d (%s): %w", i, l.Name(), err)
		}
		shapes = append(shapes, out)
		maxAct = max(maxAct, out.Size())
	}
	if chunk <= 0 {
		chunk = max(1, DefaultChunkFloats/maxAct)
	}
	if infer {
		batch = chunk
	}
	chunk = min(chunk, batch)
	n.batch, n.chunk, n.infer = batch, chunk, infer
	n.shapes = []Shape{n.In}
	maxAct = n.In.Size()
	for i, l := range n.Layers {
		if s, ok := l.(Seeded); ok {
			s.SetSeed(seed, i)
		}
		var out Shape
		if ib, ok := l.(InferenceBuilder); ok && infer {
			out, err = ib.BuildInference(n.shapes[i], chunk)
		} else {
			out, err = l.Build(n.shapes[i], batch, chunk)
		}
		if err != nil {
			return fmt.Errorf("nn: layer %d (%s): %w", i, l.Name(), err)
		}
		if out.Size() <= 0 {
			return fmt.Errorf("nn: layer %d (%s) produces an empty output %v", i, l.Name(), out)
		}
		n.shapes = append(n.shapes, out)
		maxAct = max(maxAct, out.Size())
		for _, p := range l.Params() {
			n.params = append(n.params, p)
		}
	}
	out := n.shapes[len(n.shapes)-1]
	if len(out) != 1 {
		return fmt.Errorf("nn: the last layer must output class scores (a flat vector), got shape %v", out)
	}
	n.plan.pieces(n.Layers, chunk, infer || n.WholeChunks || !Pieces)
	scratch := 0
	for _, l := range n.Layers {
		if s, ok := l.(Scratcher); ok {
			scratch = max(scratch, s.ScratchFloats())
		}
	}
	if scratch > 0 {
		n.scratch = make([]float32, scratch)
		for _, l := range n.Layers {
			if s, ok := l.(Scratcher); ok {
				s.UseScratch(n.scratch)
			}
		}
	}
	for _, l := range n.Layers {
		if s, ok := l.(Starter); ok {
			n.starters = append(n.starters, s)
		}
		if f, ok := l.(Finisher); ok {
			n.finishers = append(n.finishers, f)
		}
	}
	if !infer {
		n.planSelection()
		n.dlogits = make([]float32, batch*out[0])
	}
	n.plan.layout(n.Layers, n.shapes, chunk)
	seen := map[string]bool{}
	for _, p := range n.params {
		if seen[p.Name] {
			return fmt.Errorf("nn: two parameters are named %q", p.Name)
		}
		seen[p.Name] = true
	}
	n.built = true
	return nil
}

// ShapeInferer is implemented by layers that can tell their output shape
// before being built; the Network uses it to size its chunks.
type ShapeInferer interface {
	OutShape(in Shape) (Shape, error)
}

// Built reports whether Build or BuildInference has succeeded.
func (n *Network) Built() bool { return n.built }

// InferenceOnly reports whether the network was built by BuildInference.
func (n *Network) InferenceOnly() bool { return n.infer }

// Batch returns the batch size the network was built for (the chunk for a
// network built for inference), 0 before Build.
func (n *Network) Batch() int { return n.batch }

// Chunk returns the number of samples processed per forward/backward call,
// 0 before Build.
func (n *Network) Chunk() int { return n.chunk }

// Classes returns the number of output classes, 0 before Build.
func (n *Network) Classes() int {
	if !n.built {
		return 0
	}
	return n.shapes[len(n.shapes)-1][0]
}

// Shapes returns the per-sample shape entering each layer, followed by the
// output shape (nil before Build).
func (n *Network) Shapes() []Shape { return n.shapes }

// Params returns every trainable parameter, in layer order (nil before
// Build).
func (n *Network) Params() []*Param { return n.params }

// Membership records the network a layer belongs to. Embedding it in a
// layer type makes Network.Build refuse the layer in a second network, or
// twice in one: the second Build would replace the layer's weights and
// buffers, leaving the first network training orphaned copies. Every layer
// of package layers embeds it.
type Membership struct{ owner *Network }

// Owner returns the network that built the layer, or nil.
func (m *Membership) Owner() *Network { return m.owner }

func (m *Membership) membership() *Membership { return m }

// owned is implemented by layers that embed Membership.
type owned interface{ membership() *Membership }

// claim makes n the owner of its layers, or fails naming the first layer
// that already belongs to a network (n included: a layer listed twice).
func (n *Network) claim() error {
	for i, l := range n.Layers {
		if l == nil {
			n.release()
			return fmt.Errorf("nn: layer %d is nil", i)
		}
		o, ok := l.(owned)
		if !ok {
			continue
		}
		m := o.membership()
		if m.owner != nil {
			what := "another network"
			if m.owner == n {
				what = "this network at an earlier position (a layer object can appear only once)"
			}
			n.release()
			return fmt.Errorf("nn: layer %d (%s) already belongs to %s; create a new layer", i, l.Name(), what)
		}
		m.owner = n
	}
	return nil
}

// release gives up n's claim on its layers (after a failed Build).
func (n *Network) release() {
	for _, l := range n.Layers {
		if o, ok := l.(owned); ok && o.membership().owner == n {
			o.membership().owner = nil
		}
	}
}

// ParamCount returns the total number of trainable scalars.
func (n *Network) ParamCount() int {
	c := 0
	for _, p := range n.params {
		c += len(p.Value)
	}
	return c
}

// SavedBytes returns the bytes the layers hold for backward for a full
// batch: the exact activation memory the estimator in use costs.
func (n *Network) SavedBytes() int64 {
	var s int64
	for _, l := range n.Layers {
		s += l.SavedBytes()
	}
	return s + int64(len(n.dlogits)+len(n.arena))*4
}

// planSelection staggers the Selector layers: with a common period P,
// layer i (in order) gets phase i mod P, and the arena is as large as the
// largest total need of one phase. Layers with different periods get
// separate regions (phase 0).
func (n *Network) planSelection() {
	type sel struct {
		s      Selector
		floats int
		period int
	}
	var sels []sel
	common := 0
	for _, l := range n.Layers {
		s, ok := l.(Selector)
		if !ok {
			continue
		}
		f, p := s.SelectionNeed()
		if f <= 0 || p <= 0 {
			continue
		}
		sels = append(sels, sel{s, f, p})
		if common == 0 {
			common = p
		} else if common != p {
			common = -1
		}
	}
	if len(sels) == 0 {
		return
	}
	if common < 0 {
		common = 1 // no staggering: every layer in its own region
	}
	phaseOf := func(i int) int {
		if common == 1 {
			return 0
		}
		return i % common
	}
	used := map[int]int{} // floats of each phase
	offs := make([]int, len(sels))
	size := 0
	for i, s := range sels {
		ph := phaseOf(i)
		if common == 1 {
			ph = i // separate regions, phase 0 for the scheduler
		}
		offs[i] = used[ph]
		used[ph] += s.floats
		size = max(size, used[ph])
	}
	if common == 1 {
		size = 0
		for i, s := range sels {
			offs[i] = size
			size += s.floats
		}
	}
	n.arena = make([]float32, size)
	for i, s := range sels {
		ph := 0
		if common > 1 {
			ph = phaseOf(i)
		}
		s.s.SetSelection(ph, n.arena[offs[i]:offs[i]+s.floats])
	}
}

// WorkBytes returns the bytes of the network's transient buffers: the
// activations and their gradients between layers (planned for a chunk, see
// Piecewise), the logit gradients and the shared scratch.
func (n *Network) WorkBytes() int64 {
	return int64(len(n.plan.arena)+len(n.dlogits)+len(n.scratch)) * 4
}

// forward runs the first count samples of x forward, chunk by chunk, and
// returns the summed loss and the correct predictions. With train set, the
// layers save what backward needs and the logit gradients of the mean loss
// go to dlogits.
func (n *Network) forward(x []float32, count int, iter int64, train bool, labels []uint8) (loss float64, correct int) {
	in := n.In.Size()
	classes := n.Classes()
	st := &n.step
	*st = Step{Iter: iter, Train: train, Batch: count}
	if train {
		for _, s := range n.starters {
			s.StartStep(st)
		}
	}
	scale := float32(1) / float32(count)
	for off := 0; off < count; off += n.chunk {
		c := min(n.chunk, count-off)
		cur := n.forwardChunk(x[:count*in], off, c)
		var g []float32
		if train {
			g = n.dlogits[off*classes : (off+c)*classes]
		}
		ls, cr := kernels.SoftmaxXent(cur, labels[off:off+c], c, classes, g, scale)
		loss += ls
		correct += cr
	}
	return loss, correct
}

// TrainStep runs one training iteration on the first count samples of x
// (sample-major, count×In.Size() floats) with labels: forward in chunks,
// mean softmax cross-entropy, backward in chunks. It leaves the gradient of
// the mean loss in every Param.Grad (zeroed first, or written by the first
// backward chunk when the parameter is marked Overwrite) and returns the summed
// loss and the number of correct predictions. It does not update the
// parameters (see package train's optimisers). If afterForward is not nil,
// it is called between the forward and the backward pass (memory sampling).
//
// Misuse — a network not built for training, count outside [1, Batch()],
// too few inputs or labels, a label out of range — is a programmer error and
// panics with the message CheckTrain returns; check data that comes from
// users with CheckTrain first. TrainStep does not allocate.
func (n *Network) TrainStep(x []float32, labels []uint8, count int, iter int64, afterForward func()) (loss float64, correct int) {
	if err := n.CheckTrain(x, labels, count); err != nil {
		panic(err.Error())
	}
	for _, p := range n.params {
		if !p.Overwrite {
			clear(p.Grad)
		}
	}
	loss, correct = n.forward(x, count, iter, true, labels)
	if afterForward != nil {
		afterForward()
	}
	st := &n.step
	last := ((count - 1) / n.chunk) * n.chunk
	n.firstOff = last
	for off := last; off >= 0; off -= n.chunk {
		n.backwardChunk(off, min(n.chunk, count-off))
	}
	st.First = false
	for _, f := range n.finishers {
		f.FinishStep(st)
	}
	return loss, correct
}

// Evaluate runs count samples of x forward without saving anything and
// returns the summed loss and the number of correct predictions. count may
// exceed the batch size: the samples are processed chunk by chunk.
//
// Misuse (see CheckEval) is a programmer error and panics with the message
// CheckEval returns.
func (n *Network) Evaluate(x []float32, labels []uint8, count int) (loss float64, correct int) {
	if err := n.CheckEval(x, labels, count); err != nil {
		panic(err.Error())
	}
	in := n.In.Size()
	for off := 0; off < count; off += n.batch {
		c := min(n.batch, count-off)
		l, k := n.forward(x[off*in:(off+c)*in], c, -1, false, labels[off:off+c])
		loss += l
		correct += k
	}
	return loss, correct
}

// CheckTrain reports why TrainStep(x, labels, count, …) would be refused, or
// nil: the network is not built (or built for inference only), count is
// outside [1, Batch()], x or labels are too short, or a label is not a
// class. It does not allocate when it returns nil.
func (n *Network) CheckTrain(x []float32, labels []uint8, count int) error {
	if !n.built {
		return errors.New("nn: TrainStep on a network that was not built")
	}
	if n.infer {
		return errors.New("nn: TrainStep on a network built for inference only")
	}
	if count < 1 || count > n.batch {
		return fmt.Errorf("nn: TrainStep with %d samples; the network was built for batches of 1..%d", count, n.batch)
	}
	return n.checkData("TrainStep", x, labels, count)
}

// CheckEval reports why Evaluate(x, labels, count) would be refused, or nil:
// the network is not built, count < 0, x or labels are too short, or a label
// is not a class. It does not allocate when it returns nil.
func (n *Network) CheckEval(x []float32, labels []uint8, count int) error {
	if !n.built {
		return errors.New("nn: Evaluate on a network that was not built")
	}
	if count < 0 {
		return fmt.Errorf("nn: Evaluate with %d samples", count)
	}
	return n.checkData("Evaluate", x, labels, count)
}

func (n *Network) checkData(op string, x []float32, labels []uint8, count int) error {
	if len(x) < count*n.In.Size() || len(labels) < count {
		return fmt.Errorf("nn: %s: %d samples need %d inputs and %d labels, got %d and %d", op, count, count*n.In.Size(), count, len(x), len(labels))
	}
	classes := n.Classes()
	for i, y := range labels[:count] {
		if int(y) >= classes {
			return fmt.Errorf("nn: %s: label %d of sample %d out of range for %d classes", op, y, i, classes)
		}
	}
	return nil
}

// forwardChunk runs samples [off, off+c) of the batch x (a chunk) through
// the layers, the first segments a piece at a time (see actPlan), and
// returns the chunk's logits.
func (n *Network) forwardChunk(x []float32, off, c int) []float32 {
	p := &n.plan
	last := len(n.Layers)
	p.base[last] = off
	k := len(p.segs) - 1
	for s := off; s < off+c; s += p.segs[k].piece {
		n.forwardSeg(k, x, s, min(p.segs[k].piece, off+c-s))
	}
	return p.bnd[last][:c*p.size[last]]
}

// forwardSeg runs segment k forward on samples [a, a+m) of the batch: its
// input is x (segment 0) or is first produced by the segment before it, a
// piece at a time, into the segment's input buffer; its output goes to the
// buffer after it, at the samples' place in the piece that buffer holds.
func (n *Network) forwardSeg(k int, x []float32, a, m int) {
	p := &n.plan
	sg := p.segs[k]
	var cur []float32
	if k == 0 {
		in := p.size[0]
		cur = x[a*in : (a+m)*in]
	} else {
		p.base[sg.lo] = a
		q := p.segs[k-1].piece
		for s := a; s < a+m; s += q {
			n.forwardSeg(k-1, x, s, min(q, a+m-s))
		}
		cur = p.bnd[sg.lo][:m*p.size[sg.lo]]
	}
	st := &n.step
	st.Off, st.N = a, m
	for i := sg.lo; i < sg.hi; i++ {
		b, from := i+1, 0
		if b == sg.hi {
			from = a - p.base[b]
		}
		out := p.bnd[b][from*p.size[b] : (from+m)*p.size[b]]
		n.Layers[i].Forward(st, cur, out)
		cur = out
	}
}

// backwardChunk runs samples [off, off+c) of the batch backward from their
// logit gradients, the last segment first.
func (n *Network) backwardChunk(off, c int) {
	p := &n.plan
	classes := p.size[len(n.Layers)]
	k := len(p.segs) - 1
	q := p.segs[k].piece
	for s := off; s < off+c; s += q {
		m := min(q, off+c-s)
		n.backwardSeg(k, n.dlogits[s*classes:(s+m)*classes], s, m)
	}
}

// backwardSeg runs segment k backward on samples [a, a+m) given the
// gradient dy of its output, then the segments before it, a piece at a
// time in order.
func (n *Network) backwardSeg(k int, dy []float32, a, m int) {
	p := &n.plan
	sg := p.segs[k]
	st := &n.step
	// Every layer's first call of the step's backward is on the piece that
	// starts the chunk backward runs first.
	st.Off, st.N, st.First = a, m, a == n.firstOff
	for i := sg.hi - 1; i >= sg.lo; i-- {
		var dx []float32
		if i > 0 {
			dx = p.bnd[i][:m*p.size[i]]
		}
		n.Layers[i].Backward(st, dy, dx)
		dy = dx
	}
	if k == 0 {
		return
	}
	in := p.size[sg.lo]
	q := p.segs[k-1].piece
	for s := a; s < a+m; s += q {
		r := min(q, a+m-s)
		n.backwardSeg(k-1, dy[(s-a)*in:(s-a+r)*in], s, r)
	}
}

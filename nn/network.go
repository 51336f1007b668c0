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

	shapes  []Shape // shapes[i] is the input of layer i; shapes[len] the output
	batch   int
	chunk   int
	seed    uint64
	built   bool
	bufs    [2][]float32
	dlogits []float32
	scratch []float32
	arena   []float32 // shared by the Selectors, one phase at a time
	params  []*Param
	step    Step
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
func (n *Network) Build(batch, chunk int, seed uint64) error {
	if n.built {
		return errors.New("nn: network already built")
	}
	if batch < 1 {
		return fmt.Errorf("nn: batch size must be ≥ 1, got %d", batch)
	}
	if len(n.Layers) == 0 {
		return errors.New("nn: network has no layers")
	}
	if n.In.Size() <= 0 {
		return fmt.Errorf("nn: invalid input shape %v", n.In)
	}
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
	chunk = min(chunk, batch)
	n.batch, n.chunk = batch, chunk
	n.shapes = []Shape{n.In}
	maxAct = n.In.Size()
	for i, l := range n.Layers {
		if s, ok := l.(Seeded); ok {
			s.SetSeed(seed, i)
		}
		out, err := l.Build(n.shapes[i], batch, chunk)
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
	n.planSelection()
	n.bufs[0] = make([]float32, chunk*maxAct)
	n.bufs[1] = make([]float32, chunk*maxAct)
	n.dlogits = make([]float32, batch*out[0])
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

// Batch returns the batch size the network was built for.
func (n *Network) Batch() int { return n.batch }

// Chunk returns the number of samples processed per forward/backward call.
func (n *Network) Chunk() int { return n.chunk }

// Classes returns the number of output classes.
func (n *Network) Classes() int { return n.shapes[len(n.shapes)-1][0] }

// Shapes returns the per-sample shape entering each layer, followed by the
// output shape.
func (n *Network) Shapes() []Shape { return n.shapes }

// Params returns every trainable parameter, in layer order.
func (n *Network) Params() []*Param { return n.params }

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
// chunk-sized activations, the logit gradients and the shared scratch.
func (n *Network) WorkBytes() int64 {
	return int64(len(n.bufs[0])+len(n.bufs[1])+len(n.dlogits)+len(n.scratch)) * 4
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
		for _, l := range n.Layers {
			if s, ok := l.(Starter); ok {
				s.StartStep(st)
			}
		}
	}
	scale := float32(1) / float32(count)
	for off := 0; off < count; off += n.chunk {
		c := min(n.chunk, count-off)
		st.Off, st.N = off, c
		cur := x[off*in : (off+c)*in]
		for i, l := range n.Layers {
			out := n.bufs[i&1][:c*n.shapes[i+1].Size()]
			l.Forward(st, cur, out)
			cur = out
		}
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
// the mean loss in every Param.Grad (zeroed first) and returns the summed
// loss and the number of correct predictions. It does not update the
// parameters (see package train's optimisers). If afterForward is not nil,
// it is called between the forward and the backward pass (memory sampling).
func (n *Network) TrainStep(x []float32, labels []uint8, count int, iter int64, afterForward func()) (loss float64, correct int) {
	n.check(x, labels, count)
	for _, p := range n.params {
		clear(p.Grad)
	}
	loss, correct = n.forward(x, count, iter, true, labels)
	if afterForward != nil {
		afterForward()
	}
	st := &n.step
	classes := n.Classes()
	last := ((count - 1) / n.chunk) * n.chunk
	for off := last; off >= 0; off -= n.chunk {
		c := min(n.chunk, count-off)
		st.Off, st.N = off, c
		dy := n.dlogits[off*classes : (off+c)*classes]
		for i := len(n.Layers) - 1; i >= 0; i-- {
			var dx []float32
			if i > 0 {
				dx = n.bufs[i&1][:c*n.shapes[i].Size()]
			}
			n.Layers[i].Backward(st, dy, dx)
			dy = dx
		}
	}
	for _, l := range n.Layers {
		if f, ok := l.(Finisher); ok {
			f.FinishStep(st)
		}
	}
	return loss, correct
}

// Evaluate runs count samples of x forward without saving anything and
// returns the summed loss and the number of correct predictions. count may
// exceed the batch size: the samples are processed chunk by chunk.
func (n *Network) Evaluate(x []float32, labels []uint8, count int) (loss float64, correct int) {
	if !n.built {
		panic("nn: Evaluate on a network that was not built")
	}
	in := n.In.Size()
	if len(x) < count*in || len(labels) < count {
		panic(fmt.Sprintf("nn: Evaluate: %d samples need %d inputs and %d labels, got %d and %d", count, count*in, count, len(x), len(labels)))
	}
	for off := 0; off < count; off += n.batch {
		c := min(n.batch, count-off)
		l, k := n.forward(x[off*in:(off+c)*in], c, -1, false, labels[off:off+c])
		loss += l
		correct += k
	}
	return loss, correct
}

func (n *Network) check(x []float32, labels []uint8, count int) {
	if !n.built {
		panic("nn: TrainStep on a network that was not built")
	}
	if count < 1 || count > n.batch {
		panic(fmt.Sprintf("nn: TrainStep with %d samples; the network was built for batches of 1..%d", count, n.batch))
	}
	if len(x) < count*n.In.Size() || len(labels) < count {
		panic(fmt.Sprintf("nn: TrainStep: %d samples need %d inputs and %d labels, got %d and %d", count, count*n.In.Size(), count, len(x), len(labels)))
	}
	classes := n.Classes()
	for _, y := range labels[:count] {
		if int(y) >= classes {
			panic(fmt.Sprintf("nn: label %d out of range for %d classes", y, classes))
		}
	}
}

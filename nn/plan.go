package nn

import "sort"

// Pieces, when set, makes Build run Piecewise layers depth-first in pieces
// (see actPlan): bitwise the same results in less memory — on SmallConvNet
// the activation buffers and the shared scratch take 0.8–0.9 MiB instead
// of 2.9–3.0 — but in more, smaller kernel calls, which cost 15–40 % more time
// per step on two cores. It is off by default; set it before building
// (cmd/train --lean). Networks built without it still share buffers in
// place and by lifetime.
var Pieces = false

// Piecewise is implemented by layers that can run a chunk in smaller pieces
// with bitwise the results of one call: the Network then runs such layers
// depth-first, a piece at a time, so that the activations between them, and
// their scratch, are sized for a piece instead of a chunk.
type Piecewise interface {
	// Granule returns g ≥ 1 such that calls of Forward and Backward on
	// consecutive pieces of a chunk — each piece a multiple of g samples
	// starting at the chunk's first sample, the last one possibly shorter,
	// in order — give bitwise the outputs, saved values and gradients of
	// one call on the whole chunk. It is called after Build with Build's
	// chunk; a result that does not divide the chunk counts as the chunk.
	Granule(chunk int) int
	// SetPiece tells the layer, after Build and before ScratchFloats, the
	// largest number of samples a call will cover (a multiple of its
	// granule dividing the chunk).
	SetPiece(n int)
}

// InPlace is implemented by layers whose Forward accepts y sharing x's
// memory and whose Backward accepts dx sharing dy's (an element-wise map or
// a reshape). The Network then gives them one buffer for both.
type InPlace interface {
	InPlace() bool
}

// segment is a run of consecutive layers [lo, hi) called with pieces of the
// same size.
type segment struct{ lo, hi, piece int }

// actPlan holds the activation buffers between the layers of a Network and
// the order in which the layers run over a chunk.
//
// Layer i runs on pieces of piece[i] samples: the least common multiple of
// the granules of layers 0..i (Piecewise; the chunk for other layers), so
// the pieces grow along the network and each divides the next. Forward runs
// the last segment on the chunk (or its pieces); before it runs a piece, the
// segment before it runs as many pieces of its own as cover it, writing its
// output into the later segment's input buffer, and so on down to the first
// segment, which reads the batch. Backward mirrors it, the pieces of every
// segment in increasing order, so each layer still sees the chunk's samples
// in order and accumulates its gradients exactly as in one call.
//
// Buffer b (1 ≤ b ≤ len(layers)) holds the output of layer b-1 (forward) or
// the gradient of that output (backward) for up to cap[b] samples: the
// piece of its consumer (layer b, or the loss for the logits, which take
// the chunk). A buffer between two segments is written piece by piece while
// all the layers before it run, so it lives from layer 0 to its consumer;
// any other buffer lives from its producer to its consumer. An InPlace
// layer's output shares its input's buffer. Buffers whose lives overlap
// get disjoint parts of one arena (first fit, largest first); the arena
// serves forward and backward, which never run at once.
type actPlan struct {
	piece []int     // samples per call of each layer
	segs  []segment // the layers grouped by piece size
	size  []int     // floats per sample entering layer b (size[len] = classes)
	bnd   [][]float32
	base  []int // first sample (in the batch) of the piece bnd[b] holds
	arena []float32
}

// pieces chooses the piece size of every layer for chunks of chunk samples
// and tells the Piecewise layers theirs. With whole set (inference-only
// networks) every layer runs on whole chunks.
func (p *actPlan) pieces(layers []Layer, chunk int, whole bool) {
	p.piece = make([]int, len(layers))
	p.segs = p.segs[:0]
	cur := 1
	for i, l := range layers {
		g := chunk
		if pw, ok := l.(Piecewise); ok && !whole {
			g = pw.Granule(chunk)
			if g < 1 || g > chunk || chunk%g != 0 {
				g = chunk
			}
		}
		cur = lcm(cur, g)
		if cur > chunk || chunk%cur != 0 {
			cur = chunk
		}
		p.piece[i] = cur
		if pw, ok := l.(Piecewise); ok {
			pw.SetPiece(cur)
		}
		if n := len(p.segs); n > 0 && p.segs[n-1].piece == cur {
			p.segs[n-1].hi = i + 1
		} else {
			p.segs = append(p.segs, segment{lo: i, hi: i + 1, piece: cur})
		}
	}
}

// layout sizes the buffers between the layers for the shapes (shapes[i]
// enters layer i) and places them in one arena.
func (p *actPlan) layout(layers []Layer, shapes []Shape, chunk int) {
	L := len(layers)
	p.size = make([]int, L+1)
	for b := range p.size {
		p.size[b] = shapes[b].Size()
	}
	p.base = make([]int, L+1)
	// owner[b] is the buffer b shares (itself unless layer b-1 works in
	// place); cap is the piece of the consumer.
	owner := make([]int, L+1)
	capOf := func(b int) int {
		if b == L {
			return chunk
		}
		return p.piece[b]
	}
	segStart := make([]bool, L+1)
	for _, sg := range p.segs[1:] {
		segStart[sg.lo] = true
	}
	if p.segs[len(p.segs)-1].piece < chunk {
		segStart[L] = true
	}
	type buf struct{ floats, from, to, off int }
	bufs := make([]buf, L+1)
	for b := 1; b <= L; b++ {
		owner[b] = b
		from, to := b-1, b
		if segStart[b] {
			from = 0
		}
		if ip, ok := layers[b-1].(InPlace); ok && ip.InPlace() && b-1 >= 1 &&
			capOf(b-1) == capOf(b) && p.size[b-1] == p.size[b] && !segStart[b] {
			owner[b] = owner[b-1]
		}
		o := owner[b]
		bufs[o].floats = max(bufs[o].floats, capOf(b)*p.size[b])
		if o == b {
			bufs[o].from, bufs[o].to = from, to
		} else {
			bufs[o].from, bufs[o].to = min(bufs[o].from, from), max(bufs[o].to, to)
		}
	}
	var order []int
	for b := 1; b <= L; b++ {
		if owner[b] == b {
			order = append(order, b)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return bufs[order[i]].floats > bufs[order[j]].floats })
	total := 0
	var placed []int
	for _, b := range order {
		x := &bufs[b]
		off := 0
		for moved := true; moved; {
			moved = false
			for _, o := range placed {
				y := bufs[o]
				if x.from <= y.to && y.from <= x.to && off < y.off+y.floats && y.off < off+x.floats {
					off, moved = y.off+y.floats, true
				}
			}
		}
		x.off = off
		placed = append(placed, b)
		total = max(total, off+x.floats)
	}
	p.arena = make([]float32, total)
	p.bnd = make([][]float32, L+1)
	for b := 1; b <= L; b++ {
		o := bufs[owner[b]]
		p.bnd[b] = p.arena[o.off : o.off+o.floats]
	}
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

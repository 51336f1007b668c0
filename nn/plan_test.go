package nn

import (
	"fmt"
	"math"
	"testing"
)

// mixLayer is a test layer mapping in floats per sample to out: y[s,k] =
// Σ_j x[s,j]·w(j,k) + bias. Its backward writes dx = dy·wᵀ and sums dy into
// a gradient, so that any buffer that is overwritten while still needed
// changes the results. granule ≤ 0 means not Piecewise.
type mixLayer struct {
	in, out  int
	granule  int
	inPlace  bool
	grad     []float32
	maxPiece int
}

func (m *mixLayer) w(j, k int) float32 { return float32((j*7+k*3)%11-5) / 8 }

func (m *mixLayer) Name() string { return fmt.Sprintf("mix %d→%d", m.in, m.out) }
func (m *mixLayer) Build(in Shape, batch, chunk int) (Shape, error) {
	m.grad = make([]float32, 1)
	return Shape{m.out}, nil
}
func (m *mixLayer) Forward(st *Step, x, y []float32) {
	m.maxPiece = max(m.maxPiece, st.N)
	tmp := make([]float32, m.out) // tests only: the layer may work in place
	for s := 0; s < st.N; s++ {
		for k := range tmp {
			v := float32(k) / 16
			for j := 0; j < m.in; j++ {
				v += x[s*m.in+j] * m.w(j, k)
			}
			tmp[k] = v
		}
		copy(y[s*m.out:(s+1)*m.out], tmp)
	}
}
func (m *mixLayer) Backward(st *Step, dy, dx []float32) {
	for _, v := range dy[:st.N*m.out] {
		m.grad[0] = m.grad[0]*0.5 + v // order-sensitive
	}
	if dx == nil {
		return
	}
	tmp := make([]float32, m.in)
	for s := 0; s < st.N; s++ {
		for j := range tmp {
			var v float32
			for k := 0; k < m.out; k++ {
				v += dy[s*m.out+k] * m.w(j, k)
			}
			tmp[j] = v
		}
		copy(dx[s*m.in:(s+1)*m.in], tmp)
	}
}
func (m *mixLayer) Params() []*Param              { return nil }
func (m *mixLayer) SavedBytes() int64             { return 0 }
func (m *mixLayer) OutShape(Shape) (Shape, error) { return Shape{m.out}, nil }

// pieceLayer is a Piecewise mixLayer; inPlaceLayer an InPlace one.
type pieceLayer struct{ mixLayer }

func (p *pieceLayer) Granule(int) int { return p.granule }
func (p *pieceLayer) SetPiece(int)    {}

type inPlaceLayer struct{ pieceLayer }

func (p *inPlaceLayer) InPlace() bool { return true }

// TestPlanPiecesAndBuffers runs networks of test layers with assorted sizes,
// granules and in-place layers in pieces and on whole chunks: the logits,
// the gradients and their order of accumulation must agree bitwise, and the
// pieces must grow along the network, each dividing the next.
func TestPlanPiecesAndBuffers(t *testing.T) {
	type spec struct {
		out, granule int
		inPlace      bool
	}
	nets := [][]spec{
		{{40, 2, false}, {40, 1, true}, {80, 2, false}, {80, 1, true}, {20, 4, false}, {20, 1, true}, {10, 0, false}},
		{{30, 1, false}, {30, 1, true}, {30, 1, true}, {60, 3, false}, {5, 0, false}},
		{{16, 8, false}, {16, 1, true}, {24, 2, false}, {3, 1, false}},
		{{12, 0, false}, {12, 1, true}, {12, 2, false}, {4, 1, false}},
	}
	const in, batch, chunk = 6, 29, 12
	defer func(p bool) { Pieces = p }(Pieces)
	Pieces = true
	for ni, specs := range nets {
		build := func(whole bool) (*Network, []*mixLayer) {
			var ls []Layer
			var ms []*mixLayer
			prev := in
			for _, s := range specs {
				m := mixLayer{in: prev, out: s.out, granule: s.granule}
				switch {
				case s.inPlace:
					l := &inPlaceLayer{pieceLayer{m}}
					ls, ms = append(ls, l), append(ms, &l.mixLayer)
				case s.granule > 0:
					l := &pieceLayer{m}
					ls, ms = append(ls, l), append(ms, &l.mixLayer)
				default:
					l := &m
					ls, ms = append(ls, l), append(ms, l)
				}
				prev = s.out
			}
			n := NewNetwork(Shape{in}, ls...)
			n.WholeChunks = whole
			if err := n.Build(batch, chunk, 1); err != nil {
				t.Fatal(err)
			}
			return n, ms
		}
		pn, pm := build(false)
		wn, wm := build(true)
		for i := range pn.plan.piece {
			p := pn.plan.piece[i]
			if chunk%p != 0 || (i > 0 && p%pn.plan.piece[i-1] != 0) {
				t.Fatalf("net %d: pieces %v", ni, pn.plan.piece)
			}
		}
		x := make([]float32, batch*in)
		for i := range x {
			x[i] = float32((i*13)%17-8) / 4
		}
		labels := make([]uint8, batch)
		for i := range labels {
			labels[i] = uint8(i % 3)
		}
		lp, _ := pn.TrainStep(x, labels, batch, 0, nil)
		lw, _ := wn.TrainStep(x, labels, batch, 0, nil)
		if math.Float64bits(lp) != math.Float64bits(lw) {
			t.Fatalf("net %d: loss %v in pieces, %v whole", ni, lp, lw)
		}
		for i := range pm {
			if math.Float32bits(pm[i].grad[0]) != math.Float32bits(wm[i].grad[0]) {
				t.Fatalf("net %d layer %d: gradient %v in pieces, %v whole", ni, i, pm[i].grad[0], wm[i].grad[0])
			}
			if pm[i].maxPiece != pn.plan.piece[i] || wm[i].maxPiece != chunk {
				t.Fatalf("net %d layer %d: calls of %d samples in pieces of %d, %d whole", ni, i, pm[i].maxPiece, pn.plan.piece[i], wm[i].maxPiece)
			}
		}
		if len(pn.plan.arena) > len(wn.plan.arena) {
			t.Fatalf("net %d: arena of %d floats in pieces, %d whole", ni, len(pn.plan.arena), len(wn.plan.arena))
		}
	}
}

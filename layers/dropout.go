package layers

import (
	"fmt"
	"math"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// Dropout is (forward) dropout: in training each element is zeroed with
// probability P and the survivors are scaled by 1/(1-P); in evaluation it is
// the identity. It saves one bit per element. Every draw is keyed by (seed,
// layer, iteration, sample), so chunking does not change the mask. Each
// element uses 16 random bits, so P is applied rounded to a multiple of
// 2⁻¹⁶ (the scale uses the rounded value).
type Dropout struct {
	nn.Membership
	P      float64
	size   int
	stride int
	mask   []uint64
	seed   uint64
	index  int
	thresh uint32  // keep an element when its 16-bit draw is ≥ thresh
	scale  float32 // 1/(1 - thresh/2¹⁶)
	pass   dropoutPass
}

// NewDropout returns a Dropout layer that drops with probability p in [0, 1).
func NewDropout(p float64) *Dropout { return &Dropout{P: p} }

// Name implements nn.Layer.
func (d *Dropout) Name() string { return fmt.Sprintf("dropout %.3g", d.P) }

// SetSeed implements nn.Seeded.
func (d *Dropout) SetSeed(seed uint64, index int) { d.seed, d.index = seed, index }

// OutShape implements nn.ShapeInferer.
func (d *Dropout) OutShape(in nn.Shape) (nn.Shape, error) { return in, nil }

// Build implements nn.Layer.
func (d *Dropout) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	if !(d.P >= 0 && d.P < 1) {
		return nil, fmt.Errorf("dropout: probability must be in [0, 1), got %g", d.P)
	}
	d.size = in.Size()
	d.stride = (d.size + 63) / 64
	d.mask = make([]uint64, batch*d.stride)
	d.thresh = uint32(math.Round(d.P * (1 << 16)))
	d.scale = float32(1 / (1 - float64(d.thresh)/(1<<16)))
	return in, nil
}

// BuildInference implements nn.InferenceBuilder: no mask (dropout is the
// identity in inference).
func (d *Dropout) BuildInference(in nn.Shape, chunk int) (nn.Shape, error) {
	if _, err := d.Build(in, 0, chunk); err != nil {
		return nil, err
	}
	d.mask = nil
	return in, nil
}

// Granule implements nn.Piecewise: each sample has its own mask words and
// key.
func (d *Dropout) Granule(int) int { return 1 }

// SetPiece implements nn.Piecewise (nothing depends on the piece).
func (d *Dropout) SetPiece(int) {}

// Forward draws the keep mask of each sample and applies it. Samples are
// independent (each has its own key), so they are split over the threads.
func (d *Dropout) Forward(st *nn.Step, x, y []float32) {
	if !st.Train || d.P == 0 {
		copy(y, x[:st.N*d.size])
		return
	}
	d.pass = dropoutPass{d: d, st: st, x: x, y: y, forward: true,
		h: rng.Key{Seed: d.seed, Stream: uint64(d.index), Draw: uint64(st.Iter) << 8}.Hash()}
	kernels.Split(&d.pass, st.N, st.N*d.size)
	d.pass = dropoutPass{}
}

// Backward: dx = dy·mask/(1-P).
func (d *Dropout) Backward(st *nn.Step, dy, dx []float32) {
	if dx == nil {
		return
	}
	if d.P == 0 {
		copy(dx, dy[:st.N*d.size])
		return
	}
	d.pass = dropoutPass{d: d, st: st, x: dy, y: dx}
	kernels.Split(&d.pass, st.N, st.N*d.size)
	d.pass = dropoutPass{}
}

// dropoutPass is one forward or backward pass of a Dropout layer over a
// chunk, split by samples (kernels.Splitter).
type dropoutPass struct {
	d       *Dropout
	st      *nn.Step
	x, y    []float32 // forward: x, y; backward: dy, dx
	forward bool
	h       uint64 // forward: the step's key hash
}

// RunPart implements kernels.Splitter: the samples of part part of parts.
func (p *dropoutPass) RunPart(part, parts int) {
	d, st := p.d, p.st
	s0, s1 := part*st.N/parts, (part+1)*st.N/parts
	for s := s0; s < s1; s++ {
		m := d.mask[(st.Off+s)*d.stride : (st.Off+s+1)*d.stride]
		if p.forward {
			d.drawMask(m, p.h, st.Off+s)
		}
		kernels.MaskMul(p.y[s*d.size:(s+1)*d.size], p.x[s*d.size:(s+1)*d.size], m, d.scale)
	}
}

// drawMask fills m with the keep bits of sample (batch index) s.
func (d *Dropout) drawMask(m []uint64, h uint64, s int) {
	blocksPerSample := uint64((d.size + 7) / 8) // 8 elements of 16 bits per block
	base := uint64(s) * blocksPerSample
	t := d.thresh
	for w := range m {
		var bits uint64
		for b := 0; b < 8; b++ { // 8 blocks of 8 elements make a word
			w0, w1, w2, w3 := rng.BlockAt(h, base+uint64(w*8+b))
			var byt uint64
			for j, v := range [4]uint32{w0, w1, w2, w3} {
				if v&0xffff >= t {
					byt |= 1 << uint(2*j)
				}
				if v>>16 >= t {
					byt |= 2 << uint(2*j)
				}
			}
			bits |= byt << uint(8*b)
		}
		if rem := d.size - 64*w; rem < 64 {
			bits &= 1<<uint(rem) - 1
		}
		m[w] = bits
	}
}

// Params implements nn.Layer: Dropout has none.
func (d *Dropout) Params() []*nn.Param { return nil }

// SavedBytes implements nn.Layer: one bit per element.
func (d *Dropout) SavedBytes() int64 { return int64(len(d.mask)) * 8 }

package layers

import (
	"fmt"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// ReLU is max(x, 0). It saves one bit per element (the sign of its input),
// not a float copy.
type ReLU struct {
	nn.Membership
	size   int      // elements per sample
	stride int      // mask words per sample (per-sample layout)
	contig bool     // one bit string for the whole batch
	mask   []uint64 // saved for backward
}

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{} }

// Name implements nn.Layer.
func (r *ReLU) Name() string { return "relu" }

// OutShape implements nn.ShapeInferer.
func (r *ReLU) OutShape(in nn.Shape) (nn.Shape, error) { return in, nil }

// Build implements nn.Layer.
func (r *ReLU) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	r.size = in.Size()
	if r.size <= 0 {
		return nil, fmt.Errorf("relu: empty input shape %v", in)
	}
	// When every chunk starts on a word boundary, the batch's bits are one
	// string and a chunk is one kernel call; otherwise each sample's bits
	// start a new word.
	r.contig = chunk >= batch || (chunk*r.size)%64 == 0
	r.stride = (r.size + 63) / 64
	if r.contig {
		r.mask = make([]uint64, (batch*r.size+63)/64)
	} else {
		r.mask = make([]uint64, batch*r.stride)
	}
	return in, nil
}

// BuildInference implements nn.InferenceBuilder: no mask.
func (r *ReLU) BuildInference(in nn.Shape, chunk int) (nn.Shape, error) {
	r.size = in.Size()
	if r.size <= 0 {
		return nil, fmt.Errorf("relu: empty input shape %v", in)
	}
	r.contig, r.stride, r.mask = true, (r.size+63)/64, nil
	return in, nil
}

// InPlace implements nn.InPlace: y may share x's memory, dx dy's.
func (r *ReLU) InPlace() bool { return true }

// Granule implements nn.Piecewise: pieces whose bits fill whole mask words
// (any piece when each sample's bits start a word).
func (r *ReLU) Granule(chunk int) int {
	if !r.contig {
		return 1
	}
	return 64 / gcd(r.size, 64)
}

// SetPiece implements nn.Piecewise (nothing depends on the piece).
func (r *ReLU) SetPiece(int) {}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// chunkMask returns the mask words of a contiguous chunk.
func (r *ReLU) chunkMask(st *nn.Step) []uint64 {
	return r.mask[st.Off*r.size/64 : ((st.Off+st.N)*r.size+63)/64]
}

// Forward: y = max(x, 0); in training, mask bit = x > 0.
func (r *ReLU) Forward(st *nn.Step, x, y []float32) {
	if !st.Train {
		kernels.ReluForward(y, x, nil)
		return
	}
	if r.contig {
		kernels.ReluForward(y, x[:st.N*r.size], r.chunkMask(st))
		return
	}
	for s := 0; s < st.N; s++ {
		m := r.mask[(st.Off+s)*r.stride : (st.Off+s+1)*r.stride]
		kernels.ReluForward(y[s*r.size:(s+1)*r.size], x[s*r.size:(s+1)*r.size], m)
	}
}

// Backward: dx = dy where the mask is set, 0 elsewhere.
func (r *ReLU) Backward(st *nn.Step, dy, dx []float32) {
	if dx == nil {
		return
	}
	if r.contig {
		kernels.MaskMul(dx, dy[:st.N*r.size], r.chunkMask(st), 1)
		return
	}
	for s := 0; s < st.N; s++ {
		m := r.mask[(st.Off+s)*r.stride : (st.Off+s+1)*r.stride]
		kernels.MaskMul(dx[s*r.size:(s+1)*r.size], dy[s*r.size:(s+1)*r.size], m, 1)
	}
}

// Params implements nn.Layer: ReLU has none.
func (r *ReLU) Params() []*nn.Param { return nil }

// SavedBytes implements nn.Layer: one bit per element, in 64-bit words.
func (r *ReLU) SavedBytes() int64 { return int64(len(r.mask)) * 8 }

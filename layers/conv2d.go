package layers

import (
	"fmt"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// Conv2D is a 2-D convolution (cross-correlation) over NCHW samples with
// OutC filters of InC×KH×KW, a stride, zero padding and a bias. The input
// gradient never needs the input; the filter gradient does, so the input is
// what the layer saves — in full with the baseline estimator, or, with RAD
// or SPAD, each (sample, channel) map of H·W positions compressed to
// K = ⌈keep·H·W⌉ values.
type Conv2D struct {
	nn.Membership
	InC, OutC, KH, KW, Stride, Pad int
	W, B                           *nn.Param
	// Estimator chooses what is saved for the filter gradient; set it
	// before the network is built. The zero value is the baseline.
	Estimator inject.Estimator

	shape kernels.ConvShape
	seed  uint64
	index int
	inj   injection

	// scratch partition: [conv or projector | x̂ of xhatN samples]. The
	// convolution and the projector never run at the same time (forward
	// convolves then compresses; backward rebuilds then convolves), so they
	// share the first region.
	scratch []float32
	convScr int
	xhatN   int // samples rebuilt at a time in backward
	xhatLen int
	pscr    int
}

// NewConv2D returns a convolution with inC input channels, outC filters of
// k×k, the given stride and zero padding. Weights are drawn when the network
// is built, as PyTorch's default U(-1/√fan_in, 1/√fan_in).
func NewConv2D(inC, outC, k, stride, pad int) *Conv2D {
	return &Conv2D{InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad}
}

// Name implements nn.Layer.
func (c *Conv2D) Name() string {
	return fmt.Sprintf("conv %dx%d %d→%d s%d p%d", c.KH, c.KW, c.InC, c.OutC, c.Stride, c.Pad)
}

// SetSeed implements nn.Seeded.
func (c *Conv2D) SetSeed(seed uint64, index int) { c.seed, c.index = seed, index }

// OutShape implements nn.ShapeInferer.
func (c *Conv2D) OutShape(in nn.Shape) (nn.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%s: input must be C×H×W, got %v", c.Name(), in)
	}
	if in[0] != c.InC {
		return nil, fmt.Errorf("%s: input has %d channels, want %d", c.Name(), in[0], c.InC)
	}
	s := kernels.ConvShape{C: c.InC, H: in[1], W: in[2], K: c.OutC, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s on %v: %w", c.Name(), in, err)
	}
	return nn.Shape{c.OutC, s.OH(), s.OW()}, nil
}

// Build implements nn.Layer.
func (c *Conv2D) Build(in nn.Shape, batch, chunk int) (nn.Shape, error) {
	out, err := c.OutShape(in)
	if err != nil {
		return nil, err
	}
	if err := checkEstimator(c.Name(), c.Estimator); err != nil {
		return nil, err
	}
	c.shape = kernels.ConvShape{C: c.InC, H: in[1], W: in[2], K: c.OutC, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad}
	c.W = nn.NewParam(fmt.Sprintf("%d.conv.weight", c.index), c.OutC, c.InC, c.KH, c.KW)
	c.B = nn.NewParam(fmt.Sprintf("%d.conv.bias", c.index), c.OutC)
	c.initParams()
	c.inj.plan(c.Estimator, c.seed, c.index, batch, c.InC, in[1]*in[2])
	c.convScr = kernels.ConvScratchSize(c.shape, chunk)
	if c.inj.active {
		c.xhatN = rebuildSamples(c.shape, chunk)
		c.xhatLen = c.xhatN * c.shape.InSize()
		c.pscr = c.inj.projScratch(chunk*c.InC, 0)
		if c.inj.candLen > 0 {
			// the m filter gradients of the scoring sub-batch
			c.inj.extraLen = c.Estimator.M * len(c.W.Value)
		}
	}
	return out, nil
}

// BuildInference implements nn.InferenceBuilder: the filters and bias
// without gradients, the convolution's scratch for a chunk, nothing saved,
// the estimator ignored.
func (c *Conv2D) BuildInference(in nn.Shape, chunk int) (nn.Shape, error) {
	out, err := c.OutShape(in)
	if err != nil {
		return nil, err
	}
	c.shape = kernels.ConvShape{C: c.InC, H: in[1], W: in[2], K: c.OutC, KH: c.KH, KW: c.KW, Stride: c.Stride, Pad: c.Pad}
	c.W = nn.NewInferenceParam(fmt.Sprintf("%d.conv.weight", c.index), c.OutC, c.InC, c.KH, c.KW)
	c.B = nn.NewInferenceParam(fmt.Sprintf("%d.conv.bias", c.index), c.OutC)
	c.initParams()
	c.inj = injection{}
	c.convScr = kernels.ConvScratchSize(c.shape, chunk)
	c.xhatN, c.xhatLen, c.pscr = 0, 0, 0
	return out, nil
}

func (c *Conv2D) initParams() {
	bound := fanInBound(c.InC * c.KH * c.KW)
	uniformInit(c.W.Value, bound, c.seed, c.index, 0)
	uniformInit(c.B.Value, bound, c.seed, c.index, 1)
}

// rebuildWholeFloats is the largest rebuilt input of a chunk (256 KiB)
// that backward rebuilds at once: for smaller ones the projection matrix,
// regenerated for every block, would cost more time than the blocks save
// memory.
const rebuildWholeFloats = 1 << 16

// rebuildSamples is the number of samples whose input backward rebuilds at a
// time for a chunk of chunk samples: the whole chunk when its input is at
// most rebuildWholeFloats, else rebuildGroup.
func rebuildSamples(s kernels.ConvShape, chunk int) int {
	if chunk*s.InSize() <= rebuildWholeFloats {
		return chunk
	}
	return rebuildGroup(s, chunk)
}

// rebuildGroup is the group of samples the filter-gradient kernels process
// together (kernels.ConvGroupColumns output positions): rebuilt and
// convolved a group at a time, the filter gradient sums the samples in the
// same order as over the whole chunk, bitwise the result of rebuilding the
// chunk at once (TestConvRebuildBlocksBitwise checks it on every kernel
// path).
func rebuildGroup(s kernels.ConvShape, chunk int) int {
	return min(chunk, max(1, kernels.ConvGroupColumns/(s.OH()*s.OW())))
}

// Granule implements nn.Piecewise: the group of samples whose filter
// gradients the kernels sum together (rebuildGroup), when it is a power of
// two dividing the direct path's padding group; else the chunk. Forward,
// the input gradient and the compression are per sample; the filter
// gradient sums each group into dW in order, so consecutive pieces of whole
// groups accumulate it exactly as one call (TestNetworkPiecesBitwise checks
// it on every kernel path).
func (c *Conv2D) Granule(chunk int) int {
	g := rebuildGroup(c.shape, chunk)
	if g&(g-1) != 0 || kernels.ConvDirectGroup%g != 0 {
		return chunk
	}
	// Where the output of a sample fills whole GEMM depth blocks, the
	// lowered path sums each sample in blocks of its own, and the direct
	// path sums directFilterPositions positions per tile: half a group
	// (still whole tiles) is then exact too. SmallConvNet's 32×32
	// convolutions run a sample at a time, its 16×16 ones four.
	if p := c.shape.OH() * c.shape.OW(); g >= 2 && p%gemmDepthBlock == 0 && (g/2)*p >= directFilterPositions {
		g /= 2
	}
	return g
}

// gemmDepthBlock and directFilterPositions mirror package kernels: the depth
// blocks in which Sgemm sums a product, and the output positions the direct
// path's filter-gradient tiles sum before adding to dW.
const (
	gemmDepthBlock        = 256
	directFilterPositions = 1024
)

// SetPiece implements nn.Piecewise: the rebuilt input, the projector's
// scratch and — where the convolution runs on the direct path, whose results
// do not depend on the scratch's length — the convolution's scratch are
// sized for calls of at most n samples. The lowered path splits its work by
// the scratch it is given, so there the scratch stays that of a chunk.
func (c *Conv2D) SetPiece(n int) {
	if directConv(c.shape) {
		c.convScr = kernels.ConvScratchSize(c.shape, n)
	}
	if c.inj.active {
		c.xhatN = rebuildSamples(c.shape, n)
		c.xhatLen = c.xhatN * c.shape.InSize()
		c.pscr = c.inj.projScratch(n*c.InC, 0)
	}
}

// directConv reports whether the active kernel path runs the forward pass,
// the input gradient (a convolution with flipped filters) and the filter
// gradient of s on its direct path (the conditions of package kernels'
// conv_direct.go, AVX2 and AVX-512: stride 1, output and input rows of a
// multiple of 8, padding below the kernel size, filter tiles that fit).
func directConv(s kernels.ConvShape) bool {
	p := kernels.Active()
	return (p == kernels.AVX2 || p == kernels.AVX512) && s.Stride == 1 && s.OW()%8 == 0 && s.W%8 == 0 &&
		s.Pad <= s.KH-1 && s.Pad <= s.KW-1 && s.K >= 4 && s.C*s.KH*s.KW >= 6
}

// ScratchFloats implements nn.Scratcher: the convolution's own scratch, and
// with injection the projector's scratch (in the same region) and the
// rebuilt input of xhatN samples.
func (c *Conv2D) ScratchFloats() int { return max(c.convScr, c.pscr) + c.xhatLen }

// StartStep implements nn.Starter: the scheduler picks this step's key.
func (c *Conv2D) StartStep(st *nn.Step) {
	c.inj.start(st)
	if c.inj.selecting() {
		clear(c.inj.extra) // the arena may hold another layer's data
	}
}

func (c *Conv2D) scratches() (conv, xhat, proj []float32) {
	a := max(c.convScr, c.pscr)
	return c.scratch[:c.convScr], c.scratch[a : a+c.xhatLen], c.scratch[:c.pscr]
}

// UseScratch implements nn.Scratcher.
func (c *Conv2D) UseScratch(s []float32) { c.scratch = s }

// Forward: y = conv(x, W) + b; saves x (or its compression).
func (c *Conv2D) Forward(st *nn.Step, x, y []float32) {
	conv, _, _ := c.scratches()
	kernels.Conv2DForward(c.shape, st.N, x, c.W.Value, c.B.Value, y, conv)
	if st.Train {
		// The projector may use the whole shared region (a P that fits
		// is applied whole).
		c.inj.save(st, x, c.scratch[:max(c.convScr, c.pscr)])
	}
}

// Backward: dW += dy ⋆ x̂ (x̂ = x for the baseline), db += Σ dy,
// dx = convᵀ(dy, W).
func (c *Conv2D) Backward(st *nn.Step, dy, dx []float32) {
	n := st.N
	conv, xhat, proj := c.scratches()
	xs := c.inj.chunk(st)
	if !c.inj.active {
		kernels.Conv2DBackwardFilter(c.shape, n, xs, dy, c.W.Grad, c.B.Grad, conv)
	} else {
		c.rebuildFilter(c.inj.sched.StepKey(), xs, dy, n, st.Off, c.inj.sched.Scale(), c.W.Grad, conv, xhat, proj)
		kernels.SumChannels(c.B.Grad, dy, n, c.OutC, c.shape.OH()*c.shape.OW())
		if c.inj.selecting() {
			if ns := c.inj.candSamples(st); ns > 0 {
				w := len(c.W.Value)
				for j := 0; j < c.Estimator.M; j++ {
					c.rebuildFilter(c.inj.sched.CandidateKey(j), c.inj.cand(j, st.Off, ns), dy, ns, st.Off, 1, c.inj.extra[j*w:(j+1)*w], conv, xhat, proj)
				}
			}
		}
	}
	if dx != nil {
		kernels.Conv2DBackwardData(c.shape, n, dy, c.W.Value, dx, conv)
	}
}

// rebuildFilter accumulates dw += dy ⋆ (scale·x̂) over n samples, where x̂ is
// rebuilt from the compressed rows cs under key, xhatN samples at a time
// (off is the chunk's first sample in the batch). The projector's scratch
// shares the convolution's region: each block is rebuilt, then convolved.
func (c *Conv2D) rebuildFilter(key rng.Key, cs, dy []float32, n, off int, scale float32, dw, conv, xhat, proj []float32) {
	inSz, outSz, rowK := c.shape.InSize(), c.shape.OutSize(), c.InC*c.inj.k
	for s0 := 0; s0 < n; s0 += c.xhatN {
		m := min(c.xhatN, n-s0)
		xh := xhat[:m*inSz]
		c.inj.proj.Reconstruct(key, cs[s0*rowK:(s0+m)*rowK], m*c.InC, (off+s0)*c.InC, xh, proj)
		if scale != 1 {
			kernels.Scale(scale, xh)
		}
		kernels.Conv2DBackwardFilter(c.shape, m, xh, dy[s0*outSz:(s0+m)*outSz], dw, nil, conv)
	}
}

// FinishStep implements nn.Finisher: at a SPAD selection step, score each
// candidate by the squared norm of the filter gradient it gave on the
// sub-batch and let the scheduler keep the best.
func (c *Conv2D) FinishStep(st *nn.Step) {
	if !c.inj.active || !c.inj.selecting() {
		return
	}
	w := len(c.W.Value)
	for j := range c.inj.scores {
		g := c.inj.extra[j*w : (j+1)*w]
		c.inj.scores[j] = kernels.SumSquares(g)
	}
	c.inj.selectBest()
}

// Params implements nn.Layer.
func (c *Conv2D) Params() []*nn.Param { return []*nn.Param{c.W, c.B} }

// SavedBytes implements nn.Layer: the saved input (or its compression). For
// SPAD the candidates' copies and their filter gradients live in the
// Network's selection arena, counted by the Network.
func (c *Conv2D) SavedBytes() int64 { return c.inj.savedBytes() }

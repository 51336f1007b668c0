package kernels

import (
	"errors"
	"fmt"
)

// Convolution runs on one of two paths, chosen per pass and shape:
//
//   - the direct path (conv_direct.go), for stride 1 and output rows of a
//     multiple of 8 floats on the AVX2 path: implicit-GEMM tile kernels read
//     the zero-padded input in place, split over a persistent team of
//     Threads() goroutines;
//   - the lowered path, for everything else: im2col of one sample or a small
//     group of samples, Sgemm (which uses the package's thread pool), and
//     col2im for the data gradient when it cannot be a convolution with
//     flipped filters (stride > 1 or padding ≥ kernel size).
//
// Both need only the caller's scratch, sized by ConvScratchSize.

// ConvShape describes a 2-D convolution over NCHW float32 tensors: each
// sample of the input has C channels of H×W, the filter bank has K output
// channels of C×KH×KW (layout [K][C][KH][KW]) and the output of each sample
// is K×OH()×OW(). Stride applies to both spatial dimensions and Pad zero
// rows/columns are added on every side of the input.
type ConvShape struct {
	C, H, W int // input channels, height and width of one sample
	K       int // output channels
	KH, KW  int // kernel height and width
	Stride  int // stride (>= 1) in both dimensions
	Pad     int // zero padding (>= 0) on each side
}

// OH returns the output height, (H + 2·Pad − KH)/Stride + 1.
func (s ConvShape) OH() int { return (s.H+2*s.Pad-s.KH)/s.Stride + 1 }

// OW returns the output width, (W + 2·Pad − KW)/Stride + 1.
func (s ConvShape) OW() int { return (s.W+2*s.Pad-s.KW)/s.Stride + 1 }

// InSize returns the number of elements of one input sample, C·H·W.
func (s ConvShape) InSize() int { return s.C * s.H * s.W }

// OutSize returns the number of elements of one output sample, K·OH·OW.
func (s ConvShape) OutSize() int { return s.K * s.OH() * s.OW() }

// WeightSize returns the number of filter weights, K·C·KH·KW.
func (s ConvShape) WeightSize() int { return s.K * s.C * s.KH * s.KW }

// Validate reports whether the shape is usable: all sizes positive, stride
// at least 1, padding non-negative and the kernel no larger than the padded
// input.
func (s ConvShape) Validate() error {
	switch {
	case s.C < 1 || s.H < 1 || s.W < 1 || s.K < 1 || s.KH < 1 || s.KW < 1:
		return fmt.Errorf("kernels: conv shape %+v has a non-positive size", s)
	case s.Stride < 1:
		return fmt.Errorf("kernels: conv stride %d < 1", s.Stride)
	case s.Pad < 0:
		return fmt.Errorf("kernels: conv padding %d < 0", s.Pad)
	case s.H+2*s.Pad < s.KH || s.W+2*s.Pad < s.KW:
		return errors.New("kernels: conv kernel larger than the padded input")
	}
	return nil
}

// FLOPs returns the floating-point operations (multiply and add counted
// separately) of one pass over one sample, 2·K·C·KH·KW·OH·OW. The forward
// pass, the data gradient and the filter gradient each cost this much (the
// bias and its gradient are not counted).
func (s ConvShape) FLOPs() int64 {
	return 2 * int64(s.K) * int64(s.C) * int64(s.KH) * int64(s.KW) * int64(s.OH()) * int64(s.OW())
}

// ForwardFLOPs returns the FLOPs of Conv2DForward over n samples.
func (s ConvShape) ForwardFLOPs(n int) int64 { return int64(n) * s.FLOPs() }

// BackwardDataFLOPs returns the FLOPs of Conv2DBackwardData over n samples.
func (s ConvShape) BackwardDataFLOPs(n int) int64 { return int64(n) * s.FLOPs() }

// BackwardFilterFLOPs returns the FLOPs of Conv2DBackwardFilter over n
// samples.
func (s ConvShape) BackwardFilterFLOPs(n int) int64 { return int64(n) * s.FLOPs() }

// ConvGroupColumns is the number of output positions the lowered path
// (im2col and Sgemm, used where the direct path does not apply) aims to put
// into one matrix product: samples of a chunk are lowered together in
// groups of max(1, ConvGroupColumns/(OH·OW)) so that layers with small
// outputs still give the GEMM a wide right-hand side. It is read by
// ConvScratchSize and the Conv2D functions, so change it only before sizing
// scratch (benchmarks and tuning).
var ConvGroupColumns = 2048

// convFlipData selects, for stride-1 convolutions, the data gradient as a
// convolution with flipped filters (true) rather than col2im(wᵀ·dy).
var convFlipData = true

// convGroup returns the number of samples lowered into one GEMM when the
// output of one sample has p positions and the chunk has n samples.
func convGroup(p, n int) int {
	g := ConvGroupColumns / p
	return max(1, min(g, n))
}

// convGeom is the internal description of one lowered convolution: cin input
// channels of h×w, padded by ph rows and pw columns on each side, kout
// output channels of oh×ow, a kh×kw kernel and stride st.
type convGeom struct {
	cin, h, w, ph, pw, kh, kw, st, kout, oh, ow int
}

func (g convGeom) hp() int      { return g.h + 2*g.ph }
func (g convGeom) wp() int      { return g.w + 2*g.pw }
func (g convGeom) p() int       { return g.oh * g.ow }
func (g convGeom) rows() int    { return g.cin * g.kh * g.kw }
func (g convGeom) padded() bool { return g.ph > 0 || g.pw > 0 }

// padSize is the scratch for the zero-padded copy of one input sample.
func (g convGeom) padSize() int {
	if !g.padded() {
		return 0
	}
	return g.cin * g.hp() * g.wp()
}

func (s ConvShape) convGeom() convGeom {
	return convGeom{cin: s.C, h: s.H, w: s.W, ph: s.Pad, pw: s.Pad, kh: s.KH, kw: s.KW,
		st: s.Stride, kout: s.K, oh: s.OH(), ow: s.OW()}
}

// flipped returns the geometry of the data gradient computed as a stride-1
// convolution of the output gradient with the flipped, transposed filters.
// It is valid when flipOK reports true.
func (s ConvShape) flipped() convGeom {
	return convGeom{cin: s.K, h: s.OH(), w: s.OW(), ph: s.KH - 1 - s.Pad, pw: s.KW - 1 - s.Pad,
		kh: s.KH, kw: s.KW, st: 1, kout: s.C, oh: s.H, ow: s.W}
}

func (s ConvShape) flipOK() bool {
	return s.Stride == 1 && s.Pad <= s.KH-1 && s.Pad <= s.KW-1
}

// loweredNeed is the scratch of the lowered path (forward, filter gradient
// or col2im data gradient) when it lowers grp samples together: a padded
// sample, the lowered matrix and, for grp > 1, the gathered output (or
// output gradient) of the group.
func (g convGeom) loweredNeed(grp int) int {
	sz := g.padSize() + g.rows()*grp*g.p()
	if grp > 1 {
		sz += g.kout * grp * g.p()
	}
	return sz
}

// loweredPlan returns how the lowered path splits a chunk of n samples
// with avail scratch elements: grp samples lowered together (the group
// ConvGroupColumns asks for, made smaller if the scratch is short because
// it was sized for the direct path) and, when grp is 1, nr output rows of
// the sample at a time (all of them if the scratch allows).
func (g convGeom) loweredPlan(n, avail int) (grp, nr int) {
	grp = convGroup(g.p(), n)
	for grp > 1 && g.loweredNeed(grp) > avail {
		grp--
	}
	nr = g.oh
	if grp == 1 && g.loweredNeed(1) > avail {
		nr = min(g.oh, max(1, (avail-g.padSize())/(g.rows()*g.ow)))
	}
	return grp, nr
}

// convPadded returns the padded copy of one input sample in xp (or the
// sample itself when g has no padding) and its height and width.
func convPadded(g convGeom, xp, sample []float32) ([]float32, int, int) {
	if !g.padded() {
		return sample, g.h, g.w
	}
	convPadCopy(xp, sample, g.cin, g.h, g.w, g.ph, g.pw)
	return xp, g.hp(), g.wp()
}

// fwdSize is the scratch of convFwdCore for n samples on any path: where
// the direct path applies, what it needs but at least what the lowered
// path needs for one output row of one sample (so that a scratch sized on
// one path serves the other); elsewhere the lowered path with full groups.
func (g convGeom) fwdSize(n int) int {
	if g.st == 1 && g.ow%8 == 0 {
		return max(g.directFwdScratch(n), g.padSize()+g.rows()*g.ow)
	}
	return g.loweredNeed(convGroup(g.p(), n))
}

// filterSize is the scratch of the filter gradient for n samples, sized
// like fwdSize.
func (g convGeom) filterSize(n int) int {
	if convDirectFilterShapeOK(g) {
		return max(g.directFilterScratch(n), g.padSize()+g.rows()*g.ow)
	}
	return g.loweredNeed(convGroup(g.p(), n))
}

// ConvScratchSize returns the number of float32 scratch elements that
// Conv2DForward, Conv2DBackwardData and Conv2DBackwardFilter need for a
// chunk of n samples of shape s. It does not depend on the kernel path. The
// size grows with n only up to the group of samples processed together
// (see ConvDirectGroup and ConvGroupColumns), so a scratch sized for a
// chunk serves any smaller chunk.
func ConvScratchSize(s ConvShape, n int) int {
	if n < 1 {
		n = 1
	}
	g := s.convGeom()
	sz := max(g.fwdSize(n), g.filterSize(n))
	if s.flipOK() && convFlipData {
		sz = max(sz, s.WeightSize()+s.flipped().fwdSize(n))
	} else {
		sz = max(sz, g.loweredNeed(convGroup(g.p(), n)))
	}
	return sz
}

func convCheckLen(name string, x []float32, want int) {
	if len(x) < want {
		panic(fmt.Sprintf("kernels: %s has %d elements, need %d", name, len(x), want))
	}
}

func (s ConvShape) mustValidate() {
	if err := s.Validate(); err != nil {
		panic(err)
	}
}

// Conv2DForward computes, for n samples, y[n,K,OH,OW] = conv(x[n,C,H,W],
// w[K,C,KH,KW]) + bias[K] (cross-correlation, as in every deep-learning
// framework). bias may be nil. y is overwritten. scratch must hold
// ConvScratchSize(s, n) elements; nothing is allocated.
func Conv2DForward(s ConvShape, n int, x, w, bias, y, scratch []float32) {
	s.mustValidate()
	convCheckLen("conv x", x, n*s.InSize())
	convCheckLen("conv w", w, s.WeightSize())
	convCheckLen("conv y", y, n*s.OutSize())
	if bias != nil {
		convCheckLen("conv bias", bias, s.K)
	}
	g := s.convGeom()
	convCheckLen("conv scratch", scratch, ConvScratchSize(s, n))
	convFwdCore(g, n, x, w, bias, y, scratch)
}

// convFwdCore is the lowered forward convolution of geometry g: y = wm·col(x) +
// bias, with wm the kout×(cin·kh·kw) filter matrix.
func convFwdCore(g convGeom, n int, x, wm, bias, y, scratch []float32) {
	if convDirectFwdOK(g) {
		convDirectFwd(g, n, x, wm, bias, y, scratch)
		return
	}
	p := g.p()
	rows := g.rows()
	inSz := g.cin * g.h * g.w
	outSz := g.kout * p
	grp, nr := g.loweredPlan(n, len(scratch))
	padSz := g.padSize()
	xp := scratch[:padSz]
	col := scratch[padSz:]
	for s0 := 0; s0 < n; s0 += grp {
		gs := min(grp, n-s0)
		if gs == 1 {
			// One sample, nr output rows per product, straight into y.
			src, hp, wp := convPadded(g, xp, x[s0*inSz:(s0+1)*inSz])
			out := y[s0*outSz : (s0+1)*outSz]
			for r0 := 0; r0 < g.oh; r0 += nr {
				cols := min(nr, g.oh-r0) * g.ow
				convIm2col(col, cols, src, g, hp, wp, r0, cols/g.ow)
				Sgemm(false, false, g.kout, cols, rows, 1, wm, rows, col, cols, 0, out[r0*g.ow:], p)
				for k := 0; bias != nil && k < g.kout; k++ {
					o := out[k*p+r0*g.ow : k*p+r0*g.ow+cols]
					convAddConst(o, o, bias[k])
				}
			}
			continue
		}
		ldc := gs * p
		tmp := col[rows*ldc:]
		for j := 0; j < gs; j++ {
			src, hp, wp := convPadded(g, xp, x[(s0+j)*inSz:(s0+j+1)*inSz])
			convIm2col(col[j*p:], ldc, src, g, hp, wp, 0, g.oh)
		}
		Sgemm(false, false, g.kout, ldc, rows, 1, wm, rows, col, ldc, 0, tmp, ldc)
		for j := 0; j < gs; j++ {
			out := y[(s0+j)*outSz : (s0+j+1)*outSz]
			for k := 0; k < g.kout; k++ {
				var b float32
				if bias != nil {
					b = bias[k]
				}
				convAddConst(out[k*p:(k+1)*p], tmp[k*ldc+j*p:k*ldc+(j+1)*p], b)
			}
		}
	}
}

// Conv2DBackwardData computes, for n samples, the gradient dx[n,C,H,W] of
// the loss with respect to the input of Conv2DForward, given the gradient
// dy[n,K,OH,OW] with respect to its output and the filters w. dx is
// overwritten. scratch must hold ConvScratchSize(s, n) elements.
func Conv2DBackwardData(s ConvShape, n int, dy, w, dx, scratch []float32) {
	s.mustValidate()
	convCheckLen("conv dy", dy, n*s.OutSize())
	convCheckLen("conv w", w, s.WeightSize())
	convCheckLen("conv dx", dx, n*s.InSize())
	convCheckLen("conv scratch", scratch, ConvScratchSize(s, n))
	if s.flipOK() && convFlipData {
		// dx = conv(pad(dy), flip(w)ᵀ): a forward convolution with the roles
		// of C and K exchanged and the kernel rotated by 180°.
		kk := s.KH * s.KW
		wf := scratch[:s.WeightSize()]
		for k := 0; k < s.K; k++ {
			for c := 0; c < s.C; c++ {
				src := w[(k*s.C+c)*kk : (k*s.C+c+1)*kk]
				dst := wf[(c*s.K+k)*kk : (c*s.K+k+1)*kk]
				for i, v := range src {
					dst[kk-1-i] = v
				}
			}
		}
		convFwdCore(s.flipped(), n, dy, wf, nil, dx, scratch[s.WeightSize():])
		return
	}
	convBwdDataCol2im(s, n, dy, w, dx, scratch)
}

// convBwdDataCol2im computes the data gradient as convCol2im(wᵀ·dy), for any
// stride and padding.
func convBwdDataCol2im(s ConvShape, n int, dy, w, dx, scratch []float32) {
	g := s.convGeom()
	p := g.p()
	rows := g.rows()
	inSz := s.InSize()
	outSz := s.OutSize()
	grp, nr := g.loweredPlan(n, len(scratch))
	padSz := g.padSize()
	xp := scratch[:padSz]
	dcol := scratch[padSz:]
	hp, wp := g.h, g.w
	if padSz > 0 {
		hp, wp = g.hp(), g.wp()
	}
	for s0 := 0; s0 < n; s0 += grp {
		gs := min(grp, n-s0)
		ldc := gs * p
		src := dy[s0*outSz:]
		if gs > 1 {
			dyg := dcol[rows*ldc:]
			convGather(dyg, dy[s0*outSz:], gs, s.K, p)
			src = dyg
			Sgemm(true, false, rows, ldc, s.K, 1, w, rows, src, ldc, 0, dcol, ldc)
		}
		for j := 0; j < gs; j++ {
			out := dx[(s0+j)*inSz : (s0+j+1)*inSz]
			acc := out
			if padSz > 0 {
				acc = xp
			}
			clear(acc)
			if gs == 1 {
				for r0 := 0; r0 < g.oh; r0 += nr {
					cols := min(nr, g.oh-r0) * g.ow
					Sgemm(true, false, rows, cols, s.K, 1, w, rows, src[r0*g.ow:], p, 0, dcol, cols)
					convCol2im(acc, hp, wp, dcol, cols, g, r0, cols/g.ow)
				}
			} else {
				convCol2im(acc, hp, wp, dcol[j*p:], ldc, g, 0, g.oh)
			}
			if padSz > 0 {
				convUnpadCopy(out, xp, s.C, s.H, s.W, s.Pad, s.Pad)
			}
		}
	}
}

// Conv2DBackwardFilter accumulates, for n samples, the gradient of the
// filters, dw[K,C,KH,KW] += Σ_samples dy ⋆ x, and of the bias, db[K] +=
// Σ dy over samples and positions (db may be nil). Callers zero dw and db
// once per step. scratch must hold ConvScratchSize(s, n) elements.
func Conv2DBackwardFilter(s ConvShape, n int, x, dy, dw, db, scratch []float32) {
	s.mustValidate()
	convCheckLen("conv x", x, n*s.InSize())
	convCheckLen("conv dy", dy, n*s.OutSize())
	convCheckLen("conv dw", dw, s.WeightSize())
	if db != nil {
		convCheckLen("conv db", db, s.K)
	}
	g := s.convGeom()
	convCheckLen("conv scratch", scratch, ConvScratchSize(s, n))
	if convDirectFilterOK(g) {
		convDirectFilter(s, n, x, dy, dw, scratch)
	} else {
		convLoweredFilter(s, n, x, dy, dw, scratch)
	}
	if db != nil {
		p, outSz := g.p(), s.OutSize()
		for j := 0; j < n; j++ {
			for k := 0; k < s.K; k++ {
				off := j*outSz + k*p
				db[k] += convSum32(dy[off : off+p])
			}
		}
	}
}

// convLoweredFilter accumulates dw += dy·col(x)ᵀ through im2col and Sgemm.
func convLoweredFilter(s ConvShape, n int, x, dy, dw, scratch []float32) {
	g := s.convGeom()
	p := g.p()
	rows := g.rows()
	inSz := s.InSize()
	outSz := s.OutSize()
	grp, nr := g.loweredPlan(n, len(scratch))
	padSz := g.padSize()
	xp := scratch[:padSz]
	col := scratch[padSz:]
	for s0 := 0; s0 < n; s0 += grp {
		gs := min(grp, n-s0)
		if gs == 1 {
			src, hp, wp := convPadded(g, xp, x[s0*inSz:(s0+1)*inSz])
			d := dy[s0*outSz : (s0+1)*outSz]
			for r0 := 0; r0 < g.oh; r0 += nr {
				cols := min(nr, g.oh-r0) * g.ow
				convIm2col(col, cols, src, g, hp, wp, r0, cols/g.ow)
				Sgemm(false, true, s.K, rows, cols, 1, d[r0*g.ow:], p, col, cols, 1, dw, rows)
			}
			continue
		}
		ldc := gs * p
		for j := 0; j < gs; j++ {
			src, hp, wp := convPadded(g, xp, x[(s0+j)*inSz:(s0+j+1)*inSz])
			convIm2col(col[j*p:], ldc, src, g, hp, wp, 0, g.oh)
		}
		dyg := col[rows*ldc:]
		convGather(dyg, dy[s0*outSz:], gs, s.K, p)
		Sgemm(false, true, s.K, rows, ldc, 1, dyg, ldc, col, ldc, 1, dw, rows)
	}
}

// convGather copies chans rows of p elements of each of gs consecutive
// samples (sample stride chans·p) into dst as a chans×(gs·p) matrix.
func convGather(dst, src []float32, gs, chans, p int) {
	ld := gs * p
	for j := 0; j < gs; j++ {
		for c := 0; c < chans; c++ {
			copy(dst[c*ld+j*p:c*ld+(j+1)*p], src[(j*chans+c)*p:(j*chans+c+1)*p])
		}
	}
}

// convPadCopy writes the c×h×w tensor src into dst as c×(h+2ph)×(w+2pw)
// with zero borders.
func convPadCopy(dst, src []float32, c, h, w, ph, pw int) {
	hp, wp := h+2*ph, w+2*pw
	for ch := 0; ch < c; ch++ {
		plane := dst[ch*hp*wp : (ch+1)*hp*wp]
		clear(plane[:ph*wp+pw])
		for r := 0; r < h-1; r++ {
			clear(plane[(ph+r)*wp+pw+w : (ph+r+1)*wp+pw])
		}
		clear(plane[(ph+h-1)*wp+pw+w:])
		convCopyRows(plane[ph*wp+pw:], src[ch*h*w:(ch+1)*h*w], h, w, wp, w)
	}
}

// convUnpadCopy is the inverse of convPadCopy: it extracts the c×h×w interior of
// the padded src into dst.
func convUnpadCopy(dst, src []float32, c, h, w, ph, pw int) {
	hp, wp := h+2*ph, w+2*pw
	for ch := 0; ch < c; ch++ {
		for r := 0; r < h; r++ {
			off := ch*hp*wp + (ph+r)*wp + pw
			copy(dst[(ch*h+r)*w:(ch*h+r+1)*w], src[off:off+w])
		}
	}
}

// convIm2col writes the lowered output rows [r0, r0+nr) of one sample:
// row (c·kh+i)·kw+j of col (row stride ldc, first nr·ow columns) holds
// src[c, r·st+i, q·st+j] for every output position (r, q), r0 ≤ r < r0+nr,
// where src is the already padded c×hp×wp input.
func convIm2col(col []float32, ldc int, src []float32, g convGeom, hp, wp, r0, nr int) {
	m := nr * g.ow
	row := 0
	for c := 0; c < g.cin; c++ {
		plane := src[c*hp*wp:]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				dst := col[row*ldc : row*ldc+m]
				s := plane[(r0*g.st+i)*wp+j:]
				if g.st == 1 {
					convCopyRows(dst, s, nr, g.ow, g.ow, wp)
				} else {
					for r := 0; r < nr; r++ {
						sr := s[r*g.st*wp:]
						dr := dst[r*g.ow : (r+1)*g.ow]
						for q := range dr {
							dr[q] = sr[q*g.st]
						}
					}
				}
				row++
			}
		}
	}
}

// convCol2im is the adjoint of convIm2col: it adds every element of the
// lowered gradient of output rows [r0, r0+nr) back into the padded
// c×hp×wp tensor dst.
func convCol2im(dst []float32, hp, wp int, col []float32, ldc int, g convGeom, r0, nr int) {
	m := nr * g.ow
	row := 0
	for c := 0; c < g.cin; c++ {
		plane := dst[c*hp*wp:]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				src := col[row*ldc : row*ldc+m]
				d := plane[(r0*g.st+i)*wp+j:]
				if g.st == 1 {
					convAddRows(d, src, nr, g.ow, wp, g.ow)
				} else {
					for r := 0; r < nr; r++ {
						dr := d[r*g.st*wp:]
						for q, v := range src[r*g.ow : (r+1)*g.ow] {
							dr[q*g.st] += v
						}
					}
				}
				row++
			}
		}
	}
}

// convCopyRows copies rows rows of cols elements: dst[r·dstStride+q] =
// src[r·srcStride+q]. dst and src must not overlap.
func convCopyRows(dst, src []float32, rows, cols, dstStride, srcStride int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = src[(rows-1)*srcStride+cols-1]
	if !convCopyRowsAsm(dst, src, rows, cols, dstStride, srcStride) {
		convCopyRowsGeneric(dst, src, rows, cols, dstStride, srcStride)
	}
}

func convCopyRowsGeneric(dst, src []float32, rows, cols, dstStride, srcStride int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols])
	}
}

// convAddRows adds rows rows of cols elements: dst[r·dstStride+q] +=
// src[r·srcStride+q]. dst and src must not overlap.
func convAddRows(dst, src []float32, rows, cols, dstStride, srcStride int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = dst[(rows-1)*dstStride+cols-1]
	_ = src[(rows-1)*srcStride+cols-1]
	if !convAddRowsAsm(dst, src, rows, cols, dstStride, srcStride) {
		convAddRowsGeneric(dst, src, rows, cols, dstStride, srcStride)
	}
}

func convAddRowsGeneric(dst, src []float32, rows, cols, dstStride, srcStride int) {
	for r := 0; r < rows; r++ {
		d := dst[r*dstStride : r*dstStride+cols]
		for q, v := range src[r*srcStride : r*srcStride+cols] {
			d[q] += v
		}
	}
}

// convAddConst sets dst[i] = src[i] + b for i < len(src); dst may equal src.
func convAddConst(dst, src []float32, b float32) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	if !convAddConstAsm(dst, src, b) {
		convAddConstGeneric(dst, src, b)
	}
}

func convAddConstGeneric(dst, src []float32, b float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v + b
	}
}

// convSum32 returns Σ x[i] accumulated in float32 (in several partial sums).
func convSum32(x []float32) float32 {
	if s, ok := convSum32Asm(x); ok {
		return s
	}
	return convSum32Generic(x)
}

func convSum32Generic(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

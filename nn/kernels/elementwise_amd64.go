//go:build amd64 && !noasm

package kernels

// Glue between the exported element-wise kernels and the AVX2 assembly in
// elementwise_amd64.s. The *Asm functions receive slices already checked by
// the exported functions (non-empty, long enough) and pass raw pointers on.
// The doc comment of every assembly stub gives its meaning in Go.

func addBiasAsm(x, bias []float32, rows, cols int) {
	addBiasAVX2(&x[0], &bias[0], rows, cols)
}

func addBiasChannelsAsm(x, bias []float32, n, chans, hw int) {
	addBiasChannelsAVX2(&x[0], &bias[0], n, chans, hw)
}

func sumRowsAsm(dst, x []float32, rows, cols int) {
	sumRowsAVX2(&dst[0], &x[0], rows, cols)
}

func sumChannelsAsm(dst, x []float32, n, chans, hw int) {
	sumChannelsAVX2(&dst[0], &x[0], n, chans, hw)
}

func reluAsm(y, x []float32) {
	reluAVX2(&y[0], &x[0], len(x))
}

// reluMaskAsm lets the assembly do the whole 64-element words and finishes
// the last partial word (fewer than 64 elements) in Go.
func reluMaskAsm(y, x []float32, mask []uint64) {
	n := len(x)
	full := n / 64
	if full > 0 {
		reluMaskAVX2(&y[0], &x[0], &mask[0], full)
	}
	if r := full * 64; r < n {
		reluMaskGeneric(y[r:n], x[r:n], mask[full:])
	}
}

// maskMulAsm lets the assembly do the whole 64-element words and finishes
// the last partial word in Go, so mask bits past len(dy) are never read.
func maskMulAsm(dx, dy []float32, mask []uint64, scale float32) {
	n := len(dy)
	full := n / 64
	if full > 0 {
		maskMulAVX2(&dx[0], &dy[0], &mask[0], full, scale)
	}
	if r := full * 64; r < n {
		maskMulGeneric(dx[r:n], dy[r:n], mask[full:], scale)
	}
}

// adamAsm precomputes, in float32 exactly as the Go version does, the
// constants 1-b1, 1-b2 and lr*c1, and runs the kernel of the active path
// (both give the same bits).
func adamAsm(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
	k := adamConsts{wd: wd, b1: b1, ob1: 1 - b1, b2: b2, ob2: 1 - b2, c2: c2, eps: eps, lrc1: lr * c1}
	if active == AVX512 {
		adamAVX512(&w[0], &g[0], &m[0], &v[0], len(w), &k)
		return
	}
	adamAVX2(&w[0], &g[0], &m[0], &v[0], len(w), &k)
}

func axpyAsm(alpha float32, x, y []float32) {
	axpyAVX2(&x[0], &y[0], len(x), alpha)
}

func scaleAsm(alpha float32, x []float32) {
	scaleAVX2(&x[0], len(x), alpha)
}

func sumSquaresAsm(x []float32) float64 {
	return sumSquaresAVX2(&x[0], len(x))
}

// adamConsts holds the per-step constants of adamAVX2, in the order the
// assembly broadcasts them (byte offsets 0, 4, ..., 28).
type adamConsts struct {
	wd, b1, ob1, b2, ob2, c2, eps, lrc1 float32
}

// addBiasAVX2 is, with x and bias viewed as slices of rows*cols and cols
// elements:
//
//	for r := 0; r < rows; r++ {
//		for c := 0; c < cols; c++ {
//			x[r*cols+c] += bias[c]
//		}
//	}
//
//go:noescape
func addBiasAVX2(x, bias *float32, rows, cols int)

// addBiasChannelsAVX2 is, with x and bias viewed as slices of n*chans*hw and
// chans elements:
//
//	for s := 0; s < n; s++ {
//		for ch := 0; ch < chans; ch++ {
//			for p := 0; p < hw; p++ {
//				x[(s*chans+ch)*hw+p] += bias[ch]
//			}
//		}
//	}
//
//go:noescape
func addBiasChannelsAVX2(x, bias *float32, n, chans, hw int)

// sumRowsAVX2 is, with dst and x viewed as slices of cols and rows*cols
// elements (the additions for each column happen in the same order, so the
// result is bitwise that of the Go loop):
//
//	for c := 0; c < cols; c++ {
//		acc := dst[c]
//		for r := 0; r < rows; r++ {
//			acc += x[r*cols+c]
//		}
//		dst[c] = acc
//	}
//
//go:noescape
func sumRowsAVX2(dst, x *float32, rows, cols int)

// sumChannelsAVX2 is, with dst and x viewed as slices of chans and
// n*chans*hw elements (up to the order of the float32 additions within a
// channel, which the assembly spreads over 32 lanes):
//
//	for s := 0; s < n; s++ {
//		for ch := 0; ch < chans; ch++ {
//			var acc float32
//			for p := 0; p < hw; p++ {
//				acc += x[(s*chans+ch)*hw+p]
//			}
//			dst[ch] += acc
//		}
//	}
//
//go:noescape
func sumChannelsAVX2(dst, x *float32, n, chans, hw int)

// reluAVX2 is, with y and x viewed as slices of n elements (n >= 1):
//
//	for i := 0; i < n; i++ {
//		if x[i] > 0 {
//			y[i] = x[i]
//		} else {
//			y[i] = 0 // also for NaN and -0
//		}
//	}
//
//go:noescape
func reluAVX2(y, x *float32, n int)

// reluMaskAVX2 is, with y and x viewed as slices of 64*words elements and
// mask as a slice of words elements:
//
//	for w := 0; w < words; w++ {
//		var bits uint64
//		for j := 0; j < 64; j++ {
//			i := 64*w + j
//			if x[i] > 0 {
//				y[i] = x[i]
//				bits |= 1 << j
//			} else {
//				y[i] = 0
//			}
//		}
//		mask[w] = bits
//	}
//
//go:noescape
func reluMaskAVX2(y, x *float32, mask *uint64, words int)

// maskMulAVX2 is, with dx and dy viewed as slices of 64*words elements and
// mask as a slice of words elements:
//
//	for i := 0; i < 64*words; i++ {
//		if mask[i/64]>>(i%64)&1 != 0 {
//			dx[i] = dy[i] * scale
//		} else {
//			dx[i] = 0
//		}
//	}
//
//go:noescape
func maskMulAVX2(dx, dy *float32, mask *uint64, words int, scale float32)

// adamAVX2 is, with w, gr (the gradient), m and v viewed as slices of n
// elements (n >= 1) and k = *p (the lines marked * use a fused multiply-add,
// rounded once):
//
//	for i := 0; i < n; i++ {
//		gi := gr[i] + k.wd*w[i]                // *
//		mi := k.b1*m[i] + k.ob1*gi             // *
//		vi := k.b2*v[i] + (k.ob2*gi)*gi        // *
//		m[i], v[i] = mi, vi
//		den := float32(math.Sqrt(float64(vi*k.c2))) + k.eps
//		w[i] -= k.lrc1 * mi / den
//	}
//
//go:noescape
func adamAVX2(w, gr, m, v *float32, n int, p *adamConsts)

// adamAVX512 is adamAVX2 on sixteen lanes with opmask tails: the same
// operations on every element, so the same bits.
//
//go:noescape
func adamAVX512(w, gr, m, v *float32, n int, p *adamConsts)

// axpyAVX2 is, with x and y viewed as slices of n elements (n >= 1):
//
//	for i := 0; i < n; i++ {
//		y[i] += alpha * x[i] // fused multiply-add
//	}
//
//go:noescape
func axpyAVX2(x, y *float32, n int, alpha float32)

// scaleAVX2 is, with x viewed as a slice of n elements (n >= 1):
//
//	for i := 0; i < n; i++ {
//		x[i] *= alpha
//	}
//
//go:noescape
func scaleAVX2(x *float32, n int, alpha float32)

// sumSquaresAVX2 is, with x viewed as a slice of n elements (n >= 1), up to
// the order of the float64 additions (spread over 16 lanes):
//
//	var s float64
//	for i := 0; i < n; i++ {
//		s += float64(x[i]) * float64(x[i])
//	}
//	return s
//
//go:noescape
func sumSquaresAVX2(x *float32, n int) float64

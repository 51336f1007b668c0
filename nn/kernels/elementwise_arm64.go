//go:build arm64 && !noasm

package kernels

// Glue between the exported element-wise kernels and the NEON assembly in
// elementwise_arm64.s. The *Asm functions receive slices already checked by
// the exported functions (non-empty, long enough); the assembly does the
// whole vectors (or whole 64-element mask words) and Go the short tails.
// Bias addition (per column or per channel), ReLU, the masks, Scale and
// SumRows give the same bits as the Go versions; Axpy fuses its
// multiply-add (as Go does on arm64); Adam takes the steps of the AVX2
// kernel (some multiply-adds fused). SumChannels and SumSquares run in Go.

// reluNEON sets y[i] = x[i] if x[i] > 0, else +0, for i < n; n is a
// positive multiple of 16.
//
//go:noescape
func reluNEON(y, x *float32, n int)

// reluMaskNEON is reluMaskGeneric on 64·words elements (words ≥ 1): it
// writes y and the words mask words, bit i of word w set when
// x[64w+i] > 0.
//
//go:noescape
func reluMaskNEON(y, x *float32, mask *uint64, words int)

// maskMulNEON is maskMulGeneric on 64·words elements (words ≥ 1):
// dx[i] = dy[i]*scale where bit i of the mask is set, else +0.
//
//go:noescape
func maskMulNEON(dx, dy *float32, mask *uint64, words int, scale float32)

// adamNEON is adamGeneric (gradient gr) on n elements (a positive
// multiple of 4) with the constants of p, formed as in adamAVX2.
//
//go:noescape
func adamNEON(w, gr, m, v *float32, n int, p *adamConsts)

// axpyNEON sets y[i] += alpha*x[i] (fused) for i < n, a positive multiple
// of 4.
//
//go:noescape
func axpyNEON(x, y *float32, n int, alpha float32)

// scaleNEON sets x[i] *= alpha for i < n, a positive multiple of 4.
//
//go:noescape
func scaleNEON(x *float32, n int, alpha float32)

// addBiasNEON is addBiasGeneric (rows, cols ≥ 1).
//
//go:noescape
func addBiasNEON(x, bias *float32, rows, cols int)

// addBiasChannelsNEON is addBiasChannelsGeneric (n, chans, hw ≥ 1).
//
//go:noescape
func addBiasChannelsNEON(x, bias *float32, n, chans, hw int)

// sumRowsNEON is sumRowsGeneric restricted to columns [0, 4·c4) of the
// rows×cols matrix x (rows, c4 ≥ 1): the same additions in the same order.
//
//go:noescape
func sumRowsNEON(dst, x *float32, rows, cols, c4 int)

func addBiasAsm(x, bias []float32, rows, cols int) {
	addBiasNEON(&x[0], &bias[0], rows, cols)
}

func addBiasChannelsAsm(x, bias []float32, n, chans, hw int) {
	addBiasChannelsNEON(&x[0], &bias[0], n, chans, hw)
}

func sumRowsAsm(dst, x []float32, rows, cols int) {
	c4 := cols / 4
	if c4 > 0 {
		sumRowsNEON(&dst[0], &x[0], rows, cols, c4)
	}
	for c := 4 * c4; c < cols; c++ {
		for r := 0; r < rows; r++ {
			dst[c] += x[r*cols+c]
		}
	}
}

func sumChannelsAsm(dst, x []float32, n, chans, hw int) {
	sumChannelsGeneric(dst, x, n, chans, hw)
}

func reluAsm(y, x []float32) {
	n := len(x)
	v := n &^ 15
	if v > 0 {
		reluNEON(&y[0], &x[0], v)
	}
	if v < n {
		reluGeneric(y[v:n], x[v:n])
	}
}

func reluMaskAsm(y, x []float32, mask []uint64) {
	n := len(x)
	full := n / 64
	if full > 0 {
		reluMaskNEON(&y[0], &x[0], &mask[0], full)
	}
	if r := full * 64; r < n {
		reluMaskGeneric(y[r:n], x[r:n], mask[full:])
	}
}

func maskMulAsm(dx, dy []float32, mask []uint64, scale float32) {
	n := len(dy)
	full := n / 64
	if full > 0 {
		maskMulNEON(&dx[0], &dy[0], &mask[0], full, scale)
	}
	if r := full * 64; r < n {
		maskMulGeneric(dx[r:n], dy[r:n], mask[full:], scale)
	}
}

func adamAsm(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
	n := len(w)
	n4 := n &^ 3
	if n4 > 0 {
		adamNEON(&w[0], &g[0], &m[0], &v[0], n4, &adamConsts{
			wd: wd, b1: b1, ob1: 1 - b1, b2: b2, ob2: 1 - b2, c2: c2, eps: eps, lrc1: lr * c1,
		})
	}
	if n4 < n {
		adamGeneric(w[n4:], g[n4:n], m[n4:n], v[n4:n], lr, b1, b2, eps, wd, c1, c2)
	}
}

func axpyAsm(alpha float32, x, y []float32) {
	n := len(x)
	n4 := n &^ 3
	if n4 > 0 {
		axpyNEON(&x[0], &y[0], n4, alpha)
	}
	if n4 < n {
		axpyGeneric(alpha, x[n4:], y[n4:n])
	}
}

func scaleAsm(alpha float32, x []float32) {
	n := len(x)
	n4 := n &^ 3
	if n4 > 0 {
		scaleNEON(&x[0], n4, alpha)
	}
	if n4 < n {
		scaleGeneric(alpha, x[n4:])
	}
}

func sumSquaresAsm(x []float32) float64 { return sumSquaresGeneric(x) }

// adamConsts holds the per-step constants of adamNEON, in the order the
// assembly loads them (byte offsets 0, 4, ..., 28).
type adamConsts struct {
	wd, b1, ob1, b2, ob2, c2, eps, lrc1 float32
}

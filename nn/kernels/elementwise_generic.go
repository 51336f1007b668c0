package kernels

import "math"

// This file holds the pure-Go element-wise kernels. They define the meaning
// of the exported functions in elementwise.go and run when the Generic path
// is active, when the assembly is not built (noasm, non-amd64) and for the
// short tails the assembly leaves to Go.

func addBiasGeneric(x, bias []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : r*cols+cols]
		for c, b := range bias[:cols] {
			row[c] += b
		}
	}
}

func addBiasChannelsGeneric(x, bias []float32, n, chans, hw int) {
	for s := 0; s < n; s++ {
		for ch := 0; ch < chans; ch++ {
			b := bias[ch]
			m := x[(s*chans+ch)*hw : (s*chans+ch+1)*hw]
			for i := range m {
				m[i] += b
			}
		}
	}
}

func sumRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : r*cols+cols]
		for c, v := range row {
			dst[c] += v
		}
	}
}

func sumChannelsGeneric(dst, x []float32, n, chans, hw int) {
	for s := 0; s < n; s++ {
		for ch := 0; ch < chans; ch++ {
			var acc float32
			for _, v := range x[(s*chans+ch)*hw : (s*chans+ch+1)*hw] {
				acc += v
			}
			dst[ch] += acc
		}
	}
}

func reluGeneric(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

func reluMaskGeneric(y, x []float32, mask []uint64) {
	y = y[:len(x)]
	for w := 0; w*64 < len(x); w++ {
		var bits uint64
		end := min(w*64+64, len(x))
		for i := w * 64; i < end; i++ {
			v := x[i]
			if v > 0 {
				bits |= 1 << uint(i-w*64)
				y[i] = v
			} else {
				y[i] = 0
			}
		}
		mask[w] = bits
	}
}

func maskMulGeneric(dx, dy []float32, mask []uint64, scale float32) {
	dx = dx[:len(dy)]
	for i, v := range dy {
		if mask[i>>6]>>(uint(i)&63)&1 != 0 {
			dx[i] = v * scale
		} else {
			dx[i] = 0
		}
	}
}

// softmaxStackCols is the largest class count for which softmaxXentGeneric
// keeps the exponentials of a row in a stack array.
const softmaxStackCols = 64

func softmaxXentGeneric(logits []float32, labels []uint8, rows, cols int, grad []float32, scale float32) (loss float64, correct int) {
	for r := 0; r < rows; r++ {
		z := logits[r*cols : r*cols+cols]
		mx, arg := z[0], 0
		for c := 1; c < cols; c++ {
			if z[c] > mx {
				mx, arg = z[c], c
			}
		}
		lab := int(labels[r])
		if arg == lab {
			correct++
		}
		// For the usual small class counts the exponentials are kept on
		// the stack so the gradient does not recompute them; the values
		// are the same either way.
		var ebuf [softmaxStackCols]float64
		keep := grad != nil && cols <= softmaxStackCols
		var sum float64
		for c, v := range z {
			e := math.Exp(float64(v - mx))
			if keep {
				ebuf[c] = e
			}
			sum += e
		}
		lse := float64(mx) + math.Log(sum)
		loss += lse - float64(z[lab])
		if grad != nil {
			g := grad[r*cols : r*cols+cols]
			inv := 1 / sum
			if keep {
				for c, e := range ebuf[:cols] {
					g[c] = float32(e*inv) * scale
				}
			} else {
				for c, v := range z {
					g[c] = float32(math.Exp(float64(v-mx))*inv) * scale
				}
			}
			g[lab] -= scale
		}
	}
	return loss, correct
}

func adamGeneric(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	for i := range w {
		gi := g[i] + wd*w[i]
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		w[i] -= lr * c1 * mi / (float32(math.Sqrt(float64(vi*c2))) + eps)
	}
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func sumSquaresGeneric(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

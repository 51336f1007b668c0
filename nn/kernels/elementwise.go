package kernels

import "math"

// AddBias adds bias[c] to every x[r*cols+c] for r < rows, c < cols.
func AddBias(x, bias []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : r*cols+cols]
		for c, b := range bias[:cols] {
			row[c] += b
		}
	}
}

// AddBiasChannels adds bias[ch] to every element of channel ch of an NCHW
// tensor with n samples, chans channels and hw positions per channel.
func AddBiasChannels(x, bias []float32, n, chans, hw int) {
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

// SumRows accumulates column sums: dst[c] += Σ_r x[r*cols+c].
func SumRows(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : r*cols+cols]
		for c, v := range row {
			dst[c] += v
		}
	}
}

// SumChannels accumulates per-channel sums of an NCHW tensor:
// dst[ch] += Σ_{s,p} x[(s*chans+ch)*hw+p].
func SumChannels(dst, x []float32, n, chans, hw int) {
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

// ReluForward sets y[i] = max(x[i], 0) for i < len(x) and, when mask is not
// nil, records bit i of mask (mask[i/64] bit i%64) as x[i] > 0. y may alias x.
// mask must hold at least (len(x)+63)/64 words.
func ReluForward(y, x []float32, mask []uint64) {
	y = y[:len(x)]
	if mask == nil {
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = 0
			}
		}
		return
	}
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

// MaskMul sets dx[i] = dy[i]*scale where bit i of mask is set and 0
// elsewhere, for i < len(dy). It is the backward of ReLU (scale 1) and of
// dropout (scale 1/(1-p)). dx may alias dy.
func MaskMul(dx, dy []float32, mask []uint64, scale float32) {
	dx = dx[:len(dy)]
	for i, v := range dy {
		if mask[i>>6]>>(uint(i)&63)&1 != 0 {
			dx[i] = v * scale
		} else {
			dx[i] = 0
		}
	}
}

// SoftmaxXent computes, for each of rows rows of logits (cols classes), the
// softmax cross-entropy against labels[r] and writes the gradient of
// scale*loss with respect to the logits into grad (softmax - onehot)*scale.
// It returns the summed (unscaled) loss over the rows, in float64, and the
// number of rows whose arg-max equals the label. grad may be nil (evaluation).
func SoftmaxXent(logits []float32, labels []uint8, rows, cols int, grad []float32, scale float32) (loss float64, correct int) {
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
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(sum)
		loss += lse - float64(z[lab])
		if grad != nil {
			g := grad[r*cols : r*cols+cols]
			inv := 1 / sum
			for c, v := range z {
				g[c] = float32(math.Exp(float64(v-mx))*inv) * scale
			}
			g[lab] -= scale
		}
	}
	return loss, correct
}

// Adam applies one Adam step with L2 weight decay (PyTorch's Adam semantics)
// to every element: g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'²;
// w -= lr*c1*m / (sqrt(v*c2) + eps), where c1 = 1/(1-b1^t) and c2 = 1/(1-b2^t)
// are the bias corrections of step t.
func Adam(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
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

// Axpy computes y[i] += alpha*x[i] for i < len(x).
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// SumSquares returns Σ x[i]², accumulated in float64.
func SumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

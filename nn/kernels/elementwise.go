package kernels

// Element-wise kernels. Each exported function checks its arguments (slices
// that are too short panic with an index error, exactly as the pure-Go code
// would) and then runs either the AVX2 assembly or the pure-Go version in
// elementwise_generic.go, depending on Active(). None of them allocates.

// ewAsm reports whether the element-wise kernels should use assembly: the
// assembly is built in (amd64 or arm64 without the noasm tag) and a vector
// path is active. With noasm or on other architectures it is constant
// false, so the assembly branches are compiled away.
func ewAsm() bool { return (haveAsmAVX2 || haveAsmNEON) && active != Generic }

// Copy copies src into dst (which must be at least as long) and returns
// the number of elements copied; large copies are split over the threads.
func Copy(dst, src []float32) int {
	n := len(src)
	runEW(ewJob{op: ewCopy, x: src, y: dst[:n]}, n, max(1, n/1024))
	return n
}

// Zero sets every element of x to 0.
func Zero(x []float32) { clear(x) }

// AddBias adds bias[c] to every x[r*cols+c] for r < rows, c < cols.
// Nothing happens when rows or cols is not positive.
func AddBias(x, bias []float32, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	x, bias = x[:rows*cols], bias[:cols]
	runEW(ewJob{op: ewAddBias, x: bias, y: x, c: cols}, rows*cols, rows)
}

// addBiasSerial is AddBias on the calling goroutine.
func addBiasSerial(x, bias []float32, rows, cols int) {
	if ewAsm() {
		addBiasAsm(x, bias, rows, cols)
		return
	}
	addBiasGeneric(x, bias, rows, cols)
}

// AddBiasChannels adds bias[ch] to every element of channel ch of an NCHW
// tensor with n samples, chans channels and hw positions per channel.
// Nothing happens when n, chans or hw is not positive.
func AddBiasChannels(x, bias []float32, n, chans, hw int) {
	if n <= 0 || chans <= 0 || hw <= 0 {
		return
	}
	x, bias = x[:n*chans*hw], bias[:chans]
	if ewAsm() {
		addBiasChannelsAsm(x, bias, n, chans, hw)
		return
	}
	addBiasChannelsGeneric(x, bias, n, chans, hw)
}

// SumRows accumulates column sums: dst[c] += Σ_r x[r*cols+c].
// Nothing happens when rows or cols is not positive.
func SumRows(dst, x []float32, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	dst, x = dst[:cols], x[:rows*cols]
	if ewAsm() {
		sumRowsAsm(dst, x, rows, cols)
		return
	}
	sumRowsGeneric(dst, x, rows, cols)
}

// SumChannels accumulates per-channel sums of an NCHW tensor:
// dst[ch] += Σ_{s,p} x[(s*chans+ch)*hw+p].
// Nothing happens when n, chans or hw is not positive.
func SumChannels(dst, x []float32, n, chans, hw int) {
	if n <= 0 || chans <= 0 || hw <= 0 {
		return
	}
	dst, x = dst[:chans], x[:n*chans*hw]
	runEW(ewJob{op: ewSumChannels, x: x, y: dst, n: n, c: chans, h: hw}, len(x), chans)
}

// sumChannelsSerial is SumChannels on the calling goroutine.
func sumChannelsSerial(dst, x []float32, n, chans, hw int) {
	if ewAsm() {
		sumChannelsAsm(dst, x, n, chans, hw)
		return
	}
	sumChannelsGeneric(dst, x, n, chans, hw)
}

// ReluForward sets y[i] = max(x[i], 0) for i < len(x) and, when mask is not
// nil, records bit i of mask (mask[i/64] bit i%64) as x[i] > 0. y may alias x.
// mask must hold at least (len(x)+63)/64 words; the unused high bits of the
// last word are written as 0. A NaN in x gives 0 and a clear bit.
func ReluForward(y, x []float32, mask []uint64) {
	n := len(x)
	y = y[:n]
	if n == 0 {
		return
	}
	if mask == nil {
		runEW(ewJob{op: ewRelu, x: x, y: y}, n, (n+63)/64)
		return
	}
	mask = mask[:(n+63)/64]
	runEW(ewJob{op: ewReluMask, x: x, y: y, mask: mask}, n, len(mask))
}

// reluSerial is ReluForward without a mask on the calling goroutine.
func reluSerial(y, x []float32) {
	if ewAsm() {
		reluAsm(y, x)
		return
	}
	reluGeneric(y, x)
}

// reluMaskSerial is ReluForward with a mask on the calling goroutine.
func reluMaskSerial(y, x []float32, mask []uint64) {
	if ewAsm() {
		reluMaskAsm(y, x, mask)
		return
	}
	reluMaskGeneric(y, x, mask)
}

// MaskMul sets dx[i] = dy[i]*scale where bit i of mask is set and 0
// elsewhere, for i < len(dy). It is the backward of ReLU (scale 1) and of
// dropout (scale 1/(1-p)). dx may alias dy. mask must hold at least
// (len(dy)+63)/64 words; bits at positions >= len(dy) are ignored.
func MaskMul(dx, dy []float32, mask []uint64, scale float32) {
	n := len(dy)
	dx = dx[:n]
	if n == 0 {
		return
	}
	mask = mask[:(n+63)/64]
	runEW(ewJob{op: ewMaskMul, x: dy, y: dx, mask: mask, scale: scale}, n, len(mask))
}

// maskMulSerial is MaskMul on the calling goroutine.
func maskMulSerial(dx, dy []float32, mask []uint64, scale float32) {
	if ewAsm() {
		maskMulAsm(dx, dy, mask, scale)
		return
	}
	maskMulGeneric(dx, dy, mask, scale)
}

// SoftmaxXent computes, for each of rows rows of logits (cols classes), the
// softmax cross-entropy against labels[r] and writes the gradient of
// scale*loss with respect to the logits into grad (softmax - onehot)*scale.
// It returns the summed (unscaled) loss over the rows, in float64, and the
// number of rows whose arg-max equals the label. grad may be nil (evaluation).
// It runs in Go on every path.
func SoftmaxXent(logits []float32, labels []uint8, rows, cols int, grad []float32, scale float32) (loss float64, correct int) {
	return softmaxXentGeneric(logits, labels, rows, cols, grad, scale)
}

// Adam applies one Adam step with L2 weight decay (PyTorch's Adam semantics)
// to every element: g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'²;
// w -= lr*c1*m / (sqrt(v*c2) + eps), where c1 = 1/(1-b1^t) and c2 = 1/(1-b2^t)
// are the bias corrections of step t. The assembly path agrees with the Go
// path to within a few float32 ulps (it fuses some multiply-adds).
func Adam(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
	n := len(w)
	if n == 0 {
		return
	}
	g, m, v = g[:n], m[:n], v[:n]
	if ewAsm() {
		adamAsm(w, g, m, v, lr, b1, b2, eps, wd, c1, c2)
		return
	}
	adamGeneric(w, g, m, v, lr, b1, b2, eps, wd, c1, c2)
}

// Axpy computes y[i] += alpha*x[i] for i < len(x). The assembly path uses a
// fused multiply-add.
func Axpy(alpha float32, x, y []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	y = y[:n]
	if ewAsm() {
		axpyAsm(alpha, x, y)
		return
	}
	axpyGeneric(alpha, x, y)
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	if ewAsm() {
		scaleAsm(alpha, x)
		return
	}
	scaleGeneric(alpha, x)
}

// SumSquares returns Σ x[i]², accumulated in float64. Every square is exact
// in float64; the paths differ only in the order of the float64 additions
// (relative difference below len(x)·2⁻⁵³).
func SumSquares(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	if ewAsm() {
		return sumSquaresAsm(x)
	}
	return sumSquaresGeneric(x)
}

// Element-wise jobs split over the team.
const (
	ewRelu = iota
	ewReluMask
	ewMaskMul
	ewPoolFwd
	ewPoolBwd
	ewSumChannels
	ewCopy
	ewAddBias
)

// ewJob is one element-wise kernel call split over the team.
type ewJob struct {
	op                    int
	x, y                  []float32
	mask                  []uint64
	scale                 float32
	c, h, w, k, stride, n int // pooling; n, c, h (as hw) for channel sums
}

// ewCur is the element-wise job running on the team (guarded by
// theTeam.mu).
var ewCur ewJob

// runPart runs part part of parts of the job.
func (j *ewJob) runPart(part, parts int, _ *packBuf) {
	switch j.op {
	case ewRelu:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		reluSerial(j.y[a:b], j.x[a:b])
	case ewReluMask:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		reluMaskSerial(j.y[a:b], j.x[a:b], j.mask[i0:i1])
	case ewMaskMul:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		maskMulSerial(j.y[a:b], j.x[a:b], j.mask[i0:i1], j.scale)
	case ewPoolFwd, ewPoolBwd:
		oh, ow := AvgPoolOutSize(j.h, j.w, j.k, j.stride)
		p0, p1 := partRange(part, parts, j.n*j.c)
		in, out := j.h*j.w, oh*ow
		if j.op == ewPoolFwd {
			avgPoolFwdPlanes(j.h, j.w, j.k, j.stride, p1-p0, j.x[p0*in:p1*in], j.y[p0*out:p1*out])
		} else {
			avgPoolBwdPlanes(j.h, j.w, j.k, j.stride, p1-p0, j.x[p0*out:p1*out], j.y[p0*in:p1*in])
		}
	case ewCopy:
		a, b := partRange(part, parts, len(j.x))
		copy(j.y[a:b], j.x[a:b])
	case ewAddBias:
		rows := len(j.y) / j.c
		r0, r1 := partRange(part, parts, rows)
		if r0 < r1 {
			addBiasSerial(j.y[r0*j.c:r1*j.c], j.x, r1-r0, j.c)
		}
	case ewSumChannels:
		c0, c1 := partRange(part, parts, j.c)
		hw := j.h
		for s := 0; s < j.n; s++ {
			// Channels [c0, c1) of sample s are contiguous: one call per
			// sample keeps the summation order of the serial kernel.
			sumChannelsSerial(j.y[c0:c1], j.x[(s*j.c+c0)*hw:(s*j.c+c1)*hw], 1, c1-c0, hw)
		}
	}
}

// runEW runs the element-wise job j, touching size elements over items
// indivisible pieces, on the team, or serially when it is small or the team
// is busy.
func runEW(j ewJob, size, items int) {
	parts := sizedParts(size, items)
	t := tryTeam(parts)
	if t == nil {
		j.runPart(0, 1, nil)
		return
	}
	ewCur = j
	t.run(&ewCur, parts)
	ewCur = ewJob{}
	t.release()
}

package kernels

import "fmt"

// AvgPoolOutSize returns the output height and width of a k×k average
// pooling with the given stride (no padding) over an h×w input:
// ((h−k)/stride + 1, (w−k)/stride + 1). Trailing rows and columns that do
// not fill a window are ignored.
func AvgPoolOutSize(h, w, k, stride int) (oh, ow int) {
	return (h-k)/stride + 1, (w-k)/stride + 1
}

func avgPoolCheck(c, h, w, k, stride, n int, in, out []float32, inName, outName string) (oh, ow int) {
	if c < 1 || h < 1 || w < 1 || k < 1 || stride < 1 || n < 0 || k > h || k > w {
		panic(fmt.Sprintf("kernels: bad average pooling c=%d h=%d w=%d k=%d stride=%d n=%d", c, h, w, k, stride, n))
	}
	oh, ow = AvgPoolOutSize(h, w, k, stride)
	convCheckLen(inName, in, n*c*h*w)
	convCheckLen(outName, out, n*c*oh*ow)
	return oh, ow
}

// AvgPool2DForward computes the k×k average pooling with the given stride
// (no padding) of n samples of c channels of h×w (NCHW):
// y[s,ch,i,j] = mean of x[s,ch,i·stride+a,j·stride+b] over a,b < k. y holds
// n·c·oh·ow elements (see AvgPoolOutSize) and is overwritten.
func AvgPool2DForward(c, h, w, k, stride, n int, x, y []float32) {
	oh, ow := avgPoolCheck(c, h, w, k, stride, n, x, y, "avgpool x", "avgpool y")
	planes := n * c
	runEW(ewJob{op: ewPoolFwd, x: x[:planes*h*w], y: y[:planes*oh*ow], c: c, h: h, w: w, k: k, stride: stride, n: n},
		planes*h*w, planes)
}

// avgPoolFwdPlanes is AvgPool2DForward on planes planes (sample-channel
// pairs) on the calling goroutine.
func avgPoolFwdPlanes(h, w, k, stride, planes int, x, y []float32) {
	oh, ow := AvgPoolOutSize(h, w, k, stride)
	if k == 2 && stride == 2 {
		for pl := 0; pl < planes; pl++ {
			xp := x[pl*h*w : (pl+1)*h*w]
			yp := y[pl*oh*ow : (pl+1)*oh*ow]
			j0 := avgPool2FwdAsm(xp, yp, oh, w, ow)
			avgPool2FwdGeneric(xp, yp, oh, j0, w, ow)
		}
		return
	}
	inv := 1 / float32(k*k)
	for pl := 0; pl < planes; pl++ {
		xp := x[pl*h*w : (pl+1)*h*w]
		yp := y[pl*oh*ow : (pl+1)*oh*ow]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float32
				for a := 0; a < k; a++ {
					row := xp[(i*stride+a)*w+j*stride : (i*stride+a)*w+j*stride+k]
					for _, v := range row {
						s += v
					}
				}
				yp[i*ow+j] = s * inv
			}
		}
	}
}

// avgPool2FwdGeneric is the 2×2 stride-2 forward on one plane for output
// columns j0 ≤ j < ow of every output row.
func avgPool2FwdGeneric(x, y []float32, oh, j0, w, ow int) {
	for i := 0; i < oh; i++ {
		r0 := x[2*i*w : 2*i*w+w]
		r1 := x[(2*i+1)*w : (2*i+1)*w+w]
		yr := y[i*ow : i*ow+ow]
		for j := j0; j < ow; j++ {
			yr[j] = 0.25 * ((r0[2*j] + r0[2*j+1]) + (r1[2*j] + r1[2*j+1]))
		}
	}
}

// AvgPool2DBackward computes the gradient of AvgPool2DForward with respect
// to its input: dx[s,ch,p,q] = Σ dy[s,ch,i,j]/k² over the windows (i,j)
// containing (p,q). dx (n·c·h·w elements) is overwritten; positions in no
// window get 0.
func AvgPool2DBackward(c, h, w, k, stride, n int, dy, dx []float32) {
	oh, ow := avgPoolCheck(c, h, w, k, stride, n, dx, dy, "avgpool dx", "avgpool dy")
	planes := n * c
	runEW(ewJob{op: ewPoolBwd, x: dy[:planes*oh*ow], y: dx[:planes*h*w], c: c, h: h, w: w, k: k, stride: stride, n: n},
		planes*h*w, planes)
}

// avgPoolBwdPlanes is AvgPool2DBackward on planes planes (sample-channel
// pairs) on the calling goroutine.
func avgPoolBwdPlanes(h, w, k, stride, planes int, dy, dx []float32) {
	oh, ow := AvgPoolOutSize(h, w, k, stride)
	if k == 2 && stride == 2 {
		for pl := 0; pl < planes; pl++ {
			dxp := dx[pl*h*w : (pl+1)*h*w]
			dyp := dy[pl*oh*ow : (pl+1)*oh*ow]
			if h != 2*oh || w != 2*ow {
				clear(dxp)
			}
			j0 := avgPool2BwdAsm(dyp, dxp, oh, w, ow)
			avgPool2BwdGeneric(dyp, dxp, oh, j0, w, ow)
		}
		return
	}
	inv := 1 / float32(k*k)
	clear(dx[:planes*h*w])
	for pl := 0; pl < planes; pl++ {
		dxp := dx[pl*h*w : (pl+1)*h*w]
		dyp := dy[pl*oh*ow : (pl+1)*oh*ow]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				g := dyp[i*ow+j] * inv
				for a := 0; a < k; a++ {
					row := dxp[(i*stride+a)*w+j*stride : (i*stride+a)*w+j*stride+k]
					for b := range row {
						row[b] += g
					}
				}
			}
		}
	}
}

// avgPool2BwdGeneric is the 2×2 stride-2 backward on one plane for output
// columns j0 ≤ j < ow of every output row.
func avgPool2BwdGeneric(dy, dx []float32, oh, j0, w, ow int) {
	for i := 0; i < oh; i++ {
		r0 := dx[2*i*w : 2*i*w+w]
		r1 := dx[(2*i+1)*w : (2*i+1)*w+w]
		dr := dy[i*ow : i*ow+ow]
		for j := j0; j < ow; j++ {
			g := 0.25 * dr[j]
			r0[2*j], r0[2*j+1] = g, g
			r1[2*j], r1[2*j+1] = g, g
		}
	}
}

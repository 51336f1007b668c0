//go:build !amd64 || noasm

package kernels

// avgPool2FwdAVX2 is never called without assembly (haveAsmAVX2 is false);
// it falls back to avgPool2FwdGo over the first 8·n8 columns.
func avgPool2FwdAVX2(x, y []float32, rows, n8, w, ow int) {
	for i := 0; i < rows; i++ {
		for j := 0; j < 8*n8; j++ {
			y[i*ow+j] = 0.25 * ((x[2*i*w+2*j] + x[2*i*w+2*j+1]) + (x[(2*i+1)*w+2*j] + x[(2*i+1)*w+2*j+1]))
		}
	}
}

// avgPool2BwdAVX2 is never called without assembly; it sets the first
// 16·n8 columns of every row pair like avgPool2BwdGo.
func avgPool2BwdAVX2(dy, dx []float32, rows, n8, w, ow int) {
	for i := 0; i < rows; i++ {
		for j := 0; j < 8*n8; j++ {
			g := 0.25 * dy[i*ow+j]
			dx[2*i*w+2*j], dx[2*i*w+2*j+1] = g, g
			dx[(2*i+1)*w+2*j], dx[(2*i+1)*w+2*j+1] = g, g
		}
	}
}

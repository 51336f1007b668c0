//go:build amd64 && !noasm

package kernels

// avgPool2FwdAVX2 is the 2×2 stride-2 average pooling of one plane for the
// first 8·n8 output columns of rows output rows: for r < rows, j < 8·n8,
// y[r*ow+j] = 0.25*((x[2r*w+2j]+x[2r*w+2j+1]) + (x[(2r+1)*w+2j]+x[(2r+1)*w+2j+1])).
// The caller checks the bounds.
//
//go:noescape
func avgPool2FwdAVX2(x, y []float32, rows, n8, w, ow int)

// avgPool2BwdAVX2 is the backward of avgPool2FwdAVX2: for r < rows,
// j < 8·n8, the four elements dx[(2r+a)*w+2j+b] (a, b < 2) are set to
// 0.25*dy[r*ow+j]. The caller checks the bounds.
//
//go:noescape
func avgPool2BwdAVX2(dy, dx []float32, rows, n8, w, ow int)

// avgPool2FwdAsm pools the first 8·⌊ow/8⌋ output columns of rows output
// rows with avgPool2FwdAVX2 on the x86 assembly paths and returns how many
// columns it did (0 on the generic path).
func avgPool2FwdAsm(x, y []float32, rows, w, ow int) int {
	n8 := ow / 8
	if !useAVX2Helpers() || n8 == 0 {
		return 0
	}
	avgPool2FwdAVX2(x, y, rows, n8, w, ow)
	return 8 * n8
}

// avgPool2BwdAsm is the backward of avgPool2FwdAsm, with avgPool2BwdAVX2.
func avgPool2BwdAsm(dy, dx []float32, rows, w, ow int) int {
	n8 := ow / 8
	if !useAVX2Helpers() || n8 == 0 {
		return 0
	}
	avgPool2BwdAVX2(dy, dx, rows, n8, w, ow)
	return 8 * n8
}

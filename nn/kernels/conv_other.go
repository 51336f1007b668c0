//go:build !amd64 || noasm

package kernels

// convCopyRowsAVX2 is never called without assembly (haveAsmAVX2 is false); it
// falls back to convCopyRowsGo.
func convCopyRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int) {
	convCopyRowsGo(dst, src, rows, cols, dstStride, srcStride)
}

// convAddRowsAVX2 is never called without assembly; it falls back to convAddRowsGo.
func convAddRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int) {
	convAddRowsGo(dst, src, rows, cols, dstStride, srcStride)
}

// convAddConstAVX2 is never called without assembly; it falls back to
// convAddConstGo.
func convAddConstAVX2(dst, src []float32, b float32) { convAddConstGo(dst, src, b) }

// convSum32AVX2 is never called without assembly; it falls back to convSum32Go.
func convSum32AVX2(x []float32) float32 { return convSum32Go(x) }

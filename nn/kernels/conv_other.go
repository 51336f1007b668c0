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

// A pure-Go build has no direct convolution kernels: convTable stays empty,
// so convKernelsFor never selects the direct path and the three functions
// below are unreachable; they panic rather than compute anything.

func convFwdTileAsm(ck *convKernels, nv, k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool) {
	panic("kernels: no direct convolution kernels in a pure-Go build")
}

func convFilterTilesAsm(lanes, np, ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int) {
	panic("kernels: no direct convolution kernels in a pure-Go build")
}

func convFilterTile26Asm(lanes, ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32) {
	panic("kernels: no direct convolution kernels in a pure-Go build")
}

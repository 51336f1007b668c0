//go:build (!amd64 && !arm64) || noasm

package kernels

// A pure-Go build has no assembly helpers: the Go loops do the work.

func convCopyRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool { return false }

func convAddRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool { return false }

func convAddConstAsm(dst, src []float32, b float32) bool { return false }

func convSum32Asm(x []float32) (float32, bool) { return 0, false }

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

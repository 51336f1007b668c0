//go:build amd64 && !noasm

package kernels

// convCopyRowsAVX2 copies rows rows of cols elements: for r < rows, q < cols,
// dst[r*dstStride+q] = src[r*srcStride+q]. The caller checks the bounds;
// dst and src must not overlap.
//
//go:noescape
func convCopyRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int)

// convAddRowsAVX2 adds rows rows of cols elements: for r < rows, q < cols,
// dst[r*dstStride+q] += src[r*srcStride+q]. The caller checks the bounds;
// dst and src must not overlap.
//
//go:noescape
func convAddRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int)

// convAddConstAVX2 sets dst[i] = src[i] + b for i < len(src). The caller checks
// that len(dst) >= len(src); dst may equal src.
//
//go:noescape
func convAddConstAVX2(dst, src []float32, b float32)

// convSum32AVX2 returns the float32 sum of x, accumulated in 32 partial sums
// (lanes of four vectors) added together at the end.
//
//go:noescape
func convSum32AVX2(x []float32) float32

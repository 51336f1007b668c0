//go:build amd64 && !noasm

package kernels

// useAVX2Helpers reports whether the AVX2 helper kernels (row copies and
// sums, pooling, the element-wise kernels) run: on the avx2 path, and on the
// avx512 path, which has no kernels of its own for these.
func useAVX2Helpers() bool { return active == AVX2 || active == AVX512 }

// convCopyRowsAsm runs convCopyRowsAVX2 when the AVX2 helpers run and
// reports whether it did.
func convCopyRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool {
	if useAVX2Helpers() {
		convCopyRowsAVX2(dst, src, rows, cols, dstStride, srcStride)
	}
	return useAVX2Helpers()
}

// convAddRowsAsm runs convAddRowsAVX2 when the AVX2 helpers run and
// reports whether it did.
func convAddRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool {
	if useAVX2Helpers() {
		convAddRowsAVX2(dst, src, rows, cols, dstStride, srcStride)
	}
	return useAVX2Helpers()
}

// convAddConstAsm runs convAddConstAVX2 when the AVX2 helpers run and
// reports whether it did.
func convAddConstAsm(dst, src []float32, b float32) bool {
	if useAVX2Helpers() {
		convAddConstAVX2(dst, src, b)
	}
	return useAVX2Helpers()
}

// convSum32Asm returns convSum32AVX2(x) and true when the AVX2 helpers run.
func convSum32Asm(x []float32) (float32, bool) {
	if useAVX2Helpers() {
		return convSum32AVX2(x), true
	}
	return 0, false
}

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

// convFwdTileAVX2 is convFwdTileRef with 8 lanes: for i < 4 and the three
// 8-position vectors (x0, y0), (x1, y1), (x2, y2),
// y[yv+i*ldy+l] = s + Σ_{p<k} w[p*4+i]·x[xv+offs[p]+l] for l < 8, where s
// is bias[i], or the old y[yv+i*ldy+l] when acc (offs holds int32 bit
// patterns; one fused multiply-add per p, p ascending). k >= 1;
// convFwdTile checks the bounds.
//
//go:noescape
func convFwdTileAVX2(k int, w, offs, x []float32, x0, x1, x2 int, bias, y []float32, y0, y1, y2, ldy int, acc bool)

// convFilterTilesAVX2 is convFilterTilesRef with 8 lanes: nt filter tiles
// of the same four channels, tile t over the three lowered rows whose
// offsets are offs[3t], offs[3t+1], offs[3t+2] (int32 bit patterns); for
// i < 4 and j < 3 the sum of convFilterTileRef's out[3i+j], accumulated in eight lanes
// with one fused multiply-add per product, is added into dw[i*ldw+3t+j].
// nt, ns, rows, nv >= 1; convFilterTiles checks the bounds.
//
//go:noescape
func convFilterTilesAVX2(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)

// convFilterTile26AVX2 is convFilterTile26Ref with 8 lanes: for i < 2 and j < 6,
// out[6i+j] = Σ_{s<ns} Σ_{r<rows} Σ_{q<8nv} dy[s*dys+i*ldk+r*8nv+q] ·
// x[s*xs+offs[j]+r*wp+q], accumulated in eight lanes, where
// xjump = xs − rows·wp, djump = dys − rows·8nv and rowgap = wp − 8nv.
// ns, rows, nv >= 1; convFilterTile26 checks the bounds.
//
//go:noescape
func convFilterTile26AVX2(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)

// convFwdTile6AVX512 is convFwdTileRef with 16 lanes and six vectors: for
// i < 4 and v < 6, y[yv[v]+i*ldy+l] = s + Σ_{p<k} w[p*4+i]·x[xv[v]+offs[p]+l]
// for l < 16, where s is bias[i], or the old y[yv[v]+i*ldy+l] when acc
// (one fused multiply-add per p, p ascending). The six output vectors of a
// channel must not overlap. k >= 1; convFwdTile checks the bounds.
//
//go:noescape
func convFwdTile6AVX512(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)

// convFilterTilesAVX512 is convFilterTilesAVX2 with 16-float vectors
// (convFilterTilesRef with 16 lanes; each sum's 16 partial sums are folded
// to eight, upper half onto lower, then added as on the AVX2 path).
//
//go:noescape
func convFilterTilesAVX512(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)

// convFilterTile26AVX512 is convFilterTile26AVX2 with 16-float vectors
// (convFilterTile26Ref with 16 lanes, sums folded as in
// convFilterTilesAVX512).
//
//go:noescape
func convFilterTile26AVX512(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)

// convFwdTile4AVX512 is convFwdTile6AVX512 with four vectors (only the
// first four entries of xv and yv are read).
//
//go:noescape
func convFwdTile4AVX512(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)

// convFwdTileAsm runs ck's forward tile kernel of nv vectors: six or four
// vectors of 16 floats, or three of 8.
func convFwdTileAsm(ck *convKernels, nv, k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool) {
	if ck.lanes == 16 {
		if nv == 4 {
			convFwdTile4AVX512(k, w, offs, x, xv, bias, y, yv, ldy, acc)
			return
		}
		convFwdTile6AVX512(k, w, offs, x, xv, bias, y, yv, ldy, acc)
		return
	}
	convFwdTileAVX2(k, w, offs, x, xv[0], xv[1], xv[2], bias, y, yv[0], yv[1], yv[2], ldy, acc)
}

// convFilterTiles6AVX512 is convFilterTilesRef with 16 lanes and tiles of
// six lowered rows: nt tiles of four channels by six rows, tile t over the
// rows whose offsets are offs[6t:6t+6] (int32 bit patterns); for i < 4 and
// j < 6 the sum of convFilterTileRef's out[6i+j], accumulated in 16 lanes
// with one fused multiply-add per product and folded as in
// convFilterTilesAVX512, is added into dw[i*ldw+6t+j]. nt, ns, rows,
// nv >= 1; convFilterTiles checks the bounds.
//
//go:noescape
func convFilterTiles6AVX512(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)

// convFilterTilesAsm runs the filter-gradient tiles kernel with vectors of
// lanes (8 or 16) floats and tiles of np (3, or 6 with 16 lanes) rows.
func convFilterTilesAsm(lanes, np, ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int) {
	switch {
	case lanes == 16 && np == 6:
		convFilterTiles6AVX512(ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
		return
	case lanes == 16:
		convFilterTilesAVX512(ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
		return
	}
	convFilterTilesAVX2(ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
}

// convFilterTile26Asm runs the 2×6 filter-gradient tile kernel with vectors
// of lanes (8 or 16) floats.
func convFilterTile26Asm(lanes, ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32) {
	if lanes == 16 {
		convFilterTile26AVX512(ns, x, offs, xjump, dy, ldk, djump, rows, nv, rowgap, out)
		return
	}
	convFilterTile26AVX2(ns, x, offs, xjump, dy, ldk, djump, rows, nv, rowgap, out)
}

func init() {
	convTable[AVX2] = &convKernels{lanes: 8, vecs: 3, frows: 3}
	convTable[AVX512] = &convKernels{lanes: 16, vecs: 6, small: 4, frows: 6}
}

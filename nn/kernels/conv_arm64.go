//go:build arm64 && !noasm

package kernels

// The NEON tile kernels of the direct convolution path (conv_direct.go), in
// conv_direct_arm64.s. They work on vectors of four floats (lanes 4 in
// convKernels): forward tiles of four output channels by six or four
// vectors, filter-gradient tiles of four channels by six or three lowered
// rows, and the tile of two channels by six rows. The data gradient runs
// on the forward tiles (a convolution with flipped filters). Which code
// runs is decided in one place, the convTable entry set by init below.
//
// Arithmetic intensity of the inner loops (fused multiply-adds per vector
// load, each load 16 bytes):
//
//	forward 4×6:           24 FMLA by lane / 7 loads (6 input, 1 filter) = 3.4
//	filter gradient 4×6:   24 FMLA / 10 loads (6 input, 4 output gradient) = 2.4
//	filter gradient 4×3:   12 FMLA / 7 loads = 1.7
//	filter gradient 2×6:   12 FMLA / 8 loads = 1.5
//
// plus one 4-byte offset load per forward tap.

// The row copies, row sums, constant additions and sums of the
// convolution's helpers run in Go on arm64 (copy is the runtime's
// memmove; the others are a small part of a step).

func convCopyRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool { return false }

func convAddRowsAsm(dst, src []float32, rows, cols, dstStride, srcStride int) bool { return false }

func convAddConstAsm(dst, src []float32, b float32) bool { return false }

func convSum32Asm(x []float32) (float32, bool) { return 0, false }

// convFwdTile6NEON is convFwdTileRef with 4 lanes and six vectors: for
// i < 4 and v < 6, y[yv[v]+i*ldy+l] = s + Σ_{p<k} w[p*4+i]·x[xv[v]+offs[p]+l]
// for l < 4, where s is bias[i], or the old y[yv[v]+i*ldy+l] when acc (offs
// holds int32 bit patterns; one fused multiply-add per p, p ascending). The
// six output vectors of a channel must not overlap. k >= 1; convFwdTile
// checks the bounds.
//
//go:noescape
func convFwdTile6NEON(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)

// convFwdTile4NEON is convFwdTile6NEON with four vectors (only the first
// four entries of xv and yv are read).
//
//go:noescape
func convFwdTile4NEON(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)

// convFilterTiles6NEON is convFilterTilesRef with 4 lanes and tiles of six
// lowered rows: nt tiles of four channels by six rows, tile t over the rows
// whose offsets are offs[6t:6t+6] (int32 bit patterns); for i < 4 and j < 6
// the sum of convFilterTileRef's out[6i+j], accumulated in four lanes with
// one fused multiply-add per product and then added pairwise,
// (l0+l1)+(l2+l3), is added into dw[i*ldw+6t+j]. nt, ns, rows, nv >= 1;
// convFilterTiles checks the bounds.
//
//go:noescape
func convFilterTiles6NEON(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)

// convFilterTiles3NEON is convFilterTiles6NEON with tiles of three lowered
// rows (offsets offs[3t:3t+3], sums added into dw[i*ldw+3t+j], j < 3).
//
//go:noescape
func convFilterTiles3NEON(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)

// convFilterTile26NEON is convFilterTile26Ref with 4 lanes: for i < 2 and
// j < 6, out[6i+j] = Σ_{s<ns} Σ_{r<rows} Σ_{q<4nv} dy[s*dys+i*ldk+r*4nv+q] ·
// x[s*xs+offs[j]+r*wp+q], accumulated and added as in convFilterTiles6NEON,
// where xjump = xs − rows·wp, djump = dys − rows·4nv and rowgap = wp − 4nv.
// ns, rows, nv >= 1; convFilterTile26 checks the bounds.
//
//go:noescape
func convFilterTile26NEON(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)

// convFwdTileAsm runs the NEON forward tile kernel of nv (6 or 4) vectors.
func convFwdTileAsm(ck *convKernels, nv, k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool) {
	if nv == 4 {
		convFwdTile4NEON(k, w, offs, x, xv, bias, y, yv, ldy, acc)
		return
	}
	convFwdTile6NEON(k, w, offs, x, xv, bias, y, yv, ldy, acc)
}

// convFilterTilesAsm runs the NEON filter-gradient tiles kernel of np (6
// or 3) rows; lanes is 4.
func convFilterTilesAsm(lanes, np, ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int) {
	if np == 6 {
		convFilterTiles6NEON(ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
		return
	}
	convFilterTiles3NEON(ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
}

// convFilterTile26Asm runs the NEON 2×6 filter-gradient tile kernel; lanes
// is 4.
func convFilterTile26Asm(lanes, ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32) {
	convFilterTile26NEON(ns, x, offs, xjump, dy, ldk, djump, rows, nv, rowgap, out)
}

func init() {
	// Six vectors of four floats by four channels use 24 of the 32 vector
	// registers as accumulators; a sample's last tile runs four vectors
	// when no more are left (SmallConvNet's 32×32 and 16×16 outputs have
	// 256 and 64 vectors, 4 more than a multiple of 6).
	convTable[NEON] = &convKernels{lanes: 4, vecs: 6, small: 4, frows: 6}
}

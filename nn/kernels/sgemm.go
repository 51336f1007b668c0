package kernels

import "fmt"

// microKernel computes n vertically stacked mr×nr tiles of C from packed
// panels: tile t is the A panel a[mr·k·t:] (k steps of mr values) times the
// B panel b (k steps of nr values), stored at c[mr·ldc·t:] with row stride
// ldc; see sgemmKernelRef for the exact meaning of one tile. k is at least
// 1 and every tile is full.
type microKernel func(k, n int, a, b, c []float32, ldc int, alpha, beta float32)

// edgeKernel computes the first rows rows and cols columns of one mr×nr
// tile of C from packed panels a and b (k ≥ 1 depths), with exactly the
// arithmetic of the micro-kernel on a full tile, reading and writing no
// element of C outside that corner.
type edgeKernel func(k, rows, cols int, a, b, c []float32, ldc int, alpha, beta float32)

// gemmParams describes a micro-kernel and the cache blocks used with it.
type gemmParams struct {
	mr, nr int // micro-tile rows and columns
	mc     int // rows of A packed at once (multiple of mr; L2-resident)
	kc     int // depth of a packed block (A and B micro-panels L1-resident)
	nc     int // columns of B packed at once (multiple of nr; L3-resident)
	kern   microKernel
	// edge, when not nil, computes an edge tile straight into C (see
	// edgeKernel); otherwise edge tiles run kern on a temporary tile.
	edge edgeKernel

	// Packing of full micro-panels (mr rows of A, nr columns of B); nil
	// entries fall back to the Go loops of packA and packB, which define
	// their meaning. packAN may write packSlack elements past the panel.
	packAN, packAT packPanel // A stored m×k, A stored k×m
	packBN, packBT packPanel // B stored k×n, B stored n×k

	// Packing of partial micro-panels whose rows or columns are contiguous
	// (A stored k×m, B stored k×n), zero-padded; nil entries fall back to
	// the Go loops.
	packATPart, packBNPart packPart
}

// packPart packs a partial micro-panel of cnt rows of A or columns of B
// (1 ≤ cnt < mr or nr), zero-padded, like packPanel.
type packPart func(d, s []float32, ld, x, pc, kc, cnt int)

// packPanel packs one full micro-panel of depths [pc, pc+kc) starting at
// row or column x of a matrix s with stride ld into d.
type packPanel func(d, s []float32, ld, x, pc, kc int)

// genericParams drives the pure-Go micro-kernel.
var genericParams = &gemmParams{mr: 4, nr: 4, mc: 128, kc: 256, nc: 1024, kern: sgemmKernelGeneric4x4}

// gemmTable holds the GEMM parameters of each path; assembly builds fill
// the entries of their paths at start-up.
var gemmTable = [numPaths]*gemmParams{Generic: genericParams, AVX2: genericParams, AVX512: genericParams}

// paramsFor returns the GEMM parameters of path p.
func paramsFor(p Path) *gemmParams { return gemmTable[p] }

// gemmArgs holds the operands of one Sgemm call.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(A) is m×k (A is m×k with row stride lda, or k×m when
// transA), op(B) is k×n (B is k×n with row stride ldb, or n×k when transB)
// and C is m×n with row stride ldc. When beta == 0, C is overwritten without
// being read (NaNs in C do not propagate); when alpha == 0 or k == 0, A and
// B are not read.
//
// Large products are split over blocks of C among the package's worker
// threads (see SetThreads); the result is bitwise identical whatever the
// number of threads. Sgemm never allocates in steady state and may be called
// from several goroutines at once (as long as their C matrices do not
// overlap): concurrent callers that find the worker pool busy run on their
// own goroutine. It panics if a dimension is negative, a stride too small or
// a slice too short.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Sgemm negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	checkMatrix("C", m, n, c, ldc)
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if transA {
		checkMatrix("A", k, m, a, lda)
	} else {
		checkMatrix("A", m, k, a, lda)
	}
	if transB {
		checkMatrix("B", n, k, b, ldb)
	} else {
		checkMatrix("B", k, n, b, ldb)
	}
	g := gemmArgs{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: a, lda: lda,
		b: b, ldb: ldb,
		c: c, ldc: ldc,
	}
	sgemmRun(paramsFor(active), &g)
}

// checkMatrix panics unless x can hold a rows×cols matrix with stride ld.
func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < cols || ld < 1 {
		panic(fmt.Sprintf("kernels: Sgemm stride of %s is %d, want ≥ %d", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernels: Sgemm %s has %d elements, want ≥ %d", name, len(x), (rows-1)*ld+cols))
	}
}

// scaleC sets C = beta*C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// blockSize splits n into the fewest blocks of at most max (a multiple of
// mult) and returns the common block size, rounded up to a multiple of mult,
// so that the blocks are balanced.
func blockSize(n, max, mult int) int {
	nb := (n + max - 1) / max
	s := (n + nb - 1) / nb
	return (s + mult - 1) / mult * mult
}

// kBlock returns the depth of the k blocks. It depends only on k and the
// parameters, which keeps every element's summation order independent of
// how C is split among threads.
func kBlock(pp *gemmParams, k int) int {
	return blockSize(k, pp.kc, 1)
}

// packSlack is the number of elements past the packed A block that packA6N
// may write.
const packSlack = 8

// gemmPiece computes rows [i0, i1) and columns [j0, j1) of C with the
// packing buffers buf.
func gemmPiece(pp *gemmParams, buf *packBuf, g *gemmArgs, i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	mr, nr := pp.mr, pp.nr
	k := g.k
	kcb := kBlock(pp, k)
	mcb := blockSize(i1-i0, pp.mc, mr)
	ncb := blockSize(j1-j0, pp.nc, nr)
	buf.ensure(mcb*kcb+packSlack, ncb*kcb, mr*nr)
	for jc := j0; jc < j1; jc += ncb {
		nc := min(ncb, j1-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			packB(buf.b, g, pp, pc, kc, jc, nc)
			for ic := i0; ic < i1; ic += mcb {
				mc := min(mcb, i1-ic)
				packA(buf.a, g, pp, ic, mc, pc, kc)
				macroKernel(pp, buf.a, buf.b, buf.tile, g, ic, mc, jc, nc, kc, beta)
			}
		}
	}
}

// macroKernel multiplies the packed mc×kc block of A (apack) by the packed
// kc×nc block of B (bpack) into C[ic:ic+mc, jc:jc+nc], tile by tile; tile
// is scratch for edge tiles.
func macroKernel(pp *gemmParams, apack, bpack, tile []float32, g *gemmArgs, ic, mc, jc, nc, kc int, beta float32) {
	mr, nr, kern := pp.mr, pp.nr, pp.kern
	c, ldc, alpha := g.c, g.ldc, g.alpha
	full := mc / mr
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		bp := bpack[jr*kc : jr*kc+nr*kc]
		ir := 0
		if cols == nr && full > 0 {
			kern(kc, full, apack[:full*mr*kc], bp, c[ic*ldc+jc+jr:], ldc, alpha, beta)
			ir = full * mr
		}
		for ; ir < mc; ir += mr {
			rows := min(mr, mc-ir)
			ap := apack[ir*kc : ir*kc+mr*kc]
			off := (ic+ir)*ldc + jc + jr
			if pp.edge != nil {
				pp.edge(kc, rows, cols, ap, bp, c[off:], ldc, alpha, beta)
				continue
			}
			// Edge tile: run the same kernel on a full temporary tile so
			// the arithmetic is exactly that of an interior tile.
			t := tile[:mr*nr]
			if beta != 0 {
				for r := 0; r < rows; r++ {
					copy(t[r*nr:r*nr+cols], c[off+r*ldc:off+r*ldc+cols])
				}
			}
			kern(kc, 1, ap, bp, t, nr, alpha, beta)
			for r := 0; r < rows; r++ {
				copy(c[off+r*ldc:off+r*ldc+cols], t[r*nr:r*nr+cols])
			}
		}
	}
}

// packA packs rows [ic, ic+mc) and depths [pc, pc+kc) of op(A) into
// micro-panels of mr rows: panel ir/mr holds element (ic+ir+r, pc+q) at
// dst[ir*kc + q*mr + r]. Rows past the block are zero.
func packA(dst []float32, g *gemmArgs, pp *gemmParams, ic, mc, pc, kc int) {
	a, lda, mr := g.a, g.lda, pp.mr
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : ir*kc+mr*kc]
		i := ic + ir
		if g.transA {
			// A is k×m: op(A)[i][p] = a[p*lda+i], rows contiguous per depth.
			if rows == mr && pp.packAT != nil {
				pp.packAT(d, a, lda, i, pc, kc)
				continue
			}
			if pp.packATPart != nil {
				pp.packATPart(d, a, lda, i, pc, kc, rows)
				continue
			}
			for q := 0; q < kc; q++ {
				dq := d[q*mr : q*mr+mr]
				copy(dq, a[(pc+q)*lda+i:(pc+q)*lda+i+rows])
				clear(dq[rows:])
			}
			continue
		}
		// A is m×k: op(A)[i][p] = a[i*lda+p].
		if rows == mr && pp.packAN != nil {
			// The slack after the panel is part of dst (see packBuf.ensure).
			pp.packAN(dst[ir*kc:], a, lda, i, pc, kc)
			continue
		}
		for r := 0; r < rows; r++ {
			s := a[(i+r)*lda+pc : (i+r)*lda+pc+kc]
			for q, v := range s {
				d[q*mr+r] = v
			}
		}
		for r := rows; r < mr; r++ {
			for q := 0; q < kc; q++ {
				d[q*mr+r] = 0
			}
		}
	}
}

// packB packs depths [pc, pc+kc) and columns [jc, jc+nc) of op(B) into
// micro-panels of nr columns: panel jr/nr holds element (pc+q, jc+jr+c) at
// dst[jr*kc + q*nr + c]. Columns past the block are zero.
func packB(dst []float32, g *gemmArgs, pp *gemmParams, pc, kc, jc, nc int) {
	b, ldb, nr := g.b, g.ldb, pp.nr
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		d := dst[jr*kc : jr*kc+nr*kc]
		j := jc + jr
		if !g.transB {
			// B is k×n: op(B)[p][j] = b[p*ldb+j], columns contiguous.
			if cols == nr && pp.packBN != nil {
				pp.packBN(d, b, ldb, j, pc, kc)
				continue
			}
			if pp.packBNPart != nil {
				pp.packBNPart(d, b, ldb, j, pc, kc, cols)
				continue
			}
			for q := 0; q < kc; q++ {
				dq := d[q*nr : q*nr+nr]
				copy(dq, b[(pc+q)*ldb+j:(pc+q)*ldb+j+cols])
				clear(dq[cols:])
			}
			continue
		}
		// B is n×k: op(B)[p][j] = b[j*ldb+p].
		if cols == nr && pp.packBT != nil {
			pp.packBT(d, b, ldb, j, pc, kc)
			continue
		}
		for c := 0; c < cols; c++ {
			s := b[(j+c)*ldb+pc : (j+c)*ldb+pc+kc]
			for q, v := range s {
				d[q*nr+c] = v
			}
		}
		for c := cols; c < nr; c++ {
			for q := 0; q < kc; q++ {
				d[q*nr+c] = 0
			}
		}
	}
}

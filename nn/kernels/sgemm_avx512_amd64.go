//go:build amd64 && !noasm

package kernels

// sgemmKernel12x32 is the AVX-512F micro-kernel. Its pure-Go meaning is
// sgemmKernelRef with mr = 12 and nr = 32 applied to n tiles stacked
// vertically: for t < n, the packed A panel at a[12·k·t:] times the packed
// B panel b gives the 12×32 tile of C at c[12·ldc·t:], each sum formed with
// one fused multiply-add per depth (p ascending) and stored as alpha*T if
// beta == ±0 (C not read), else alpha*T + beta*C (fused). k must be at
// least 1; each C tile must be a full 12×32 tile.
//
//go:noescape
func sgemmKernel12x32(k, n int, a, b, c *float32, ldc int, alpha, beta float32)

// kernelAVX512 adapts sgemmKernel12x32 to the microKernel signature.
func kernelAVX512(k, n int, a, b, c []float32, ldc int, alpha, beta float32) {
	if n <= 0 {
		return
	}
	_ = a[12*k*n-1]
	_ = b[32*k-1]
	_ = c[(12*n-1)*ldc+31]
	sgemmKernel12x32(k, n, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// sgemmEdge12x32 computes one edge tile: the first rows rows and cols
// columns (1 ≤ rows ≤ 12, 1 ≤ cols ≤ 32) of the 12×32 product of the packed
// A panel a and B panel b (k ≥ 1 depths), stored into C at c with row
// stride ldc exactly as sgemmKernel12x32 stores a full tile (the same
// fused multiply-adds, so an edge element has the bits of an interior
// one). Its pure-Go meaning is sgemmKernelRef on the full tile followed by
// copying the rows×cols corner into C. Columns and rows past the corner
// are neither read nor written (AVX-512 masked loads and stores).
//
//go:noescape
func sgemmEdge12x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int)

// edgeAVX512 adapts sgemmEdge12x32 to the edgeKernel signature.
func edgeAVX512(k, rows, cols int, a, b, c []float32, ldc int, alpha, beta float32) {
	if rows < 1 || rows > 12 || cols < 1 || cols > 32 || k < 1 {
		panic("kernels: bad AVX-512 edge tile")
	}
	_ = a[12*k-1]
	_ = b[32*k-1]
	_ = c[(rows-1)*ldc+cols-1]
	sgemmEdge12x32(k, &a[0], &b[0], &c[0], ldc, alpha, beta, rows, cols)
}

// packA12AVX512 packs 8·n8 depths of a 12-row micro-panel of a
// non-transposed A. Its pure-Go meaning, with a addressing element (i, pc)
// of A (stored m×k with row stride lda):
//
//	for q := 0; q < 8*n8; q++ {
//		for r := 0; r < 12; r++ {
//			d[q*12+r] = a[r*lda+q]
//		}
//	}
//
// and in addition it may write any values to d[96*n8 : 96*n8+4].
//
//go:noescape
func packA12AVX512(d, a *float32, lda, n8 int)

// packBT32AVX512 packs 8·n8 depths of a 32-column micro-panel of a
// transposed B. Its pure-Go meaning, with b addressing element (j, pc) of B
// (stored n×k with row stride ldb):
//
//	for q := 0; q < 8*n8; q++ {
//		for c := 0; c < 32; c++ {
//			d[q*32+c] = b[c*ldb+q]
//		}
//	}
//
//go:noescape
func packBT32AVX512(d, b *float32, ldb, n8 int)

// copyRows12AVX512 gathers n rows of 12 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[12*q:12*q+12], s[q*lds:q*lds+12])
//	}
//
//go:noescape
func copyRows12AVX512(d, s *float32, lds, n int)

// copyRows32AVX512 gathers n rows of 32 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[32*q:32*q+32], s[q*lds:q*lds+32])
//	}
//
//go:noescape
func copyRows32AVX512(d, s *float32, lds, n int)

// copyRows12MaskAVX512 gathers n rows of cols floats (1 ≤ cols ≤ 12),
// zero-padded to 12, with opmask loads. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[12*q:12*q+cols], s[q*lds:q*lds+cols])
//		clear(d[12*q+cols : 12*q+12])
//	}
//
//go:noescape
func copyRows12MaskAVX512(d, s *float32, lds, n, cols int)

// copyRows32MaskAVX512 gathers n rows of cols floats (1 ≤ cols ≤ 32),
// zero-padded to 32, with opmask loads. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[32*q:32*q+cols], s[q*lds:q*lds+cols])
//		clear(d[32*q+cols : 32*q+32])
//	}
//
//go:noescape
func copyRows32MaskAVX512(d, s *float32, lds, n, cols int)

// packA12TPart packs a partial micro-panel (rows < 12 rows) of a
// transposed A.
func packA12TPart(d, a []float32, lda, i, pc, kc, rows int) {
	if rows < 1 || rows > 12 {
		panic("kernels: bad partial A panel")
	}
	_ = d[12*kc-1]
	_ = a[(pc+kc-1)*lda+i+rows-1]
	copyRows12MaskAVX512(&d[0], &a[pc*lda+i], lda, kc, rows)
}

// packB32NPart packs a partial micro-panel (cols < 32 columns) of a
// non-transposed B.
func packB32NPart(d, b []float32, ldb, j, pc, kc, cols int) {
	if cols < 1 || cols > 32 {
		panic("kernels: bad partial B panel")
	}
	_ = d[32*kc-1]
	_ = b[(pc+kc-1)*ldb+j+cols-1]
	copyRows32MaskAVX512(&d[0], &b[pc*ldb+j], ldb, kc, cols)
}

// packA12N packs a full 12-row micro-panel of a non-transposed A:
// packA12AVX512 for whole groups of eight depths, Go for the rest. d has at
// least 4 elements of slack past 12·kc.
func packA12N(d, a []float32, lda, i, pc, kc int) {
	n8 := kc / 8
	if n8 > 0 {
		_ = d[96*n8+3]
		_ = a[(i+11)*lda+pc+8*n8-1]
		packA12AVX512(&d[0], &a[i*lda+pc], lda, n8)
	}
	for r := 0; r < 12; r++ {
		s := a[(i+r)*lda+pc+8*n8 : (i+r)*lda+pc+kc]
		for q, v := range s {
			d[(8*n8+q)*12+r] = v
		}
	}
}

// packA12T packs a full 12-row micro-panel of a transposed A.
func packA12T(d, a []float32, lda, i, pc, kc int) {
	_ = d[12*kc-1]
	_ = a[(pc+kc-1)*lda+i+11]
	copyRows12AVX512(&d[0], &a[pc*lda+i], lda, kc)
}

// packB32N packs a full 32-column micro-panel of a non-transposed B.
func packB32N(d, b []float32, ldb, j, pc, kc int) {
	_ = d[32*kc-1]
	_ = b[(pc+kc-1)*ldb+j+31]
	copyRows32AVX512(&d[0], &b[pc*ldb+j], ldb, kc)
}

// packB32T packs a full 32-column micro-panel of a transposed B:
// packBT32AVX512 for whole groups of eight depths, Go for the rest.
func packB32T(d, b []float32, ldb, j, pc, kc int) {
	d = d[:32*kc]
	n8 := kc / 8
	if n8 > 0 {
		_ = b[(j+31)*ldb+pc+8*n8-1]
		packBT32AVX512(&d[0], &b[j*ldb+pc], ldb, n8)
	}
	for c := 0; c < 32; c++ {
		s := b[(j+c)*ldb+pc+8*n8 : (j+c)*ldb+pc+kc]
		for q, v := range s {
			d[(8*n8+q)*32+c] = v
		}
	}
}

func init() {
	gemmTable[AVX512] = &gemmParams{
		mr:         12,
		nr:         32,
		mc:         144,
		kc:         256,
		nc:         3072,
		kern:       kernelAVX512,
		edge:       edgeAVX512,
		packAN:     packA12N,
		packAT:     packA12T,
		packBN:     packB32N,
		packBT:     packB32T,
		packATPart: packA12TPart,
		packBNPart: packB32NPart,
	}
}

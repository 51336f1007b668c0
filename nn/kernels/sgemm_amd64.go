//go:build amd64 && !noasm

package kernels

// sgemmKernel6x16 is the AVX2+FMA micro-kernel. Its pure-Go meaning is
// sgemmKernelRef with mr = 6 and nr = 16 applied to n tiles stacked
// vertically: for t < n, the packed A panel at a[6·k·t:] times the packed B
// panel b gives the 6×16 tile of C at c[6·ldc·t:], each sum formed with one
// fused multiply-add per depth (p ascending) and stored as alpha*T if
// beta == 0 (C not read), else alpha*T + beta*C (fused). k must be at least
// 1; each C tile must be a full 6×16 tile.
//
//go:noescape
func sgemmKernel6x16(k, n int, a, b, c *float32, ldc int, alpha, beta float32)

// kernelAVX2 adapts sgemmKernel6x16 to the microKernel signature.
func kernelAVX2(k, n int, a, b, c []float32, ldc int, alpha, beta float32) {
	if n <= 0 {
		return
	}
	_ = a[6*k*n-1]
	_ = b[16*k-1]
	_ = c[(6*n-1)*ldc+15]
	sgemmKernel6x16(k, n, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// packBT16AVX2 packs 8·n8 depths of a 16-column micro-panel of a transposed
// B. Its pure-Go meaning, with b addressing element (j, pc) of B (stored
// n×k with row stride ldb):
//
//	for q := 0; q < 8*n8; q++ {
//		for c := 0; c < 16; c++ {
//			d[q*16+c] = b[c*ldb+q]
//		}
//	}
//
//go:noescape
func packBT16AVX2(d, b *float32, ldb, n8 int)

// packBT16Asm implements packBT16 with packBT16AVX2 for whole groups of
// eight depths and Go for the rest.
func packBT16Asm(d, b []float32, ldb, j, pc, kc int) {
	d = d[:16*kc]
	n8 := kc / 8
	if n8 > 0 {
		_ = b[(j+15)*ldb+pc+8*n8-1]
		packBT16AVX2(&d[0], &b[j*ldb+pc], ldb, n8)
	}
	for c := 0; c < 16; c++ {
		s := b[(j+c)*ldb+pc+8*n8 : (j+c)*ldb+pc+kc]
		for q, v := range s {
			d[(8*n8+q)*16+c] = v
		}
	}
}

// packA6AVX2 packs 8·n8 depths of a 6-row micro-panel of a non-transposed
// A. Its pure-Go meaning, with a addressing element (i, pc) of A (stored
// m×k with row stride lda):
//
//	for q := 0; q < 8*n8; q++ {
//		for r := 0; r < 6; r++ {
//			d[q*6+r] = a[r*lda+q]
//		}
//	}
//
// and in addition it may write any values to d[48*n8] and d[48*n8+1].
//
//go:noescape
func packA6AVX2(d, a *float32, lda, n8 int)

// copyRows16AVX2 gathers n rows of 16 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[16*q:16*q+16], s[q*lds:q*lds+16])
//	}
//
//go:noescape
func copyRows16AVX2(d, s *float32, lds, n int)

// copyRows6AVX2 gathers n rows of 6 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[6*q:6*q+6], s[q*lds:q*lds+6])
//	}
//
//go:noescape
func copyRows6AVX2(d, s *float32, lds, n int)

// packA6NAsm implements packA6N: packA6AVX2 for whole groups of eight
// depths, Go for the rest. d has at least 2 elements of slack past 6·kc.
func packA6NAsm(d, a []float32, lda, i, pc, kc int) {
	n8 := kc / 8
	if n8 > 0 {
		_ = d[48*n8+1]
		_ = a[(i+5)*lda+pc+8*n8-1]
		packA6AVX2(&d[0], &a[i*lda+pc], lda, n8)
	}
	for r := 0; r < 6; r++ {
		s := a[(i+r)*lda+pc+8*n8 : (i+r)*lda+pc+kc]
		for q, v := range s {
			d[(8*n8+q)*6+r] = v
		}
	}
}

// packA6TAsm implements packA6T with copyRows6AVX2.
func packA6TAsm(d, a []float32, lda, i, pc, kc int) {
	_ = d[6*kc-1]
	_ = a[(pc+kc-1)*lda+i+5]
	copyRows6AVX2(&d[0], &a[pc*lda+i], lda, kc)
}

// packB16NAsm implements packB16N with copyRows16AVX2.
func packB16NAsm(d, b []float32, ldb, j, pc, kc int) {
	_ = d[16*kc-1]
	_ = b[(pc+kc-1)*ldb+j+15]
	copyRows16AVX2(&d[0], &b[pc*ldb+j], ldb, kc)
}

func init() {
	gemmTable[AVX2] = &gemmParams{
		mr:     6,
		nr:     16,
		mc:     144,
		kc:     256,
		nc:     3072,
		kern:   kernelAVX2,
		packAN: packA6NAsm,
		packAT: packA6TAsm,
		packBN: packB16NAsm,
		packBT: packBT16Asm,
	}
}

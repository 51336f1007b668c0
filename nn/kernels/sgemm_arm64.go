//go:build arm64 && !noasm

package kernels

// sgemmKernel8x12 is the NEON micro-kernel. Its pure-Go meaning is
// sgemmKernelRef with mr = 8 and nr = 12 applied to n tiles stacked
// vertically: for t < n, the packed A panel at a[8·k·t:] times the packed B
// panel b gives the 8×12 tile of C at c[8·ldc·t:], each sum formed with one
// fused multiply-add per depth (p ascending) and stored as alpha*T if
// beta == ±0 (C not read), else alpha*T + beta*C (fused). k and n must be
// at least 1; each C tile must be a full 8×12 tile.
//
// Per depth it loads five 4-float vectors (two of A, three of B) and issues
// 24 multiply-adds by lane (FMLA Vd.4S, Vn.4S, Vm.S[i]): 4.8 per load.
//
//go:noescape
func sgemmKernel8x12(k, n int, a, b, c *float32, ldc int, alpha, beta float32)

// kernelNEON adapts sgemmKernel8x12 to the microKernel signature.
func kernelNEON(k, n int, a, b, c []float32, ldc int, alpha, beta float32) {
	if n <= 0 || k <= 0 {
		return
	}
	_ = a[8*k*n-1]
	_ = b[12*k-1]
	_ = c[(8*n-1)*ldc+11]
	sgemmKernel8x12(k, n, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// packA8NEON packs 4·n4 depths of an 8-row micro-panel of a
// non-transposed A, transposing 4×4 blocks in registers. Its pure-Go
// meaning, with a addressing element (i, pc) of A (stored m×k with row
// stride lda):
//
//	for q := 0; q < 4*n4; q++ {
//		for r := 0; r < 8; r++ {
//			d[q*8+r] = a[r*lda+q]
//		}
//	}
//
//go:noescape
func packA8NEON(d, a *float32, lda, n4 int)

// packB12TNEON packs 4·n4 depths of a 12-column micro-panel of a
// transposed B. Its pure-Go meaning, with b addressing element (j, pc) of
// B (stored n×k with row stride ldb):
//
//	for q := 0; q < 4*n4; q++ {
//		for c := 0; c < 12; c++ {
//			d[q*12+c] = b[c*ldb+q]
//		}
//	}
//
//go:noescape
func packB12TNEON(d, b *float32, ldb, n4 int)

// copyRows8NEON gathers n rows of 8 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[8*q:8*q+8], s[q*lds:q*lds+8])
//	}
//
//go:noescape
func copyRows8NEON(d, s *float32, lds, n int)

// copyRows12NEON gathers n rows of 12 floats. Its pure-Go meaning is
//
//	for q := 0; q < n; q++ {
//		copy(d[12*q:12*q+12], s[q*lds:q*lds+12])
//	}
//
//go:noescape
func copyRows12NEON(d, s *float32, lds, n int)

// packA8T packs a full 8-row micro-panel of a transposed A (stored k×m).
func packA8T(d, a []float32, lda, i, pc, kc int) {
	_ = d[8*kc-1]
	_ = a[(pc+kc-1)*lda+i+7]
	copyRows8NEON(&d[0], &a[pc*lda+i], lda, kc)
}

// packB12N packs a full 12-column micro-panel of a non-transposed B
// (stored k×n).
func packB12N(d, b []float32, ldb, j, pc, kc int) {
	_ = d[12*kc-1]
	_ = b[(pc+kc-1)*ldb+j+11]
	copyRows12NEON(&d[0], &b[pc*ldb+j], ldb, kc)
}

// packA8N packs a full 8-row micro-panel of a non-transposed A:
// packA8NEON for whole groups of four depths, Go for the rest.
func packA8N(d, a []float32, lda, i, pc, kc int) {
	d = d[:8*kc]
	n4 := kc / 4
	if n4 > 0 {
		_ = a[(i+7)*lda+pc+4*n4-1]
		packA8NEON(&d[0], &a[i*lda+pc], lda, n4)
	}
	for r := 0; r < 8; r++ {
		s := a[(i+r)*lda+pc+4*n4 : (i+r)*lda+pc+kc]
		for q, v := range s {
			d[(4*n4+q)*8+r] = v
		}
	}
}

// packB12T packs a full 12-column micro-panel of a transposed B:
// packB12TNEON for whole groups of four depths, Go for the rest.
func packB12T(d, b []float32, ldb, j, pc, kc int) {
	d = d[:12*kc]
	n4 := kc / 4
	if n4 > 0 {
		_ = b[(j+11)*ldb+pc+4*n4-1]
		packB12TNEON(&d[0], &b[j*ldb+pc], ldb, n4)
	}
	for c := 0; c < 12; c++ {
		s := b[(j+c)*ldb+pc+4*n4 : (j+c)*ldb+pc+kc]
		for q, v := range s {
			d[(4*n4+q)*12+c] = v
		}
	}
}

func init() {
	// Blocks sized for a Cortex-A72/A76 class core: a 12-column B
	// micro-panel of depth 256 (12 KiB) and an 8-row A micro-panel (8 KiB)
	// share a 32 KiB L1; the 128×256 A block (128 KiB) stays in L2; the
	// 256×768 B block (768 KiB) fits a 1 MiB shared L2 (Raspberry Pi 4).
	gemmTable[NEON] = &gemmParams{
		mr:     8,
		nr:     12,
		mc:     128,
		kc:     256,
		nc:     768,
		kern:   kernelNEON,
		packAN: packA8N,
		packAT: packA8T,
		packBN: packB12N,
		packBT: packB12T,
	}
}

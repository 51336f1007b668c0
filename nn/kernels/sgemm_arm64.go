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

func init() {
	// Blocks sized for a Cortex-A72/A76 class core: a 12-column B
	// micro-panel of depth 256 (12 KiB) and an 8-row A micro-panel (8 KiB)
	// share a 32 KiB L1; the 128×256 A block (128 KiB) stays in L2; the
	// 256×768 B block (768 KiB) fits a 1 MiB shared L2 (Raspberry Pi 4).
	gemmTable[NEON] = &gemmParams{
		mr:   8,
		nr:   12,
		mc:   128,
		kc:   256,
		nc:   768,
		kern: kernelNEON,
	}
}

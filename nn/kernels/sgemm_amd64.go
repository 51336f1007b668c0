//go:build amd64 && !noasm

package kernels

// sgemmKernel6x16 is the AVX2+FMA micro-kernel. Its pure-Go meaning is
// sgemmKernelGeneric with mr = 6 and nr = 16: with the packed panels a (k
// steps of 6 values) and b (k steps of 16 values), it forms the 6×16 tile
// T = Σ_p a[6p+i]·b[16p+j] (one fused multiply-add per step, p ascending) and
// stores c[i*ldc+j] = alpha*T[i][j] if beta == 0, else
// alpha*T[i][j] + beta*c[i*ldc+j] (fused), for i < 6, j < 16.
// k must be at least 1. c must address a full 6×16 tile.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kernelAVX2 adapts sgemmKernel6x16 to the microKernel signature (k ≥ 1).
func kernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[6*k-1]
	_ = b[16*k-1]
	_ = c[5*ldc+15]
	sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
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

func init() {
	packBT16 = packBT16Asm
	avx2Params = &gemmParams{
		mr:   6,
		nr:   16,
		mc:   144,
		kc:   256,
		nc:   3072,
		kern: kernelAVX2,
	}
}

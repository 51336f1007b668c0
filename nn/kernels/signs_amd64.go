//go:build amd64 && !noasm

package kernels

// signFillAVX2 writes 32·n floats: for i < 32·n, dst[i] has the bits of mag
// with the sign bit set to bit i%32 of words[i/32]. mag's sign bit must be
// clear.
//
//go:noescape
func signFillAVX2(dst *float32, words *uint32, n int, mag uint32)

func signFillAsm(dst []float32, words []uint32, mag uint32) {
	if n := len(dst) / 32; n > 0 {
		_ = words[n-1]
		signFillAVX2(&dst[0], &words[0], n, mag)
		dst, words = dst[32*n:], words[n:]
	}
	signFillGeneric(dst, words, mag)
}

package kernels

import (
	"fmt"
	"math"
)

// SignFill writes ±mag into dst, the sign of dst[i] taken from bit i%32 of
// words[i/32] (a set bit gives −|mag|): the expansion of random bits into a
// Rademacher matrix. words must hold at least ⌈len(dst)/32⌉ words.
func SignFill(dst []float32, words []uint32, mag float32) {
	if len(words)*32 < len(dst) {
		panic(fmt.Sprintf("kernels: SignFill has %d words for %d values", len(words), len(dst)))
	}
	m := math.Float32bits(mag) &^ (1 << 31)
	if ewAsm() {
		signFillAsm(dst, words, m)
		return
	}
	signFillGeneric(dst, words, m)
}

func signFillGeneric(dst []float32, words []uint32, mag uint32) {
	for i := range dst {
		dst[i] = math.Float32frombits(mag | (words[i/32]>>uint(i%32)&1)<<31)
	}
}

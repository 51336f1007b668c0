//go:build arm64 && !noasm

package kernels

// haveAsmNEON reports that the NEON (arm64 Advanced SIMD) assembly is built
// in.
const haveAsmNEON = true

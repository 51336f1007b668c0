// Package kernels holds the hand-written compute kernels of the framework:
// float32 GEMM, convolution helpers and element-wise operations, each with a
// Go assembly implementation for AVX-512 and/or AVX2+FMA and a pure-Go
// fallback, selected once at start-up from cpuid.
//
// Every kernel works on plain []float32 slices in row-major order. Kernels
// never allocate and never start goroutines per call: parallel kernels use the
// package's persistent worker pool (see SetThreads).
//
// The path can be forced with the SPAD_KERNELS environment variable
// (generic, avx2 or avx512) or, at build time, with the noasm build tag.
package kernels

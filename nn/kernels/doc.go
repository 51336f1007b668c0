// Package kernels holds the hand-written compute kernels of the framework:
// float32 GEMM, convolution helpers and element-wise operations, each with
// Go assembly implementations and a pure-Go fallback, selected once at
// start-up from cpuid.
//
// Every kernel works on plain []float32 slices in row-major order. Kernels
// never allocate and never start goroutines per call: every parallel kernel
// (GEMM, direct convolution, the large element-wise and pooling passes,
// Split and Parallel2) runs on the package's one team of persistent
// workers (team.go, SetThreads). The team serves one job at a time; a
// caller that finds it busy runs its job on its own goroutine rather than
// wait, so concurrent callers never deadlock, and a job is divided by a
// rule that depends only on its size and the thread count.
//
// # Paths
//
// A Path is a family of implementations: generic (pure Go, everywhere),
// avx2 (AVX2+FMA), avx512 (AVX-512F) and neon (arm64). Best picks the
// fastest path the CPU and build can run; SetPath, or the SPAD_KERNELS
// environment variable (generic, avx2, avx512, neon), forces one, and the
// noasm build tag leaves only the generic path. Each path's kernels are
// found in per-path tables indexed by the active path (gemmTable for the
// GEMM micro-kernel, its tile sizes, cache blocks and packing routines;
// convTable for the direct convolution's tile kernels and their vector
// width), so selecting a path runs that path's kernels:
//
//   - avx512: a 12×32 GEMM micro-kernel (24 zmm accumulators) whose edge
//     tiles are computed straight into C with opmask loads and stores (the
//     same arithmetic as an interior tile), opmask packing of partial
//     panels, and direct convolution tiles on 16-float vectors (4 channels
//     × 6 vectors forward and for the data gradient, 4 channels × 6 lowered
//     rows for the filter gradient); output rows that are not a whole
//     number of 16-float vectors run the AVX2 tiles (8-float vectors, no
//     scalar tails). Adam runs on 16 lanes with opmask tails, giving the
//     AVX2 kernel's bits; the other element-wise and pooling kernels are
//     the AVX2 ones.
//   - avx2: a 6×16 GEMM micro-kernel and direct convolution tiles on
//     8-float vectors.
//   - neon: an 8×12 GEMM micro-kernel (24 accumulators of four floats,
//     multiply-adds by lane), the element-wise kernels of the training
//     step (bias, ReLU and its masks, Adam, Axpy, Scale, column sums) and
//     direct convolution tiles on 4-float vectors (4 channels × 6 vectors
//     forward and for the data gradient, 4 channels × 6 lowered rows for
//     the filter gradient) for output rows of a multiple of 8 floats; other
//     convolutions run on the lowered path (im2col and the NEON GEMM).
//
// Every assembly routine is documented by its pure-Go meaning, and the
// tests run each kernel on every path the machine has against it. Pure-Go
// code is named by one rule: a name ending in Generic is the implementation
// the generic path runs (and the meaning of the assembly routines of the
// same name), a name ending in Ref is a reference that only defines a
// meaning for the tests (convFwdTileRef, sgemmKernelRef and the like). Results
// are deterministic for a given path: the same inputs give the same bits
// whatever the number of threads (different paths may round differently).
package kernels

//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512F tile kernels of the direct convolution path (see conv_direct.go),
// on 16-float vectors: forward tiles of four channels by six or four
// vectors (24 or 16 zmm accumulators), filter-gradient tiles of four
// channels by six lowered rows, and the AVX2 path's 4×3 and 2×6 filter
// tiles widened to 16 floats for layers with fewer rows.

// ZERO_ACC16 clears the twelve accumulators Z0..Z11.
#define ZERO_ACC16 \
	VPXORD Z0, Z0, Z0    \
	VPXORD Z1, Z1, Z1    \
	VPXORD Z2, Z2, Z2    \
	VPXORD Z3, Z3, Z3    \
	VPXORD Z4, Z4, Z4    \
	VPXORD Z5, Z5, Z5    \
	VPXORD Z6, Z6, Z6    \
	VPXORD Z7, Z7, Z7    \
	VPXORD Z8, Z8, Z8    \
	VPXORD Z9, Z9, Z9    \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11

// ADD_SUM16 adds the float at src to the float at dst.
#define ADD_SUM16(src, dst) \
	VMOVSS src, X1         \
	VADDSS dst, X1, X1     \
	VMOVSS X1, dst

// FLT_STEP16 adds one 16-position vector (at byte offset o) to the filter
// tile: x windows at SI plus R8, R9, R10 (scaled), four output-gradient
// rows at DI, DI+R11, DI+2·R11, DI+R12; accumulators Z0..Z11.
#define FLT_STEP16(o) \
	VMOVUPS     o(SI)(R8*4), Z12   \
	VMOVUPS     o(SI)(R9*4), Z13   \
	VMOVUPS     o(SI)(R10*4), Z14  \
	VMOVUPS     o(DI), Z15         \
	VFMADD231PS Z12, Z15, Z0       \
	VFMADD231PS Z13, Z15, Z1       \
	VFMADD231PS Z14, Z15, Z2       \
	VMOVUPS     o(DI)(R11*1), Z15  \
	VFMADD231PS Z12, Z15, Z3       \
	VFMADD231PS Z13, Z15, Z4       \
	VFMADD231PS Z14, Z15, Z5       \
	VMOVUPS     o(DI)(R11*2), Z15  \
	VFMADD231PS Z12, Z15, Z6       \
	VFMADD231PS Z13, Z15, Z7       \
	VFMADD231PS Z14, Z15, Z8       \
	VMOVUPS     o(DI)(R12*1), Z15  \
	VFMADD231PS Z12, Z15, Z9       \
	VFMADD231PS Z13, Z15, Z10      \
	VFMADD231PS Z14, Z15, Z11


// FWD_TAP6 adds one filter tap to the forward tile of four channels by six
// vectors: the tap's offset at o(DX), its four filter values at
// w0..w3(SI), the six input vectors at R8..R13 plus the offset;
// accumulators Z0..Z23 (channel i, vector v in Z(6i+v)).
#define FWD_TAP6(o, w0, w1, w2, w3) \
	MOVLQSX      o(DX), BX          \
	VMOVUPS      (R8)(BX*4), Z24    \
	VMOVUPS      (R9)(BX*4), Z25    \
	VMOVUPS      (R10)(BX*4), Z26   \
	VMOVUPS      (R11)(BX*4), Z27   \
	VMOVUPS      (R12)(BX*4), Z28   \
	VMOVUPS      (R13)(BX*4), Z29   \
	VBROADCASTSS w0(SI), Z30        \
	VFMADD231PS  Z24, Z30, Z0       \
	VFMADD231PS  Z25, Z30, Z1       \
	VFMADD231PS  Z26, Z30, Z2       \
	VFMADD231PS  Z27, Z30, Z3       \
	VFMADD231PS  Z28, Z30, Z4       \
	VFMADD231PS  Z29, Z30, Z5       \
	VBROADCASTSS w1(SI), Z31        \
	VFMADD231PS  Z24, Z31, Z6       \
	VFMADD231PS  Z25, Z31, Z7       \
	VFMADD231PS  Z26, Z31, Z8       \
	VFMADD231PS  Z27, Z31, Z9       \
	VFMADD231PS  Z28, Z31, Z10      \
	VFMADD231PS  Z29, Z31, Z11      \
	VBROADCASTSS w2(SI), Z30        \
	VFMADD231PS  Z24, Z30, Z12      \
	VFMADD231PS  Z25, Z30, Z13      \
	VFMADD231PS  Z26, Z30, Z14      \
	VFMADD231PS  Z27, Z30, Z15      \
	VFMADD231PS  Z28, Z30, Z16      \
	VFMADD231PS  Z29, Z30, Z17      \
	VBROADCASTSS w3(SI), Z31        \
	VFMADD231PS  Z24, Z31, Z18      \
	VFMADD231PS  Z25, Z31, Z19      \
	VFMADD231PS  Z26, Z31, Z20      \
	VFMADD231PS  Z27, Z31, Z21      \
	VFMADD231PS  Z28, Z31, Z22      \
	VFMADD231PS  Z29, Z31, Z23

// YPTRS sets R8..R13 to the six output vectors of channel 0: y_base plus
// 4·yv[v] (yv at AX); it clobbers BX and CX.
#define YPTRS \
	MOVQ y_base+112(FP), CX   \
	MOVQ 0(AX), BX            \
	LEAQ (CX)(BX*4), R8       \
	MOVQ 8(AX), BX            \
	LEAQ (CX)(BX*4), R9       \
	MOVQ 16(AX), BX           \
	LEAQ (CX)(BX*4), R10      \
	MOVQ 24(AX), BX           \
	LEAQ (CX)(BX*4), R11      \
	MOVQ 32(AX), BX           \
	LEAQ (CX)(BX*4), R12      \
	MOVQ 40(AX), BX           \
	LEAQ (CX)(BX*4), R13

// NEXTCH steps R8..R13 by one channel (DI bytes).
#define NEXTCH \
	ADDQ DI, R8  \
	ADDQ DI, R9  \
	ADDQ DI, R10 \
	ADDQ DI, R11 \
	ADDQ DI, R12 \
	ADDQ DI, R13

// LOADCH loads one channel's six output vectors into z0..z5.
#define LOADCH(z0, z1, z2, z3, z4, z5) \
	VMOVUPS (R8), z0  \
	VMOVUPS (R9), z1  \
	VMOVUPS (R10), z2 \
	VMOVUPS (R11), z3 \
	VMOVUPS (R12), z4 \
	VMOVUPS (R13), z5

// STORECH stores z0..z5 to one channel's six output vectors.
#define STORECH(z0, z1, z2, z3, z4, z5) \
	VMOVUPS z0, (R8)  \
	VMOVUPS z1, (R9)  \
	VMOVUPS z2, (R10) \
	VMOVUPS z3, (R11) \
	VMOVUPS z4, (R12) \
	VMOVUPS z5, (R13)

// BIASCH fills z0..z5 with the bias at off(AX).
#define BIASCH(off, z0, z1, z2, z3, z4, z5) \
	VBROADCASTSS off(AX), z0 \
	VMOVAPS      z0, z1      \
	VMOVAPS      z0, z2      \
	VMOVAPS      z0, z3      \
	VMOVAPS      z0, z4      \
	VMOVAPS      z0, z5

// func convFwdTile6AVX512(k int, w, offs, x []float32, xv *[6]int, bias, y []float32, yv *[6]int, ldy int, acc bool)
TEXT ·convFwdTile6AVX512(SB), NOSPLIT, $0-153
	MOVQ    ldy+144(FP), DI
	SHLQ    $2, DI
	MOVBQZX acc+152(FP), AX
	TESTQ   AX, AX
	JNZ     f6_load
	MOVQ    bias_base+88(FP), AX
	BIASCH(0, Z0, Z1, Z2, Z3, Z4, Z5)
	BIASCH(4, Z6, Z7, Z8, Z9, Z10, Z11)
	BIASCH(8, Z12, Z13, Z14, Z15, Z16, Z17)
	BIASCH(12, Z18, Z19, Z20, Z21, Z22, Z23)
	JMP     f6_start

f6_load:
	MOVQ yv+136(FP), AX
	YPTRS
	LOADCH(Z0, Z1, Z2, Z3, Z4, Z5)
	NEXTCH
	LOADCH(Z6, Z7, Z8, Z9, Z10, Z11)
	NEXTCH
	LOADCH(Z12, Z13, Z14, Z15, Z16, Z17)
	NEXTCH
	LOADCH(Z18, Z19, Z20, Z21, Z22, Z23)

f6_start:
	// R8..R13 address the six input vectors (x_base + 4·xv[v]).
	MOVQ x_base+56(FP), CX
	MOVQ xv+80(FP), AX
	MOVQ 0(AX), BX
	LEAQ (CX)(BX*4), R8
	MOVQ 8(AX), BX
	LEAQ (CX)(BX*4), R9
	MOVQ 16(AX), BX
	LEAQ (CX)(BX*4), R10
	MOVQ 24(AX), BX
	LEAQ (CX)(BX*4), R11
	MOVQ 32(AX), BX
	LEAQ (CX)(BX*4), R12
	MOVQ 40(AX), BX
	LEAQ (CX)(BX*4), R13
	MOVQ k+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ offs_base+32(FP), DX

	// Two filter taps per iteration, then the odd one out.
	MOVQ CX, AX
	SHRQ $1, AX
	JZ   f6_tail

f6_loop2:
	FWD_TAP6(0, 0, 4, 8, 12)
	FWD_TAP6(4, 16, 20, 24, 28)
	ADDQ $32, SI
	ADDQ $8, DX
	DECQ AX
	JNZ  f6_loop2

f6_tail:
	ANDQ $1, CX
	JZ   f6_store
	FWD_TAP6(0, 0, 4, 8, 12)

f6_store:
	MOVQ yv+136(FP), AX
	YPTRS
	STORECH(Z0, Z1, Z2, Z3, Z4, Z5)
	NEXTCH
	STORECH(Z6, Z7, Z8, Z9, Z10, Z11)
	NEXTCH
	STORECH(Z12, Z13, Z14, Z15, Z16, Z17)
	NEXTCH
	STORECH(Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// FWD_TAP4 is FWD_TAP6 for a tile of four channels by four vectors: input
// vectors at R8..R11, accumulators Z0..Z15 (channel i, vector v in
// Z(4i+v)).
#define FWD_TAP4(o, w0, w1, w2, w3) \
	MOVLQSX      o(DX), BX \
	VMOVUPS      (R8)(BX*4), Z24 \
	VMOVUPS      (R9)(BX*4), Z25 \
	VMOVUPS      (R10)(BX*4), Z26 \
	VMOVUPS      (R11)(BX*4), Z27 \
	VBROADCASTSS w0(SI), Z30 \
	VFMADD231PS  Z24, Z30, Z0 \
	VFMADD231PS  Z25, Z30, Z1 \
	VFMADD231PS  Z26, Z30, Z2 \
	VFMADD231PS  Z27, Z30, Z3 \
	VBROADCASTSS w1(SI), Z31 \
	VFMADD231PS  Z24, Z31, Z4 \
	VFMADD231PS  Z25, Z31, Z5 \
	VFMADD231PS  Z26, Z31, Z6 \
	VFMADD231PS  Z27, Z31, Z7 \
	VBROADCASTSS w2(SI), Z30 \
	VFMADD231PS  Z24, Z30, Z8 \
	VFMADD231PS  Z25, Z30, Z9 \
	VFMADD231PS  Z26, Z30, Z10 \
	VFMADD231PS  Z27, Z30, Z11 \
	VBROADCASTSS w3(SI), Z31 \
	VFMADD231PS  Z24, Z31, Z12 \
	VFMADD231PS  Z25, Z31, Z13 \
	VFMADD231PS  Z26, Z31, Z14 \
	VFMADD231PS  Z27, Z31, Z15

// YPTRS4 sets R8..R11 to the four output vectors of channel 0: y_base plus
// 4·yv[v] (yv at AX); it clobbers BX and CX.
#define YPTRS4 \
	MOVQ y_base+112(FP), CX \
	MOVQ 0(AX), BX          \
	LEAQ (CX)(BX*4), R8     \
	MOVQ 8(AX), BX          \
	LEAQ (CX)(BX*4), R9     \
	MOVQ 16(AX), BX         \
	LEAQ (CX)(BX*4), R10    \
	MOVQ 24(AX), BX         \
	LEAQ (CX)(BX*4), R11

// NEXTCH4 steps R8..R11 by one channel (DI bytes).
#define NEXTCH4 \
	ADDQ DI, R8  \
	ADDQ DI, R9  \
	ADDQ DI, R10 \
	ADDQ DI, R11

// LOADCH4 loads one channel's four output vectors into z0..z3.
#define LOADCH4(z0, z1, z2, z3) \
	VMOVUPS (R8), z0  \
	VMOVUPS (R9), z1  \
	VMOVUPS (R10), z2 \
	VMOVUPS (R11), z3

// STORECH4 stores z0..z3 to one channel's four output vectors.
#define STORECH4(z0, z1, z2, z3) \
	VMOVUPS z0, (R8)  \
	VMOVUPS z1, (R9)  \
	VMOVUPS z2, (R10) \
	VMOVUPS z3, (R11)

// BIASCH4 fills z0..z3 with the bias at off(AX).
#define BIASCH4(off, z0, z1, z2, z3) \
	VBROADCASTSS off(AX), z0 \
	VMOVAPS      z0, z1      \
	VMOVAPS      z0, z2      \
	VMOVAPS      z0, z3

// func convFwdTile4AVX512(k int, w, offs, x []float32, xv *[6]int, bias, y []float32, yv *[6]int, ldy int, acc bool)
TEXT ·convFwdTile4AVX512(SB), NOSPLIT, $0-153
	MOVQ    ldy+144(FP), DI
	SHLQ    $2, DI
	MOVBQZX acc+152(FP), AX
	TESTQ   AX, AX
	JNZ     f4_load
	MOVQ    bias_base+88(FP), AX
	BIASCH4(0, Z0, Z1, Z2, Z3)
	BIASCH4(4, Z4, Z5, Z6, Z7)
	BIASCH4(8, Z8, Z9, Z10, Z11)
	BIASCH4(12, Z12, Z13, Z14, Z15)
	JMP     f4_start

f4_load:
	MOVQ yv+136(FP), AX
	YPTRS4
	LOADCH4(Z0, Z1, Z2, Z3)
	NEXTCH4
	LOADCH4(Z4, Z5, Z6, Z7)
	NEXTCH4
	LOADCH4(Z8, Z9, Z10, Z11)
	NEXTCH4
	LOADCH4(Z12, Z13, Z14, Z15)

f4_start:
	// R8..R11 address the four input vectors (x_base + 4·xv[v]).
	MOVQ x_base+56(FP), CX
	MOVQ xv+80(FP), AX
	MOVQ 0(AX), BX
	LEAQ (CX)(BX*4), R8
	MOVQ 8(AX), BX
	LEAQ (CX)(BX*4), R9
	MOVQ 16(AX), BX
	LEAQ (CX)(BX*4), R10
	MOVQ 24(AX), BX
	LEAQ (CX)(BX*4), R11
	MOVQ k+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ offs_base+32(FP), DX

	// Two filter taps per iteration, then the odd one out.
	MOVQ CX, AX
	SHRQ $1, AX
	JZ   f4_tail

f4_loop2:
	FWD_TAP4(0, 0, 4, 8, 12)
	FWD_TAP4(4, 16, 20, 24, 28)
	ADDQ $32, SI
	ADDQ $8, DX
	DECQ AX
	JNZ  f4_loop2

f4_tail:
	ANDQ $1, CX
	JZ   f4_store
	FWD_TAP4(0, 0, 4, 8, 12)

f4_store:
	MOVQ yv+136(FP), AX
	YPTRS4
	STORECH4(Z0, Z1, Z2, Z3)
	NEXTCH4
	STORECH4(Z4, Z5, Z6, Z7)
	NEXTCH4
	STORECH4(Z8, Z9, Z10, Z11)
	NEXTCH4
	STORECH4(Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// func convFilterTile26AVX512(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)
TEXT ·convFilterTile26AVX512(SB), NOSPLIT, $0-152
	MOVQ x_base+8(FP), SI
	MOVQ dy_base+64(FP), DI
	MOVQ offs_base+32(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ 32(AX), R12
	MOVQ 40(AX), R13
	MOVQ ldk+88(FP), AX
	SHLQ $2, AX
	MOVQ ns+0(FP), BX
	ZERO_ACC16

f26_sample:
	MOVQ rows+104(FP), DX

f26_row:
	MOVQ nv+112(FP), CX

f26_vec:
	VMOVUPS (DI), Z12
	VMOVUPS (DI)(AX*1), Z13
	VMOVUPS     (SI)(R8*4), Z14
	VFMADD231PS Z14, Z12, Z0
	VFMADD231PS Z14, Z13, Z6
	VMOVUPS     (SI)(R9*4), Z14
	VFMADD231PS Z14, Z12, Z1
	VFMADD231PS Z14, Z13, Z7
	VMOVUPS     (SI)(R10*4), Z14
	VFMADD231PS Z14, Z12, Z2
	VFMADD231PS Z14, Z13, Z8
	VMOVUPS     (SI)(R11*4), Z14
	VFMADD231PS Z14, Z12, Z3
	VFMADD231PS Z14, Z13, Z9
	VMOVUPS     (SI)(R12*4), Z14
	VFMADD231PS Z14, Z12, Z4
	VFMADD231PS Z14, Z13, Z10
	VMOVUPS     (SI)(R13*4), Z14
	VFMADD231PS Z14, Z12, Z5
	VFMADD231PS Z14, Z13, Z11
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  f26_vec
	MOVQ rowgap+120(FP), CX
	LEAQ (SI)(CX*4), SI
	DECQ DX
	JNZ  f26_row
	MOVQ xjump+56(FP), CX
	LEAQ (SI)(CX*4), SI
	MOVQ djump+96(FP), CX
	LEAQ (DI)(CX*4), DI
	DECQ BX
	JNZ  f26_sample

	MOVQ out_base+128(FP), DI
	VEXTRACTF64X4 $1, Z0, Y12
	VADDPS        Y12, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y12
	VADDPS        Y12, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y12
	VADDPS        Y12, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y12
	VADDPS        Y12, Y3, Y3
	VEXTRACTF64X4 $1, Z4, Y12
	VADDPS        Y12, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y12
	VADDPS        Y12, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y12
	VADDPS        Y12, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y12
	VADDPS        Y12, Y7, Y7
	VEXTRACTF64X4 $1, Z8, Y12
	VADDPS        Y12, Y8, Y8
	VEXTRACTF64X4 $1, Z9, Y12
	VADDPS        Y12, Y9, Y9
	VEXTRACTF64X4 $1, Z10, Y12
	VADDPS        Y12, Y10, Y10
	VEXTRACTF64X4 $1, Z11, Y12
	VADDPS        Y12, Y11, Y11
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, 0(DI)
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	VMOVUPS      X4, 16(DI)
	VHADDPS      Y9, Y8, Y8
	VHADDPS      Y11, Y10, Y10
	VHADDPS      Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS       X9, X8, X8
	VMOVUPS      X8, 32(DI)
	VZEROUPPER
	RET

// func convFilterTilesAVX512(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)
TEXT ·convFilterTilesAVX512(SB), NOSPLIT, $56-168
	MOVQ   offs_base+40(FP), R14 // the current tile's three offsets (int32)
	MOVQ   dw_base+136(FP), R15  // dw at the current tile's first channel and row
	MOVQ   nt+64(FP), AX
	MOVQ   AX, cnt-56(SP)
	MOVQ   ldk+104(FP), R11
	SHLQ   $2, R11               // dy row stride in bytes
	LEAQ   (R11)(R11*2), R12     // 3 rows
	MOVQ   wp+128(FP), R13
	MOVQ   nv+120(FP), DX
	SHLQ   $4, DX
	SUBQ   DX, R13
	SHLQ   $2, R13               // bytes from the end of an x row to the next

mtile:
	MOVLQSX 0(R14), R8
	MOVLQSX 4(R14), R9
	MOVLQSX 8(R14), R10
	MOVQ    x_base+8(FP), AX     // current sample of x
	MOVQ    dy_base+72(FP), DI   // current position of dy (row i = 0)
	MOVQ    ns+0(FP), BX
	ZERO_ACC16

mflt_sample:
	MOVQ AX, SI
	MOVQ rows+112(FP), DX

mflt_row:
	// Two vectors per iteration, then the odd one out.
	MOVQ nv+120(FP), CX
	SHRQ $1, CX
	JZ   mflt_vec_tail

mflt_vec2:
	FLT_STEP16(0)
	FLT_STEP16(64)
	ADDQ        $128, SI
	ADDQ        $128, DI
	DECQ        CX
	JNZ         mflt_vec2

mflt_vec_tail:
	MOVQ nv+120(FP), CX
	ANDQ $1, CX
	JZ   mflt_row_end
	FLT_STEP16(0)
	ADDQ        $64, SI
	ADDQ        $64, DI

mflt_row_end:
	ADDQ        R13, SI
	DECQ        DX
	JNZ         mflt_row

	// DI advanced over the whole sample (ldk bytes): move to the next one.
	MOVQ dys+96(FP), CX
	SHLQ $2, CX
	ADDQ CX, DI
	SUBQ R11, DI
	MOVQ xs+32(FP), CX
	LEAQ (AX)(CX*4), AX
	DECQ BX
	JNZ  mflt_sample

	VEXTRACTF64X4 $1, Z0, Y12
	VADDPS        Y12, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y12
	VADDPS        Y12, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y12
	VADDPS        Y12, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y12
	VADDPS        Y12, Y3, Y3
	VEXTRACTF64X4 $1, Z4, Y12
	VADDPS        Y12, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y12
	VADDPS        Y12, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y12
	VADDPS        Y12, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y12
	VADDPS        Y12, Y7, Y7
	VEXTRACTF64X4 $1, Z8, Y12
	VADDPS        Y12, Y8, Y8
	VEXTRACTF64X4 $1, Z9, Y12
	VADDPS        Y12, Y9, Y9
	VEXTRACTF64X4 $1, Z10, Y12
	VADDPS        Y12, Y10, Y10
	VEXTRACTF64X4 $1, Z11, Y12
	VADDPS        Y12, Y11, Y11
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	VHADDPS      Y9, Y8, Y8
	VHADDPS      Y11, Y10, Y10
	VHADDPS      Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS       X9, X8, X8
	// The twelve sums, channel-major, to the stack; each is added to its
	// element of dw (no wider store: the neighbours may belong to another
	// thread's tiles).
	VMOVUPS X0, o-48(SP)
	VMOVUPS X4, o-32(SP)
	VMOVUPS X8, o-16(SP)
	MOVQ    ldw+160(FP), CX
	SHLQ    $2, CX
	LEAQ    (CX)(CX*2), DX
	ADD_SUM16(o-48(SP), (R15))
	ADD_SUM16(o-44(SP), 4(R15))
	ADD_SUM16(o-40(SP), 8(R15))
	ADD_SUM16(o-36(SP), (R15)(CX*1))
	ADD_SUM16(o-32(SP), 4(R15)(CX*1))
	ADD_SUM16(o-28(SP), 8(R15)(CX*1))
	ADD_SUM16(o-24(SP), (R15)(CX*2))
	ADD_SUM16(o-20(SP), 4(R15)(CX*2))
	ADD_SUM16(o-16(SP), 8(R15)(CX*2))
	ADD_SUM16(o-12(SP), (R15)(DX*1))
	ADD_SUM16(o-8(SP), 4(R15)(DX*1))
	ADD_SUM16(o-4(SP), 8(R15)(DX*1))
	ADDQ $12, R14
	ADDQ $12, R15
	DECQ cnt-56(SP)
	JNZ  mtile
	VZEROUPPER
	RET

// FLT6_CH multiplies one output-gradient vector (loaded from src into zd)
// by the six x vectors Z24..Z29 into the accumulators a0..a5.
#define FLT6_CH(src, zd, a0, a1, a2, a3, a4, a5) \
	VMOVUPS     src, zd      \
	VFMADD231PS Z24, zd, a0  \
	VFMADD231PS Z25, zd, a1  \
	VFMADD231PS Z26, zd, a2  \
	VFMADD231PS Z27, zd, a3  \
	VFMADD231PS Z28, zd, a4  \
	VFMADD231PS Z29, zd, a5

// FLT6_STEP adds one 16-position vector (at byte offset o) to the 4×6
// filter tile: x windows at SI plus R8, R9, R10, BX, DX, R13 (scaled),
// four output-gradient rows at DI, DI+R11, DI+2·R11, DI+R12; accumulators
// Z0..Z23 (channel i, row j in Z(6i+j)).
#define FLT6_STEP(o) \
	VMOVUPS o(SI)(R8*4), Z24                                    \
	VMOVUPS o(SI)(R9*4), Z25                                    \
	VMOVUPS o(SI)(R10*4), Z26                                   \
	VMOVUPS o(SI)(BX*4), Z27                                    \
	VMOVUPS o(SI)(DX*4), Z28                                    \
	VMOVUPS o(SI)(R13*4), Z29                                   \
	FLT6_CH(o(DI), Z30, Z0, Z1, Z2, Z3, Z4, Z5)                 \
	FLT6_CH(o(DI)(R11*1), Z31, Z6, Z7, Z8, Z9, Z10, Z11)        \
	FLT6_CH(o(DI)(R11*2), Z30, Z12, Z13, Z14, Z15, Z16, Z17)    \
	FLT6_CH(o(DI)(R12*1), Z31, Z18, Z19, Z20, Z21, Z22, Z23)

// FOLD adds the upper 8 partial sums of z onto its lower 8 (the upper
// lanes of z are left holding junk).
#define FOLD(z) \
	VEXTRACTF64X4 $1, z, Y24 \
	VADDPS        Z24, z, z

// SUM4 reduces the eight-lane sums in the ymm registers a, b, c, d to four
// floats stored at dst, as the AVX2 kernels do (xa, xb: the xmm views of a
// and b).
#define SUM4(a, b, c, d, xa, xb, dst) \
	VHADDPS      b, a, a     \
	VHADDPS      d, c, c     \
	VHADDPS      c, a, a     \
	VEXTRACTF128 $1, a, xb   \
	VADDPS       xb, xa, xa  \
	VMOVUPS      xa, dst

// ADD6 adds the six sums at src..src+20 to the row at dst (stride 4).
#define ADD6(s, dst) \
	VMOVSS s+0(SP), X1      \
	VADDSS 0(dst), X1, X1   \
	VMOVSS X1, 0(dst)       \
	VMOVSS s+4(SP), X1      \
	VADDSS 4(dst), X1, X1   \
	VMOVSS X1, 4(dst)       \
	VMOVSS s+8(SP), X1      \
	VADDSS 8(dst), X1, X1   \
	VMOVSS X1, 8(dst)       \
	VMOVSS s+12(SP), X1     \
	VADDSS 12(dst), X1, X1  \
	VMOVSS X1, 12(dst)      \
	VMOVSS s+16(SP), X1     \
	VADDSS 16(dst), X1, X1  \
	VMOVSS X1, 16(dst)      \
	VMOVSS s+20(SP), X1     \
	VADDSS 20(dst), X1, X1  \
	VMOVSS X1, 20(dst)

// func convFilterTiles6AVX512(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)
TEXT ·convFilterTiles6AVX512(SB), NOSPLIT, $128-168
	MOVQ offs_base+40(FP), R14 // the current tile's six offsets (int32)
	MOVQ dw_base+136(FP), R15  // dw at the current tile's first channel and row
	MOVQ nt+64(FP), AX
	MOVQ AX, cnt-104(SP)
	MOVQ ldk+104(FP), R11
	SHLQ $2, R11               // dy row stride in bytes
	LEAQ (R11)(R11*2), R12     // 3 rows
	MOVQ wp+128(FP), AX
	MOVQ nv+120(FP), CX
	SHLQ $4, CX
	SUBQ CX, AX
	SHLQ $2, AX
	MOVQ AX, gap-128(SP)       // bytes from the end of an x row to the next

m6tile:
	MOVLQSX 0(R14), R8
	MOVLQSX 4(R14), R9
	MOVLQSX 8(R14), R10
	MOVLQSX 12(R14), BX
	MOVLQSX 16(R14), DX
	MOVLQSX 20(R14), R13
	MOVQ    x_base+8(FP), AX   // current sample of x
	MOVQ    dy_base+72(FP), DI // current position of dy (row i = 0)
	MOVQ    ns+0(FP), CX
	MOVQ    CX, nsmp-120(SP)
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7
	VPXORD  Z8, Z8, Z8
	VPXORD  Z9, Z9, Z9
	VPXORD  Z10, Z10, Z10
	VPXORD  Z11, Z11, Z11
	VPXORD  Z12, Z12, Z12
	VPXORD  Z13, Z13, Z13
	VPXORD  Z14, Z14, Z14
	VPXORD  Z15, Z15, Z15
	VPXORD  Z16, Z16, Z16
	VPXORD  Z17, Z17, Z17
	VPXORD  Z18, Z18, Z18
	VPXORD  Z19, Z19, Z19
	VPXORD  Z20, Z20, Z20
	VPXORD  Z21, Z21, Z21
	VPXORD  Z22, Z22, Z22
	VPXORD  Z23, Z23, Z23

m6sample:
	MOVQ AX, SI
	MOVQ rows+112(FP), CX
	MOVQ CX, nrow-112(SP)

m6row:
	MOVQ nv+120(FP), CX

m6vec:
	FLT6_STEP(0)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  m6vec
	ADDQ gap-128(SP), SI
	DECQ nrow-112(SP)
	JNZ  m6row

	// DI advanced over the whole sample (ldk bytes): move to the next one.
	MOVQ dys+96(FP), CX
	SHLQ $2, CX
	ADDQ CX, DI
	SUBQ R11, DI
	MOVQ xs+32(FP), CX
	LEAQ (AX)(CX*4), AX
	DECQ nsmp-120(SP)
	JNZ  m6sample

	FOLD(Z0)
	FOLD(Z1)
	FOLD(Z2)
	FOLD(Z3)
	FOLD(Z4)
	FOLD(Z5)
	FOLD(Z6)
	FOLD(Z7)
	FOLD(Z8)
	FOLD(Z9)
	FOLD(Z10)
	FOLD(Z11)
	FOLD(Z12)
	FOLD(Z13)
	FOLD(Z14)
	FOLD(Z15)
	FOLD(Z16)
	FOLD(Z17)
	FOLD(Z18)
	FOLD(Z19)
	FOLD(Z20)
	FOLD(Z21)
	FOLD(Z22)
	FOLD(Z23)
	// The 24 sums, channel-major, to the stack (VHADDPS reaches only
	// Y0..Y15: the second half moves down first); each is then added to
	// its element of dw (no wider store: the neighbours may belong to
	// another thread's tiles).
	SUM4(Y0, Y1, Y2, Y3, X0, X1, o-96(SP))
	SUM4(Y4, Y5, Y6, Y7, X4, X5, o-80(SP))
	SUM4(Y8, Y9, Y10, Y11, X8, X9, o-64(SP))
	VMOVAPS Z12, Z0
	VMOVAPS Z13, Z1
	VMOVAPS Z14, Z2
	VMOVAPS Z15, Z3
	VMOVAPS Z16, Z4
	VMOVAPS Z17, Z5
	VMOVAPS Z18, Z6
	VMOVAPS Z19, Z7
	VMOVAPS Z20, Z8
	VMOVAPS Z21, Z9
	VMOVAPS Z22, Z10
	VMOVAPS Z23, Z11
	SUM4(Y0, Y1, Y2, Y3, X0, X1, o-48(SP))
	SUM4(Y4, Y5, Y6, Y7, X4, X5, o-32(SP))
	SUM4(Y8, Y9, Y10, Y11, X8, X9, o-16(SP))
	MOVQ ldw+160(FP), CX
	SHLQ $2, CX
	MOVQ R15, DX
	ADD6(o-96, DX)
	ADDQ CX, DX
	ADD6(o-72, DX)
	ADDQ CX, DX
	ADD6(o-48, DX)
	ADDQ CX, DX
	ADD6(o-24, DX)
	ADDQ $24, R14
	ADDQ $24, R15
	DECQ cnt-104(SP)
	JNZ  m6tile
	VZEROUPPER
	RET

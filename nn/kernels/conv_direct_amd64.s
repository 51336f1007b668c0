//go:build amd64 && !noasm

#include "textflag.h"

// Tile kernels of the direct convolution path (see conv_direct.go).

// FWD_TAP adds one filter tap to the forward tile: the tap's offset at
// o(DX), its four filter values at w0..w3(SI), the three input vectors at
// R9, R10, R11 plus the offset; accumulators Y0..Y11 (channel-major).
#define FWD_TAP(o, w0, w1, w2, w3) \
	MOVLQSX      o(DX), BX         \
	VMOVUPS      (R9)(BX*4), Y12   \
	VMOVUPS      (R10)(BX*4), Y13  \
	VMOVUPS      (R11)(BX*4), Y14  \
	VBROADCASTSS w0(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y0      \
	VFMADD231PS  Y13, Y15, Y1      \
	VFMADD231PS  Y14, Y15, Y2      \
	VBROADCASTSS w1(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y3      \
	VFMADD231PS  Y13, Y15, Y4      \
	VFMADD231PS  Y14, Y15, Y5      \
	VBROADCASTSS w2(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y6      \
	VFMADD231PS  Y13, Y15, Y7      \
	VFMADD231PS  Y14, Y15, Y8      \
	VBROADCASTSS w3(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y9      \
	VFMADD231PS  Y13, Y15, Y10     \
	VFMADD231PS  Y14, Y15, Y11

// ZERO_ACC clears the twelve accumulators Y0..Y11.
#define ZERO_ACC \
	VXORPS Y0, Y0, Y0    \
	VXORPS Y1, Y1, Y1    \
	VXORPS Y2, Y2, Y2    \
	VXORPS Y3, Y3, Y3    \
	VXORPS Y4, Y4, Y4    \
	VXORPS Y5, Y5, Y5    \
	VXORPS Y6, Y6, Y6    \
	VXORPS Y7, Y7, Y7    \
	VXORPS Y8, Y8, Y8    \
	VXORPS Y9, Y9, Y9    \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

// ADD_SUM adds the float at src to the float at dst.
#define ADD_SUM(src, dst) \
	VMOVSS src, X1         \
	VADDSS dst, X1, X1     \
	VMOVSS X1, dst

// FLT_STEP adds one 8-position vector (at byte offset o) to the filter
// tile: x windows at SI plus R8, R9, R10 (scaled), four output-gradient
// rows at DI, DI+R11, DI+2·R11, DI+R12; accumulators Y0..Y11.
#define FLT_STEP(o) \
	VMOVUPS     o(SI)(R8*4), Y12   \
	VMOVUPS     o(SI)(R9*4), Y13   \
	VMOVUPS     o(SI)(R10*4), Y14  \
	VMOVUPS     o(DI), Y15         \
	VFMADD231PS Y12, Y15, Y0       \
	VFMADD231PS Y13, Y15, Y1       \
	VFMADD231PS Y14, Y15, Y2       \
	VMOVUPS     o(DI)(R11*1), Y15  \
	VFMADD231PS Y12, Y15, Y3       \
	VFMADD231PS Y13, Y15, Y4       \
	VFMADD231PS Y14, Y15, Y5       \
	VMOVUPS     o(DI)(R11*2), Y15  \
	VFMADD231PS Y12, Y15, Y6       \
	VFMADD231PS Y13, Y15, Y7       \
	VFMADD231PS Y14, Y15, Y8       \
	VMOVUPS     o(DI)(R12*1), Y15  \
	VFMADD231PS Y12, Y15, Y9       \
	VFMADD231PS Y13, Y15, Y10      \
	VFMADD231PS Y14, Y15, Y11


// func convFwdTileAVX2(k int, w, offs, x []float32, x0, x1, x2 int, bias, y []float32, y0, y1, y2, ldy int, acc bool)
TEXT ·convFwdTileAVX2(SB), NOSPLIT, $0-185
	MOVQ k+0(FP), CX
	MOVQ w_base+8(FP), SI
	MOVQ offs_base+32(FP), DX
	MOVQ x_base+56(FP), R8
	MOVQ x0+80(FP), AX
	LEAQ (R8)(AX*4), R9
	MOVQ x1+88(FP), AX
	LEAQ (R8)(AX*4), R10
	MOVQ x2+96(FP), AX
	LEAQ (R8)(AX*4), R11
	MOVBQZX acc+184(FP), AX
	TESTQ   AX, AX
	JNZ     fwd_load
	MOVQ bias_base+104(FP), AX
	VBROADCASTSS 0(AX), Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VBROADCASTSS 4(AX), Y3
	VMOVAPS      Y3, Y4
	VMOVAPS      Y3, Y5
	VBROADCASTSS 8(AX), Y6
	VMOVAPS      Y6, Y7
	VMOVAPS      Y6, Y8
	VBROADCASTSS 12(AX), Y9
	VMOVAPS      Y9, Y10
	VMOVAPS      Y9, Y11
	JMP fwd_loop

fwd_load:
	MOVQ y_base+128(FP), R8
	MOVQ y0+152(FP), AX
	LEAQ (R8)(AX*4), DI
	MOVQ y1+160(FP), AX
	LEAQ (R8)(AX*4), R12
	MOVQ y2+168(FP), AX
	LEAQ (R8)(AX*4), R13
	MOVQ ldy+176(FP), AX
	SHLQ $2, AX
	VMOVUPS (DI), Y0
	VMOVUPS (R12), Y1
	VMOVUPS (R13), Y2
	ADDQ    AX, DI
	ADDQ    AX, R12
	ADDQ    AX, R13
	VMOVUPS (DI), Y3
	VMOVUPS (R12), Y4
	VMOVUPS (R13), Y5
	ADDQ    AX, DI
	ADDQ    AX, R12
	ADDQ    AX, R13
	VMOVUPS (DI), Y6
	VMOVUPS (R12), Y7
	VMOVUPS (R13), Y8
	ADDQ    AX, DI
	ADDQ    AX, R12
	ADDQ    AX, R13
	VMOVUPS (DI), Y9
	VMOVUPS (R12), Y10
	VMOVUPS (R13), Y11

fwd_loop:
	// Two filter taps per iteration, then the odd one out.
	MOVQ CX, AX
	SHRQ $1, AX
	JZ   fwd_tail

fwd_loop2:
	FWD_TAP(0, 0, 4, 8, 12)
	FWD_TAP(4, 16, 20, 24, 28)
	ADDQ $32, SI
	ADDQ $8, DX
	DECQ AX
	JNZ  fwd_loop2

fwd_tail:
	ANDQ $1, CX
	JZ   fwd_store
	FWD_TAP(0, 0, 4, 8, 12)

fwd_store:

	MOVQ y_base+128(FP), R8
	MOVQ y0+152(FP), AX
	LEAQ (R8)(AX*4), R9
	MOVQ y1+160(FP), AX
	LEAQ (R8)(AX*4), R10
	MOVQ y2+168(FP), AX
	LEAQ (R8)(AX*4), R11
	MOVQ ldy+176(FP), AX
	SHLQ $2, AX
	VMOVUPS Y0, (R9)
	VMOVUPS Y1, (R10)
	VMOVUPS Y2, (R11)
	ADDQ    AX, R9
	ADDQ    AX, R10
	ADDQ    AX, R11
	VMOVUPS Y3, (R9)
	VMOVUPS Y4, (R10)
	VMOVUPS Y5, (R11)
	ADDQ    AX, R9
	ADDQ    AX, R10
	ADDQ    AX, R11
	VMOVUPS Y6, (R9)
	VMOVUPS Y7, (R10)
	VMOVUPS Y8, (R11)
	ADDQ    AX, R9
	ADDQ    AX, R10
	ADDQ    AX, R11
	VMOVUPS Y9, (R9)
	VMOVUPS Y10, (R10)
	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET

// func convFilterTile26AVX2(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)
TEXT ·convFilterTile26AVX2(SB), NOSPLIT, $0-152
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
	ZERO_ACC

f26_sample:
	MOVQ rows+104(FP), DX

f26_row:
	MOVQ nv+112(FP), CX

f26_vec:
	VMOVUPS (DI), Y12
	VMOVUPS (DI)(AX*1), Y13
	VMOVUPS     (SI)(R8*4), Y14
	VFMADD231PS Y14, Y12, Y0
	VFMADD231PS Y14, Y13, Y6
	VMOVUPS     (SI)(R9*4), Y14
	VFMADD231PS Y14, Y12, Y1
	VFMADD231PS Y14, Y13, Y7
	VMOVUPS     (SI)(R10*4), Y14
	VFMADD231PS Y14, Y12, Y2
	VFMADD231PS Y14, Y13, Y8
	VMOVUPS     (SI)(R11*4), Y14
	VFMADD231PS Y14, Y12, Y3
	VFMADD231PS Y14, Y13, Y9
	VMOVUPS     (SI)(R12*4), Y14
	VFMADD231PS Y14, Y12, Y4
	VFMADD231PS Y14, Y13, Y10
	VMOVUPS     (SI)(R13*4), Y14
	VFMADD231PS Y14, Y12, Y5
	VFMADD231PS Y14, Y13, Y11
	ADDQ $32, SI
	ADDQ $32, DI
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

// func convFilterTilesAVX2(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)
TEXT ·convFilterTilesAVX2(SB), NOSPLIT, $56-168
	MOVQ   offs_base+40(FP), R14 // the current tile's three offsets (int32)
	MOVQ   dw_base+136(FP), R15  // dw at the current tile's first channel and row
	MOVQ   nt+64(FP), AX
	MOVQ   AX, cnt-56(SP)
	MOVQ   ldk+104(FP), R11
	SHLQ   $2, R11               // dy row stride in bytes
	LEAQ   (R11)(R11*2), R12     // 3 rows
	MOVQ   wp+128(FP), R13
	MOVQ   nv+120(FP), DX
	SHLQ   $3, DX
	SUBQ   DX, R13
	SHLQ   $2, R13               // bytes from the end of an x row to the next

mtile:
	MOVLQSX 0(R14), R8
	MOVLQSX 4(R14), R9
	MOVLQSX 8(R14), R10
	MOVQ    x_base+8(FP), AX     // current sample of x
	MOVQ    dy_base+72(FP), DI   // current position of dy (row i = 0)
	MOVQ    ns+0(FP), BX
	ZERO_ACC

mflt_sample:
	MOVQ AX, SI
	MOVQ rows+112(FP), DX

mflt_row:
	// Two vectors per iteration, then the odd one out.
	MOVQ nv+120(FP), CX
	SHRQ $1, CX
	JZ   mflt_vec_tail

mflt_vec2:
	FLT_STEP(0)
	FLT_STEP(32)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNZ         mflt_vec2

mflt_vec_tail:
	MOVQ nv+120(FP), CX
	ANDQ $1, CX
	JZ   mflt_row_end
	FLT_STEP(0)
	ADDQ        $32, SI
	ADDQ        $32, DI

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
	ADD_SUM(o-48(SP), (R15))
	ADD_SUM(o-44(SP), 4(R15))
	ADD_SUM(o-40(SP), 8(R15))
	ADD_SUM(o-36(SP), (R15)(CX*1))
	ADD_SUM(o-32(SP), 4(R15)(CX*1))
	ADD_SUM(o-28(SP), 8(R15)(CX*1))
	ADD_SUM(o-24(SP), (R15)(CX*2))
	ADD_SUM(o-20(SP), 4(R15)(CX*2))
	ADD_SUM(o-16(SP), 8(R15)(CX*2))
	ADD_SUM(o-12(SP), (R15)(DX*1))
	ADD_SUM(o-8(SP), 4(R15)(DX*1))
	ADD_SUM(o-4(SP), 8(R15)(DX*1))
	ADDQ $12, R14
	ADDQ $12, R15
	DECQ cnt-56(SP)
	JNZ  mtile
	VZEROUPPER
	RET

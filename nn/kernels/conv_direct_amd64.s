//go:build amd64 && !noasm

#include "textflag.h"

// Tile kernels of the direct convolution path (see conv_direct.go).

// func convFwdTileAVX2(k int, w, offs, x []float32, x0, x1, x2 int, bias, y []float32, y0, y1, y2, ldy int)
TEXT ·convFwdTileAVX2(SB), NOSPLIT, $0-184
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

fwd_loop:
	MOVLQSX (DX), BX
	VMOVUPS (R9)(BX*4), Y12
	VMOVUPS (R10)(BX*4), Y13
	VMOVUPS (R11)(BX*4), Y14
	VBROADCASTSS 0(SI), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS 8(SI), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ $16, SI
	ADDQ $4, DX
	DECQ CX
	JNZ  fwd_loop

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

// func convFilterTileAVX2(ns int, x []float32, xs, o0, o1, o2 int, dy []float32, dys, ldk, rows, nv, wp int, out []float32)
TEXT ·convFilterTileAVX2(SB), NOSPLIT, $0-152
	MOVQ   x_base+8(FP), AX   // current sample of x
	MOVQ   dy_base+64(FP), DI // current position of dy (row i = 0)
	MOVQ   o0+40(FP), R8
	MOVQ   o1+48(FP), R9
	MOVQ   o2+56(FP), R10
	MOVQ   ldk+96(FP), R11
	SHLQ   $2, R11            // dy row stride in bytes
	LEAQ   (R11)(R11*2), R12  // 3 rows
	MOVQ   wp+120(FP), R13
	MOVQ   nv+112(FP), DX
	SHLQ   $3, DX
	SUBQ   DX, R13
	SHLQ   $2, R13            // bytes from the end of an x row to the next
	MOVQ   ns+0(FP), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

flt_sample:
	MOVQ AX, SI
	MOVQ rows+104(FP), DX

flt_row:
	MOVQ nv+112(FP), CX

flt_vec:
	VMOVUPS     (SI)(R8*4), Y12
	VMOVUPS     (SI)(R9*4), Y13
	VMOVUPS     (SI)(R10*4), Y14
	VMOVUPS     (DI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (DI)(R11*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (DI)(R11*2), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (DI)(R12*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         flt_vec
	ADDQ        R13, SI
	DECQ        DX
	JNZ         flt_row

	// DI advanced over the whole sample (ldk bytes): move to the next one.
	MOVQ dys+88(FP), CX
	SHLQ $2, CX
	ADDQ CX, DI
	SUBQ R11, DI
	MOVQ xs+32(FP), CX
	LEAQ (AX)(CX*4), AX
	DECQ BX
	JNZ  flt_sample

	MOVQ         out_base+128(FP), DI
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
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

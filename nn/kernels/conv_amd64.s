//go:build amd64 && !noasm

#include "textflag.h"

// convMask<>: eight all-ones words then eight zero words. Loading 8 words
// at word offset 8-r gives a VMASKMOVPS mask enabling the first r lanes.
DATA convMask<>+0(SB)/4, $0xffffffff
DATA convMask<>+4(SB)/4, $0xffffffff
DATA convMask<>+8(SB)/4, $0xffffffff
DATA convMask<>+12(SB)/4, $0xffffffff
DATA convMask<>+16(SB)/4, $0xffffffff
DATA convMask<>+20(SB)/4, $0xffffffff
DATA convMask<>+24(SB)/4, $0xffffffff
DATA convMask<>+28(SB)/4, $0xffffffff
DATA convMask<>+32(SB)/4, $0
DATA convMask<>+36(SB)/4, $0
DATA convMask<>+40(SB)/4, $0
DATA convMask<>+44(SB)/4, $0
DATA convMask<>+48(SB)/4, $0
DATA convMask<>+52(SB)/4, $0
DATA convMask<>+56(SB)/4, $0
DATA convMask<>+60(SB)/4, $0
GLOBL convMask<>(SB), RODATA|NOPTR, $64

// func convCopyRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int)
TEXT ·convCopyRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ rows+48(FP), CX
	MOVQ cols+56(FP), DX
	MOVQ dstStride+64(FP), R8
	MOVQ srcStride+72(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9
	TESTQ CX, CX
	JLE  cr_done
	CMPQ DX, $8
	JL   cr_small
	LEAQ -32(DX*4), R10 // byte offset of the last full vector of a row

cr_row:
	XORQ AX, AX
	MOVQ DX, BX

cr_loop32:
	CMPQ    BX, $32
	JL      cr_loop8
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VMOVUPS 64(SI)(AX*1), Y2
	VMOVUPS 96(SI)(AX*1), Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, BX
	JMP     cr_loop32

cr_loop8:
	CMPQ    BX, $8
	JL      cr_tail
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, BX
	JMP     cr_loop8

cr_tail:
	// The remainder is copied by one vector ending at the end of the row;
	// it rewrites some already copied elements with the same values.
	TESTQ   BX, BX
	JZ      cr_next
	VMOVUPS (SI)(R10*1), Y0
	VMOVUPS Y0, (DI)(R10*1)

cr_next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  cr_row
	VZEROUPPER

cr_done:
	RET

cr_small:
	LEAQ    convMask<>(SB), R11
	MOVQ    $8, R10
	SUBQ    DX, R10
	VMOVUPS (R11)(R10*4), Y15

cr_small_row:
	VMASKMOVPS (SI), Y15, Y0
	VMASKMOVPS Y0, Y15, (DI)
	ADDQ       R8, DI
	ADDQ       R9, SI
	DECQ       CX
	JNZ        cr_small_row
	VZEROUPPER
	RET

// func convAddRowsAVX2(dst, src []float32, rows, cols, dstStride, srcStride int)
TEXT ·convAddRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ rows+48(FP), CX
	MOVQ cols+56(FP), DX
	MOVQ dstStride+64(FP), R8
	MOVQ srcStride+72(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9
	TESTQ CX, CX
	JLE  ar_done
	MOVQ DX, R10
	ANDQ $7, R10 // remainder
	MOVQ DX, R13
	SUBQ R10, R13 // full-vector part
	LEAQ convMask<>(SB), R11
	MOVQ $8, R12
	SUBQ R10, R12
	VMOVUPS (R11)(R12*4), Y15

ar_row:
	XORQ AX, AX
	MOVQ R13, BX

ar_loop32:
	CMPQ    BX, $32
	JL      ar_loop8
	VMOVUPS (DI)(AX*1), Y0
	VMOVUPS 32(DI)(AX*1), Y1
	VMOVUPS 64(DI)(AX*1), Y2
	VMOVUPS 96(DI)(AX*1), Y3
	VADDPS  (SI)(AX*1), Y0, Y0
	VADDPS  32(SI)(AX*1), Y1, Y1
	VADDPS  64(SI)(AX*1), Y2, Y2
	VADDPS  96(SI)(AX*1), Y3, Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, BX
	JMP     ar_loop32

ar_loop8:
	CMPQ    BX, $8
	JL      ar_tail
	VMOVUPS (DI)(AX*1), Y0
	VADDPS  (SI)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, BX
	JMP     ar_loop8

ar_tail:
	TESTQ      R10, R10
	JZ         ar_next
	VMASKMOVPS (SI)(AX*1), Y15, Y0
	VMASKMOVPS (DI)(AX*1), Y15, Y1
	VADDPS     Y0, Y1, Y1
	VMASKMOVPS Y1, Y15, (DI)(AX*1)

ar_next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  ar_row
	VZEROUPPER

ar_done:
	RET

// func convAddConstAVX2(dst, src []float32, b float32)
TEXT ·convAddConstAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), DX
	VBROADCASTSS b+48(FP), Y8
	XORQ         AX, AX

ac_loop32:
	CMPQ    DX, $32
	JL      ac_loop8
	VADDPS  (SI)(AX*1), Y8, Y0
	VADDPS  32(SI)(AX*1), Y8, Y1
	VADDPS  64(SI)(AX*1), Y8, Y2
	VADDPS  96(SI)(AX*1), Y8, Y3
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	VMOVUPS Y2, 64(DI)(AX*1)
	VMOVUPS Y3, 96(DI)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, DX
	JMP     ac_loop32

ac_loop8:
	CMPQ    DX, $8
	JL      ac_tail
	VADDPS  (SI)(AX*1), Y8, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, DX
	JMP     ac_loop8

ac_tail:
	TESTQ      DX, DX
	JZ         ac_done
	LEAQ       convMask<>(SB), R11
	MOVQ       $8, R12
	SUBQ       DX, R12
	VMOVUPS    (R11)(R12*4), Y15
	VMASKMOVPS (SI)(AX*1), Y15, Y0
	VADDPS     Y0, Y8, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*1)

ac_done:
	VZEROUPPER
	RET

// func convSum32AVX2(x []float32) float32
TEXT ·convSum32AVX2(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

sm_loop32:
	CMPQ   DX, $32
	JL     sm_loop8
	VADDPS (SI)(AX*1), Y0, Y0
	VADDPS 32(SI)(AX*1), Y1, Y1
	VADDPS 64(SI)(AX*1), Y2, Y2
	VADDPS 96(SI)(AX*1), Y3, Y3
	ADDQ   $128, AX
	SUBQ   $32, DX
	JMP    sm_loop32

sm_loop8:
	CMPQ   DX, $8
	JL     sm_tail
	VADDPS (SI)(AX*1), Y0, Y0
	ADDQ   $32, AX
	SUBQ   $8, DX
	JMP    sm_loop8

sm_tail:
	TESTQ      DX, DX
	JZ         sm_reduce
	LEAQ       convMask<>(SB), R11
	MOVQ       $8, R12
	SUBQ       DX, R12
	VMOVUPS    (R11)(R12*4), Y15
	VMASKMOVPS (SI)(AX*1), Y15, Y4
	VADDPS     Y4, Y1, Y1

sm_reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

//go:build amd64 && !noasm

#include "textflag.h"

DATA avgQuarter<>+0(SB)/4, $0.25
GLOBL avgQuarter<>(SB), RODATA|NOPTR, $4

// func avgPool2FwdAVX2(x, y []float32, rows, n8, w, ow int)
TEXT ·avgPool2FwdAVX2(SB), NOSPLIT, $0-80
	MOVQ         x_base+0(FP), SI
	MOVQ         y_base+24(FP), DI
	MOVQ         rows+48(FP), CX
	MOVQ         n8+56(FP), DX
	MOVQ         w+64(FP), R8
	MOVQ         ow+72(FP), R9
	SHLQ         $2, R8 // input row stride in bytes
	SHLQ         $2, R9 // output row stride in bytes
	VBROADCASTSS avgQuarter<>(SB), Y8
	TESTQ        CX, CX
	JLE          apf_done
	TESTQ        DX, DX
	JLE          apf_done

apf_row:
	MOVQ SI, R10       // row 2r
	LEAQ (SI)(R8*1), R11 // row 2r+1
	MOVQ DI, R12
	MOVQ DX, BX

apf_vec:
	VMOVUPS  (R10), Y0
	VMOVUPS  32(R10), Y1
	VADDPS   (R11), Y0, Y0
	VADDPS   32(R11), Y1, Y1
	VHADDPS  Y1, Y0, Y2 // [a01 a23 b01 b23 | a45 a67 b45 b67]
	VPERMPD  $0xD8, Y2, Y2
	VMULPS   Y8, Y2, Y2
	VMOVUPS  Y2, (R12)
	ADDQ     $64, R10
	ADDQ     $64, R11
	ADDQ     $32, R12
	DECQ     BX
	JNZ      apf_vec
	LEAQ     (SI)(R8*2), SI
	ADDQ     R9, DI
	DECQ     CX
	JNZ      apf_row
	VZEROUPPER

apf_done:
	RET

// func avgPool2BwdAVX2(dy, dx []float32, rows, n8, w, ow int)
TEXT ·avgPool2BwdAVX2(SB), NOSPLIT, $0-80
	MOVQ         dy_base+0(FP), SI
	MOVQ         dx_base+24(FP), DI
	MOVQ         rows+48(FP), CX
	MOVQ         n8+56(FP), DX
	MOVQ         w+64(FP), R8
	MOVQ         ow+72(FP), R9
	SHLQ         $2, R8
	SHLQ         $2, R9
	VBROADCASTSS avgQuarter<>(SB), Y8
	TESTQ        CX, CX
	JLE          apb_done
	TESTQ        DX, DX
	JLE          apb_done

apb_row:
	MOVQ SI, R12
	MOVQ DI, R10
	LEAQ (DI)(R8*1), R11
	MOVQ DX, BX

apb_vec:
	VMULPS     (R12), Y8, Y0
	VUNPCKLPS  Y0, Y0, Y1 // [d0 d0 d1 d1 | d4 d4 d5 d5]
	VUNPCKHPS  Y0, Y0, Y2 // [d2 d2 d3 d3 | d6 d6 d7 d7]
	VPERM2F128 $0x20, Y2, Y1, Y3
	VPERM2F128 $0x31, Y2, Y1, Y4
	VMOVUPS    Y3, (R10)
	VMOVUPS    Y4, 32(R10)
	VMOVUPS    Y3, (R11)
	VMOVUPS    Y4, 32(R11)
	ADDQ       $32, R12
	ADDQ       $64, R10
	ADDQ       $64, R11
	DECQ       BX
	JNZ        apb_vec
	ADDQ       R9, SI
	LEAQ       (DI)(R8*2), DI
	DECQ       CX
	JNZ        apb_row
	VZEROUPPER

apb_done:
	RET

//go:build amd64 && !noasm

#include "textflag.h"

// signShifts holds, for entry i of a 32-entry group, the left shift 31-i
// that moves bit i of a word to the sign bit.
DATA signShifts<>+0(SB)/4, $31
DATA signShifts<>+4(SB)/4, $30
DATA signShifts<>+8(SB)/4, $29
DATA signShifts<>+12(SB)/4, $28
DATA signShifts<>+16(SB)/4, $27
DATA signShifts<>+20(SB)/4, $26
DATA signShifts<>+24(SB)/4, $25
DATA signShifts<>+28(SB)/4, $24
DATA signShifts<>+32(SB)/4, $23
DATA signShifts<>+36(SB)/4, $22
DATA signShifts<>+40(SB)/4, $21
DATA signShifts<>+44(SB)/4, $20
DATA signShifts<>+48(SB)/4, $19
DATA signShifts<>+52(SB)/4, $18
DATA signShifts<>+56(SB)/4, $17
DATA signShifts<>+60(SB)/4, $16
DATA signShifts<>+64(SB)/4, $15
DATA signShifts<>+68(SB)/4, $14
DATA signShifts<>+72(SB)/4, $13
DATA signShifts<>+76(SB)/4, $12
DATA signShifts<>+80(SB)/4, $11
DATA signShifts<>+84(SB)/4, $10
DATA signShifts<>+88(SB)/4, $9
DATA signShifts<>+92(SB)/4, $8
DATA signShifts<>+96(SB)/4, $7
DATA signShifts<>+100(SB)/4, $6
DATA signShifts<>+104(SB)/4, $5
DATA signShifts<>+108(SB)/4, $4
DATA signShifts<>+112(SB)/4, $3
DATA signShifts<>+116(SB)/4, $2
DATA signShifts<>+120(SB)/4, $1
DATA signShifts<>+124(SB)/4, $0
GLOBL signShifts<>(SB), RODATA|NOPTR, $128


// func signFillAVX2(dst *float32, words *uint32, n int, mag uint32)
TEXT ·signFillAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         words+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         mag+24(FP), AX
	MOVL         AX, X6
	VPBROADCASTD X6, Y6
	MOVL         $0x80000000, AX
	MOVL         AX, X7
	VPBROADCASTD X7, Y7
	VMOVDQU      signShifts<>+0(SB), Y2
	VMOVDQU      signShifts<>+32(SB), Y3
	VMOVDQU      signShifts<>+64(SB), Y4
	VMOVDQU      signShifts<>+96(SB), Y5
	TESTQ        CX, CX
	JZ           sdone

sloop:
	VPBROADCASTD (SI), Y0
	VPSLLVD      Y2, Y0, Y1
	VPAND        Y7, Y1, Y1
	VPOR         Y6, Y1, Y1
	VMOVUPS      Y1, (DI)
	VPSLLVD      Y3, Y0, Y1
	VPAND        Y7, Y1, Y1
	VPOR         Y6, Y1, Y1
	VMOVUPS      Y1, 32(DI)
	VPSLLVD      Y4, Y0, Y1
	VPAND        Y7, Y1, Y1
	VPOR         Y6, Y1, Y1
	VMOVUPS      Y1, 64(DI)
	VPSLLVD      Y5, Y0, Y1
	VPAND        Y7, Y1, Y1
	VPOR         Y6, Y1, Y1
	VMOVUPS      Y1, 96(DI)
	ADDQ         $4, SI
	ADDQ         $128, DI
	DECQ         CX
	JNZ          sloop

sdone:
	VZEROUPPER
	RET

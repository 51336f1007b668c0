//go:build arm64 && !noasm

#include "textflag.h"

// NEON element-wise kernels; elementwise_arm64.go gives each one's meaning
// in Go. Vector floating-point arithmetic that Go's arm64 assembler does not
// spell is emitted as instruction words (A64 encodings, 4×float32; d, n, m
// are register numbers):
//
//	FADDV(d, n, m):  FADD  Vd.4S, Vn.4S, Vm.4S
//	FSUBV(d, n, m):  FSUB  Vd.4S, Vn.4S, Vm.4S   (Vn - Vm)
//	FMULV(d, n, m):  FMUL  Vd.4S, Vn.4S, Vm.4S
//	FDIVV(d, n, m):  FDIV  Vd.4S, Vn.4S, Vm.4S   (Vn / Vm)
//	FSQRTV(d, n):    FSQRT Vd.4S, Vn.4S
//	FCMGTZ(d, n):    FCMGT Vd.4S, Vn.4S, #0.0   (all ones where Vn > 0)
#define FADDV(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FSUBV(d, n, m) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMULV(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))
#define FDIVV(d, n, m) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d))
#define FSQRTV(d, n) WORD $(0x6EA1F800 | ((n)<<5) | (d))
#define FCMGTZ(d, n) WORD $(0x4EA0C800 | ((n)<<5) | (d))

// bitw<> holds eight vectors of bit weights: lane l of vector q is
// 1<<(4q+l), the bit of element 4q+l of a 32-element half of a mask word.

DATA bitw<>+0(SB)/4, $0x00000001
DATA bitw<>+4(SB)/4, $0x00000002
DATA bitw<>+8(SB)/4, $0x00000004
DATA bitw<>+12(SB)/4, $0x00000008
DATA bitw<>+16(SB)/4, $0x00000010
DATA bitw<>+20(SB)/4, $0x00000020
DATA bitw<>+24(SB)/4, $0x00000040
DATA bitw<>+28(SB)/4, $0x00000080
DATA bitw<>+32(SB)/4, $0x00000100
DATA bitw<>+36(SB)/4, $0x00000200
DATA bitw<>+40(SB)/4, $0x00000400
DATA bitw<>+44(SB)/4, $0x00000800
DATA bitw<>+48(SB)/4, $0x00001000
DATA bitw<>+52(SB)/4, $0x00002000
DATA bitw<>+56(SB)/4, $0x00004000
DATA bitw<>+60(SB)/4, $0x00008000
DATA bitw<>+64(SB)/4, $0x00010000
DATA bitw<>+68(SB)/4, $0x00020000
DATA bitw<>+72(SB)/4, $0x00040000
DATA bitw<>+76(SB)/4, $0x00080000
DATA bitw<>+80(SB)/4, $0x00100000
DATA bitw<>+84(SB)/4, $0x00200000
DATA bitw<>+88(SB)/4, $0x00400000
DATA bitw<>+92(SB)/4, $0x00800000
DATA bitw<>+96(SB)/4, $0x01000000
DATA bitw<>+100(SB)/4, $0x02000000
DATA bitw<>+104(SB)/4, $0x04000000
DATA bitw<>+108(SB)/4, $0x08000000
DATA bitw<>+112(SB)/4, $0x10000000
DATA bitw<>+116(SB)/4, $0x20000000
DATA bitw<>+120(SB)/4, $0x40000000
DATA bitw<>+124(SB)/4, $0x80000000
GLOBL bitw<>(SB), RODATA|NOPTR, $128

#define LOADBITW \
	MOVD	$bitw<>(SB), R9; \
	VLD1.P	64(R9), [V16.S4, V17.S4, V18.S4, V19.S4]; \
	VLD1	(R9), [V20.S4, V21.S4, V22.S4, V23.S4]

// func reluNEON(y, x *float32, n int)
// n is a positive multiple of 16.
TEXT ·reluNEON(SB), NOSPLIT, $0-24
	MOVD	y+0(FP), R0
	MOVD	x+8(FP), R1
	MOVD	n+16(FP), R2
	LSR	$4, R2, R2

relu16:
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGTZ(4, 0)
	FCMGTZ(5, 1)
	FCMGTZ(6, 2)
	FCMGTZ(7, 3)
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS	$1, R2, R2
	BNE	relu16
	RET

// func reluMaskNEON(y, x *float32, mask *uint64, words int)
// words is positive; it covers 64·words elements.
TEXT ·reluMaskNEON(SB), NOSPLIT, $0-32
	MOVD	y+0(FP), R0
	MOVD	x+8(FP), R1
	MOVD	mask+16(FP), R2
	MOVD	words+24(FP), R3
	LOADBITW

rmword:
	VEOR	V24.B16, V24.B16, V24.B16
	VEOR	V25.B16, V25.B16, V25.B16
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGTZ(4, 0)
	FCMGTZ(5, 1)
	FCMGTZ(6, 2)
	FCMGTZ(7, 3)
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VAND	V16.B16, V4.B16, V4.B16
	VORR	V4.B16, V24.B16, V24.B16
	VAND	V17.B16, V5.B16, V5.B16
	VORR	V5.B16, V24.B16, V24.B16
	VAND	V18.B16, V6.B16, V6.B16
	VORR	V6.B16, V24.B16, V24.B16
	VAND	V19.B16, V7.B16, V7.B16
	VORR	V7.B16, V24.B16, V24.B16
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGTZ(4, 0)
	FCMGTZ(5, 1)
	FCMGTZ(6, 2)
	FCMGTZ(7, 3)
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VAND	V20.B16, V4.B16, V4.B16
	VORR	V4.B16, V24.B16, V24.B16
	VAND	V21.B16, V5.B16, V5.B16
	VORR	V5.B16, V24.B16, V24.B16
	VAND	V22.B16, V6.B16, V6.B16
	VORR	V6.B16, V24.B16, V24.B16
	VAND	V23.B16, V7.B16, V7.B16
	VORR	V7.B16, V24.B16, V24.B16
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGTZ(4, 0)
	FCMGTZ(5, 1)
	FCMGTZ(6, 2)
	FCMGTZ(7, 3)
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VAND	V16.B16, V4.B16, V4.B16
	VORR	V4.B16, V25.B16, V25.B16
	VAND	V17.B16, V5.B16, V5.B16
	VORR	V5.B16, V25.B16, V25.B16
	VAND	V18.B16, V6.B16, V6.B16
	VORR	V6.B16, V25.B16, V25.B16
	VAND	V19.B16, V7.B16, V7.B16
	VORR	V7.B16, V25.B16, V25.B16
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGTZ(4, 0)
	FCMGTZ(5, 1)
	FCMGTZ(6, 2)
	FCMGTZ(7, 3)
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VAND	V20.B16, V4.B16, V4.B16
	VORR	V4.B16, V25.B16, V25.B16
	VAND	V21.B16, V5.B16, V5.B16
	VORR	V5.B16, V25.B16, V25.B16
	VAND	V22.B16, V6.B16, V6.B16
	VORR	V6.B16, V25.B16, V25.B16
	VAND	V23.B16, V7.B16, V7.B16
	VORR	V7.B16, V25.B16, V25.B16
	VADDV	V24.S4, V24
	VADDV	V25.S4, V25
	VMOV	V24.S[0], R4
	VMOV	V25.S[0], R5
	ORR	R5<<32, R4, R4
	MOVD.P	R4, 8(R2)
	SUBS	$1, R3, R3
	BNE	rmword
	RET

// func maskMulNEON(dx, dy *float32, mask *uint64, words int, scale float32)
// words is positive; it covers 64·words elements.
TEXT ·maskMulNEON(SB), NOSPLIT, $0-36
	MOVD	dx+0(FP), R0
	MOVD	dy+8(FP), R1
	MOVD	mask+16(FP), R2
	MOVD	words+24(FP), R3
	FMOVS	scale+32(FP), F26
	VDUP	V26.S[0], V26.S4
	LOADBITW

mmword:
	MOVD.P	8(R2), R4
	LSR	$32, R4, R5
	VDUP	R4, V24.S4
	VDUP	R5, V25.S4
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULV(0, 0, 26)
	FMULV(1, 1, 26)
	FMULV(2, 2, 26)
	FMULV(3, 3, 26)
	VCMTST	V16.S4, V24.S4, V4.S4
	VCMTST	V17.S4, V24.S4, V5.S4
	VCMTST	V18.S4, V24.S4, V6.S4
	VCMTST	V19.S4, V24.S4, V7.S4
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULV(0, 0, 26)
	FMULV(1, 1, 26)
	FMULV(2, 2, 26)
	FMULV(3, 3, 26)
	VCMTST	V20.S4, V24.S4, V4.S4
	VCMTST	V21.S4, V24.S4, V5.S4
	VCMTST	V22.S4, V24.S4, V6.S4
	VCMTST	V23.S4, V24.S4, V7.S4
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULV(0, 0, 26)
	FMULV(1, 1, 26)
	FMULV(2, 2, 26)
	FMULV(3, 3, 26)
	VCMTST	V16.S4, V25.S4, V4.S4
	VCMTST	V17.S4, V25.S4, V5.S4
	VCMTST	V18.S4, V25.S4, V6.S4
	VCMTST	V19.S4, V25.S4, V7.S4
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VLD1.P	64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULV(0, 0, 26)
	FMULV(1, 1, 26)
	FMULV(2, 2, 26)
	FMULV(3, 3, 26)
	VCMTST	V20.S4, V25.S4, V4.S4
	VCMTST	V21.S4, V25.S4, V5.S4
	VCMTST	V22.S4, V25.S4, V6.S4
	VCMTST	V23.S4, V25.S4, V7.S4
	VAND	V4.B16, V0.B16, V0.B16
	VAND	V5.B16, V1.B16, V1.B16
	VAND	V6.B16, V2.B16, V2.B16
	VAND	V7.B16, V3.B16, V3.B16
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS	$1, R3, R3
	BNE	mmword
	RET

// func adamNEON(w, gr, m, v *float32, n int, p *adamConsts)
// n is a positive multiple of 4. The steps are those of adamAVX2.
TEXT ·adamNEON(SB), NOSPLIT, $0-48
	MOVD	w+0(FP), R0
	MOVD	gr+8(FP), R1
	MOVD	m+16(FP), R2
	MOVD	v+24(FP), R3
	MOVD	n+32(FP), R4
	MOVD	p+40(FP), R5
	VLD1	(R5), [V24.S4, V25.S4]
	VDUP	V24.S[0], V16.S4 // wd
	VDUP	V24.S[1], V17.S4 // b1
	VDUP	V24.S[2], V18.S4 // 1-b1
	VDUP	V24.S[3], V19.S4 // b2
	VDUP	V25.S[0], V20.S4 // 1-b2
	VDUP	V25.S[1], V21.S4 // c2
	VDUP	V25.S[2], V22.S4 // eps
	VDUP	V25.S[3], V23.S4 // lr*c1
	LSR	$2, R4, R4

adam4:
	VLD1	(R0), [V0.S4]
	VLD1.P	16(R1), [V1.S4]
	VLD1	(R2), [V2.S4]
	VLD1	(R3), [V3.S4]
	VFMLA	V16.S4, V0.S4, V1.S4 // g' = g + wd*w
	FMULV(2, 2, 17)              // m = b1*m
	VFMLA	V18.S4, V1.S4, V2.S4 // m += (1-b1)*g'
	FMULV(4, 1, 20)              // (1-b2)*g'
	FMULV(5, 3, 19)              // b2*v
	VFMLA	V4.S4, V1.S4, V5.S4  // v = b2*v + (1-b2)*g'*g'
	FMULV(3, 5, 21)              // v*c2
	FSQRTV(3, 3)
	FADDV(3, 3, 22)              // sqrt(v*c2) + eps
	FMULV(4, 2, 23)              // lr*c1*m
	FDIVV(4, 4, 3)
	FSUBV(0, 0, 4)
	VST1.P	[V0.S4], 16(R0)
	VST1.P	[V2.S4], 16(R2)
	VST1.P	[V5.S4], 16(R3)
	SUBS	$1, R4, R4
	BNE	adam4
	RET

// func axpyNEON(x, y *float32, n int, alpha float32)
// n is a positive multiple of 4.
TEXT ·axpyNEON(SB), NOSPLIT, $0-28
	MOVD	x+0(FP), R0
	MOVD	y+8(FP), R1
	MOVD	n+16(FP), R2
	FMOVS	alpha+24(FP), F16
	VDUP	V16.S[0], V16.S4
	CMP	$16, R2
	BLT	axpy4

axpy16:
	VLD1.P	64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1	(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA	V16.S4, V0.S4, V4.S4
	VFMLA	V16.S4, V1.S4, V5.S4
	VFMLA	V16.S4, V2.S4, V6.S4
	VFMLA	V16.S4, V3.S4, V7.S4
	VST1.P	[V4.S4, V5.S4, V6.S4, V7.S4], 64(R1)
	SUB	$16, R2, R2
	CMP	$16, R2
	BGE	axpy16
	CBZ	R2, axpydone

axpy4:
	VLD1.P	16(R0), [V0.S4]
	VLD1	(R1), [V4.S4]
	VFMLA	V16.S4, V0.S4, V4.S4
	VST1.P	[V4.S4], 16(R1)
	SUBS	$4, R2, R2
	BNE	axpy4

axpydone:
	RET

// func scaleNEON(x *float32, n int, alpha float32)
// n is a positive multiple of 4.
TEXT ·scaleNEON(SB), NOSPLIT, $0-20
	MOVD	x+0(FP), R0
	MOVD	n+8(FP), R2
	FMOVS	alpha+16(FP), F16
	VDUP	V16.S[0], V16.S4
	CMP	$16, R2
	BLT	scale4

scale16:
	VLD1	(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULV(0, 0, 16)
	FMULV(1, 1, 16)
	FMULV(2, 2, 16)
	FMULV(3, 3, 16)
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB	$16, R2, R2
	CMP	$16, R2
	BGE	scale16
	CBZ	R2, scaledone

scale4:
	VLD1	(R0), [V0.S4]
	FMULV(0, 0, 16)
	VST1.P	[V0.S4], 16(R0)
	SUBS	$4, R2, R2
	BNE	scale4

scaledone:
	RET

// func addBiasNEON(x, bias *float32, rows, cols int)
// rows and cols are positive.
TEXT ·addBiasNEON(SB), NOSPLIT, $0-32
	MOVD	x+0(FP), R0
	MOVD	bias+8(FP), R1
	MOVD	rows+16(FP), R2
	MOVD	cols+24(FP), R3

abrow:
	MOVD	R1, R5
	MOVD	R3, R6
	CMP	$4, R6
	BLT	abtail

ab4:
	VLD1	(R0), [V0.S4]
	VLD1.P	16(R5), [V1.S4]
	FADDV(0, 0, 1)
	VST1.P	[V0.S4], 16(R0)
	SUB	$4, R6, R6
	CMP	$4, R6
	BGE	ab4

abtail:
	CBZ	R6, abnext
	FMOVS	(R0), F0
	FMOVS.P	4(R5), F1
	FADDS	F1, F0, F0
	FMOVS.P	F0, 4(R0)
	SUB	$1, R6, R6
	B	abtail

abnext:
	SUBS	$1, R2, R2
	BNE	abrow
	RET

// func addBiasChannelsNEON(x, bias *float32, n, chans, hw int)
// n, chans and hw are positive.
TEXT ·addBiasChannelsNEON(SB), NOSPLIT, $0-40
	MOVD	x+0(FP), R0
	MOVD	bias+8(FP), R1
	MOVD	n+16(FP), R2
	MOVD	chans+24(FP), R3
	MOVD	hw+32(FP), R4

bcsample:
	MOVD	R1, R5
	MOVD	R3, R6

bcchan:
	VLD1R.P	4(R5), [V16.S4]
	MOVD	R4, R7
	CMP	$16, R7
	BLT	bc4

bc16:
	VLD1	(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FADDV(0, 0, 16)
	FADDV(1, 1, 16)
	FADDV(2, 2, 16)
	FADDV(3, 3, 16)
	VST1.P	[V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUB	$16, R7, R7
	CMP	$16, R7
	BGE	bc16

bc4:
	CMP	$4, R7
	BLT	bc1
	VLD1	(R0), [V0.S4]
	FADDV(0, 0, 16)
	VST1.P	[V0.S4], 16(R0)
	SUB	$4, R7, R7
	B	bc4

bc1:
	CBZ	R7, bcnext
	FMOVS	(R0), F0
	FADDS	F16, F0, F0
	FMOVS.P	F0, 4(R0)
	SUB	$1, R7, R7
	B	bc1

bcnext:
	SUBS	$1, R6, R6
	BNE	bcchan
	SUBS	$1, R2, R2
	BNE	bcsample
	RET

// func sumRowsNEON(dst, x *float32, rows, cols, c4 int)
// rows and c4 are positive; columns [0, 4·c4) are summed.
TEXT ·sumRowsNEON(SB), NOSPLIT, $0-40
	MOVD	dst+0(FP), R0
	MOVD	x+8(FP), R1
	MOVD	rows+16(FP), R2
	MOVD	cols+24(FP), R3
	MOVD	c4+32(FP), R4
	LSL	$2, R3, R3

srblock:
	VLD1	(R0), [V0.S4]
	MOVD	R1, R5
	MOVD	R2, R6

srrow:
	VLD1	(R5), [V1.S4]
	FADDV(0, 0, 1)
	ADD	R3, R5, R5
	SUBS	$1, R6, R6
	BNE	srrow
	VST1.P	[V0.S4], 16(R0)
	ADD	$16, R1, R1
	SUBS	$1, R4, R4
	BNE	srblock
	RET

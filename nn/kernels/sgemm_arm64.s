//go:build arm64 && !noasm

#include "textflag.h"

// NEON (Advanced SIMD) SGEMM micro-kernel and packing routines for arm64.
//
// Go's arm64 assembler has no spelling for the by-element and the
// arithmetic floating-point vector forms used here, so they are emitted as
// instruction words by these macros (A64 encodings, single precision,
// 128-bit vectors; d, n, m are register numbers 0-31):
//
//	FMLAE(d, n, m, i): FMLA Vd.4S, Vn.4S, Vm.S[i]  (Vd += Vn * Vm[i])
//	FMULV(d, n, m):    FMUL Vd.4S, Vn.4S, Vm.4S
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))
#define FMULV(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))

// func sgemmKernel8x12(k, n int, a, b, c *float32, ldc int, alpha, beta float32)
//
// Registers: V0-V1 the eight A values of a depth, V2-V4 the twelve B values,
// V5 alpha and V6 beta in every lane, V8-V31 the 8×12 accumulators (row i,
// columns 4j..4j+3 in V(8+3i+j)). Each depth loads five vectors and issues
// 24 fused multiply-adds.
TEXT ·sgemmKernel8x12(SB), NOSPLIT, $0-56
	MOVD	k+0(FP), R0
	MOVD	n+8(FP), R1
	MOVD	a+16(FP), R2
	MOVD	b+24(FP), R3
	MOVD	c+32(FP), R4
	MOVD	ldc+40(FP), R5
	LSL	$2, R5, R5
	FMOVS	alpha+48(FP), F5
	VDUP	V5.S[0], V5.S4
	FMOVS	beta+52(FP), F6
	VDUP	V6.S[0], V6.S4

tile:
	VMOVI	$0, V8.B16
	VMOVI	$0, V9.B16
	VMOVI	$0, V10.B16
	VMOVI	$0, V11.B16
	VMOVI	$0, V12.B16
	VMOVI	$0, V13.B16
	VMOVI	$0, V14.B16
	VMOVI	$0, V15.B16
	VMOVI	$0, V16.B16
	VMOVI	$0, V17.B16
	VMOVI	$0, V18.B16
	VMOVI	$0, V19.B16
	VMOVI	$0, V20.B16
	VMOVI	$0, V21.B16
	VMOVI	$0, V22.B16
	VMOVI	$0, V23.B16
	VMOVI	$0, V24.B16
	VMOVI	$0, V25.B16
	VMOVI	$0, V26.B16
	VMOVI	$0, V27.B16
	VMOVI	$0, V28.B16
	VMOVI	$0, V29.B16
	VMOVI	$0, V30.B16
	VMOVI	$0, V31.B16
	MOVD	R3, R7
	MOVD	R0, R6

depth:
	VLD1.P	32(R2), [V0.S4, V1.S4]
	VLD1.P	48(R7), [V2.S4, V3.S4, V4.S4]
	FMLAE(8, 2, 0, 0)
	FMLAE(9, 3, 0, 0)
	FMLAE(10, 4, 0, 0)
	FMLAE(11, 2, 0, 1)
	FMLAE(12, 3, 0, 1)
	FMLAE(13, 4, 0, 1)
	FMLAE(14, 2, 0, 2)
	FMLAE(15, 3, 0, 2)
	FMLAE(16, 4, 0, 2)
	FMLAE(17, 2, 0, 3)
	FMLAE(18, 3, 0, 3)
	FMLAE(19, 4, 0, 3)
	FMLAE(20, 2, 1, 0)
	FMLAE(21, 3, 1, 0)
	FMLAE(22, 4, 1, 0)
	FMLAE(23, 2, 1, 1)
	FMLAE(24, 3, 1, 1)
	FMLAE(25, 4, 1, 1)
	FMLAE(26, 2, 1, 2)
	FMLAE(27, 3, 1, 2)
	FMLAE(28, 4, 1, 2)
	FMLAE(29, 2, 1, 3)
	FMLAE(30, 3, 1, 3)
	FMLAE(31, 4, 1, 3)
	SUBS	$1, R6, R6
	BNE	depth

	FMULV(8, 8, 5)
	FMULV(9, 9, 5)
	FMULV(10, 10, 5)
	FMULV(11, 11, 5)
	FMULV(12, 12, 5)
	FMULV(13, 13, 5)
	FMULV(14, 14, 5)
	FMULV(15, 15, 5)
	FMULV(16, 16, 5)
	FMULV(17, 17, 5)
	FMULV(18, 18, 5)
	FMULV(19, 19, 5)
	FMULV(20, 20, 5)
	FMULV(21, 21, 5)
	FMULV(22, 22, 5)
	FMULV(23, 23, 5)
	FMULV(24, 24, 5)
	FMULV(25, 25, 5)
	FMULV(26, 26, 5)
	FMULV(27, 27, 5)
	FMULV(28, 28, 5)
	FMULV(29, 29, 5)
	FMULV(30, 30, 5)
	FMULV(31, 31, 5)
	MOVD	R4, R8
	FCMPS	$(0.0), F6
	BEQ	store

	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V8.S4
	VFMLA	V6.S4, V1.S4, V9.S4
	VFMLA	V6.S4, V2.S4, V10.S4
	VST1	[V8.S4, V9.S4, V10.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V11.S4
	VFMLA	V6.S4, V1.S4, V12.S4
	VFMLA	V6.S4, V2.S4, V13.S4
	VST1	[V11.S4, V12.S4, V13.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V14.S4
	VFMLA	V6.S4, V1.S4, V15.S4
	VFMLA	V6.S4, V2.S4, V16.S4
	VST1	[V14.S4, V15.S4, V16.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V17.S4
	VFMLA	V6.S4, V1.S4, V18.S4
	VFMLA	V6.S4, V2.S4, V19.S4
	VST1	[V17.S4, V18.S4, V19.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V20.S4
	VFMLA	V6.S4, V1.S4, V21.S4
	VFMLA	V6.S4, V2.S4, V22.S4
	VST1	[V20.S4, V21.S4, V22.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V23.S4
	VFMLA	V6.S4, V1.S4, V24.S4
	VFMLA	V6.S4, V2.S4, V25.S4
	VST1	[V23.S4, V24.S4, V25.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V26.S4
	VFMLA	V6.S4, V1.S4, V27.S4
	VFMLA	V6.S4, V2.S4, V28.S4
	VST1	[V26.S4, V27.S4, V28.S4], (R8)
	ADD	R5, R8, R8
	VLD1	(R8), [V0.S4, V1.S4, V2.S4]
	VFMLA	V6.S4, V0.S4, V29.S4
	VFMLA	V6.S4, V1.S4, V30.S4
	VFMLA	V6.S4, V2.S4, V31.S4
	VST1	[V29.S4, V30.S4, V31.S4], (R8)
	ADD	R5, R8, R8
	B	next

store:
	VST1	[V8.S4, V9.S4, V10.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V11.S4, V12.S4, V13.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V14.S4, V15.S4, V16.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V17.S4, V18.S4, V19.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V20.S4, V21.S4, V22.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V23.S4, V24.S4, V25.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V26.S4, V27.S4, V28.S4], (R8)
	ADD	R5, R8, R8
	VST1	[V29.S4, V30.S4, V31.S4], (R8)
	ADD	R5, R8, R8

next:
	MOVD	R8, R4
	SUBS	$1, R1, R1
	BNE	tile
	RET

// func packA8NEON(d, a *float32, lda, n4 int)
// Rows i+r (r < 8) of A at a + r·lda; 4·n4 depths, n4 ≥ 1.
TEXT ·packA8NEON(SB), NOSPLIT, $0-32
	MOVD	d+0(FP), R0
	MOVD	a+8(FP), R2
	MOVD	lda+16(FP), R1
	MOVD	n4+24(FP), R15
	LSL	$2, R1, R1
	ADD	R1, R2, R3
	ADD	R1, R3, R4
	ADD	R1, R4, R5
	ADD	R1, R5, R6
	ADD	R1, R6, R7
	ADD	R1, R7, R8
	ADD	R1, R8, R9

packa4:
	VLD1.P	16(R2), [V0.S4]
	VLD1.P	16(R3), [V1.S4]
	VLD1.P	16(R4), [V2.S4]
	VLD1.P	16(R5), [V3.S4]
	VLD1.P	16(R6), [V4.S4]
	VLD1.P	16(R7), [V5.S4]
	VLD1.P	16(R8), [V6.S4]
	VLD1.P	16(R9), [V7.S4]
	VTRN1	V1.S4, V0.S4, V8.S4
	VTRN2	V1.S4, V0.S4, V9.S4
	VTRN1	V3.S4, V2.S4, V10.S4
	VTRN2	V3.S4, V2.S4, V11.S4
	VTRN1	V10.D2, V8.D2, V16.D2
	VTRN1	V11.D2, V9.D2, V18.D2
	VTRN2	V10.D2, V8.D2, V20.D2
	VTRN2	V11.D2, V9.D2, V22.D2
	VTRN1	V5.S4, V4.S4, V12.S4
	VTRN2	V5.S4, V4.S4, V13.S4
	VTRN1	V7.S4, V6.S4, V14.S4
	VTRN2	V7.S4, V6.S4, V15.S4
	VTRN1	V14.D2, V12.D2, V17.D2
	VTRN1	V15.D2, V13.D2, V19.D2
	VTRN2	V14.D2, V12.D2, V21.D2
	VTRN2	V15.D2, V13.D2, V23.D2
	VST1.P	[V16.S4, V17.S4, V18.S4, V19.S4], 64(R0)
	VST1.P	[V20.S4, V21.S4, V22.S4, V23.S4], 64(R0)
	SUBS	$1, R15, R15
	BNE	packa4
	RET

// func packB12TNEON(d, b *float32, ldb, n4 int)
// Columns j+c (c < 12) of op(B), stored as rows of B at b + c·ldb; 4·n4
// depths, n4 ≥ 1.
TEXT ·packB12TNEON(SB), NOSPLIT, $0-32
	MOVD	d+0(FP), R0
	MOVD	b+8(FP), R2
	MOVD	ldb+16(FP), R1
	MOVD	n4+24(FP), R15
	LSL	$2, R1, R1
	ADD	R1, R2, R3
	ADD	R1, R3, R4
	ADD	R1, R4, R5
	ADD	R1, R5, R6
	ADD	R1, R6, R7
	ADD	R1, R7, R8
	ADD	R1, R8, R9
	ADD	R1, R9, R10
	ADD	R1, R10, R11
	ADD	R1, R11, R12
	ADD	R1, R12, R13

packb4:
	VLD1.P	16(R2), [V0.S4]
	VLD1.P	16(R3), [V1.S4]
	VLD1.P	16(R4), [V2.S4]
	VLD1.P	16(R5), [V3.S4]
	VLD1.P	16(R6), [V4.S4]
	VLD1.P	16(R7), [V5.S4]
	VLD1.P	16(R8), [V6.S4]
	VLD1.P	16(R9), [V7.S4]
	VLD1.P	16(R10), [V8.S4]
	VLD1.P	16(R11), [V9.S4]
	VLD1.P	16(R12), [V10.S4]
	VLD1.P	16(R13), [V11.S4]
	VTRN1	V1.S4, V0.S4, V12.S4
	VTRN2	V1.S4, V0.S4, V13.S4
	VTRN1	V3.S4, V2.S4, V14.S4
	VTRN2	V3.S4, V2.S4, V15.S4
	VTRN1	V14.D2, V12.D2, V16.D2
	VTRN1	V15.D2, V13.D2, V19.D2
	VTRN2	V14.D2, V12.D2, V22.D2
	VTRN2	V15.D2, V13.D2, V25.D2
	VTRN1	V5.S4, V4.S4, V12.S4
	VTRN2	V5.S4, V4.S4, V13.S4
	VTRN1	V7.S4, V6.S4, V14.S4
	VTRN2	V7.S4, V6.S4, V15.S4
	VTRN1	V14.D2, V12.D2, V17.D2
	VTRN1	V15.D2, V13.D2, V20.D2
	VTRN2	V14.D2, V12.D2, V23.D2
	VTRN2	V15.D2, V13.D2, V26.D2
	VTRN1	V9.S4, V8.S4, V12.S4
	VTRN2	V9.S4, V8.S4, V13.S4
	VTRN1	V11.S4, V10.S4, V14.S4
	VTRN2	V11.S4, V10.S4, V15.S4
	VTRN1	V14.D2, V12.D2, V18.D2
	VTRN1	V15.D2, V13.D2, V21.D2
	VTRN2	V14.D2, V12.D2, V24.D2
	VTRN2	V15.D2, V13.D2, V27.D2
	VST1.P	[V16.S4, V17.S4, V18.S4, V19.S4], 64(R0)
	VST1.P	[V20.S4, V21.S4, V22.S4, V23.S4], 64(R0)
	VST1.P	[V24.S4, V25.S4, V26.S4, V27.S4], 64(R0)
	SUBS	$1, R15, R15
	BNE	packb4
	RET

// func copyRows8NEON(d, s *float32, lds, n int)
// n ≥ 1 rows of 8 floats, s rows lds floats apart, d packed.
TEXT ·copyRows8NEON(SB), NOSPLIT, $0-32
	MOVD	d+0(FP), R0
	MOVD	s+8(FP), R1
	MOVD	lds+16(FP), R2
	MOVD	n+24(FP), R3
	LSL	$2, R2, R2

rows8:
	VLD1	(R1), [V0.S4, V1.S4]
	ADD	R2, R1, R1
	VST1.P	[V0.S4, V1.S4], 32(R0)
	SUBS	$1, R3, R3
	BNE	rows8
	RET

// func copyRows12NEON(d, s *float32, lds, n int)
// n ≥ 1 rows of 12 floats, s rows lds floats apart, d packed.
TEXT ·copyRows12NEON(SB), NOSPLIT, $0-32
	MOVD	d+0(FP), R0
	MOVD	s+8(FP), R1
	MOVD	lds+16(FP), R2
	MOVD	n+24(FP), R3
	LSL	$2, R2, R2

rows12:
	VLD1	(R1), [V0.S4, V1.S4, V2.S4]
	ADD	R2, R1, R1
	VST1.P	[V0.S4, V1.S4, V2.S4], 48(R0)
	SUBS	$1, R3, R3
	BNE	rows12
	RET

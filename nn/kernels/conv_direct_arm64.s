//go:build arm64 && !noasm

#include "textflag.h"

// NEON (Advanced SIMD) tile kernels of the direct convolution path (see
// conv_direct.go and conv_arm64.go): vectors of four float32 lanes.
//
// Go's arm64 assembler has no spelling for these forms, so they are
// emitted as instruction words (A64 encodings, single precision; d, n, m,
// t are register numbers 0-31):
//
//	FMLAE(d, n, m, i): FMLA  Vd.4S, Vn.4S, Vm.S[i]  (Vd += Vn * Vm[i])
//	FADDP4(d, n, m):   FADDP Vd.4S, Vn.4S, Vm.4S    (Vd = n0+n1, n2+n3, m0+m1, m2+m3)
//	FADD4(d, n, m):    FADD  Vd.4S, Vn.4S, Vm.4S
//	FADD2(d, n, m):    FADD  Vd.2S, Vn.2S, Vm.2S
//	LDRQ(t, n, m):     LDR   Qt, [Xn, Xm]            (16 bytes at Xn + Xm)
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))
#define FADDP4(d, n, m) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FADD4(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FADD2(d, n, m) WORD $(0x0E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define LDRQ(t, n, m) WORD $(0x3CE06800 | ((m)<<16) | ((n)<<5) | (t))

// ---------------------------------------------------------------------
// Forward tiles: four output channels by six (or four) vectors of four
// positions. Per filter tap: the tap's offset (one scalar load), its four
// filter values (one vector load), one input vector per position vector,
// then a multiply-add by lane of every input vector with every filter
// value: 24 multiply-adds for 7 vector loads (16 for 5 with four vectors).
//
// Registers: R0 taps left, R1 the packed filters (4 floats per tap), R2 the
// offsets (int32), R4-R9 the input vectors' addresses, R10 the tap's byte
// offset, R19-R24 the output vectors' addresses (channel 0), R25 the output
// channel stride in bytes; V24-V29 the input vectors, V30 the filter values.

// FWD_TAP6 adds one tap to the 4×6 accumulators, channel i and vector v
// in V(6i+v).
#define FWD_TAP6 \
	MOVW.P	4(R2), R10 \
	LSL	$2, R10, R10 \
	VLD1.P	16(R1), [V30.S4] \
	LDRQ(24, 4, 10) \
	LDRQ(25, 5, 10) \
	LDRQ(26, 6, 10) \
	LDRQ(27, 7, 10) \
	LDRQ(28, 8, 10) \
	LDRQ(29, 9, 10) \
	FMLAE(0, 24, 30, 0) \
	FMLAE(1, 25, 30, 0) \
	FMLAE(2, 26, 30, 0) \
	FMLAE(3, 27, 30, 0) \
	FMLAE(4, 28, 30, 0) \
	FMLAE(5, 29, 30, 0) \
	FMLAE(6, 24, 30, 1) \
	FMLAE(7, 25, 30, 1) \
	FMLAE(8, 26, 30, 1) \
	FMLAE(9, 27, 30, 1) \
	FMLAE(10, 28, 30, 1) \
	FMLAE(11, 29, 30, 1) \
	FMLAE(12, 24, 30, 2) \
	FMLAE(13, 25, 30, 2) \
	FMLAE(14, 26, 30, 2) \
	FMLAE(15, 27, 30, 2) \
	FMLAE(16, 28, 30, 2) \
	FMLAE(17, 29, 30, 2) \
	FMLAE(18, 24, 30, 3) \
	FMLAE(19, 25, 30, 3) \
	FMLAE(20, 26, 30, 3) \
	FMLAE(21, 27, 30, 3) \
	FMLAE(22, 28, 30, 3) \
	FMLAE(23, 29, 30, 3)

// FWD_TAP4 adds one tap to the 4×4 accumulators, channel i and vector v
// in V(4i+v).
#define FWD_TAP4 \
	MOVW.P	4(R2), R10 \
	LSL	$2, R10, R10 \
	VLD1.P	16(R1), [V30.S4] \
	LDRQ(24, 4, 10) \
	LDRQ(25, 5, 10) \
	LDRQ(26, 6, 10) \
	LDRQ(27, 7, 10) \
	FMLAE(0, 24, 30, 0) \
	FMLAE(1, 25, 30, 0) \
	FMLAE(2, 26, 30, 0) \
	FMLAE(3, 27, 30, 0) \
	FMLAE(4, 24, 30, 1) \
	FMLAE(5, 25, 30, 1) \
	FMLAE(6, 26, 30, 1) \
	FMLAE(7, 27, 30, 1) \
	FMLAE(8, 24, 30, 2) \
	FMLAE(9, 25, 30, 2) \
	FMLAE(10, 26, 30, 2) \
	FMLAE(11, 27, 30, 2) \
	FMLAE(12, 24, 30, 3) \
	FMLAE(13, 25, 30, 3) \
	FMLAE(14, 26, 30, 3) \
	FMLAE(15, 27, 30, 3)

// FWD_ADDR sets reg to R3 plus four times the index at byte offset o of
// the index array at R11 (the address of an input or output vector).
#define FWD_ADDR(o, reg) \
	MOVD	o(R11), R12 \
	ADD	R12<<2, R3, reg

// Y_LOAD loads the four channels of one output vector (address yr) into
// a0..a3; Y_STORE stores them.
#define Y_LOAD(yr, a0, a1, a2, a3) \
	MOVD	yr, R12 \
	VLD1.P	(R12)(R25), [a0.S4] \
	VLD1.P	(R12)(R25), [a1.S4] \
	VLD1.P	(R12)(R25), [a2.S4] \
	VLD1	(R12), [a3.S4]
#define Y_STORE(yr, a0, a1, a2, a3) \
	MOVD	yr, R12 \
	VST1.P	[a0.S4], (R12)(R25) \
	VST1.P	[a1.S4], (R12)(R25) \
	VST1.P	[a2.S4], (R12)(R25) \
	VST1	[a3.S4], (R12)

// func convFwdTile6NEON(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)
TEXT ·convFwdTile6NEON(SB), NOSPLIT, $0-153
	MOVD	k+0(FP), R0
	MOVD	w_base+8(FP), R1
	MOVD	offs_base+32(FP), R2
	MOVD	x_base+56(FP), R3
	MOVD	xv+80(FP), R11
	FWD_ADDR(0, R4)
	FWD_ADDR(8, R5)
	FWD_ADDR(16, R6)
	FWD_ADDR(24, R7)
	FWD_ADDR(32, R8)
	FWD_ADDR(40, R9)
	MOVD	y_base+112(FP), R3
	MOVD	yv+136(FP), R11
	FWD_ADDR(0, R19)
	FWD_ADDR(8, R20)
	FWD_ADDR(16, R21)
	FWD_ADDR(24, R22)
	FWD_ADDR(32, R23)
	FWD_ADDR(40, R24)
	MOVD	ldy+144(FP), R25
	LSL	$2, R25, R25
	MOVBU	acc+152(FP), R12
	CBNZ	R12, fwd6_load

	// Start from the bias: channel i's value in every lane of V(6i+v).
	MOVD	bias_base+88(FP), R12
	VLD1	(R12), [V30.S4]
	VDUP	V30.S[0], V0.S4
	VDUP	V30.S[0], V1.S4
	VDUP	V30.S[0], V2.S4
	VDUP	V30.S[0], V3.S4
	VDUP	V30.S[0], V4.S4
	VDUP	V30.S[0], V5.S4
	VDUP	V30.S[1], V6.S4
	VDUP	V30.S[1], V7.S4
	VDUP	V30.S[1], V8.S4
	VDUP	V30.S[1], V9.S4
	VDUP	V30.S[1], V10.S4
	VDUP	V30.S[1], V11.S4
	VDUP	V30.S[2], V12.S4
	VDUP	V30.S[2], V13.S4
	VDUP	V30.S[2], V14.S4
	VDUP	V30.S[2], V15.S4
	VDUP	V30.S[2], V16.S4
	VDUP	V30.S[2], V17.S4
	VDUP	V30.S[3], V18.S4
	VDUP	V30.S[3], V19.S4
	VDUP	V30.S[3], V20.S4
	VDUP	V30.S[3], V21.S4
	VDUP	V30.S[3], V22.S4
	VDUP	V30.S[3], V23.S4
	B	fwd6_loop

fwd6_load:
	// Start from the partial sums y holds.
	Y_LOAD(R19, V0, V6, V12, V18)
	Y_LOAD(R20, V1, V7, V13, V19)
	Y_LOAD(R21, V2, V8, V14, V20)
	Y_LOAD(R22, V3, V9, V15, V21)
	Y_LOAD(R23, V4, V10, V16, V22)
	Y_LOAD(R24, V5, V11, V17, V23)

fwd6_loop:
	FWD_TAP6
	SUBS	$1, R0, R0
	BNE	fwd6_loop

	Y_STORE(R19, V0, V6, V12, V18)
	Y_STORE(R20, V1, V7, V13, V19)
	Y_STORE(R21, V2, V8, V14, V20)
	Y_STORE(R22, V3, V9, V15, V21)
	Y_STORE(R23, V4, V10, V16, V22)
	Y_STORE(R24, V5, V11, V17, V23)
	RET

// func convFwdTile4NEON(k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool)
TEXT ·convFwdTile4NEON(SB), NOSPLIT, $0-153
	MOVD	k+0(FP), R0
	MOVD	w_base+8(FP), R1
	MOVD	offs_base+32(FP), R2
	MOVD	x_base+56(FP), R3
	MOVD	xv+80(FP), R11
	FWD_ADDR(0, R4)
	FWD_ADDR(8, R5)
	FWD_ADDR(16, R6)
	FWD_ADDR(24, R7)
	MOVD	y_base+112(FP), R3
	MOVD	yv+136(FP), R11
	FWD_ADDR(0, R19)
	FWD_ADDR(8, R20)
	FWD_ADDR(16, R21)
	FWD_ADDR(24, R22)
	MOVD	ldy+144(FP), R25
	LSL	$2, R25, R25
	MOVBU	acc+152(FP), R12
	CBNZ	R12, fwd4_load

	MOVD	bias_base+88(FP), R12
	VLD1	(R12), [V30.S4]
	VDUP	V30.S[0], V0.S4
	VDUP	V30.S[0], V1.S4
	VDUP	V30.S[0], V2.S4
	VDUP	V30.S[0], V3.S4
	VDUP	V30.S[1], V4.S4
	VDUP	V30.S[1], V5.S4
	VDUP	V30.S[1], V6.S4
	VDUP	V30.S[1], V7.S4
	VDUP	V30.S[2], V8.S4
	VDUP	V30.S[2], V9.S4
	VDUP	V30.S[2], V10.S4
	VDUP	V30.S[2], V11.S4
	VDUP	V30.S[3], V12.S4
	VDUP	V30.S[3], V13.S4
	VDUP	V30.S[3], V14.S4
	VDUP	V30.S[3], V15.S4
	B	fwd4_loop

fwd4_load:
	Y_LOAD(R19, V0, V4, V8, V12)
	Y_LOAD(R20, V1, V5, V9, V13)
	Y_LOAD(R21, V2, V6, V10, V14)
	Y_LOAD(R22, V3, V7, V11, V15)

fwd4_loop:
	FWD_TAP4
	SUBS	$1, R0, R0
	BNE	fwd4_loop

	Y_STORE(R19, V0, V4, V8, V12)
	Y_STORE(R20, V1, V5, V9, V13)
	Y_STORE(R21, V2, V6, V10, V14)
	Y_STORE(R22, V3, V7, V11, V15)
	RET

// ---------------------------------------------------------------------
// Filter-gradient tiles: four output channels by np (6 or 3) lowered rows.
// Per vector of four output positions: np input vectors (the rows' windows
// at the same positions) and the output gradient's vector of each of the
// four channels, then one multiply-add of every pair: 24 multiply-adds for
// 10 vector loads with six rows (12 for 7 with three). Each of the 4·np
// sums is accumulated in four lanes (positions q ≡ lane mod 4, in order),
// added pairwise at the end ((l0+l1)+(l2+l3)) and then added to its
// element of dw; no element outside the tile is written (the neighbours
// may belong to another thread's tiles).
//
// Registers: R0 the current tile's offsets (int32), R1 dw at the current
// tile, R2 tiles left, R3/R4/R5 the output-gradient channel strides ldk,
// 2·ldk, 3·ldk in bytes, R6 the bytes from the end of an input row to the
// next, R7 ldw in bytes, R8-R13 (R8-R10 with three rows) the tile's row
// offsets in bytes, R14 the current sample of x, R15 the current input
// position, R19 the current output-gradient position (channel 0), R20-R22
// sample, row and vector counters, R23 the bytes from the end of a sample
// of dy to the next, R24 xs in bytes; V24-V29 the input vectors, V30-V31
// output-gradient vectors.

// FLT_STEP6 adds one position vector to the 4×6 accumulators (channel i,
// row j in V(6i+j)).
#define FLT_STEP6 \
	LDRQ(24, 15, 8) \
	LDRQ(25, 15, 9) \
	LDRQ(26, 15, 10) \
	LDRQ(27, 15, 11) \
	LDRQ(28, 15, 12) \
	LDRQ(29, 15, 13) \
	VLD1	(R19), [V30.S4] \
	VFMLA	V24.S4, V30.S4, V0.S4 \
	VFMLA	V25.S4, V30.S4, V1.S4 \
	VFMLA	V26.S4, V30.S4, V2.S4 \
	VFMLA	V27.S4, V30.S4, V3.S4 \
	VFMLA	V28.S4, V30.S4, V4.S4 \
	VFMLA	V29.S4, V30.S4, V5.S4 \
	LDRQ(31, 19, 3) \
	VFMLA	V24.S4, V31.S4, V6.S4 \
	VFMLA	V25.S4, V31.S4, V7.S4 \
	VFMLA	V26.S4, V31.S4, V8.S4 \
	VFMLA	V27.S4, V31.S4, V9.S4 \
	VFMLA	V28.S4, V31.S4, V10.S4 \
	VFMLA	V29.S4, V31.S4, V11.S4 \
	LDRQ(30, 19, 4) \
	VFMLA	V24.S4, V30.S4, V12.S4 \
	VFMLA	V25.S4, V30.S4, V13.S4 \
	VFMLA	V26.S4, V30.S4, V14.S4 \
	VFMLA	V27.S4, V30.S4, V15.S4 \
	VFMLA	V28.S4, V30.S4, V16.S4 \
	VFMLA	V29.S4, V30.S4, V17.S4 \
	LDRQ(31, 19, 5) \
	VFMLA	V24.S4, V31.S4, V18.S4 \
	VFMLA	V25.S4, V31.S4, V19.S4 \
	VFMLA	V26.S4, V31.S4, V20.S4 \
	VFMLA	V27.S4, V31.S4, V21.S4 \
	VFMLA	V28.S4, V31.S4, V22.S4 \
	VFMLA	V29.S4, V31.S4, V23.S4 \
	ADD	$16, R15, R15 \
	ADD	$16, R19, R19

// FLT_STEP3 adds one position vector to the 4×3 accumulators (channel i,
// row j in V(3i+j)).
#define FLT_STEP3 \
	LDRQ(24, 15, 8) \
	LDRQ(25, 15, 9) \
	LDRQ(26, 15, 10) \
	VLD1	(R19), [V30.S4] \
	VFMLA	V24.S4, V30.S4, V0.S4 \
	VFMLA	V25.S4, V30.S4, V1.S4 \
	VFMLA	V26.S4, V30.S4, V2.S4 \
	LDRQ(31, 19, 3) \
	VFMLA	V24.S4, V31.S4, V3.S4 \
	VFMLA	V25.S4, V31.S4, V4.S4 \
	VFMLA	V26.S4, V31.S4, V5.S4 \
	LDRQ(30, 19, 4) \
	VFMLA	V24.S4, V30.S4, V6.S4 \
	VFMLA	V25.S4, V30.S4, V7.S4 \
	VFMLA	V26.S4, V30.S4, V8.S4 \
	LDRQ(31, 19, 5) \
	VFMLA	V24.S4, V31.S4, V9.S4 \
	VFMLA	V25.S4, V31.S4, V10.S4 \
	VFMLA	V26.S4, V31.S4, V11.S4 \
	ADD	$16, R15, R15 \
	ADD	$16, R19, R19

// ZERO12 and ZERO24 clear the accumulators V0-V11 and V0-V23.
#define ZERO12 \
	VEOR	V0.B16, V0.B16, V0.B16 \
	VEOR	V1.B16, V1.B16, V1.B16 \
	VEOR	V2.B16, V2.B16, V2.B16 \
	VEOR	V3.B16, V3.B16, V3.B16 \
	VEOR	V4.B16, V4.B16, V4.B16 \
	VEOR	V5.B16, V5.B16, V5.B16 \
	VEOR	V6.B16, V6.B16, V6.B16 \
	VEOR	V7.B16, V7.B16, V7.B16 \
	VEOR	V8.B16, V8.B16, V8.B16 \
	VEOR	V9.B16, V9.B16, V9.B16 \
	VEOR	V10.B16, V10.B16, V10.B16 \
	VEOR	V11.B16, V11.B16, V11.B16
#define ZERO24 \
	ZERO12 \
	VEOR	V12.B16, V12.B16, V12.B16 \
	VEOR	V13.B16, V13.B16, V13.B16 \
	VEOR	V14.B16, V14.B16, V14.B16 \
	VEOR	V15.B16, V15.B16, V15.B16 \
	VEOR	V16.B16, V16.B16, V16.B16 \
	VEOR	V17.B16, V17.B16, V17.B16 \
	VEOR	V18.B16, V18.B16, V18.B16 \
	VEOR	V19.B16, V19.B16, V19.B16 \
	VEOR	V20.B16, V20.B16, V20.B16 \
	VEOR	V21.B16, V21.B16, V21.B16 \
	VEOR	V22.B16, V22.B16, V22.B16 \
	VEOR	V23.B16, V23.B16, V23.B16

// LOAD_OFF loads the int32 offset at o(R0) into reg as a byte offset.
#define LOAD_OFF(o, reg) \
	MOVW	o(R0), reg \
	LSL	$2, reg, reg

// RED6_ADD adds the six sums of one channel (accumulators a0..a5, one
// register number each) to the six floats at R25, then moves R25 to the
// next channel's row.
#define RED6_ADD(a0, a1, a2, a3, a4, a5) \
	FADDP4(24, a0, a1) \
	FADDP4(25, a2, a3) \
	FADDP4(26, a4, a5) \
	FADDP4(24, 24, 25) \
	FADDP4(26, 26, 26) \
	VLD1	(R25), [V27.S4] \
	FADD4(27, 27, 24) \
	VST1	[V27.S4], (R25) \
	FMOVD	16(R25), F28 \
	FADD2(28, 28, 26) \
	FMOVD	F28, 16(R25) \
	ADD	R7, R25, R25

// RED3_ADD adds the three sums of one channel (accumulators a0..a2) to
// the three floats at R25, then moves R25 to the next channel's row.
#define RED3_ADD(a0, a1, a2) \
	FADDP4(24, a0, a1) \
	FADDP4(25, a2, a2) \
	FADDP4(24, 24, 25) \
	FMOVD	(R25), F27 \
	ADD	$8, R25, R26 \
	VLD1	(R26), V27.S[2] \
	FADD4(27, 27, 24) \
	FMOVD	F27, (R25) \
	VST1	V27.S[2], (R26) \
	ADD	R7, R25, R25

// func convFilterTiles6NEON(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)
TEXT ·convFilterTiles6NEON(SB), NOSPLIT, $0-168
	MOVD	offs_base+40(FP), R0
	MOVD	dw_base+136(FP), R1
	MOVD	nt+64(FP), R2
	MOVD	ldk+104(FP), R3
	LSL	$2, R3, R3
	ADD	R3, R3, R4
	ADD	R3, R4, R5
	MOVD	nv+120(FP), R12
	MOVD	wp+128(FP), R6
	SUB	R12<<2, R6, R6
	LSL	$2, R6, R6
	MOVD	ldw+160(FP), R7
	LSL	$2, R7, R7
	MOVD	rows+112(FP), R13
	MUL	R13, R12, R12
	MOVD	dys+96(FP), R23
	LSL	$2, R23, R23
	SUB	R12<<4, R23, R23
	MOVD	xs+32(FP), R24
	LSL	$2, R24, R24

f6_tile:
	LOAD_OFF(0, R8)
	LOAD_OFF(4, R9)
	LOAD_OFF(8, R10)
	LOAD_OFF(12, R11)
	LOAD_OFF(16, R12)
	LOAD_OFF(20, R13)
	ZERO24
	MOVD	x_base+8(FP), R14
	MOVD	dy_base+72(FP), R19
	MOVD	ns+0(FP), R20

f6_sample:
	MOVD	R14, R15
	MOVD	rows+112(FP), R21

f6_row:
	MOVD	nv+120(FP), R22

f6_vec:
	FLT_STEP6
	SUBS	$1, R22, R22
	BNE	f6_vec
	ADD	R6, R15, R15
	SUBS	$1, R21, R21
	BNE	f6_row
	ADD	R23, R19, R19
	ADD	R24, R14, R14
	SUBS	$1, R20, R20
	BNE	f6_sample

	MOVD	R1, R25
	RED6_ADD(0, 1, 2, 3, 4, 5)
	RED6_ADD(6, 7, 8, 9, 10, 11)
	RED6_ADD(12, 13, 14, 15, 16, 17)
	RED6_ADD(18, 19, 20, 21, 22, 23)
	ADD	$24, R0, R0
	ADD	$24, R1, R1
	SUBS	$1, R2, R2
	BNE	f6_tile
	RET

// func convFilterTiles3NEON(ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int)
TEXT ·convFilterTiles3NEON(SB), NOSPLIT, $0-168
	MOVD	offs_base+40(FP), R0
	MOVD	dw_base+136(FP), R1
	MOVD	nt+64(FP), R2
	MOVD	ldk+104(FP), R3
	LSL	$2, R3, R3
	ADD	R3, R3, R4
	ADD	R3, R4, R5
	MOVD	nv+120(FP), R12
	MOVD	wp+128(FP), R6
	SUB	R12<<2, R6, R6
	LSL	$2, R6, R6
	MOVD	ldw+160(FP), R7
	LSL	$2, R7, R7
	MOVD	rows+112(FP), R13
	MUL	R13, R12, R12
	MOVD	dys+96(FP), R23
	LSL	$2, R23, R23
	SUB	R12<<4, R23, R23
	MOVD	xs+32(FP), R24
	LSL	$2, R24, R24

f3_tile:
	LOAD_OFF(0, R8)
	LOAD_OFF(4, R9)
	LOAD_OFF(8, R10)
	ZERO12
	MOVD	x_base+8(FP), R14
	MOVD	dy_base+72(FP), R19
	MOVD	ns+0(FP), R20

f3_sample:
	MOVD	R14, R15
	MOVD	rows+112(FP), R21

f3_row:
	MOVD	nv+120(FP), R22

f3_vec:
	FLT_STEP3
	SUBS	$1, R22, R22
	BNE	f3_vec
	ADD	R6, R15, R15
	SUBS	$1, R21, R21
	BNE	f3_row
	ADD	R23, R19, R19
	ADD	R24, R14, R14
	SUBS	$1, R20, R20
	BNE	f3_sample

	MOVD	R1, R25
	RED3_ADD(0, 1, 2)
	RED3_ADD(3, 4, 5)
	RED3_ADD(6, 7, 8)
	RED3_ADD(9, 10, 11)
	ADD	$12, R0, R0
	ADD	$12, R1, R1
	SUBS	$1, R2, R2
	BNE	f3_tile
	RET

// ---------------------------------------------------------------------
// The filter-gradient tile of two output channels by six lowered rows:
// per position vector six input vectors and two output-gradient vectors,
// 12 multiply-adds for 8 vector loads; sums formed as above and written
// to out (channel-major).
//
// Registers: R3 ldk in bytes, R6 the row gap in bytes, R8-R13 the row
// offsets in bytes, R15 the current input position, R19 the current
// output-gradient position (channel 0), R20-R22 sample, row and vector
// counters, R23 djump and R24 xjump in bytes; accumulators V(6i+j),
// V24-V29 the input vectors, V30-V31 the output-gradient vectors.

// F26_STEP adds one position vector to the 2×6 accumulators.
#define F26_STEP \
	LDRQ(24, 15, 8) \
	LDRQ(25, 15, 9) \
	LDRQ(26, 15, 10) \
	LDRQ(27, 15, 11) \
	LDRQ(28, 15, 12) \
	LDRQ(29, 15, 13) \
	VLD1	(R19), [V30.S4] \
	LDRQ(31, 19, 3) \
	VFMLA	V24.S4, V30.S4, V0.S4 \
	VFMLA	V25.S4, V30.S4, V1.S4 \
	VFMLA	V26.S4, V30.S4, V2.S4 \
	VFMLA	V27.S4, V30.S4, V3.S4 \
	VFMLA	V28.S4, V30.S4, V4.S4 \
	VFMLA	V29.S4, V30.S4, V5.S4 \
	VFMLA	V24.S4, V31.S4, V6.S4 \
	VFMLA	V25.S4, V31.S4, V7.S4 \
	VFMLA	V26.S4, V31.S4, V8.S4 \
	VFMLA	V27.S4, V31.S4, V9.S4 \
	VFMLA	V28.S4, V31.S4, V10.S4 \
	VFMLA	V29.S4, V31.S4, V11.S4 \
	ADD	$16, R15, R15 \
	ADD	$16, R19, R19

// RED6_STORE writes the six sums of one channel (accumulators a0..a5) to
// the six floats at R25, then moves R25 past them.
#define RED6_STORE(a0, a1, a2, a3, a4, a5) \
	FADDP4(24, a0, a1) \
	FADDP4(25, a2, a3) \
	FADDP4(26, a4, a5) \
	FADDP4(24, 24, 25) \
	FADDP4(26, 26, 26) \
	VST1.P	[V24.S4], 16(R25) \
	FMOVD	F26, (R25) \
	ADD	$8, R25, R25

// func convFilterTile26NEON(ns int, x []float32, offs []int, xjump int, dy []float32, ldk, djump, rows, nv, rowgap int, out []float32)
TEXT ·convFilterTile26NEON(SB), NOSPLIT, $0-152
	MOVD	offs_base+32(FP), R0
	MOVD	0(R0), R8
	LSL	$2, R8, R8
	MOVD	8(R0), R9
	LSL	$2, R9, R9
	MOVD	16(R0), R10
	LSL	$2, R10, R10
	MOVD	24(R0), R11
	LSL	$2, R11, R11
	MOVD	32(R0), R12
	LSL	$2, R12, R12
	MOVD	40(R0), R13
	LSL	$2, R13, R13
	MOVD	ldk+88(FP), R3
	LSL	$2, R3, R3
	MOVD	rowgap+120(FP), R6
	LSL	$2, R6, R6
	MOVD	djump+96(FP), R23
	LSL	$2, R23, R23
	MOVD	xjump+56(FP), R24
	LSL	$2, R24, R24
	MOVD	x_base+8(FP), R15
	MOVD	dy_base+64(FP), R19
	MOVD	ns+0(FP), R20
	ZERO12

f26_sample:
	MOVD	rows+104(FP), R21

f26_row:
	MOVD	nv+112(FP), R22

f26_vec:
	F26_STEP
	SUBS	$1, R22, R22
	BNE	f26_vec
	ADD	R6, R15, R15
	SUBS	$1, R21, R21
	BNE	f26_row
	ADD	R24, R15, R15
	ADD	R23, R19, R19
	SUBS	$1, R20, R20
	BNE	f26_sample

	MOVD	out_base+128(FP), R25
	RED6_STORE(0, 1, 2, 3, 4, 5)
	RED6_STORE(6, 7, 8, 9, 10, 11)
	RET

//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512F SGEMM micro-kernel and packing routines. The micro-tile is 12×32:
// 24 zmm accumulators (Z0..Z23, row r in Z(2r) and Z(2r+1)), the two B
// vectors of a depth step in Z24 and Z25 and the broadcast A values in
// Z26..Z29.

// ROW multiplies the A value at off(AX), broadcast in zb, by the B vectors
// Z24, Z25 into the accumulators z0 and z1.
#define ROW(off, zb, z0, z1) \
	VBROADCASTSS off(AX), zb \
	VFMADD231PS  Z24, zb, z0 \
	VFMADD231PS  Z25, zb, z1

// STEP performs one rank-1 update of the 12×32 tile: twelve packed A values
// at AX+a, thirty-two packed B values at BX+b0 and BX+b1.
#define STEP(a, b0, b1) \
	VMOVUPS b0(BX), Z24                 \
	VMOVUPS b1(BX), Z25                 \
	ROW(a+0, Z26, Z0, Z1)               \
	ROW(a+4, Z27, Z2, Z3)               \
	ROW(a+8, Z28, Z4, Z5)               \
	ROW(a+12, Z29, Z6, Z7)              \
	ROW(a+16, Z26, Z8, Z9)              \
	ROW(a+20, Z27, Z10, Z11)            \
	ROW(a+24, Z28, Z12, Z13)            \
	ROW(a+28, Z29, Z14, Z15)            \
	ROW(a+32, Z26, Z16, Z17)            \
	ROW(a+36, Z27, Z18, Z19)            \
	ROW(a+40, Z28, Z20, Z21)            \
	ROW(a+44, Z29, Z22, Z23)

// ZERO2 clears two accumulators.
#define ZERO2(z0, z1) \
	VPXORD z0, z0, z0 \
	VPXORD z1, z1, z1

// PFROW prefetches one 128-byte C row at DI and steps DI to the next row.
#define PFROW \
	PREFETCHT0 (DI)   \
	PREFETCHT0 64(DI) \
	ADDQ       SI, DI

// STORE0 writes alpha*acc (alpha in Z30) to one C row at DX.
#define STORE0(z0, z1) \
	VMULPS  Z30, z0, z0 \
	VMULPS  Z30, z1, z1 \
	VMOVUPS z0, (DX)    \
	VMOVUPS z1, 64(DX)  \
	ADDQ    SI, DX

// STOREB writes alpha*acc + beta*C (alpha in Z30, beta in Z31) to one C
// row at DX.
#define STOREB(z0, z1) \
	VMULPS      Z30, z0, z0   \
	VMULPS      Z30, z1, z1   \
	VFMADD231PS (DX), Z31, z0 \
	VFMADD231PS 64(DX), Z31, z1 \
	VMOVUPS     z0, (DX)      \
	VMOVUPS     z1, 64(DX)    \
	ADDQ        SI, DX

// func sgemmKernel12x32(k, n int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel12x32(SB), NOSPLIT, $0-56
	MOVQ  k+0(FP), R13
	MOVQ  n+8(FP), R12
	MOVQ  a+16(FP), AX
	MOVQ  b+24(FP), R14
	MOVQ  c+32(FP), R9
	MOVQ  ldc+40(FP), SI
	SHLQ  $2, SI
	TESTQ R12, R12
	JZ    exit

tile:
	MOVQ R14, BX
	MOVQ R9, DX

	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)
	ZERO2(Z8, Z9)
	ZERO2(Z10, Z11)
	ZERO2(Z12, Z13)
	ZERO2(Z14, Z15)
	ZERO2(Z16, Z17)
	ZERO2(Z18, Z19)
	ZERO2(Z20, Z21)
	ZERO2(Z22, Z23)

	// Bring the C tile towards L1 while the products run.
	MOVQ DX, DI
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW
	PFROW

	MOVQ  R13, CX
	MOVQ  CX, R8
	SHRQ  $2, R8
	ANDQ  $3, CX
	TESTQ R8, R8
	JZ    tail

loop4:
	STEP(0, 0, 64)
	STEP(48, 128, 192)
	STEP(96, 256, 320)
	STEP(144, 384, 448)
	ADDQ $192, AX
	ADDQ $512, BX
	DECQ R8
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    done

loop1:
	STEP(0, 0, 64)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  loop1

done:
	// AX now addresses the next A micro-panel. beta == ±0 takes the path
	// that does not read C.
	VBROADCASTSS alpha+48(FP), Z30
	VBROADCASTSS beta+52(FP), Z31
	MOVL         beta+52(FP), R10
	ANDL         $0x7fffffff, R10
	JNZ          withbeta

	STORE0(Z0, Z1)
	STORE0(Z2, Z3)
	STORE0(Z4, Z5)
	STORE0(Z6, Z7)
	STORE0(Z8, Z9)
	STORE0(Z10, Z11)
	STORE0(Z12, Z13)
	STORE0(Z14, Z15)
	STORE0(Z16, Z17)
	STORE0(Z18, Z19)
	STORE0(Z20, Z21)
	STORE0(Z22, Z23)
	JMP next

withbeta:
	STOREB(Z0, Z1)
	STOREB(Z2, Z3)
	STOREB(Z4, Z5)
	STOREB(Z6, Z7)
	STOREB(Z8, Z9)
	STOREB(Z10, Z11)
	STOREB(Z12, Z13)
	STOREB(Z14, Z15)
	STOREB(Z16, Z17)
	STOREB(Z18, Z19)
	STOREB(Z20, Z21)
	STOREB(Z22, Z23)

next:
	// DX now addresses the next C tile.
	MOVQ DX, R9
	DECQ R12
	JNZ  tile

exit:
	VZEROUPPER
	RET

// LOAD4 loads four rows of eight floats at p + i*BX (R10 = 3*BX) into
// Y0..Y3.
#define LOAD4(p) \
	VMOVUPS (p), Y0        \
	VMOVUPS (p)(BX*1), Y1  \
	VMOVUPS (p)(BX*2), Y2  \
	VMOVUPS (p)(R10*1), Y3

// LOAD4HI loads four rows of eight floats at p + i*BX into Y4..Y7.
#define LOAD4HI(p) \
	VMOVUPS (p), Y4        \
	VMOVUPS (p)(BX*1), Y5  \
	VMOVUPS (p)(BX*2), Y6  \
	VMOVUPS (p)(R10*1), Y7

// TRANS8 transposes the 8×8 block in Y0..Y7; the transposed rows end in
// Y8..Y15.
#define TRANS8 \
	VUNPCKLPS  Y1, Y0, Y8          \
	VUNPCKHPS  Y1, Y0, Y9          \
	VUNPCKLPS  Y3, Y2, Y10         \
	VUNPCKHPS  Y3, Y2, Y11         \
	VUNPCKLPS  Y5, Y4, Y12         \
	VUNPCKHPS  Y5, Y4, Y13         \
	VUNPCKLPS  Y7, Y6, Y14         \
	VUNPCKHPS  Y7, Y6, Y15         \
	VSHUFPS    $0x44, Y10, Y8, Y0  \
	VSHUFPS    $0xEE, Y10, Y8, Y1  \
	VSHUFPS    $0x44, Y11, Y9, Y2  \
	VSHUFPS    $0xEE, Y11, Y9, Y3  \
	VSHUFPS    $0x44, Y14, Y12, Y4 \
	VSHUFPS    $0xEE, Y14, Y12, Y5 \
	VSHUFPS    $0x44, Y15, Y13, Y6 \
	VSHUFPS    $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8   \
	VPERM2F128 $0x20, Y5, Y1, Y9   \
	VPERM2F128 $0x20, Y6, Y2, Y10  \
	VPERM2F128 $0x20, Y7, Y3, Y11  \
	VPERM2F128 $0x31, Y4, Y0, Y12  \
	VPERM2F128 $0x31, Y5, Y1, Y13  \
	VPERM2F128 $0x31, Y6, Y2, Y14  \
	VPERM2F128 $0x31, Y7, Y3, Y15

// PUT8 stores Y8..Y15 at DI+o, DI+o+s, …, DI+o+7s.
#define PUT8(o, s) \
	VMOVUPS Y8, o(DI)        \
	VMOVUPS Y9, o+s(DI)      \
	VMOVUPS Y10, o+2*s(DI)   \
	VMOVUPS Y11, o+3*s(DI)   \
	VMOVUPS Y12, o+4*s(DI)   \
	VMOVUPS Y13, o+5*s(DI)   \
	VMOVUPS Y14, o+6*s(DI)   \
	VMOVUPS Y15, o+7*s(DI)

// func packA12AVX512(d, a *float32, lda, n8 int)
TEXT ·packA12AVX512(SB), NOSPLIT, $0-32
	MOVQ  d+0(FP), DI
	MOVQ  a+8(FP), AX
	MOVQ  lda+16(FP), BX
	MOVQ  n8+24(FP), CX
	SHLQ  $2, BX
	LEAQ  (BX)(BX*2), R10
	LEAQ  (AX)(BX*4), R11
	LEAQ  (R11)(BX*4), R12
	TESTQ CX, CX
	JZ    a12done

a12loop:
	// Rows 8-11 first: each 8-float store of a depth spills 4 values into
	// the next depth's rows 0-3, which the stores of rows 0-7 below then
	// overwrite (the last spill lands in the caller's slack).
	LOAD4(R12)
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TRANS8
	PUT8(32, 48)
	LOAD4(AX)
	LOAD4HI(R11)
	TRANS8
	PUT8(0, 48)
	ADDQ $32, AX
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $384, DI
	DECQ CX
	JNZ  a12loop

a12done:
	VZEROUPPER
	RET

// func packBT32AVX512(d, b *float32, ldb, n8 int)
TEXT ·packBT32AVX512(SB), NOSPLIT, $0-32
	MOVQ  d+0(FP), DI
	MOVQ  b+8(FP), AX
	MOVQ  ldb+16(FP), BX
	MOVQ  n8+24(FP), CX
	SHLQ  $2, BX
	LEAQ  (BX)(BX*2), R10
	LEAQ  (BX*8), R9
	TESTQ CX, CX
	JZ    bt32done

bt32loop:
	MOVQ AX, SI
	LEAQ (AX)(BX*4), R11
	LOAD4(SI)
	LOAD4HI(R11)
	TRANS8
	PUT8(0, 128)
	ADDQ R9, SI
	ADDQ R9, R11
	LOAD4(SI)
	LOAD4HI(R11)
	TRANS8
	PUT8(32, 128)
	ADDQ R9, SI
	ADDQ R9, R11
	LOAD4(SI)
	LOAD4HI(R11)
	TRANS8
	PUT8(64, 128)
	ADDQ R9, SI
	ADDQ R9, R11
	LOAD4(SI)
	LOAD4HI(R11)
	TRANS8
	PUT8(96, 128)
	ADDQ $32, AX
	ADDQ $1024, DI
	DECQ CX
	JNZ  bt32loop

bt32done:
	VZEROUPPER
	RET

// func copyRows12AVX512(d, s *float32, lds, n int)
TEXT ·copyRows12AVX512(SB), NOSPLIT, $0-32
	MOVQ  d+0(FP), DI
	MOVQ  s+8(FP), SI
	MOVQ  lds+16(FP), BX
	MOVQ  n+24(FP), CX
	SHLQ  $2, BX
	MOVL  $0x0fff, R8
	KMOVW R8, K1
	TESTQ CX, CX
	JZ    c12done

c12loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      BX, SI
	ADDQ      $48, DI
	DECQ      CX
	JNZ       c12loop

c12done:
	VZEROUPPER
	RET

// func copyRows32AVX512(d, s *float32, lds, n int)
TEXT ·copyRows32AVX512(SB), NOSPLIT, $0-32
	MOVQ  d+0(FP), DI
	MOVQ  s+8(FP), SI
	MOVQ  lds+16(FP), BX
	MOVQ  n+24(FP), CX
	SHLQ  $2, BX
	TESTQ CX, CX
	JZ    c32done

c32loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    BX, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     c32loop

c32done:
	VZEROUPPER
	RET

// STOREM0 writes alpha*acc to the columns of one C row at DX selected by
// K1 (first sixteen) and K2 (next sixteen), and steps DX to the next row.
#define STOREM0(z0, z1) \
	VMULPS  Z30, z0, z0     \
	VMULPS  Z30, z1, z1     \
	VMOVUPS z0, K1, (DX)    \
	VMOVUPS z1, K2, 64(DX)  \
	ADDQ    SI, DX

// STOREMB writes alpha*acc + beta*C to the columns of one C row at DX
// selected by K1 and K2; unselected columns are neither read nor written.
#define STOREMB(z0, z1) \
	VMULPS      Z30, z0, z0      \
	VMULPS      Z30, z1, z1      \
	VMOVUPS.Z   (DX), K1, Z26    \
	VMOVUPS.Z   64(DX), K2, Z27  \
	VFMADD231PS Z26, Z31, z0     \
	VFMADD231PS Z27, Z31, z1     \
	VMOVUPS     z0, K1, (DX)     \
	VMOVUPS     z1, K2, 64(DX)   \
	ADDQ        SI, DX

// func sgemmEdge12x32(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int)
TEXT ·sgemmEdge12x32(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), R13
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), SI
	SHLQ $2, SI
	MOVQ rows+48(FP), R12

	// Column masks: K1 = low min(cols, 16) bits, K2 = low cols−16 bits
	// (none when cols ≤ 16).
	MOVQ    cols+56(FP), CX
	MOVQ    $1, R10
	SHLQ    CX, R10
	DECQ    R10
	KMOVW   R10, K1
	SHRQ    $16, R10
	KMOVW   R10, K2

	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)
	ZERO2(Z8, Z9)
	ZERO2(Z10, Z11)
	ZERO2(Z12, Z13)
	ZERO2(Z14, Z15)
	ZERO2(Z16, Z17)
	ZERO2(Z18, Z19)
	ZERO2(Z20, Z21)
	ZERO2(Z22, Z23)

	MOVQ  R13, CX
	MOVQ  CX, R8
	SHRQ  $2, R8
	ANDQ  $3, CX
	TESTQ R8, R8
	JZ    etail

eloop4:
	STEP(0, 0, 64)
	STEP(48, 128, 192)
	STEP(96, 256, 320)
	STEP(144, 384, 448)
	ADDQ $192, AX
	ADDQ $512, BX
	DECQ R8
	JNZ  eloop4

etail:
	TESTQ CX, CX
	JZ    edone

eloop1:
	STEP(0, 0, 64)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  eloop1

edone:
	VBROADCASTSS alpha+40(FP), Z30
	VBROADCASTSS beta+44(FP), Z31
	MOVL         beta+44(FP), R10
	ANDL         $0x7fffffff, R10
	JNZ          ebeta

#define EROW0(z0, z1) \
	STOREM0(z0, z1) \
	DECQ R12        \
	JZ   eexit

	EROW0(Z0, Z1)
	EROW0(Z2, Z3)
	EROW0(Z4, Z5)
	EROW0(Z6, Z7)
	EROW0(Z8, Z9)
	EROW0(Z10, Z11)
	EROW0(Z12, Z13)
	EROW0(Z14, Z15)
	EROW0(Z16, Z17)
	EROW0(Z18, Z19)
	EROW0(Z20, Z21)
	STOREM0(Z22, Z23)
	JMP eexit

#define EROWB(z0, z1) \
	STOREMB(z0, z1) \
	DECQ R12        \
	JZ   eexit

ebeta:
	EROWB(Z0, Z1)
	EROWB(Z2, Z3)
	EROWB(Z4, Z5)
	EROWB(Z6, Z7)
	EROWB(Z8, Z9)
	EROWB(Z10, Z11)
	EROWB(Z12, Z13)
	EROWB(Z14, Z15)
	EROWB(Z16, Z17)
	EROWB(Z18, Z19)
	EROWB(Z20, Z21)
	STOREMB(Z22, Z23)

eexit:
	VZEROUPPER
	RET

// func copyRows12MaskAVX512(d, s *float32, lds, n, cols int)
TEXT ·copyRows12MaskAVX512(SB), NOSPLIT, $0-40
	MOVQ  d+0(FP), DI
	MOVQ  s+8(FP), SI
	MOVQ  lds+16(FP), BX
	MOVQ  n+24(FP), CX
	MOVQ  cols+32(FP), R9
	SHLQ  $2, BX
	MOVQ  $1, R8
	SHLXQ R9, R8, R8
	DECQ  R8
	KMOVW R8, K1 // columns read
	MOVL  $0x0fff, R8
	KMOVW R8, K2 // columns written
	TESTQ CX, CX
	JZ    m12done

m12loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS   Z0, K2, (DI)
	ADDQ      BX, SI
	ADDQ      $48, DI
	DECQ      CX
	JNZ       m12loop

m12done:
	VZEROUPPER
	RET

// func copyRows32MaskAVX512(d, s *float32, lds, n, cols int)
TEXT ·copyRows32MaskAVX512(SB), NOSPLIT, $0-40
	MOVQ  d+0(FP), DI
	MOVQ  s+8(FP), SI
	MOVQ  lds+16(FP), BX
	MOVQ  n+24(FP), CX
	MOVQ  cols+32(FP), R9
	SHLQ  $2, BX
	MOVQ  $1, R8
	SHLXQ R9, R8, R8
	DECQ  R8
	KMOVW R8, K1 // columns 0..15 read
	SHRQ  $16, R8
	KMOVW R8, K2 // columns 16..31 read
	TESTQ CX, CX
	JZ    m32done

m32loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	ADDQ      BX, SI
	ADDQ      $128, DI
	DECQ      CX
	JNZ       m32loop

m32done:
	VZEROUPPER
	RET

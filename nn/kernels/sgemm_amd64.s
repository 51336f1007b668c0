//go:build amd64 && !noasm

#include "textflag.h"

// STEP performs one rank-1 update of the 6×16 accumulator tile Y0..Y11 from
// six packed A values at AX+a0..a5 and sixteen packed B values at BX+b0, b1.
#define STEP(a0, a1, a2, a3, a4, a5, b0, b1) \
	VMOVUPS      b0(BX), Y12        \
	VMOVUPS      b1(BX), Y13        \
	VBROADCASTSS a0(AX), Y14        \
	VFMADD231PS  Y12, Y14, Y0       \
	VFMADD231PS  Y13, Y14, Y1       \
	VBROADCASTSS a1(AX), Y15        \
	VFMADD231PS  Y12, Y15, Y2       \
	VFMADD231PS  Y13, Y15, Y3       \
	VBROADCASTSS a2(AX), Y14        \
	VFMADD231PS  Y12, Y14, Y4       \
	VFMADD231PS  Y13, Y14, Y5       \
	VBROADCASTSS a3(AX), Y15        \
	VFMADD231PS  Y12, Y15, Y6       \
	VFMADD231PS  Y13, Y15, Y7       \
	VBROADCASTSS a4(AX), Y14        \
	VFMADD231PS  Y12, Y14, Y8       \
	VFMADD231PS  Y13, Y14, Y9       \
	VBROADCASTSS a5(AX), Y15        \
	VFMADD231PS  Y12, Y15, Y10      \
	VFMADD231PS  Y13, Y15, Y11

// STORE0 writes alpha*acc (alpha in Y14) to one C row at DX.
#define STORE0(r0, r1) \
	VMULPS  Y14, r0, r0      \
	VMULPS  Y14, r1, r1      \
	VMOVUPS r0, (DX)         \
	VMOVUPS r1, 32(DX)       \
	ADDQ    SI, DX

// STOREB writes alpha*acc + beta*C (alpha in Y14, beta in Y15) to one C
// row at DX.
#define STOREB(r0, r1) \
	VMULPS      Y14, r0, r0      \
	VMULPS      Y14, r1, r1      \
	VFMADD231PS (DX), Y15, r0    \
	VFMADD231PS 32(DX), Y15, r1  \
	VMOVUPS     r0, (DX)         \
	VMOVUPS     r1, 32(DX)       \
	ADDQ        SI, DX

// func sgemmKernel6x16(k, n int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), R13
	MOVQ n+8(FP), R12
	MOVQ a+16(FP), AX
	MOVQ b+24(FP), R14
	MOVQ c+32(FP), R9
	MOVQ ldc+40(FP), SI
	SHLQ $2, SI
	TESTQ R12, R12
	JZ   exit

tile:
	MOVQ R14, BX
	MOVQ R9, DX

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

	// Bring the C tile towards L1 while the products run.
	MOVQ       DX, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)
	ADDQ       SI, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)
	ADDQ       SI, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)
	ADDQ       SI, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)
	ADDQ       SI, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)
	ADDQ       SI, DI
	PREFETCHT0 (DI)
	PREFETCHT0 60(DI)

	MOVQ  R13, CX
	MOVQ  CX, R8
	SHRQ  $2, R8
	ANDQ  $3, CX
	TESTQ R8, R8
	JZ    tail

loop4:
	STEP(0, 4, 8, 12, 16, 20, 0, 32)
	STEP(24, 28, 32, 36, 40, 44, 64, 96)
	STEP(48, 52, 56, 60, 64, 68, 128, 160)
	STEP(72, 76, 80, 84, 88, 92, 192, 224)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R8
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    done

loop1:
	STEP(0, 4, 8, 12, 16, 20, 0, 32)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

done:
	// AX now addresses the next A micro-panel.
	VBROADCASTSS alpha+48(FP), Y14
	VBROADCASTSS beta+52(FP), Y15
	VXORPS       X12, X12, X12
	VUCOMISS     X12, X15
	JPS          withbeta
	JNE          withbeta

	STORE0(Y0, Y1)
	STORE0(Y2, Y3)
	STORE0(Y4, Y5)
	STORE0(Y6, Y7)
	STORE0(Y8, Y9)
	STORE0(Y10, Y11)
	JMP next

withbeta:
	STOREB(Y0, Y1)
	STOREB(Y2, Y3)
	STOREB(Y4, Y5)
	STOREB(Y6, Y7)
	STOREB(Y8, Y9)
	STOREB(Y10, Y11)

next:
	// DX now addresses the next C tile.
	MOVQ DX, R9
	DECQ R12
	JNZ  tile

exit:
	VZEROUPPER
	RET

// LOAD8 loads eight rows of eight floats: rows 0-3 at p0 + i*BX, rows 4-7 at
// p4 + i*BX (R10 = 3*BX).
#define LOAD8(p0, p4) \
	VMOVUPS (p0), Y0            \
	VMOVUPS (p0)(BX*1), Y1      \
	VMOVUPS (p0)(BX*2), Y2      \
	VMOVUPS (p0)(R10*1), Y3     \
	VMOVUPS (p4), Y4            \
	VMOVUPS (p4)(BX*1), Y5      \
	VMOVUPS (p4)(BX*2), Y6      \
	VMOVUPS (p4)(R10*1), Y7

// TRANSPOSE8 transposes the 8×8 block in Y0..Y7; the transposed rows end in
// Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15.
#define TRANSPOSE8 \
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

// STORE8 stores Y8..Y15 as eight packed rows of 64 bytes starting at
// off(DI).
#define STORE8(o0, o1, o2, o3, o4, o5, o6, o7) \
	VMOVUPS Y8, o0(DI)   \
	VMOVUPS Y9, o1(DI)   \
	VMOVUPS Y10, o2(DI)  \
	VMOVUPS Y11, o3(DI)  \
	VMOVUPS Y12, o4(DI)  \
	VMOVUPS Y13, o5(DI)  \
	VMOVUPS Y14, o6(DI)  \
	VMOVUPS Y15, o7(DI)

// func packBT16AVX2(d, b *float32, ldb, n8 int)
TEXT ·packBT16AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ b+8(FP), AX
	MOVQ ldb+16(FP), BX
	MOVQ n8+24(FP), CX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R10
	LEAQ (AX)(BX*4), R11
	LEAQ (R11)(BX*4), R8
	LEAQ (R8)(BX*4), R12
	TESTQ CX, CX
	JZ   tdone

tloop:
	LOAD8(AX, R11)
	TRANSPOSE8
	STORE8(0, 64, 128, 192, 256, 320, 384, 448)
	LOAD8(R8, R12)
	TRANSPOSE8
	STORE8(32, 96, 160, 224, 288, 352, 416, 480)
	ADDQ $32, AX
	ADDQ $32, R11
	ADDQ $32, R8
	ADDQ $32, R12
	ADDQ $512, DI
	DECQ CX
	JNZ  tloop

tdone:
	VZEROUPPER
	RET

// func packA6AVX2(d, a *float32, lda, n8 int)
TEXT ·packA6AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), BX
	MOVQ n8+24(FP), CX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R10
	LEAQ (AX)(BX*4), R11
	TESTQ CX, CX
	JZ   adone

aloop:
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(BX*1), Y1
	VMOVUPS (AX)(BX*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(BX*1), Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	TRANSPOSE8
	// Each depth takes 6 floats; the 2 extra lanes of each 8-float store
	// are overwritten by the next store (or land in the caller's slack).
	STORE8(0, 24, 48, 72, 96, 120, 144, 168)
	ADDQ $32, AX
	ADDQ $32, R11
	ADDQ $192, DI
	DECQ CX
	JNZ  aloop

adone:
	VZEROUPPER
	RET

// func copyRows16AVX2(d, s *float32, lds, n int)
TEXT ·copyRows16AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ lds+16(FP), BX
	MOVQ n+24(FP), CX
	SHLQ $2, BX
	TESTQ CX, CX
	JZ   c16done

c16loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    BX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     c16loop

c16done:
	VZEROUPPER
	RET

// func copyRows6AVX2(d, s *float32, lds, n int)
TEXT ·copyRows6AVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ lds+16(FP), BX
	MOVQ n+24(FP), CX
	SHLQ $2, BX
	TESTQ CX, CX
	JZ   c6done

c6loop:
	MOVUPS (SI), X0
	MOVQ   16(SI), R9
	MOVUPS X0, (DI)
	MOVQ   R9, 16(DI)
	ADDQ   BX, SI
	ADDQ   $24, DI
	DECQ   CX
	JNZ    c6loop

c6done:
	RET

//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512F element-wise kernels: the arithmetic of the AVX2 kernels of the
// same name on sixteen lanes, with opmask (K-register) tails.

// ADAMSTEP16 performs the Adam step on Z0 (w), Z1 (g), Z2 (m), Z3 (v) with
// the constants in Z8..Z15; the new m, v and w end in Z2, Z5 and Z0. It is
// ADAMSTEP of elementwise_amd64.s on sixteen lanes, instruction for
// instruction.
#define ADAMSTEP16(w, g, m, v, t, nv) \
	VFMADD231PS Z8, w, g;   \
	VMULPS      Z9, m, m;   \
	VFMADD231PS Z10, g, m;  \
	VMULPS      Z12, g, t;  \
	VMULPS      Z11, v, nv; \
	VFMADD231PS t, g, nv;   \
	VMULPS      Z13, nv, v; \
	VSQRTPS     v, v;       \
	VADDPS      Z14, v, v;  \
	VMULPS      Z15, m, t;  \
	VDIVPS      v, t, t;    \
	VSUBPS      t, w, w

// func adamAVX512(w, gr, m, v *float32, n int, p *adamConsts)
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         gr+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         p+40(FP), AX
	VBROADCASTSS 0(AX), Z8    // wd
	VBROADCASTSS 4(AX), Z9    // b1
	VBROADCASTSS 8(AX), Z10   // 1-b1
	VBROADCASTSS 12(AX), Z11  // b2
	VBROADCASTSS 16(AX), Z12  // 1-b2
	VBROADCASTSS 20(AX), Z13  // c2
	VBROADCASTSS 24(AX), Z14  // eps
	VBROADCASTSS 28(AX), Z15  // lr*c1
	MOVQ         CX, R9
	ANDQ         $-32, R9
	XORQ         AX, AX

adam_32:
	CMPQ    AX, R9
	JGE     adam_16
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS (SI)(AX*4), Z1
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS (R8)(AX*4), Z3
	VMOVUPS 64(DI)(AX*4), Z16
	VMOVUPS 64(SI)(AX*4), Z17
	VMOVUPS 64(DX)(AX*4), Z18
	VMOVUPS 64(R8)(AX*4), Z19
	ADAMSTEP16(Z0, Z1, Z2, Z3, Z4, Z5)
	ADAMSTEP16(Z16, Z17, Z18, Z19, Z20, Z21)
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z5, (R8)(AX*4)
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z18, 64(DX)(AX*4)
	VMOVUPS Z21, 64(R8)(AX*4)
	VMOVUPS Z16, 64(DI)(AX*4)
	ADDQ    $32, AX
	JMP     adam_32

adam_16:
	// At most 31 elements are left: up to two masked vectors.
	CMPQ  AX, CX
	JGE   adam_done
	MOVQ  CX, BX
	SUBQ  AX, BX
	CMPQ  BX, $16
	JLE   adam_mask
	MOVQ  $0xffff, R10
	JMP   adam_vec

adam_mask:
	MOVQ  BX, R11
	MOVQ  $1, R10
	SHLXQ R11, R10, R10
	DECQ  R10

adam_vec:
	KMOVW     R10, K1
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VMOVUPS.Z (DX)(AX*4), K1, Z2
	VMOVUPS.Z (R8)(AX*4), K1, Z3
	ADAMSTEP16(Z0, Z1, Z2, Z3, Z4, Z5)
	VMOVUPS   Z2, K1, (DX)(AX*4)
	VMOVUPS   Z5, K1, (R8)(AX*4)
	VMOVUPS   Z0, K1, (DI)(AX*4)
	ADDQ      $16, AX
	JMP       adam_16

adam_done:
	VZEROUPPER
	RET

//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 element-wise kernels. See the Go stubs in elementwise_amd64.go for the
// meaning of each function. Loops run 32 (or 8) floats at a time; a final
// partial vector of 1..7 floats is loaded and stored with VMASKMOVPS, which
// neither reads nor writes the lanes outside the mask, so no access goes past
// the end of a slice. Registers BP, R14 and R15 are not used.

// ewTail<>: eight int32 -1 followed by eight 0. The 32 bytes at
// ewTail<>+32-4*r select the first r lanes of a YMM register (0 <= r <= 8).
DATA ewTail<>+0(SB)/8, $0xffffffffffffffff
DATA ewTail<>+8(SB)/8, $0xffffffffffffffff
DATA ewTail<>+16(SB)/8, $0xffffffffffffffff
DATA ewTail<>+24(SB)/8, $0xffffffffffffffff
DATA ewTail<>+32(SB)/8, $0
DATA ewTail<>+40(SB)/8, $0
DATA ewTail<>+48(SB)/8, $0
DATA ewTail<>+56(SB)/8, $0
GLOBL ewTail<>(SB), RODATA|NOPTR, $64

// ewBits<>: four vectors of eight int32; lane l of vector j is 1<<(8j+l),
// the bit of a 32-bit half mask word that governs that lane of group j.
DATA ewBits<>+0(SB)/4, $0x00000001
DATA ewBits<>+4(SB)/4, $0x00000002
DATA ewBits<>+8(SB)/4, $0x00000004
DATA ewBits<>+12(SB)/4, $0x00000008
DATA ewBits<>+16(SB)/4, $0x00000010
DATA ewBits<>+20(SB)/4, $0x00000020
DATA ewBits<>+24(SB)/4, $0x00000040
DATA ewBits<>+28(SB)/4, $0x00000080
DATA ewBits<>+32(SB)/4, $0x00000100
DATA ewBits<>+36(SB)/4, $0x00000200
DATA ewBits<>+40(SB)/4, $0x00000400
DATA ewBits<>+44(SB)/4, $0x00000800
DATA ewBits<>+48(SB)/4, $0x00001000
DATA ewBits<>+52(SB)/4, $0x00002000
DATA ewBits<>+56(SB)/4, $0x00004000
DATA ewBits<>+60(SB)/4, $0x00008000
DATA ewBits<>+64(SB)/4, $0x00010000
DATA ewBits<>+68(SB)/4, $0x00020000
DATA ewBits<>+72(SB)/4, $0x00040000
DATA ewBits<>+76(SB)/4, $0x00080000
DATA ewBits<>+80(SB)/4, $0x00100000
DATA ewBits<>+84(SB)/4, $0x00200000
DATA ewBits<>+88(SB)/4, $0x00400000
DATA ewBits<>+92(SB)/4, $0x00800000
DATA ewBits<>+96(SB)/4, $0x01000000
DATA ewBits<>+100(SB)/4, $0x02000000
DATA ewBits<>+104(SB)/4, $0x04000000
DATA ewBits<>+108(SB)/4, $0x08000000
DATA ewBits<>+112(SB)/4, $0x10000000
DATA ewBits<>+116(SB)/4, $0x20000000
DATA ewBits<>+120(SB)/4, $0x40000000
DATA ewBits<>+124(SB)/4, $0x80000000
GLOBL ewBits<>(SB), RODATA|NOPTR, $128

// TAILMASK sets y to the lane mask of the first n%8 lanes; t1 and t2 are
// clobbered.
#define TAILMASK(n, t1, t2, y) \
	MOVQ n, t1; \
	ANDQ $7, t1; \
	SHLQ $2, t1; \
	LEAQ ewTail<>+32(SB), t2; \
	SUBQ t1, t2; \
	VMOVDQU (t2), y

// func addBiasAVX2(x, bias *float32, rows, cols int)
TEXT ·addBiasAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ cols+24(FP), DX
	TAILMASK(DX, AX, BX, Y15)
	MOVQ DX, R8
	ANDQ $-8, R8
	MOVQ DX, R9
	ANDQ $-32, R9

ab_row:
	XORQ AX, AX

ab_32:
	CMPQ AX, R9
	JGE  ab_8
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	VADDPS  (SI)(AX*4), Y0, Y0
	VADDPS  32(SI)(AX*4), Y1, Y1
	VADDPS  64(SI)(AX*4), Y2, Y2
	VADDPS  96(SI)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     ab_32

ab_8:
	CMPQ AX, R8
	JGE  ab_tail
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     ab_8

ab_tail:
	CMPQ AX, DX
	JGE  ab_next
	VMASKMOVPS (DI)(AX*4), Y15, Y0
	VMASKMOVPS (SI)(AX*4), Y15, Y1
	VADDPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

ab_next:
	LEAQ (DI)(DX*4), DI
	DECQ CX
	JNZ  ab_row
	VZEROUPPER
	RET

// func addBiasChannelsAVX2(x, bias *float32, n, chans, hw int)
TEXT ·addBiasChannelsAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ chans+24(FP), R10
	MOVQ hw+32(FP), DX
	TAILMASK(DX, AX, BX, Y15)
	MOVQ DX, R8
	ANDQ $-8, R8
	MOVQ DX, R9
	ANDQ $-32, R9

abc_sample:
	XORQ BX, BX

abc_chan:
	VBROADCASTSS (SI)(BX*4), Y14
	XORQ         AX, AX

abc_32:
	CMPQ AX, R9
	JGE  abc_8
	VADDPS  (DI)(AX*4), Y14, Y0
	VADDPS  32(DI)(AX*4), Y14, Y1
	VADDPS  64(DI)(AX*4), Y14, Y2
	VADDPS  96(DI)(AX*4), Y14, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     abc_32

abc_8:
	CMPQ AX, R8
	JGE  abc_tail
	VADDPS  (DI)(AX*4), Y14, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     abc_8

abc_tail:
	CMPQ AX, DX
	JGE  abc_next
	VMASKMOVPS (DI)(AX*4), Y15, Y0
	VADDPS     Y14, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

abc_next:
	LEAQ (DI)(DX*4), DI
	INCQ BX
	CMPQ BX, R10
	JLT  abc_chan
	DECQ CX
	JNZ  abc_sample
	VZEROUPPER
	RET

// func sumRowsAVX2(dst, x *float32, rows, cols int)
// Column blocks are summed down all rows in registers, starting from dst.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ cols+24(FP), DX
	TAILMASK(DX, AX, BX, Y15)
	MOVQ DX, R11
	SHLQ $2, R11              // row stride in bytes
	MOVQ DX, R8
	ANDQ $-8, R8
	MOVQ DX, R9
	ANDQ $-32, R9
	XORQ AX, AX

sr_32:
	CMPQ AX, R9
	JGE  sr_8
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	LEAQ    (SI)(AX*4), R10
	MOVQ    CX, R12

sr_32r:
	VADDPS (R10), Y0, Y0
	VADDPS 32(R10), Y1, Y1
	VADDPS 64(R10), Y2, Y2
	VADDPS 96(R10), Y3, Y3
	ADDQ   R11, R10
	DECQ   R12
	JNZ    sr_32r
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     sr_32

sr_8:
	CMPQ AX, R8
	JGE  sr_tail
	VMOVUPS (DI)(AX*4), Y0
	LEAQ    (SI)(AX*4), R10
	MOVQ    CX, R12

sr_8r:
	VADDPS (R10), Y0, Y0
	ADDQ   R11, R10
	DECQ   R12
	JNZ    sr_8r
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     sr_8

sr_tail:
	CMPQ AX, DX
	JGE  sr_done
	VMASKMOVPS (DI)(AX*4), Y15, Y0
	LEAQ       (SI)(AX*4), R10
	MOVQ       CX, R12

sr_tr:
	VMASKMOVPS (R10), Y15, Y1
	VADDPS     Y1, Y0, Y0
	ADDQ       R11, R10
	DECQ       R12
	JNZ        sr_tr
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

sr_done:
	VZEROUPPER
	RET

// func sumChannelsAVX2(dst, x *float32, n, chans, hw int)
TEXT ·sumChannelsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ chans+24(FP), R10
	MOVQ hw+32(FP), DX
	TAILMASK(DX, AX, BX, Y15)
	MOVQ DX, R8
	ANDQ $-8, R8
	MOVQ DX, R9
	ANDQ $-32, R9

sc_sample:
	XORQ BX, BX

sc_chan:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

sc_32:
	CMPQ AX, R9
	JGE  sc_8
	VADDPS (SI)(AX*4), Y0, Y0
	VADDPS 32(SI)(AX*4), Y1, Y1
	VADDPS 64(SI)(AX*4), Y2, Y2
	VADDPS 96(SI)(AX*4), Y3, Y3
	ADDQ   $32, AX
	JMP    sc_32

sc_8:
	CMPQ AX, R8
	JGE  sc_tail
	VADDPS (SI)(AX*4), Y0, Y0
	ADDQ   $8, AX
	JMP    sc_8

sc_tail:
	CMPQ AX, DX
	JGE  sc_reduce
	VMASKMOVPS (SI)(AX*4), Y15, Y4
	VADDPS     Y4, Y1, Y1

sc_reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VADDSS       (DI)(BX*4), X0, X0
	VMOVSS       X0, (DI)(BX*4)
	LEAQ         (SI)(DX*4), SI
	INCQ         BX
	CMPQ         BX, R10
	JLT          sc_chan
	DECQ         CX
	JNZ          sc_sample
	VZEROUPPER
	RET

// func reluAVX2(y, x *float32, n int)
// VMAXPS returns its second source (zero) when x is NaN or when both are
// zeros, so NaN and -0 give +0 as in Go.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), DX
	TAILMASK(DX, AX, BX, Y15)
	VXORPS Y14, Y14, Y14
	MOVQ   DX, R8
	ANDQ   $-8, R8
	MOVQ   DX, R9
	ANDQ   $-32, R9
	XORQ   AX, AX

relu_32:
	CMPQ AX, R9
	JGE  relu_8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMAXPS  Y14, Y0, Y0
	VMAXPS  Y14, Y1, Y1
	VMAXPS  Y14, Y2, Y2
	VMAXPS  Y14, Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     relu_32

relu_8:
	CMPQ AX, R8
	JGE  relu_tail
	VMOVUPS (SI)(AX*4), Y0
	VMAXPS  Y14, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     relu_8

relu_tail:
	CMPQ AX, DX
	JGE  relu_done
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VMAXPS     Y14, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

relu_done:
	VZEROUPPER
	RET

// RELUGROUP handles 8 floats at byte offset off: y = x & (x > 0), and ORs
// the 8 comparison bits, shifted left by sh, into R8 (through AX).
#define RELUGROUP(off, sh, yx, ym) \
	VMOVUPS   off(SI), yx; \
	VCMPPS    $0x1e, Y15, yx, ym; \
	VANDPS    yx, ym, yx; \
	VMOVUPS   yx, off(DI); \
	VMOVMSKPS ym, AX; \
	SHLQ      $sh, AX; \
	ORQ       AX, R8

// func reluMaskAVX2(y, x *float32, mask *uint64, words int)
// Predicate 0x1e is GT_OQ: false for NaN, so NaN gives 0 and a clear bit.
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   mask+16(FP), DX
	MOVQ   words+24(FP), CX
	VXORPS Y15, Y15, Y15

rm_loop:
	XORQ R8, R8
	RELUGROUP(0, 0, Y0, Y8)
	RELUGROUP(32, 8, Y1, Y9)
	RELUGROUP(64, 16, Y2, Y10)
	RELUGROUP(96, 24, Y3, Y11)
	RELUGROUP(128, 32, Y4, Y12)
	RELUGROUP(160, 40, Y5, Y13)
	RELUGROUP(192, 48, Y6, Y14)
	RELUGROUP(224, 56, Y7, Y8)
	MOVQ R8, (DX)
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  rm_loop
	VZEROUPPER
	RET

// MASKGROUPS handles the 32 floats at byte offset off governed by the 32
// mask bits broadcast in yb: lane masks from (yb & bit) == bit, then
// dx = (dy*scale) & lane mask.
#define MASKGROUPS(off, yb) \
	VPAND    yb, Y11, Y0; \
	VPAND    yb, Y12, Y1; \
	VPAND    yb, Y13, Y2; \
	VPAND    yb, Y14, Y3; \
	VPCMPEQD Y11, Y0, Y0; \
	VPCMPEQD Y12, Y1, Y1; \
	VPCMPEQD Y13, Y2, Y2; \
	VPCMPEQD Y14, Y3, Y3; \
	VMULPS   off(SI), Y15, Y4; \
	VMULPS   off+32(SI), Y15, Y5; \
	VMULPS   off+64(SI), Y15, Y6; \
	VMULPS   off+96(SI), Y15, Y7; \
	VANDPS   Y4, Y0, Y0; \
	VANDPS   Y5, Y1, Y1; \
	VANDPS   Y6, Y2, Y2; \
	VANDPS   Y7, Y3, Y3; \
	VMOVUPS  Y0, off(DI); \
	VMOVUPS  Y1, off+32(DI); \
	VMOVUPS  Y2, off+64(DI); \
	VMOVUPS  Y3, off+96(DI)

// func maskMulAVX2(dx, dy *float32, mask *uint64, words int, scale float32)
TEXT ·maskMulAVX2(SB), NOSPLIT, $0-36
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         mask+16(FP), DX
	MOVQ         words+24(FP), CX
	VBROADCASTSS scale+32(FP), Y15
	VMOVDQU      ewBits<>+0(SB), Y11
	VMOVDQU      ewBits<>+32(SB), Y12
	VMOVDQU      ewBits<>+64(SB), Y13
	VMOVDQU      ewBits<>+96(SB), Y14

mm_loop:
	VPBROADCASTD (DX), Y8
	VPBROADCASTD 4(DX), Y9
	MASKGROUPS(0, Y8)
	MASKGROUPS(128, Y9)
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  mm_loop
	VZEROUPPER
	RET

// ADAMSTEP updates the 8 lanes held in Y0 (w), Y1 (g), Y2 (m), Y3 (v):
// on exit Y0 = new w, Y2 = new m, Y5 = new v. Y4 is clobbered.
#define ADAMSTEP \
	VFMADD231PS Y8, Y0, Y1; \
	VMULPS      Y9, Y2, Y2; \
	VFMADD231PS Y10, Y1, Y2; \
	VMULPS      Y12, Y1, Y4; \
	VMULPS      Y11, Y3, Y5; \
	VFMADD231PS Y4, Y1, Y5; \
	VMULPS      Y13, Y5, Y3; \
	VSQRTPS     Y3, Y3; \
	VADDPS      Y14, Y3, Y3; \
	VMULPS      Y15, Y2, Y4; \
	VDIVPS      Y3, Y4, Y4; \
	VSUBPS      Y4, Y0, Y0

// func adamAVX2(w, gr, m, v *float32, n int, p *adamConsts)
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         gr+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         n+32(FP), CX
	MOVQ         p+40(FP), AX
	VBROADCASTSS 0(AX), Y8    // wd
	VBROADCASTSS 4(AX), Y9    // b1
	VBROADCASTSS 8(AX), Y10   // 1-b1
	VBROADCASTSS 12(AX), Y11  // b2
	VBROADCASTSS 16(AX), Y12  // 1-b2
	VBROADCASTSS 20(AX), Y13  // c2
	VBROADCASTSS 24(AX), Y14  // eps
	VBROADCASTSS 28(AX), Y15  // lr*c1
	MOVQ         CX, R9
	ANDQ         $-8, R9
	XORQ         AX, AX

adam_8:
	CMPQ AX, R9
	JGE  adam_tail
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMSTEP
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y5, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     adam_8

adam_tail:
	CMPQ AX, CX
	JGE  adam_done
	TAILMASK(CX, BX, R10, Y7)
	VMASKMOVPS (DI)(AX*4), Y7, Y0
	VMASKMOVPS (SI)(AX*4), Y7, Y1
	VMASKMOVPS (DX)(AX*4), Y7, Y2
	VMASKMOVPS (R8)(AX*4), Y7, Y3
	ADAMSTEP
	VMASKMOVPS Y2, Y7, (DX)(AX*4)
	VMASKMOVPS Y5, Y7, (R8)(AX*4)
	VMASKMOVPS Y0, Y7, (DI)(AX*4)

adam_done:
	VZEROUPPER
	RET

// func axpyAVX2(x, y *float32, n int, alpha float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), DX
	VBROADCASTSS alpha+24(FP), Y14
	TAILMASK(DX, AX, BX, Y15)
	MOVQ         DX, R8
	ANDQ         $-8, R8
	MOVQ         DX, R9
	ANDQ         $-32, R9
	XORQ         AX, AX

axpy_32:
	CMPQ AX, R9
	JGE  axpy_8
	VMOVUPS     (DI)(AX*4), Y0
	VMOVUPS     32(DI)(AX*4), Y1
	VMOVUPS     64(DI)(AX*4), Y2
	VMOVUPS     96(DI)(AX*4), Y3
	VFMADD231PS (SI)(AX*4), Y14, Y0
	VFMADD231PS 32(SI)(AX*4), Y14, Y1
	VFMADD231PS 64(SI)(AX*4), Y14, Y2
	VFMADD231PS 96(SI)(AX*4), Y14, Y3
	VMOVUPS     Y0, (DI)(AX*4)
	VMOVUPS     Y1, 32(DI)(AX*4)
	VMOVUPS     Y2, 64(DI)(AX*4)
	VMOVUPS     Y3, 96(DI)(AX*4)
	ADDQ        $32, AX
	JMP         axpy_32

axpy_8:
	CMPQ AX, R8
	JGE  axpy_tail
	VMOVUPS     (DI)(AX*4), Y0
	VFMADD231PS (SI)(AX*4), Y14, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ        $8, AX
	JMP         axpy_8

axpy_tail:
	CMPQ AX, DX
	JGE  axpy_done
	VMASKMOVPS  (DI)(AX*4), Y15, Y0
	VMASKMOVPS  (SI)(AX*4), Y15, Y1
	VFMADD231PS Y1, Y14, Y0
	VMASKMOVPS  Y0, Y15, (DI)(AX*4)

axpy_done:
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, alpha float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), DX
	VBROADCASTSS alpha+16(FP), Y14
	TAILMASK(DX, AX, BX, Y15)
	MOVQ         DX, R8
	ANDQ         $-8, R8
	MOVQ         DX, R9
	ANDQ         $-32, R9
	XORQ         AX, AX

scale_32:
	CMPQ AX, R9
	JGE  scale_8
	VMULPS  (DI)(AX*4), Y14, Y0
	VMULPS  32(DI)(AX*4), Y14, Y1
	VMULPS  64(DI)(AX*4), Y14, Y2
	VMULPS  96(DI)(AX*4), Y14, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     scale_32

scale_8:
	CMPQ AX, R8
	JGE  scale_tail
	VMULPS  (DI)(AX*4), Y14, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     scale_8

scale_tail:
	CMPQ AX, DX
	JGE  scale_done
	VMASKMOVPS (DI)(AX*4), Y15, Y0
	VMULPS     Y14, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

scale_done:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x *float32, n int) float64
// Floats are widened to float64 (VCVTPS2PD) and squared into four float64
// accumulators; each square is exact, so only the additions round.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), DX
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	TAILMASK(DX, AX, BX, Y15)
	MOVQ   DX, R8
	ANDQ   $-8, R8
	MOVQ   DX, R9
	ANDQ   $-16, R9
	XORQ   AX, AX

ss_16:
	CMPQ AX, R9
	JGE  ss_8
	VCVTPS2PD   (SI)(AX*4), Y0
	VCVTPS2PD   16(SI)(AX*4), Y1
	VCVTPS2PD   32(SI)(AX*4), Y2
	VCVTPS2PD   48(SI)(AX*4), Y3
	VFMADD231PD Y0, Y0, Y4
	VFMADD231PD Y1, Y1, Y5
	VFMADD231PD Y2, Y2, Y6
	VFMADD231PD Y3, Y3, Y7
	ADDQ        $16, AX
	JMP         ss_16

ss_8:
	CMPQ AX, R8
	JGE  ss_tail
	VCVTPS2PD   (SI)(AX*4), Y0
	VCVTPS2PD   16(SI)(AX*4), Y1
	VFMADD231PD Y0, Y0, Y4
	VFMADD231PD Y1, Y1, Y5
	ADDQ        $8, AX

ss_tail:
	CMPQ AX, DX
	JGE  ss_reduce
	VMASKMOVPS   (SI)(AX*4), Y15, Y0
	VEXTRACTF128 $1, Y0, X1
	VCVTPS2PD    X0, Y0
	VCVTPS2PD    X1, Y1
	VFMADD231PD  Y0, Y0, Y6
	VFMADD231PD  Y1, Y1, Y7

ss_reduce:
	VADDPD       Y5, Y4, Y4
	VADDPD       Y7, Y6, Y6
	VADDPD       Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPD       X5, X4, X4
	VUNPCKHPD    X4, X4, X5
	VADDSD       X5, X4, X4
	VMOVSD       X4, ret+16(FP)
	VZEROUPPER
	RET

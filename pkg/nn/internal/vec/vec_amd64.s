//go:build amd64 && !noasm

#include "textflag.h"

// Hand-written AVX2+FMA loops; each has a pure-Go twin in vec.go (the
// reference of vec_test.go). Go assembler operand order: sources first,
// destination last; for VFMADD231PS a, b, d: d = b*a + d; for
// VFMADD213PS a, b, d: d = b*d + a.

// func colSums(s1, s2 *float64, x *float32, n, ldx, cols int)
// Blocks of 16 columns (one cache line of each row) with 8 float64
// accumulators (4 for Σx, 4 for Σx²), then one block of 8 if cols%16 == 8.
TEXT ·colSums(SB), NOSPLIT, $0-48
	MOVQ s1+0(FP), DI
	MOVQ s2+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ ldx+32(FP), R8
	SHLQ $2, R8
	MOVQ cols+40(FP), R9

cs16:
	CMPQ   R9, $16
	JL     cs8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ   DX, AX
	MOVQ   CX, BX

cs16row:
	VCVTPS2PD   (AX), Y8
	VCVTPS2PD   16(AX), Y9
	VCVTPS2PD   32(AX), Y10
	VCVTPS2PD   48(AX), Y11
	VADDPD      Y8, Y0, Y0
	VADDPD      Y9, Y1, Y1
	VADDPD      Y10, Y2, Y2
	VADDPD      Y11, Y3, Y3
	VFMADD231PD Y8, Y8, Y4
	VFMADD231PD Y9, Y9, Y5
	VFMADD231PD Y10, Y10, Y6
	VFMADD231PD Y11, Y11, Y7
	ADDQ        R8, AX
	DECQ        BX
	JNZ         cs16row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  64(DI), Y2, Y2
	VMOVUPD Y2, 64(DI)
	VADDPD  96(DI), Y3, Y3
	VMOVUPD Y3, 96(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)
	VADDPD  64(SI), Y6, Y6
	VMOVUPD Y6, 64(SI)
	VADDPD  96(SI), Y7, Y7
	VMOVUPD Y7, 96(SI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	ADDQ    $64, DX
	SUBQ    $16, R9
	JMP     cs16

cs8:
	TESTQ  R9, R9
	JZ     csdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	MOVQ   DX, AX
	MOVQ   CX, BX

cs8row:
	VCVTPS2PD   (AX), Y8
	VCVTPS2PD   16(AX), Y9
	VADDPD      Y8, Y0, Y0
	VADDPD      Y9, Y1, Y1
	VFMADD231PD Y8, Y8, Y4
	VFMADD231PD Y9, Y9, Y5
	ADDQ        R8, AX
	DECQ        BX
	JNZ         cs8row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)

csdone:
	VZEROUPPER
	RET

// func colDotSums(sg, sgx *float64, gr, x *float32, n, ldx, cols int)
// As colSums: Σg into Y0..Y3, Σg·x into Y4..Y7.
TEXT ·colDotSums(SB), NOSPLIT, $0-56
	MOVQ sg+0(FP), DI
	MOVQ sgx+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ x+24(FP), R10
	MOVQ n+32(FP), CX
	MOVQ ldx+40(FP), R8
	SHLQ $2, R8
	MOVQ cols+48(FP), R9

cd16:
	CMPQ   R9, $16
	JL     cd8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ   DX, AX
	MOVQ   R10, R11
	MOVQ   CX, BX

cd16row:
	VCVTPS2PD   (AX), Y8
	VCVTPS2PD   16(AX), Y9
	VCVTPS2PD   32(AX), Y10
	VCVTPS2PD   48(AX), Y11
	VCVTPS2PD   (R11), Y12
	VCVTPS2PD   16(R11), Y13
	VCVTPS2PD   32(R11), Y14
	VCVTPS2PD   48(R11), Y15
	VADDPD      Y8, Y0, Y0
	VADDPD      Y9, Y1, Y1
	VADDPD      Y10, Y2, Y2
	VADDPD      Y11, Y3, Y3
	VFMADD231PD Y8, Y12, Y4
	VFMADD231PD Y9, Y13, Y5
	VFMADD231PD Y10, Y14, Y6
	VFMADD231PD Y11, Y15, Y7
	ADDQ        R8, AX
	ADDQ        R8, R11
	DECQ        BX
	JNZ         cd16row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  64(DI), Y2, Y2
	VMOVUPD Y2, 64(DI)
	VADDPD  96(DI), Y3, Y3
	VMOVUPD Y3, 96(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)
	VADDPD  64(SI), Y6, Y6
	VMOVUPD Y6, 64(SI)
	VADDPD  96(SI), Y7, Y7
	VMOVUPD Y7, 96(SI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	ADDQ    $64, DX
	ADDQ    $64, R10
	SUBQ    $16, R9
	JMP     cd16

cd8:
	TESTQ  R9, R9
	JZ     cddone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	MOVQ   DX, AX
	MOVQ   R10, R11
	MOVQ   CX, BX

cd8row:
	VCVTPS2PD   (AX), Y8
	VCVTPS2PD   16(AX), Y9
	VCVTPS2PD   (R11), Y12
	VCVTPS2PD   16(R11), Y13
	VADDPD      Y8, Y0, Y0
	VADDPD      Y9, Y1, Y1
	VFMADD231PD Y8, Y12, Y4
	VFMADD231PD Y9, Y13, Y5
	ADDQ        R8, AX
	ADDQ        R8, R11
	DECQ        BX
	JNZ         cd8row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)

cddone:
	VZEROUPPER
	RET

// func affineRows(y, x *float32, n, ldx, cols int, mu, sc, sh *float32, relu int)
// y = (x − mu)·sc + sh, then max(y, 0) with the value as VMAXPS's second
// source so that NaN propagates.
TEXT ·affineRows(SB), NOSPLIT, $0-72
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	MOVQ   ldx+24(FP), R8
	SHLQ   $2, R8
	MOVQ   cols+32(FP), R9
	SHRQ   $3, R9
	MOVQ   relu+64(FP), R15
	VXORPS Y15, Y15, Y15

afrow:
	MOVQ mu+40(FP), R10
	MOVQ sc+48(FP), R11
	MOVQ sh+56(FP), R12
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R9, DX

afcol:
	VMOVUPS     (AX), Y0
	VSUBPS      (R10), Y0, Y0
	VMOVUPS     (R11), Y1
	VFMADD213PS (R12), Y1, Y0
	TESTQ       R15, R15
	JZ          afstore
	VMAXPS      Y0, Y15, Y0

afstore:
	VMOVUPS Y0, (BX)
	ADDQ    $32, AX
	ADDQ    $32, BX
	ADDQ    $32, R10
	ADDQ    $32, R11
	ADDQ    $32, R12
	DECQ    DX
	JNZ     afcol

	ADDQ R8, SI
	ADDQ R8, DI
	DECQ CX
	JNZ  afrow
	VZEROUPPER
	RET

// func gradRows(dx, gr, x *float32, n, ldx, cols int, k, p, mu, q *float32)
// dx = k·g + (p·(x − mu) + q).
TEXT ·gradRows(SB), NOSPLIT, $0-80
	MOVQ dx+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ ldx+32(FP), R8
	SHLQ $2, R8
	MOVQ cols+40(FP), R9
	SHRQ $3, R9

grrow:
	MOVQ k+48(FP), R10
	MOVQ p+56(FP), R11
	MOVQ mu+64(FP), R12
	MOVQ q+72(FP), R13
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ DX, R14
	MOVQ R9, R15

grcol:
	VMOVUPS     (R14), Y0
	VSUBPS      (R12), Y0, Y0
	VMULPS      (R11), Y0, Y0
	VADDPS      (R13), Y0, Y0
	VMOVUPS     (R10), Y1
	VFMADD231PS (BX), Y1, Y0
	VMOVUPS     Y0, (AX)
	ADDQ        $32, AX
	ADDQ        $32, BX
	ADDQ        $32, R14
	ADDQ        $32, R10
	ADDQ        $32, R11
	ADDQ        $32, R12
	ADDQ        $32, R13
	DECQ        R15
	JNZ         grcol

	ADDQ R8, DI
	ADDQ R8, SI
	ADDQ R8, DX
	DECQ CX
	JNZ  grrow
	VZEROUPPER
	RET

// func reluMask(dx, dy, y *float32, n int)
// dx = dy where y > 0 (ordered: false for NaN), else 0.
TEXT ·reluMask(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	VXORPS Y15, Y15, Y15

rmloop:
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1
	VANDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     rmloop
	VZEROUPPER
	RET

// func adam(w, gr, m, v *float32, n int, k *[9][8]float32)
// k rows: decay, wd, b1, c1, b2, c2, step, ibc2, eps.
TEXT ·adam(SB), NOSPLIT, $0-48
	MOVQ   w+0(FP), DI
	MOVQ   gr+8(FP), SI
	MOVQ   m+16(FP), DX
	MOVQ   v+24(FP), R8
	MOVQ   n+32(FP), CX
	SHRQ   $3, CX
	MOVQ   k+40(FP), R9
	VXORPS Y15, Y15, Y15

adloop:
	VMOVUPS     (DI), Y0
	VMULPS      (R9), Y0, Y0
	VMOVUPS     (SI), Y1
	VFMADD231PS 32(R9), Y0, Y1
	VMOVUPS     (DX), Y2
	VMULPS      64(R9), Y2, Y2
	VFMADD231PS 96(R9), Y1, Y2
	VMOVUPS     (R8), Y3
	VMULPS      128(R9), Y3, Y3
	VMULPS      160(R9), Y1, Y4
	VFMADD231PS Y1, Y4, Y3
	VMOVUPS     Y2, (DX)
	VMOVUPS     Y3, (R8)
	VSQRTPS     Y3, Y4
	VMULPS      224(R9), Y4, Y4
	VADDPS      256(R9), Y4, Y4
	VMULPS      192(R9), Y2, Y5
	VDIVPS      Y4, Y5, Y5
	VSUBPS      Y5, Y0, Y0
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y15, (SI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, R8
	DECQ        CX
	JNZ         adloop
	VZEROUPPER
	RET

// func sqDiff(grad, pred, target *float32, n int, s float32) float64
// d = pred − target; grad = s·d when grad != nil; Σd² in float64 over two
// pairs of accumulators.
TEXT ·sqDiff(SB), NOSPLIT, $0-48
	MOVQ         grad+0(FP), DI
	MOVQ         pred+8(FP), SI
	MOVQ         target+16(FP), DX
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS s+32(FP), Y14
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5

sdloop:
	VMOVUPS      (SI), Y0
	VSUBPS       (DX), Y0, Y0
	TESTQ        DI, DI
	JZ           sdsum
	VMULPS       Y14, Y0, Y1
	VMOVUPS      Y1, (DI)
	ADDQ         $32, DI

sdsum:
	VCVTPS2PD    X0, Y2
	VEXTRACTF128 $1, Y0, X3
	VCVTPS2PD    X3, Y3
	VFMADD231PD  Y2, Y2, Y4
	VFMADD231PD  Y3, Y3, Y5
	ADDQ         $32, SI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          sdloop

	VADDPD       Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPD       X5, X4, X4
	VHADDPD      X4, X4, X4
	VMOVSD       X4, ret+40(FP)
	VZEROUPPER
	RET

// func transpose8(dst *float32, ldd int, src *float32, lds int)
// dst[j*ldd+i] = src[i*lds+j] for i, j < 8: unpack, shuffle, then swap
// 128-bit lanes.
TEXT ·transpose8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), CX
	SHLQ $2, CX

	VMOVUPS (SI), Y0
	ADDQ    CX, SI
	VMOVUPS (SI), Y1
	ADDQ    CX, SI
	VMOVUPS (SI), Y2
	ADDQ    CX, SI
	VMOVUPS (SI), Y3
	ADDQ    CX, SI
	VMOVUPS (SI), Y4
	ADDQ    CX, SI
	VMOVUPS (SI), Y5
	ADDQ    CX, SI
	VMOVUPS (SI), Y6
	ADDQ    CX, SI
	VMOVUPS (SI), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	ADDQ    DX, DI
	VMOVUPS Y9, (DI)
	ADDQ    DX, DI
	VMOVUPS Y10, (DI)
	ADDQ    DX, DI
	VMOVUPS Y11, (DI)
	ADDQ    DX, DI
	VMOVUPS Y12, (DI)
	ADDQ    DX, DI
	VMOVUPS Y13, (DI)
	ADDQ    DX, DI
	VMOVUPS Y14, (DI)
	ADDQ    DX, DI
	VMOVUPS Y15, (DI)
	VZEROUPPER
	RET

// func copyRuns4(dst *float32, ds int, src *float32, ss int, n int)
// n >= 1 runs of 4 floats, one 16-byte move each.
TEXT ·copyRuns4(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), CX
	SHLQ $2, CX
	MOVQ n+32(FP), AX

cr4loop:
	VMOVUPS (SI), X0
	VMOVUPS X0, (DI)
	ADDQ    CX, SI
	ADDQ    DX, DI
	DECQ    AX
	JNZ     cr4loop
	RET

// func copyRuns3(dst *float32, ds int, src *float32, ss int, n int)
// n >= 1 runs of 3 floats: an 8-byte and a 4-byte move each.
TEXT ·copyRuns3(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), CX
	SHLQ $2, CX
	MOVQ n+32(FP), AX

cr3loop:
	MOVQ (SI), R8
	MOVL 8(SI), R9
	MOVQ R8, (DI)
	MOVL R9, 8(DI)
	ADDQ CX, SI
	ADDQ DX, DI
	DECQ AX
	JNZ  cr3loop
	RET

// func addRuns(dst *float32, ds int, src *float32, ss int, n, l int)
// dst[i*ds+j] += src[i*ss+j] for j < l, i < n (n, l >= 1), column by
// column: runs may overlap in dst (ds < l), and a column's elements never
// do, so no load waits for the store of the one before.
TEXT ·addRuns(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), CX
	SHLQ $2, CX
	MOVQ l+40(FP), R10

arcol:
	MOVQ n+32(FP), AX
	MOVQ DI, R8
	MOVQ SI, R9

arloop:
	VMOVSS (R8), X0
	VADDSS (R9), X0, X0
	VMOVSS X0, (R8)
	ADDQ   DX, R8
	ADDQ   CX, R9
	DECQ   AX
	JNZ    arloop

	ADDQ $4, DI
	ADDQ $4, SI
	DECQ R10
	JNZ  arcol
	RET

// func colDotSumsMask(sg, sgx *float64, gout, dy, y, x *float32, n, ldx, cols int)
// colDotSums of g = dy masked by y > 0, writing g to gout in the same pass.
TEXT ·colDotSumsMask(SB), NOSPLIT, $0-72
	MOVQ   sg+0(FP), DI
	MOVQ   sgx+8(FP), SI
	MOVQ   gout+16(FP), DX
	MOVQ   dy+24(FP), R10
	MOVQ   y+32(FP), R11
	MOVQ   x+40(FP), R12
	MOVQ   ldx+56(FP), R8
	SHLQ   $2, R8
	MOVQ   cols+64(FP), R9
	VXORPS Y15, Y15, Y15

cm16:
	CMPQ   R9, $16
	JL     cm8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ   DX, AX
	MOVQ   R10, BX
	MOVQ   R11, R13
	MOVQ   R12, R14
	MOVQ   n+48(FP), R15

cm16row:
	VMOVUPS      (R13), Y8
	VMOVUPS      32(R13), Y9
	VCMPPS       $0x1e, Y15, Y8, Y8
	VCMPPS       $0x1e, Y15, Y9, Y9
	VANDPS       (BX), Y8, Y8
	VANDPS       32(BX), Y9, Y9
	VMOVUPS      Y8, (AX)
	VMOVUPS      Y9, 32(AX)
	VCVTPS2PD    X8, Y10
	VADDPD       Y10, Y0, Y0
	VCVTPS2PD    (R14), Y14
	VFMADD231PD  Y10, Y14, Y4
	VEXTRACTF128 $1, Y8, X8
	VCVTPS2PD    X8, Y10
	VADDPD       Y10, Y1, Y1
	VCVTPS2PD    16(R14), Y14
	VFMADD231PD  Y10, Y14, Y5
	VCVTPS2PD    X9, Y10
	VADDPD       Y10, Y2, Y2
	VCVTPS2PD    32(R14), Y14
	VFMADD231PD  Y10, Y14, Y6
	VEXTRACTF128 $1, Y9, X9
	VCVTPS2PD    X9, Y10
	VADDPD       Y10, Y3, Y3
	VCVTPS2PD    48(R14), Y14
	VFMADD231PD  Y10, Y14, Y7
	ADDQ         R8, AX
	ADDQ         R8, BX
	ADDQ         R8, R13
	ADDQ         R8, R14
	DECQ         R15
	JNZ          cm16row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  64(DI), Y2, Y2
	VMOVUPD Y2, 64(DI)
	VADDPD  96(DI), Y3, Y3
	VMOVUPD Y3, 96(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)
	VADDPD  64(SI), Y6, Y6
	VMOVUPD Y6, 64(SI)
	VADDPD  96(SI), Y7, Y7
	VMOVUPD Y7, 96(SI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	ADDQ    $64, DX
	ADDQ    $64, R10
	ADDQ    $64, R11
	ADDQ    $64, R12
	SUBQ    $16, R9
	JMP     cm16

cm8:
	TESTQ  R9, R9
	JZ     cmdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	MOVQ   DX, AX
	MOVQ   R10, BX
	MOVQ   R11, R13
	MOVQ   R12, R14
	MOVQ   n+48(FP), R15

cm8row:
	VMOVUPS      (R13), Y8
	VCMPPS       $0x1e, Y15, Y8, Y8
	VANDPS       (BX), Y8, Y8
	VMOVUPS      Y8, (AX)
	VCVTPS2PD    X8, Y10
	VADDPD       Y10, Y0, Y0
	VCVTPS2PD    (R14), Y14
	VFMADD231PD  Y10, Y14, Y4
	VEXTRACTF128 $1, Y8, X8
	VCVTPS2PD    X8, Y10
	VADDPD       Y10, Y1, Y1
	VCVTPS2PD    16(R14), Y14
	VFMADD231PD  Y10, Y14, Y5
	ADDQ         R8, AX
	ADDQ         R8, BX
	ADDQ         R8, R13
	ADDQ         R8, R14
	DECQ         R15
	JNZ          cm8row

	VADDPD  (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y1, 32(DI)
	VADDPD  (SI), Y4, Y4
	VMOVUPD Y4, (SI)
	VADDPD  32(SI), Y5, Y5
	VMOVUPD Y5, 32(SI)

cmdone:
	VZEROUPPER
	RET

// Command asmgen generates the amd64 micro-kernels of package gemm with avo.
//
// It lives in its own module so that the main module does not depend on
// avo. Run it through `go generate` in the parent directory; the generated
// kernel_amd64.s and kernel_amd64_stubs.go are committed.
//
// Every kernel computes one register tile of C = alpha*op(A)*op(B) + beta*C,
// see the contract in ../kernel.go.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one vector instruction set the kernels are generated for.
type isa struct {
	name  string // kernel name prefix
	lanes int    // float32 lanes per vector register
	vregs int    // number of vector registers
	vec   func() VecVirtual
	zero  func(v VecVirtual) // v = 0
	// The generated kernels have 1..maxRows rows and widths[i] vectors
	// per row.
	maxRows int
	widths  []int
}

var avx2 = isa{
	name:    "avx2",
	lanes:   8,
	vregs:   16,
	vec:     YMM,
	zero:    func(v VecVirtual) { VXORPS(v, v, v) },
	maxRows: 6,
	widths:  []int{2, 1},
}

// avx512 has the structure of avx2 at twice the width and with 32
// registers: 12×32 tiles (24 zmm accumulators, two B vectors, one
// broadcast), as BLIS uses on Skylake-X. VXORPS on zmm needs AVX512DQ, so
// registers are zeroed with VPXORD (AVX512F).
var avx512 = isa{
	name:    "avx512",
	lanes:   16,
	vregs:   32,
	vec:     ZMM,
	zero:    func(v VecVirtual) { VPXORD(v, v, v) },
	maxRows: 12,
	widths:  []int{2, 1},
}

// Flags understood by every kernel; keep in sync with kernel.go.
const (
	flagBetaZero = 1 << iota // do not read C: C = alpha*AB (+bias)
	flagBias                 // add bias[j] to column j
	flagReLU                 // C = max(C, 0) after the bias
)

func main() {
	ConstraintExpr("amd64,!noasm")
	for _, x := range []isa{avx2, avx512} {
		for _, nv := range x.widths {
			for mr := 1; mr <= x.maxRows; mr++ {
				kernel(x, mr, nv)
			}
		}
	}
	// One row of 64 columns: batch-1 inference reading B in place, one
	// 256-byte contiguous run of each row of B per k step.
	kernel(avx2, 1, 8)
	maskTable()
	for mr := 1; mr <= 3; mr++ {
		dot(mr)
	}
	peak()
	Generate()
}

// rowBases returns base registers for the rows of a tile of mr rows with
// a row stride of stride bytes: base q points at row 3q, so that every row
// is (base)(stride*0..2).
func rowBases(r0, stride Register, mr int) []Register {
	bases := []Register{r0}
	if mr <= 3 {
		return bases
	}
	three := GP64()
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, three)
	for q := 1; q*3 < mr; q++ {
		r := GP64()
		LEAQ(Mem{Base: bases[q-1], Index: three, Scale: 1}, r)
		bases = append(bases, r)
	}
	return bases
}

// splits returns how many independent accumulator sets a tile of mr×nv
// vectors uses: small tiles split the k loop over several sets so that
// enough FMAs are in flight to hide the FMA latency (4 cycles, 2 pipes on
// Zen 3 and Skylake alike: at least 8 independent chains are needed).
func splits(mr, nv, maxAcc int) int {
	for _, s := range []int{4, 2} {
		if s*mr*nv <= maxAcc {
			return s
		}
	}
	return 1
}

func kernel(x isa, mr, nv int) {
	nr := nv * x.lanes
	name := fmt.Sprintf("%s_%dx%d", x.name, mr, nr)
	TEXT(name, NOSPLIT, "func(kc int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of C; see the kernel contract in kernel.go.", name, mr, nr))

	// A single row has no reuse of B across rows: its FMAs take B from
	// memory, which frees the B registers for accumulators (1×64 fits).
	memB := mr == 1
	maxAcc := x.vregs - nv - 1 - 1
	if memB {
		maxAcc = x.vregs - 1 - 1
	}
	s := splits(mr, nv, maxAcc)
	acc := make([][][]VecVirtual, s)
	for si := range acc {
		acc[si] = make([][]VecVirtual, mr)
		for i := range acc[si] {
			acc[si][i] = make([]VecVirtual, nv)
			for v := range acc[si][i] {
				acc[si][i][v] = x.vec()
				x.zero(acc[si][i][v])
			}
		}
	}

	kc := Load(Param("kc"), GP64())
	a0 := Load(Param("a"), GP64())
	rsa := Load(Param("rsa"), GP64())
	csa := Load(Param("csa"), GP64())
	b := Load(Param("b"), GP64())
	rsb := Load(Param("rsb"), GP64())
	SHLQ(U8(2), rsa)
	SHLQ(U8(2), csa)
	SHLQ(U8(2), rsb)
	// One base register per three rows: rows 3q, 3q+1, 3q+2 are at
	// (aq), (aq)(rsa*1), (aq)(rsa*2).
	aBase := rowBases(a0, rsa, mr)
	aAddr := func(i int) Mem {
		base := aBase[i/3]
		i %= 3
		switch i {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: rsa, Scale: 1}
		default:
			return Mem{Base: base, Index: rsa, Scale: 2}
		}
	}

	var bv []VecVirtual
	if !memB {
		bv = make([]VecVirtual, nv)
		for v := range bv {
			bv[v] = x.vec()
		}
	}
	av := x.vec()
	step := func(set int) {
		if memB {
			VBROADCASTSS(aAddr(0), av)
			for v := 0; v < nv; v++ {
				VFMADD231PS(Mem{Base: b, Disp: 4 * x.lanes * v}, av, acc[set][0][v])
			}
		}
		if !memB {
			for v := 0; v < nv; v++ {
				VMOVUPS(Mem{Base: b, Disp: 4 * x.lanes * v}, bv[v])
			}
			for i := 0; i < mr; i++ {
				VBROADCASTSS(aAddr(i), av)
				for v := 0; v < nv; v++ {
					VFMADD231PS(bv[v], av, acc[set][i][v])
				}
			}
		}
		ADDQ(rsb, b)
		for _, r := range aBase {
			ADDQ(csa, r)
		}
	}

	const unroll = 4
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	JZ(LabelRef("tail"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(u % s)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))

	Label("tail")
	ANDQ(U32(unroll-1), kc)
	JZ(LabelRef("reduce"))
	Label("tailloop")
	step(0)
	DECQ(kc)
	JNZ(LabelRef("tailloop"))

	Label("reduce")
	for si := 1; si < s; si++ {
		for i := 0; i < mr; i++ {
			for v := 0; v < nv; v++ {
				VADDPS(acc[si][i][v], acc[0][i][v], acc[0][i][v])
			}
		}
	}
	out := acc[0]

	// Epilogue: C = alpha*acc (+ beta*C) (+ bias) (relu).
	c0 := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	cBase := rowBases(c0, ldc, mr)
	cAddr := func(i, v int) Mem {
		base := cBase[i/3]
		i %= 3
		m := Mem{Base: base, Disp: 4 * x.lanes * v}
		if i > 0 {
			m.Index, m.Scale = ldc, uint8(i)
		}
		return m
	}
	flags := Load(Param("flags"), GP64())
	t := x.vec()
	VBROADCASTSS(paramAddr("alpha"), t)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(t, out[i][v], out[i][v])
		}
	}
	TESTQ(U32(flagBetaZero), flags)
	JNZ(LabelRef("nobeta"))
	VBROADCASTSS(paramAddr("beta"), t)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VFMADD231PS(cAddr(i, v), t, out[i][v])
		}
	}
	Label("nobeta")
	TESTQ(U32(flagBias), flags)
	JZ(LabelRef("nobias"))
	bias := Load(Param("bias"), GP64())
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: bias, Disp: 4 * x.lanes * v}, t)
		for i := 0; i < mr; i++ {
			VADDPS(t, out[i][v], out[i][v])
		}
	}
	Label("nobias")
	TESTQ(U32(flagReLU), flags)
	JZ(LabelRef("store"))
	x.zero(t)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(out[i][v], t, out[i][v]) // max(0, x); NaN propagates
		}
	}
	Label("store")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(out[i][v], cAddr(i, v))
		}
	}
	VZEROUPPER()
	RET()
}

// peak generates fmaPeak, a loop of 12 independent 8-wide FMAs per
// iteration (192 flops) that measures the machine's float32 ceiling.
func peak() {
	TEXT("fmaPeakAVX2", NOSPLIT, "func(n int)")
	Doc("fmaPeakAVX2 runs n iterations of 12 independent VFMADD231PS ymm (192 flops each).")
	n := Load(Param("n"), GP64())
	acc := make([]VecVirtual, 12)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	x, y := YMM(), YMM()
	VXORPS(x, x, x)
	VXORPS(y, y, y)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for i := range acc {
		VFMADD231PS(x, y, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// paramAddr returns the memory operand of a scalar argument.
func paramAddr(name string) Mem {
	p, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return p.Addr
}

var masktab Mem

// maskTable emits 8 all-ones int32 followed by 8 zeros: the 8 int32 at
// masktab+4*(8-r) select the first r lanes of a vector.
func maskTable() {
	masktab = GLOBL("masktab", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := U32(0)
		if i < 8 {
			v = U32(0xffffffff)
		}
		DATA(4*i, v)
	}
}

// dot generates a kernel for an mr×4 tile of C = alpha*A*B^T + beta*C with
// both operands read in place along k (A(i, p) = a[i*lda + p],
// B^T(p, j) = b[j*ldb + p]): 8-wide partial dot products, a masked load for
// the k remainder, a horizontal reduction to four sums per row, and the
// kernel contract's epilogue on 4-wide vectors. It serves products with
// few rows and a transposed B, where packing B would cost more than the
// product itself.
func dot(mr int) {
	const nb = 4
	name := fmt.Sprintf("avx2_dot%dx4", mr)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×4 tile of C = alpha*A*B^T + beta*C reading A and B in place; see kernel.go.", name, mr))
	s := 1
	if mr == 1 {
		s = 2
	}
	acc := make([][][]VecVirtual, s)
	for si := range acc {
		acc[si] = make([][]VecVirtual, mr)
		for i := range acc[si] {
			acc[si][i] = make([]VecVirtual, nb)
			for j := range acc[si][i] {
				acc[si][i][j] = YMM()
				VXORPS(acc[si][i][j], acc[si][i][j], acc[si][i][j])
			}
		}
	}
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	b3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, b3)
	ADDQ(b, b3)
	aAddr := func(i, disp int) Mem {
		m := Mem{Base: a, Disp: disp}
		if i > 0 {
			m.Index, m.Scale = lda, uint8(i)
		}
		return m
	}
	bAddr := func(j, disp int) Mem {
		if j == 3 {
			return Mem{Base: b3, Disp: disp}
		}
		m := Mem{Base: b, Disp: disp}
		if j > 0 {
			m.Index, m.Scale = ldb, uint8(j)
		}
		return m
	}
	av := make([]VecVirtual, mr)
	for i := range av {
		av[i] = YMM()
	}
	bv := YMM()
	step := func(set, disp int) {
		for i := 0; i < mr; i++ {
			VMOVUPS(aAddr(i, disp), av[i])
		}
		for j := 0; j < nb; j++ {
			VMOVUPS(bAddr(j, disp), bv)
			for i := 0; i < mr; i++ {
				VFMADD231PS(bv, av[i], acc[set][i][j])
			}
		}
	}
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(3+s-1), n)
	JZ(LabelRef("tail8"))
	Label("loop")
	for si := 0; si < s; si++ {
		step(si, 32*si)
	}
	ADDQ(U32(32*s), a)
	ADDQ(U32(32*s), b)
	ADDQ(U32(32*s), b3)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("tail8")
	if s == 2 {
		TESTQ(U32(8), k)
		JZ(LabelRef("tail"))
		step(0, 0)
		ADDQ(U32(32), a)
		ADDQ(U32(32), b)
		ADDQ(U32(32), b3)
	}
	Label("tail")
	ANDQ(U32(7), k)
	JZ(LabelRef("reduce"))
	// Masked loads of the last k%8 values: masked-off lanes read as zero
	// and never fault, so no value past the end of a row is touched.
	t := GP64()
	MOVQ(U32(8), t)
	SUBQ(k, t)
	tab := GP64()
	LEAQ(masktab, tab)
	mask := YMM()
	VMOVUPS(Mem{Base: tab, Index: t, Scale: 4}, mask)
	for j := 0; j < nb; j++ {
		VMASKMOVPS(bAddr(j, 0), mask, bv)
		for i := 0; i < mr; i++ {
			VMASKMOVPS(aAddr(i, 0), mask, av[0])
			VFMADD231PS(bv, av[0], acc[0][i][j])
		}
	}
	Label("reduce")
	for si := 1; si < s; si++ {
		for i := 0; i < mr; i++ {
			for j := 0; j < nb; j++ {
				VADDPS(acc[si][i][j], acc[0][i][j], acc[0][i][j])
			}
		}
	}
	// Four 8-lane sums to one 4-lane vector per row:
	// hadd(hadd(s0, s1), hadd(s2, s3)) holds the low and high halves of
	// the four sums in its two 128-bit lanes.
	r := make([]VecVirtual, mr)
	for i := 0; i < mr; i++ {
		h01, h23 := YMM(), YMM()
		x := acc[0][i]
		VHADDPS(x[1], x[0], h01)
		VHADDPS(x[3], x[2], h23)
		VHADDPS(h23, h01, h01)
		hi := XMM()
		VEXTRACTF128(U8(1), h01, hi)
		r[i] = XMM()
		VADDPS(hi, h01.AsX(), r[i])
	}
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	cAddr := func(i int) Mem {
		m := Mem{Base: c}
		if i > 0 {
			m.Index, m.Scale = ldc, uint8(i)
		}
		return m
	}
	flags := Load(Param("flags"), GP64())
	v := XMM()
	VBROADCASTSS(paramAddr("alpha"), v)
	for i := 0; i < mr; i++ {
		VMULPS(v, r[i], r[i])
	}
	TESTQ(U32(flagBetaZero), flags)
	JNZ(LabelRef("nobeta"))
	VBROADCASTSS(paramAddr("beta"), v)
	for i := 0; i < mr; i++ {
		VFMADD231PS(cAddr(i), v, r[i])
	}
	Label("nobeta")
	TESTQ(U32(flagBias), flags)
	JZ(LabelRef("nobias"))
	bias := Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, v)
	for i := 0; i < mr; i++ {
		VADDPS(v, r[i], r[i])
	}
	Label("nobias")
	TESTQ(U32(flagReLU), flags)
	JZ(LabelRef("store"))
	VXORPS(v, v, v)
	for i := 0; i < mr; i++ {
		VMAXPS(r[i], v, r[i])
	}
	Label("store")
	for i := 0; i < mr; i++ {
		VMOVUPS(r[i], cAddr(i))
	}
	VZEROUPPER()
	RET()
}

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
	// tiles lists the (rows, vectors per row) of the generated kernels.
	maxRows int
	widths  []int // vectors per row
}

var avx2 = isa{
	name:    "avx2",
	lanes:   8,
	vregs:   16,
	vec:     YMM,
	maxRows: 6,
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
	for _, nv := range avx2.widths {
		for mr := 1; mr <= avx2.maxRows; mr++ {
			kernel(avx2, mr, nv)
		}
	}
	peak()
	Generate()
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

	maxAcc := x.vregs - nv - 1 - 1
	s := splits(mr, nv, maxAcc)
	acc := make([][][]VecVirtual, s)
	for si := range acc {
		acc[si] = make([][]VecVirtual, mr)
		for i := range acc[si] {
			acc[si][i] = make([]VecVirtual, nv)
			for v := range acc[si][i] {
				acc[si][i][v] = x.vec()
				VXORPS(acc[si][i][v], acc[si][i][v], acc[si][i][v])
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
	var a3 GPVirtual
	if mr > 3 {
		a3 = GP64()
		LEAQ(Mem{Base: rsa, Index: rsa, Scale: 2}, a3)
		ADDQ(a0, a3)
	}
	aAddr := func(i int) Mem {
		base := a0
		if i >= 3 {
			base, i = a3, i-3
		}
		switch i {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: rsa, Scale: 1}
		default:
			return Mem{Base: base, Index: rsa, Scale: 2}
		}
	}

	bv := make([]VecVirtual, nv)
	for v := range bv {
		bv[v] = x.vec()
	}
	av := x.vec()
	step := func(set int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: 4 * x.lanes * v}, bv[v])
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(aAddr(i), av)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv[v], av, acc[set][i][v])
			}
		}
		ADDQ(rsb, b)
		ADDQ(csa, a0)
		if mr > 3 {
			ADDQ(csa, a3)
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
	var c3 GPVirtual
	if mr > 3 {
		c3 = GP64()
		LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, c3)
		ADDQ(c0, c3)
	}
	cAddr := func(i, v int) Mem {
		base := c0
		if i >= 3 {
			base, i = c3, i-3
		}
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
	VXORPS(t, t, t)
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

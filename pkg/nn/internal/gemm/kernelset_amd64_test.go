//go:build amd64 && !noasm

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// asmSets returns every assembly kernel set this CPU can execute,
// whatever the run-time choice made of them. The other tests check the
// chosen set only (kernelSets); these check each set on its own, so that
// an AVX-512 set that fails its self-check and falls back to AVX2 still
// shows which kernel is wrong (scripts/avx512emu runs them on an emulated
// AVX-512 CPU, docs/avx512-emu.md).
func asmSets() []*kernelSet {
	var sets []*kernelSet
	if hasAVX512 {
		sets = append(sets, avx512Kernels)
	}
	if hasAVX2 {
		sets = append(sets, avx2Kernels)
	}
	return sets
}

// TestChosenKernels logs the kernel set in use and the self-check of every
// set the CPU supports. With GEMM_REQUIRE_KERNELS set (to "avx512", "avx2"
// or "go") it fails unless Kernels() is that set: on an AVX-512 CPU an
// AVX-512 set that failed its self-check falls back to AVX2 silently, and
// this is how a run that must exercise AVX-512 notices.
func TestChosenKernels(t *testing.T) {
	got := Kernels()
	t.Logf("Kernels() = %q (CPU: AVX2+FMA %v, AVX-512F %v)", got, hasAVX2, hasAVX512)
	for _, ks := range asmSets() {
		t.Logf("%s: self-check passes: %v", ks.name, selfCheck(ks))
	}
	if want := os.Getenv("GEMM_REQUIRE_KERNELS"); want != "" && got != want {
		t.Fatalf("Kernels() = %q, GEMM_REQUIRE_KERNELS = %q", got, want)
	}
}

// TestKernelSetMicro calls every micro-kernel of every assembly set the CPU
// supports directly (not through the choice at start-up): each row count
// 1..mr, each tile width, k around the unroll by 4, the three operand
// layouts the driver passes (packed slivers, row-major A in place,
// transposed A in place; B packed or in place), and every flag combination
// (beta = 0 over NaN, beta != 0, bias, ReLU). It compares each element with
// a float64 triple loop within the float32 dot-product bound (reference)
// and checks that nothing outside the tile is written.
func TestKernelSetMicro(t *testing.T) {
	const guard = 3 // extra columns and rows around C that must stay untouched
	for _, ks := range asmSets() {
		t.Run(ks.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 11))
			calls, fails := 0, 0
			for rows := 1; rows <= ks.mr; rows++ {
				for wi, w := range ks.widths {
					kern := ks.kernelFor(rows, wi)
					for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 33} {
						for layout := 0; layout < 3; layout++ {
							for flags := 0; flags < 8; flags++ {
								name := fmt.Sprintf("%s_%dx%d kc=%d layout=%d flags=%d", ks.name, rows, w, kc, layout, flags)
								if bad := checkMicro(kern, rows, w, kc, layout, flags, guard, rng); bad != "" {
									if fails++; fails <= 20 {
										t.Errorf("%s: %s", name, bad)
									}
								}
								calls++
							}
						}
					}
				}
			}
			if fails > 0 {
				t.Errorf("%s: %d of %d kernel calls wrong", ks.name, fails, calls)
			}
			t.Logf("%s: %d kernel calls checked", ks.name, calls)
		})
	}
}

// checkMicro runs one call of a micro-kernel and returns a description of
// the first wrong element, or "". layout 0: A and B packed (rsa = 1,
// csa = rows + 1, rsb = w); 1: A row-major in place (rsa = lda, csa = 1), B
// in place (rsb = w + 5); 2: A transposed in place (rsa = 1, csa = lda).
func checkMicro(kern kernelFunc, rows, w, kc, layout, flags, guard int, rng *rand.Rand) string {
	var rsa, csa, rsb int
	switch layout {
	case 0:
		rsa, csa, rsb = 1, rows+1, w
	case 1:
		rsa, csa, rsb = kc+2, 1, w+5
	default:
		rsa, csa, rsb = 1, rows+3, w+5
	}
	a := randSlice(rng, (rows-1)*rsa+(kc-1)*csa+1)
	b := randSlice(rng, (kc-1)*rsb+w)
	bias := randSlice(rng, w+guard)
	ldc := w + guard
	c := randSlice(rng, (rows+guard)*ldc)
	if flags&flagBetaZero != 0 {
		for i := 0; i < rows; i++ {
			for j := 0; j < w; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	c0 := append([]float32(nil), c...)
	alpha, beta := float32(1.5), float32(-0.75)
	if kc%2 == 0 {
		alpha, beta = -1, 1 // a second alpha, and beta = 1
	}
	var bp *float32
	if flags&flagBias != 0 {
		bp = &bias[0]
	}
	kern(kc, &a[0], rsa, csa, &b[0], rsb, &c[0], ldc, alpha, beta, bp, flags)

	for i := 0; i < rows+guard; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if i >= rows || j >= w {
				if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
					return fmt.Sprintf("C[%d,%d] outside the %dx%d tile changed from %g to %g", i, j, rows, w, c0[i*ldc+j], got)
				}
				continue
			}
			var s, abs float64
			for p := 0; p < kc; p++ {
				x := float64(a[i*rsa+p*csa]) * float64(b[p*rsb+j])
				s += x
				abs += math.Abs(x)
			}
			var cb, bv float64
			if flags&flagBetaZero == 0 {
				cb = float64(beta) * float64(c0[i*ldc+j])
			}
			if flags&flagBias != 0 {
				bv = float64(bias[j])
			}
			want, tol := reference(s, abs, kc, alpha, cb, bv, flags&flagReLU != 0)
			if wrong(got, want, tol) {
				return fmt.Sprintf("C[%d,%d] = %g, want %g (tol %.3g)", i, j, got, want, tol)
			}
		}
	}
	return ""
}

// TestKernelSetEdges runs whole products through the driver with every
// assembly set the CPU supports, forced (not through the choice at
// start-up): m over 1..2mr+1 (every row count of the bottom-edge kernels),
// n over 1..2w+1 (both tile widths and every partial width), k around the
// unroll by 4 and across the k block, every transposition, beta = 0 over
// NaN and beta = 1, the bias + ReLU epilogue, and two products of larger
// primes. Each set runs as is, with the dot kernels off (so that A*B^T
// with few rows also goes through the micro-kernels) and with tiny blocks
// (every mc, kc, nc boundary).
func TestKernelSetEdges(t *testing.T) {
	for _, base := range asmSets() {
		nodot := *base
		nodot.name += "-nodot"
		nodot.dotMaxM = 0
		tiny := *base
		tiny.name += "-tinyblocks"
		tiny.mc, tiny.kc, tiny.nc = 2*base.mr, 5, 3*base.widths[0]
		for _, ks := range []*kernelSet{base, &nodot, &tiny} {
			t.Run(ks.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 12))
				w := ks.widths[0]
				var shapes [][3]int
				for m := 1; m <= 2*ks.mr+1; m++ {
					shapes = append(shapes, [3]int{m, []int{w, w + 3, w/2 + 1}[m%3], []int{9, 34}[m%2]})
				}
				for n := 1; n <= 2*w+1; n++ {
					shapes = append(shapes, [3]int{[]int{ks.mr, ks.mr + 1, 2}[n%3], n, []int{7, 33}[n%2]})
				}
				for _, k := range []int{1, 2, 3, 4, 5, 8, 9, 16, 17, 31, 32, 33, base.kc + 1} {
					shapes = append(shapes, [3]int{ks.mr + 5, w + 7, k})
				}
				shapes = append(shapes, [3]int{131, 67, 257}, [3]int{37, 131, 67})
				cases := 0
				for si, s := range shapes {
					for ti, tr := range transCases {
						v := si + ti
						tc := gemmCase{transA: tr.a, transB: tr.b, m: s[0], n: s[1], k: s[2],
							padA: v % 3, padB: (v + 1) % 3, padC: v % 2, alpha: []float32{1, -0.5}[v%2]}
						switch v % 3 {
						case 0: // beta = 0: C holds NaN, which must not leak
							tc.nanC = true
						case 1:
							tc.beta = 1
						default: // beta = 1 with the fused bias + ReLU
							tc.beta, tc.bias, tc.act = 1, true, ReLU
						}
						if v%4 == 3 { // beta = 0 with the fused epilogue too
							tc.beta, tc.nanC, tc.bias, tc.act = 0, true, true, ReLU
						}
						tc.check(t, ks, rng)
						cases++
					}
				}
				t.Logf("%s: %d products checked", ks.name, cases)
			})
		}
	}
}

// TestSelfCheckCoverage checks that the start-up self-check calls every
// micro-kernel (each row count at each width) and every dot kernel of each
// assembly set, so that a wrong kernel cannot pass it by not being run.
func TestSelfCheckCoverage(t *testing.T) {
	for _, base := range asmSets() {
		ks := *base
		used := make([][]int, len(base.kern))
		ks.kern = make([][]kernelFunc, len(base.kern))
		for i := range base.kern {
			used[i] = make([]int, len(base.widths))
			ks.kern[i] = make([]kernelFunc, len(base.widths))
			for wi := range base.widths {
				f, n := base.kern[i][wi], &used[i][wi]
				ks.kern[i][wi] = func(kc int, a *float32, rsa, csa int, b *float32, rsb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int) {
					*n++
					f(kc, a, rsa, csa, b, rsb, c, ldc, alpha, beta, bias, flags)
				}
			}
		}
		usedDot := make([]int, len(base.dot))
		ks.dot = make([]dotFunc, len(base.dot))
		for i, f := range base.dot {
			n := &usedDot[i]
			ks.dot[i] = func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bias *float32, flags int) {
				*n++
				f(k, a, lda, b, ldb, c, ldc, alpha, beta, bias, flags)
			}
		}
		if !selfCheck(&ks) {
			t.Errorf("%s: self-check failed", ks.name)
		}
		for i := range used {
			for wi, n := range used[i] {
				if n == 0 {
					t.Errorf("%s: self-check never calls the %d×%d kernel", ks.name, i+1, base.widths[wi])
				}
			}
		}
		for i, n := range usedDot {
			if n == 0 {
				t.Errorf("%s: self-check never calls the %d×4 dot kernel", ks.name, i+1)
			}
		}
	}
}

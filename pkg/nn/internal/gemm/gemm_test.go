package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// kernelSets returns every kernel set that can run on this machine, each
// also with tiny blocking parameters so that small products cross every
// block boundary (mc, kc, nc) of the driver.
func kernelSets() []*kernelSet {
	sets := []*kernelSet{goKernels}
	if kernels() != goKernels {
		sets = append(sets, kernels())
	}
	var out []*kernelSet
	for _, ks := range sets {
		out = append(out, ks)
		tiny := *ks
		tiny.name += "-tinyblocks"
		tiny.mc, tiny.kc, tiny.nc = 2*ks.mr, 5, 3*ks.widths[0]
		out = append(out, &tiny)
	}
	return out
}

// gemmCase is one product to check.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	padA, padB     int // extra columns in the leading dimensions
	padC           int
	alpha, beta    float32
	bias           bool
	act            Activation
	nanC           bool // fill C with NaN (only with beta == 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,pad=%d/%d/%d,alpha=%g,beta=%g,bias=%v,%v",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.padA, tc.padB, tc.padC, tc.alpha, tc.beta, tc.bias, tc.act)
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*rng.Float64() - 1)
	}
	return s
}

// check runs the case with ks and compares it with a float64 triple loop,
// within the float32 dot-product error bound of reference.
func (tc gemmCase) check(t *testing.T, ks *kernelSet, rng *rand.Rand) {
	t.Helper()
	ra, ca := tc.m, tc.k
	if tc.transA {
		ra, ca = tc.k, tc.m
	}
	rb, cb := tc.k, tc.n
	if tc.transB {
		rb, cb = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ca+tc.padA), max(1, cb+tc.padB), max(1, tc.n+tc.padC)
	a := randSlice(rng, max(0, (ra-1)*lda+ca))
	b := randSlice(rng, max(0, (rb-1)*ldb+cb))
	c := randSlice(rng, max(0, (tc.m-1)*ldc+tc.n))
	if tc.nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	var bias []float32
	if tc.bias {
		bias = randSlice(rng, tc.n)
	}
	c0 := append([]float32(nil), c...)
	sgemm(ks, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc, bias, tc.act)

	// op(A) row by row and op(B) column by column, in float64.
	opA := make([]float64, tc.m*tc.k)
	opB := make([]float64, tc.n*tc.k)
	for i := 0; i < tc.m; i++ {
		for p := 0; p < tc.k; p++ {
			if tc.transA {
				opA[i*tc.k+p] = float64(a[p*lda+i])
			} else {
				opA[i*tc.k+p] = float64(a[i*lda+p])
			}
		}
	}
	for j := 0; j < tc.n; j++ {
		for p := 0; p < tc.k; p++ {
			if tc.transB {
				opB[j*tc.k+p] = float64(b[j*ldb+p])
			} else {
				opB[j*tc.k+p] = float64(b[p*ldb+j])
			}
		}
	}
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s, abs float64
			if tc.alpha != 0 {
				ai, bj := opA[i*tc.k:(i+1)*tc.k], opB[j*tc.k:(j+1)*tc.k]
				for p, x := range ai {
					x *= bj[p]
					s += x
					abs += math.Abs(x)
				}
			}
			var cb, bv float64
			if tc.beta != 0 {
				cb = float64(tc.beta) * float64(c0[i*ldc+j])
			}
			if bias != nil {
				bv = float64(bias[j])
			}
			want, tol := reference(s, abs, tc.k, tc.alpha, cb, bv, tc.act == ReLU)
			if got := c[i*ldc+j]; wrong(got, want, tol) {
				if bad < 5 {
					t.Errorf("%s %v: C[%d,%d] = %g, want %g (tol %.3g)", ks.name, tc, i, j, got, want, tol)
				}
				bad++
			}
		}
		// Padding columns of C must be untouched.
		for j := tc.n; j < ldc && i < tc.m-1; j++ {
			if x, y := c[i*ldc+j], c0[i*ldc+j]; x != y && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
				t.Fatalf("%s %v: padding C[%d,%d] changed from %g to %g", ks.name, tc, i, j, y, x)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s %v: %d of %d elements wrong", ks.name, tc, bad, tc.m*tc.n)
	}
}

var transCases = []struct{ a, b bool }{{false, false}, {true, false}, {false, true}, {true, true}}

// TestSgemmEdgeSizes sweeps each of m, n and k over 1..33 (every edge
// around the 6×16, 6×8 and 4×4 tiles and the unroll by 4) with the other
// two drawn from sizes around the tiles, for every transposition.
func TestSgemmEdgeSizes(t *testing.T) {
	others := []int{1, 5, 8, 16, 17, 33}
	for _, ks := range kernelSets() {
		t.Run(ks.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			for _, tr := range transCases {
				for s := 1; s <= 33; s++ {
					for _, o := range others {
						o2 := others[(s+o)%len(others)]
						for _, shape := range [][3]int{{s, o, o2}, {o, s, o2}, {o, o2, s}} {
							tc := gemmCase{transA: tr.a, transB: tr.b, m: shape[0], n: shape[1], k: shape[2], alpha: 1, beta: 0}
							tc.padA, tc.padB, tc.padC = s%3, o%2, o2%3
							tc.check(t, ks, rng)
						}
					}
				}
			}
		})
	}
}

// TestSgemmLarge covers large primes (no dimension divides a tile or a
// block) and the DCASE layer shapes.
func TestSgemmLarge(t *testing.T) {
	shapes := [][3]int{
		{257, 509, 31}, {509, 31, 257}, {31, 257, 509}, {257, 257, 257},
		{512, 8, 128}, {1, 640, 128}, {70, 13, 600}, {3, 1000, 40},
	}
	for _, ks := range kernelSets() {
		t.Run(ks.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for i, s := range shapes {
				tr := transCases[i%4]
				tc := gemmCase{transA: tr.a, transB: tr.b, m: s[0], n: s[1], k: s[2], padA: i % 2, padB: 3, padC: i % 3, alpha: 0.5, beta: 1.5}
				tc.check(t, ks, rng)
			}
		})
	}
}

// TestSgemmAlphaBeta checks the alpha/beta semantics, the bias and the
// activation, and that beta == 0 never reads C (NaN there must not leak).
func TestSgemmAlphaBeta(t *testing.T) {
	for _, ks := range kernelSets() {
		t.Run(ks.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 3))
			for _, tr := range transCases {
				for _, alpha := range []float32{1, -0.5, 0} {
					for _, beta := range []float32{0, 1, 0.25} {
						for _, act := range []Activation{Identity, ReLU} {
							for _, bias := range []bool{false, true} {
								for _, shape := range [][3]int{{7, 19, 13}, {13, 8, 300}, {1, 33, 9}, {20, 40, 0}, {1, 150, 270}} {
									tc := gemmCase{transA: tr.a, transB: tr.b, m: shape[0], n: shape[1], k: shape[2],
										padA: 1, padB: 2, padC: 1, alpha: alpha, beta: beta, bias: bias, act: act, nanC: beta == 0}
									tc.check(t, ks, rng)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmParallel forces the parallel path at small sizes and checks
// splits along both m and n.
func TestSgemmParallel(t *testing.T) {
	defer func(f int) { parallelFlops = f }(parallelFlops)
	parallelFlops = 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	rng := rand.New(rand.NewPCG(1, 4))
	for _, ks := range kernelSets() {
		for _, tr := range transCases {
			// Splits along m and along n (the dot path too, with a last
			// part narrower than 4 columns), and a split of one tile.
			for _, s := range [][3]int{{100, 20, 30}, {7, 200, 33}, {7, 37, 50}, {1, 1, 1}, {5, 17, 3}, {300, 301, 17}} {
				tc := gemmCase{transA: tr.a, transB: tr.b, m: s[0], n: s[1], k: s[2], padC: 2, alpha: 2, beta: 0.5, bias: true, act: ReLU}
				tc.check(t, ks, rng)
			}
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 6)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative", func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, a, 2, 0, a, 2) }},
		{"lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }},
		{"ldb", func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, a, 2, 0, a, 2) }},
		{"ldc", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, a, 2, 0, a, 1) }},
		{"short a", func() { Sgemm(false, false, 3, 2, 3, 1, a, 3, a, 2, 0, a, 2) }},
		{"short c", func() { Sgemm(false, false, 2, 3, 2, 1, a, 2, a, 3, 0, a[:5], 3) }},
		{"short bias", func() { SgemmBias(false, false, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2, a[:1], ReLU) }},
		{"activation", func() { SgemmBias(false, false, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2, nil, Activation(9)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tc.f()
		})
	}
}

// TestSgemmConcurrentCallers runs products from several goroutines at once
// with the parallel split forced on, so that callers share the worker pool,
// the job list and the workspace list (run it with -race).
func TestSgemmConcurrentCallers(t *testing.T) {
	defer func(f int) { parallelFlops = f }(parallelFlops)
	parallelFlops = 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const callers = 6
	errs := make(chan string, callers)
	for g := 0; g < callers; g++ {
		go func(g int) {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			m, n, k := 20+g, 30+3*g, 40
			a, b := randSlice(rng, m*k), randSlice(rng, k*n)
			want := make([]float32, m*n)
			sgemmSerial(goKernels, false, false, m, n, k, 1, a, k, b, n, 0, want, n, nil, Identity)
			c := make([]float32, m*n)
			// Both results are within gamma(k+3)*sum|a||b| <= 43u*40 of
			// the exact product (|a|, |b| <= 1), so within twice that of
			// each other.
			const tol = 2 * 43 * 40.0 / (1 << 24)
			for r := 0; r < 50; r++ {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > tol {
						errs <- fmt.Sprintf("caller %d, run %d: C[%d] = %g, want %g", g, r, i, c[i], want[i])
						return
					}
				}
			}
			errs <- ""
		}(g)
	}
	for g := 0; g < callers; g++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

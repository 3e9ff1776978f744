package gemm

import "math"

// selfCheck runs a few small products with ks, covering every kernel of
// the set (each row count, both widths, the dot kernels, all
// transpositions, beta = 0 over NaN and the fused epilogue), and reports
// whether they all agree with a float64 reference within the float32
// dot-product error bound. The first product checks each assembly kernel
// set this way before using it, so that a kernel that cannot be tested on
// the project's machines (AVX-512) falls back rather than computing wrong
// numbers. It takes about a millisecond, once per process.
func selfCheck(ks *kernelSet) bool {
	// A deterministic sequence in [-1, 1); no math/rand state is touched.
	seed := uint32(1)
	next := func() float32 {
		seed = seed*1664525 + 1013904223
		return float32(seed>>8)/(1<<23) - 1
	}
	const maxM, maxN, maxK = 2*12 + 11, 2*32 + 17, 40
	var a, b, c, c0, bias [maxM * (maxK + maxN)]float32
	for i := range a {
		a[i], b[i], c0[i], bias[i] = next(), next(), next(), next()
	}
	nan := float32(math.NaN())
	// Bits of a case: 1 transA, 2 transB, 4 beta = 0 over NaN in C,
	// 8 bias + ReLU.
	type shape struct {
		m, n, k int
		cases   []int
	}
	w0, w1 := ks.widths[0], ks.widths[len(ks.widths)-1]
	var shapes []shape
	// Every row count 1..mr: whole tiles of both widths (the epilogue in
	// registers) with beta != 0, then with beta = 0 over NaN and bias +
	// ReLU, then one whole and one partial wide tile (the epilogue in Go).
	// A*B^T is left to the shapes below: with few rows it goes to the dot
	// kernels, not to these.
	nonDot := []int{0, 1, 3}
	for m := 1; m <= ks.mr; m++ {
		t, t2 := nonDot[m%3], nonDot[(m+1)%3]
		shapes = append(shapes, shape{m, 2*w0 + w1, 19, []int{t, t | 4 | 8}}, shape{m, w0 + w1 + 1, 19, []int{t2 | 8}})
	}
	// 3mr-1 rows in all eight transposition and beta cases (bias + ReLU
	// with transB): several row tiles and a partial one, two whole wide
	// slivers and a partial narrow one, the k loop's tail; then the dot
	// kernels (A*B^T with 1, 2 and 3 rows; 9 columns: a partial tile).
	var all []int
	for t := 0; t < 8; t++ {
		all = append(all, t|(t&2)<<2)
	}
	shapes = append(shapes, shape{3*ks.mr - 1, 2*w0 + w1 - 1, maxK, all},
		shape{1, 9, 37, []int{2, 6 | 8}}, shape{2, 9, 37, []int{2 | 8, 6}}, shape{3, 9, 37, all})
	for _, sh := range shapes {
		m, n, k := sh.m, sh.n, sh.k
		for _, t := range sh.cases {
			transA, transB, beta0 := t&1 != 0, t&2 != 0, t&4 != 0
			lda, ldb, ldc := k+1, n+2, n+1
			if transA {
				lda = m + 1
			}
			if transB {
				ldb = k + 2
			}
			beta := float32(0.5)
			for i := range c {
				c[i] = c0[i]
				if beta0 {
					c[i] = nan
				}
			}
			if beta0 {
				beta = 0
			}
			act, bi := Identity, []float32(nil)
			if t&8 != 0 {
				act, bi = ReLU, bias[:n]
			}
			sgemmSerial(ks, transA, transB, m, n, k, 1.5, a[:], lda, b[:], ldb, beta, c[:], ldc, bi, act)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s, abs float64
					for p := 0; p < k; p++ {
						x, y := a[i*lda+p], b[p*ldb+j]
						if transA {
							x = a[p*lda+i]
						}
						if transB {
							y = b[j*ldb+p]
						}
						s += float64(x) * float64(y)
						abs += math.Abs(float64(x) * float64(y))
					}
					want, bound := 1.5*s, 1.5*abs
					if !beta0 {
						want += float64(beta) * float64(c0[i*ldc+j])
						bound += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
					}
					if bi != nil {
						want += float64(bi[j])
						bound += math.Abs(float64(bi[j]))
					}
					if act == ReLU && want < 0 {
						want = 0
					}
					const u = 1.0 / (1 << 24)
					tol := float64(k+3)*u/(1-float64(k+3)*u)*bound + 1e-30
					got := float64(c[i*ldc+j])
					if math.IsNaN(got) || math.Abs(got-want) > tol {
						return false
					}
				}
			}
		}
	}
	return true
}

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
					var cb, bv float64
					if !beta0 {
						cb = float64(beta) * float64(c0[i*ldc+j])
					}
					if bi != nil {
						bv = float64(bi[j])
					}
					want, tol := reference(s, abs, k, 1.5, cb, bv, act == ReLU)
					if wrong(c[i*ldc+j], want, tol) {
						return false
					}
				}
			}
		}
	}
	return true
}

// reference returns one element of C = act(alpha·Σ_p x_p·y_p + cb + bias)
// in float64, from s = Σ_p x_p·y_p and abs = Σ_p |x_p·y_p| over the k
// products (cb is beta·c, 0 when C is not read; bias is 0 when there is
// none), and the tolerance a float32 result must be within: the standard
// forward error bound of a float32 dot product (Higham, Accuracy and
// Stability of Numerical Algorithms, 2nd ed., eq. 3.5), |fl(x·y) − x·y| ≤
// γ_n·|x|·|y| with γ_n = n·u/(1−n·u), u = 2^-24, n = k plus the alpha, beta
// and bias roundings, applied to |alpha|·abs + |cb| + |bias|. It holds for
// any summation order, so also for the blocked and FMA orders of the
// kernels. The self-check and the tests share it.
func reference(s, abs float64, k int, alpha float32, cb, bias float64, relu bool) (want, tol float64) {
	want = float64(alpha)*s + cb + bias
	bound := math.Abs(float64(alpha))*abs + math.Abs(cb) + math.Abs(bias)
	if relu && want < 0 {
		want = 0
	}
	const u = 1.0 / (1 << 24)
	n := float64(k + 3)
	return want, n*u/(1-n*u)*bound + 1e-30
}

// wrong reports whether got is NaN or further than tol from want.
func wrong(got float32, want, tol float64) bool {
	g := float64(got)
	return math.IsNaN(g) || math.Abs(g-want) > tol
}

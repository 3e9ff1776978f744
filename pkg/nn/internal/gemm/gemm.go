// Package gemm is the single seam through which every matrix product of
// pkg/nn (and everything built on it) goes. Layers never multiply matrices
// themselves; they call Sgemm, so a faster kernel can replace this one
// without touching any layer.
//
// All matrices are row-major float32 slices with an explicit leading
// dimension (the distance between the starts of two consecutive rows).
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var impl gonum.Implementation

// Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or its transpose X^T as transA and transB say, op(A) is
// m×k, op(B) is k×n and C is m×n. A is stored m×k (lda >= k) when transA is
// false and k×m (lda >= m) when it is true; likewise B is k×n (ldb >= n) or
// n×k (ldb >= k). When beta is zero C is not read, so it may hold NaN.
//
// Sgemm does not allocate. It panics if a slice is too short for its shape.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if k == 0 {
		// gonum accepts k == 0 but requires non-empty slices; scale C directly.
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 0 {
					row[j] = 0
				} else {
					row[j] *= beta
				}
			}
		}
		return
	}
	impl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

package gemm

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Activation is an element-wise function applied by SgemmBias after the
// bias.
type Activation int

const (
	// Identity leaves the value unchanged: f(x) = x.
	Identity Activation = iota
	// ReLU is f(x) = max(x, 0); NaN stays NaN.
	ReLU
)

// String returns the activation's name.
func (a Activation) String() string {
	switch a {
	case Identity:
		return "identity"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Kernels returns the name of the kernel set Sgemm uses on this machine:
// "avx512" or "avx2" (amd64 assembly, chosen at start-up from the CPU's
// features and a self-check against a float64 reference) or "go" (the
// pure-Go kernels: other architectures, -tags noasm, or an assembly set
// that failed its self-check).
func Kernels() string { return kernels().name }

var (
	chooseOnce sync.Once
	chosen     *kernelSet
)

// kernels returns the kernel set Sgemm uses: the fastest one the CPU
// supports that passes its self-check, chosen at the first product (see
// chooseKernels in kernel_amd64.go); the pure-Go set under -tags noasm or
// on other architectures.
func kernels() *kernelSet {
	if pureGo.Load() {
		return goKernels
	}
	chooseOnce.Do(func() { chosen = chooseKernels() })
	return chosen
}

var pureGo atomic.Bool

// SetPureGo makes Sgemm and SgemmBias use the pure-Go kernels (on) or the
// set chosen for this machine (off, the default). It exists so that a test
// can compare the two in one process (pkg/nn's training-curve test); -tags
// noasm removes the assembly from the build instead. Kernels reports the
// set in use.
func SetPureGo(on bool) { pureGo.Store(on) }

// Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or its transpose X^T as transA and transB say, op(A) is
// m×k, op(B) is k×n and C is m×n. A is stored m×k (lda >= k) when transA is
// false and k×m (lda >= m) when it is true; likewise B is k×n (ldb >= n) or
// n×k (ldb >= k). When beta is zero C is not read, so it may hold NaN. When
// alpha is zero or k is zero, A and B are not read and C = beta*C. C must
// not overlap A or B. Sgemm is safe for concurrent use.
//
// Products of at least parallelFlops (2*m*n*k) flops are split across
// GOMAXPROCS goroutines of a persistent pool. Sgemm allocates nothing in
// steady state: packing buffers are reused. It panics if a dimension is
// negative, a leading dimension is too small or a slice is too short for its
// shape.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(kernels(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, Identity)
}

// SgemmBias computes
//
//	C[i,j] = act(alpha * (op(A) * op(B))[i,j] + beta * C[i,j] + bias[j])
//
// with the conventions of Sgemm: a dense layer's forward pass Y = f(X·W + b)
// in one call, the bias added and the activation applied while each tile of
// C is still in registers, with no separate pass over C. bias has one entry
// per column of C (len(bias) >= n); a nil bias adds nothing. It allocates
// nothing in steady state and panics like Sgemm, or if bias is too short or
// act is unknown.
func SgemmBias(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, act Activation) {
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("gemm: len(bias) = %d < n = %d", len(bias), n))
	}
	if act != Identity && act != ReLU {
		panic(fmt.Sprintf("gemm: unknown activation %d", int(act)))
	}
	sgemm(kernels(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, act)
}

func sgemm(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, act Activation) {
	check(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc, bias, act)
		return
	}
	p := problem{
		transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
		bias: bias, act: act,
	}
	if 2*m*n*k >= parallelFlops {
		if t := threads(); t > 1 {
			parallel(ks, &p, t)
			return
		}
	}
	ws := getWorkspace(ks)
	ks.run(&p, ws, 0, m, 0, n)
	putWorkspace(ws)
}

// sgemmSerial is sgemm on the calling goroutine only.
func sgemmSerial(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, act Activation) {
	check(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc, bias, act)
		return
	}
	p := problem{
		transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
		bias: bias, act: act,
	}
	ws := getWorkspace(ks)
	ks.run(&p, ws, 0, m, 0, n)
	putWorkspace(ws)
}

// scale computes C = act(beta*C + bias) (C = act(bias) when beta is zero).
func scale(m, n int, beta float32, c []float32, ldc int, bias []float32, act Activation) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var v float32
			if beta != 0 {
				v = beta * row[j]
			}
			if bias != nil {
				v += bias[j]
			}
			if act == ReLU && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

// check panics unless the slices and leading dimensions fit the shape.
func check(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	switch {
	case lda < max(1, ca):
		panic(fmt.Sprintf("gemm: lda = %d < %d", lda, max(1, ca)))
	case ldb < max(1, cb):
		panic(fmt.Sprintf("gemm: ldb = %d < %d", ldb, max(1, cb)))
	case ldc < max(1, n):
		panic(fmt.Sprintf("gemm: ldc = %d < %d", ldc, max(1, n)))
	}
	if m == 0 || n == 0 {
		return
	}
	if k > 0 {
		if need := (ra-1)*lda + ca; len(a) < need {
			panic(fmt.Sprintf("gemm: len(a) = %d < %d", len(a), need))
		}
		if need := (rb-1)*ldb + cb; len(b) < need {
			panic(fmt.Sprintf("gemm: len(b) = %d < %d", len(b), need))
		}
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("gemm: len(c) = %d < %d", len(c), need))
	}
}

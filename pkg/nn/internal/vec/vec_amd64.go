//go:build amd64 && !noasm

package vec

import "golang.org/x/sys/cpu"

// hasAsm: the AVX2+FMA kernels of vec_amd64.s run when the CPU (and the OS)
// support them.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// colSums adds the sums and sums of squares of columns [0, cols) (cols a
// multiple of 8) of the n×ldx matrix x (n >= 1) to s1, s2.
//
//go:noescape
func colSums(s1, s2 *float64, x *float32, n, ldx, cols int)

// colDotSums adds the sums of g and of g∘x over columns [0, cols) (a
// multiple of 8) of the n×ldx matrices g, x (n >= 1) to sg, sgx.
//
//go:noescape
func colDotSums(sg, sgx *float64, gr, x *float32, n, ldx, cols int)

// affineRows is AffineRows on columns [0, cols) (a multiple of 8), n >= 1.
//
//go:noescape
func affineRows(y, x *float32, n, ldx, cols int, mu, sc, sh *float32, relu int)

// gradRows is GradRows on columns [0, cols) (a multiple of 8), n >= 1.
//
//go:noescape
func gradRows(dx, gr, x *float32, n, ldx, cols int, k, p, mu, q *float32)

// reluMask is ReLUMask on n values, n a positive multiple of 8.
//
//go:noescape
func reluMask(dx, dy, y *float32, n int)

// adam is Adam on n values, n a positive multiple of 8, with the
// coefficients of AdamCoef (in its field order) each broadcast to 8 lanes.
//
//go:noescape
func adam(w, gr, m, v *float32, n int, k *[9][8]float32)

// sqDiff is SqDiff on n values, n a positive multiple of 8; grad may be nil.
//
//go:noescape
func sqDiff(grad, pred, target *float32, n int, s float32) float64

// transpose8 transposes one 8×8 block: dst[j*ldd+i] = src[i*lds+j].
//
//go:noescape
func transpose8(dst *float32, ldd int, src *float32, lds int)

// copyRuns4 copies n >= 1 runs of 4 floats: dst[i*ds:] = src[i*ss:].
//
//go:noescape
func copyRuns4(dst *float32, ds int, src *float32, ss int, n int)

// copyRuns3 copies n >= 1 runs of 3 floats.
//
//go:noescape
func copyRuns3(dst *float32, ds int, src *float32, ss int, n int)

// addRuns adds n >= 1 runs of l >= 1 floats, column by column.
//
//go:noescape
func addRuns(dst *float32, ds int, src *float32, ss int, n, l int)

// colDotSumsMask is colDotSums of g = dy masked by y > 0 over columns
// [0, cols) (a multiple of 8), writing g to gout; n >= 1.
//
//go:noescape
func colDotSumsMask(sg, sgx *float64, gout, dy, y, x *float32, n, ldx, cols int)

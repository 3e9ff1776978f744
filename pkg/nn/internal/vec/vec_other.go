//go:build !amd64 || noasm

package vec

// Without assembly (other architectures, or -tags noasm) the Go loops run.
const hasAsm = false

func colSums(s1, s2 *float64, x *float32, n, ldx, cols int)                     { panic("unreachable") }
func colDotSums(sg, sgx *float64, gr, x *float32, n, ldx, cols int)             { panic("unreachable") }
func affineRows(y, x *float32, n, ldx, cols int, mu, sc, sh *float32, relu int) { panic("unreachable") }
func gradRows(dx, gr, x *float32, n, ldx, cols int, k, p, mu, q *float32)       { panic("unreachable") }
func reluMask(dx, dy, y *float32, n int)                                        { panic("unreachable") }
func adam(w, gr, m, v *float32, n int, k *[9][8]float32)                        { panic("unreachable") }
func sqDiff(grad, pred, target *float32, n int, s float32) float64              { panic("unreachable") }

func transpose8(dst *float32, ldd int, src *float32, lds int) { panic("unreachable") }

func copyRuns4(dst *float32, ds int, src *float32, ss int, n int)  { panic("unreachable") }
func copyRuns3(dst *float32, ds int, src *float32, ss int, n int)  { panic("unreachable") }
func addRuns(dst *float32, ds int, src *float32, ss int, n, l int) { panic("unreachable") }

func colDotSumsMask(sg, sgx *float64, gout, dy, y, x *float32, n, ldx, cols int) {
	panic("unreachable")
}

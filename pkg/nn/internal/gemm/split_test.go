package gemm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestParallelBitIdentical checks that a product split across goroutines
// gives exactly (bit for bit) the result of the same product on one
// goroutine, for every kernel set, transposition, split rule and number of
// parts, on shapes that put part boundaries next to every kind of edge:
// the dot path (A·B^T with few rows), the single-row kernel, 8-wide and
// partial slivers, one-row parts. pkg/nn's "same result for a seed
// whatever GOMAXPROCS" rests on this.
func TestParallelBitIdentical(t *testing.T) {
	defer func(f, m, p int) { parallelFlops, splitMode, partsPerThread = f, m, p }(parallelFlops, splitMode, partsPerThread)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(7, 7))
	shapes := [][3]int{{1, 200, 70}, {1, 37, 9}, {2, 130, 40}, {7, 100, 33}, {13, 300, 5}, {16, 72, 40},
		{17, 64, 129}, {64, 128, 8}, {100, 20, 30}, {145, 8, 64}, {100, 301, 17}, {200, 8, 64}}
	for _, ks := range kernelSets() {
		for _, tr := range transCases {
			for _, s := range shapes {
				m, n, k := s[0], s[1], s[2]
				ra, ca := m, k
				if tr.a {
					ra, ca = k, m
				}
				rb, cb := k, n
				if tr.b {
					rb, cb = n, k
				}
				a, b, c0, bias := randSlice(rng, ra*ca), randSlice(rng, rb*cb), randSlice(rng, m*n), randSlice(rng, n)
				want := append([]float32(nil), c0...)
				sgemmSerial(ks, tr.a, tr.b, m, n, k, 1.5, a, ca, b, cb, 0.5, want, n, bias, ReLU)
				for _, procs := range []int{2, 5} {
					for _, mode := range []int{0, 1, 2} {
						for _, ppt := range []int{1, 3} {
							runtime.GOMAXPROCS(procs)
							parallelFlops, splitMode, partsPerThread = 1, mode, ppt
							got := append([]float32(nil), c0...)
							sgemm(ks, tr.a, tr.b, m, n, k, 1.5, a, ca, b, cb, 0.5, got, n, bias, ReLU)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s tA=%v tB=%v %dx%dx%d procs=%d mode=%d parts/thread=%d: C[%d] = %v, serial %v",
										ks.name, tr.a, tr.b, m, n, k, procs, mode, ppt, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

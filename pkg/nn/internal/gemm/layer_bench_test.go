package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLayerShapes runs the products of pkg/nn's Dense layer (weights
// stored out×in, PyTorch's layout) on the DCASE shapes at batch 512:
// forward Y = X·W^T (F,T), weight gradient dW = dY^T·X (T,F) and input
// gradient dX = dY·W (F,F).
func BenchmarkLayerShapes(b *testing.B) {
	const n = 512
	for _, l := range [][2]int{{640, 128}, {128, 128}, {128, 8}, {8, 128}, {128, 640}} {
		in, out := l[0], l[1]
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, y := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, n*out)
		dw, dx := randSlice(rng, out*in), randSlice(rng, n*in)
		flops := 2 * float64(n*in*out)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"fwd", func() { Sgemm(false, true, n, out, in, 1, x, in, w, in, 0, y, out) }},
			{"dW", func() { Sgemm(true, false, out, in, n, 1, y, out, x, in, 1, dw, in) }},
			{"dX", func() { Sgemm(false, false, n, in, out, 1, y, out, w, in, 0, dx, in) }},
		} {
			b.Run(fmt.Sprintf("%s/%dx%d", c.name, in, out), func(b *testing.B) {
				c.f()
				b.ReportAllocs()
				for b.Loop() {
					c.f()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

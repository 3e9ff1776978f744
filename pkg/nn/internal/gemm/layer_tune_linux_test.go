package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

// TestTuneLayers prints the GFLOP/s (best of 15 rounds of process CPU
// time, one core) of the products pkg/nn's Dense layer makes on the DCASE
// shapes at batch 512, with the weights stored out×in: forward Y = X·W^T,
// weight gradient dW += dY^T·X and input gradient dX = dY·W. Only with
// GEMM_TUNE=1:
//
//	GEMM_TUNE=1 go test -count=1 -run TuneLayers -v ./pkg/nn/internal/gemm
func TestTuneLayers(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 512
	for _, l := range [][2]int{{640, 128}, {128, 128}, {128, 8}, {8, 128}, {128, 640}} {
		in, out := l[0], l[1]
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, y := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, n*out)
		dw, dx := randSlice(rng, out*in), randSlice(rng, n*in)
		flops := 2 * float64(n*in*out)
		line := fmt.Sprintf("%4d→%-4d", in, out)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"fwd", func() { Sgemm(false, true, n, out, in, 1, x, in, w, in, 0, y, out) }},
			{"dW", func() { Sgemm(true, false, out, in, n, 1, y, out, x, in, 1, dw, in) }},
			{"dX", func() { Sgemm(false, false, n, in, out, 1, y, out, w, in, 0, dx, in) }},
		} {
			line += fmt.Sprintf("  %s %6.1f", c.name, flops/bestOf(15, 5, c.f)/1e9)
		}
		t.Log(line)
	}
}

// TestTuneInfer compares the inference product Y = relu(X·W^T + b) with the
// weights stored out×in (F,T) and stored transposed in×out (F,F), at
// batch 1, 64 and 4096 on the DCASE layer shapes. Only with GEMM_TUNE=1.
func TestTuneInfer(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, n := range []int{1, 64, 4096} {
		for _, l := range [][2]int{{640, 128}, {128, 128}, {128, 8}, {8, 128}, {128, 640}} {
			in, out := l[0], l[1]
			rng := rand.New(rand.NewPCG(1, 1))
			x, w, y, bias := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, n*out), randSlice(rng, out)
			flops := 2 * float64(n*in*out)
			reps := max(1, 20_000_000/int(flops))
			ft := flops / bestOf(9, reps, func() { SgemmBias(false, true, n, out, in, 1, x, in, w, in, 0, y, out, bias, ReLU) }) / 1e9
			ff := flops / bestOf(9, reps, func() { SgemmBias(false, false, n, out, in, 1, x, in, w, out, 0, y, out, bias, ReLU) }) / 1e9
			t.Logf("batch %4d %4d→%-4d  out×in (F,T) %6.1f   in×out (F,F) %6.1f", n, in, out, ft, ff)
		}
	}
}

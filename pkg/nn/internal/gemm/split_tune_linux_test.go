package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// TestTuneSplit prints, for the products pkg/nn's Dense layers make on the
// DCASE network (forward X·W^T, dW += dY^T·X, dX = dY·W) at batch 64, 512
// and 4096, the wall-clock speed-up of each way of splitting them across
// GOMAXPROCS goroutines over the calling goroutine alone ("rule" is the
// one parallel uses; best of interleaved rounds; it needs an otherwise
// idle machine). Only with GEMM_TUNE=1:
//
//	GEMM_TUNE=1 go test -count=1 -run TuneSplit -v -cpu 2 ./pkg/nn/internal/gemm
func TestTuneSplit(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	defer func(b time.Duration) { par.Backoff = b }(par.Backoff)
	par.Backoff = 0 // measure the splits, not the contention rule
	defer func(f, m, p int) { parallelFlops, splitMode, partsPerThread = f, m, p }(parallelFlops, splitMode, partsPerThread)
	type cfg struct {
		name      string
		mode, ppt int
		flops     int // parallelFlops
	}
	cfgs := []cfg{{"serial", 0, 1, 1 << 62}, {"rule", 0, 1, 1}, {"m", 1, 1, 1}, {"n", 2, 1, 1}, {"m×2", 1, 2, 1}, {"n×2", 2, 2, 1}}
	head := "shape                       MFLOP "
	for _, c := range cfgs[1:] {
		head += fmt.Sprintf(" %7s", c.name)
	}
	t.Log(head + "   (speed-up over serial; serial in µs)")
	for _, batch := range []int{64, 512, 4096} {
		for _, l := range [][2]int{{640, 128}, {128, 128}, {128, 8}, {8, 128}, {128, 640}} {
			in, out, n := l[0], l[1], batch
			rng := rand.New(rand.NewPCG(1, 1))
			x, w, y := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, n*out)
			dw, dx, bias := randSlice(rng, out*in), randSlice(rng, n*in), randSlice(rng, out)
			flops := 2 * float64(n*in*out)
			reps := max(1, int(4e6/flops))
			for _, c := range []struct {
				name string
				f    func()
			}{
				{fmt.Sprintf("fwd %dx%dx%d", n, out, in), func() { SgemmBias(false, true, n, out, in, 1, x, in, w, in, 0, y, out, bias, ReLU) }},
				{fmt.Sprintf("dW  %dx%dx%d", out, in, n), func() { Sgemm(true, false, out, in, n, 1, y, out, x, in, 1, dw, in) }},
				{fmt.Sprintf("dX  %dx%dx%d", n, in, out), func() { Sgemm(false, false, n, in, out, 1, y, out, w, in, 0, dx, in) }},
			} {
				if batch != 512 && c.name[:2] != "fw" {
					continue
				}
				best := make([]float64, len(cfgs))
				for i := range best {
					best[i] = 1e9
				}
				for r := 0; r < 30; r++ {
					for i, cf := range cfgs {
						parallelFlops, splitMode, partsPerThread = cf.flops, cf.mode, cf.ppt
						c.f()
						t0 := time.Now()
						for k := 0; k < reps; k++ {
							c.f()
						}
						best[i] = min(best[i], time.Since(t0).Seconds()/float64(reps))
					}
				}
				line := fmt.Sprintf("%-27s %6.2f", c.name, flops/1e6)
				for i := range cfgs[1:] {
					line += fmt.Sprintf(" %7.2f", best[0]/best[i+1])
				}
				t.Log(line + fmt.Sprintf("   %7.1f", best[0]*1e6))
			}
		}
	}
}

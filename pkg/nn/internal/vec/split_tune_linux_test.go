package vec

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// TestTuneSplit prints the wall-clock speed-up of splitting each pass
// across GOMAXPROCS goroutines over running it on the calling goroutine
// (same GOMAXPROCS), on n×128 matrices (the
// DCASE network's BatchNorm layers at batch n) and n·128 parameters for
// Adam, best of interleaved rounds; it needs an otherwise idle machine.
// Only with VEC_TUNE=1:
//
//	VEC_TUNE=1 go test -count=1 -run TuneSplit -v -cpu 2 ./pkg/nn/internal/vec
func TestTuneSplit(t *testing.T) {
	if os.Getenv("VEC_TUNE") == "" {
		t.Skip("set VEC_TUNE=1 to run")
	}
	defer func(v int) { minParallel = v }(minParallel)
	// Contention backoffs would turn splits into serial runs; this
	// measures the splits themselves.
	defer func(b time.Duration) { par.Backoff = b }(par.Backoff)
	par.Backoff = 0
	rng := rand.New(rand.NewPCG(1, 1))
	const c = 128
	for _, n := range []int{16, 32, 64, 128, 256, 512} {
		x, g, y0, out := randVec(rng, n*c), randVec(rng, n*c), randVec(rng, n*c), randVec(rng, n*c)
		mu, sc, sh, k, p, q := randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c), randVec(rng, c)
		s1, s2 := make([]float64, c), make([]float64, c)
		w, m, v := randVec(rng, n*c), randVec(rng, n*c), randVec(rng, n*c)
		for i := range v {
			v[i] *= v[i]
		}
		h := &AdamCoef{Decay: 1, B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Step: 1e-9, IBC2: 3, Eps: 1e-8}
		line := fmt.Sprintf("%3d×%d (%6d values):", n, c, n*c)
		for _, pass := range []struct {
			name string
			f    func()
		}{
			{"ColSums", func() { ColSums(s1, s2, x, n, c) }},
			{"ColDotSumsMasked", func() { ColDotSumsMasked(s1, s2, out, g, y0, x, n, c) }},
			{"AffineRows", func() { AffineRows(out, x, n, c, mu, sc, sh, true) }},
			{"GradRows", func() { GradRows(out, g, x, n, c, k, p, mu, q) }},
			{"ReLUMask", func() { ReLUMask(out, g, y0) }},
			{"Adam", func() { Adam(w, g, m, v, h) }},
			{"SqDiff", func() { SqDiff(out, x, g, 0.5) }},
		} {
			reps := max(1, 2_000_000/(n*c))
			var best [2]float64
			best[0], best[1] = 1e9, 1e9
			for r := 0; r < 40; r++ {
				for i, mp := range [2]int{1 << 30, 1} {
					minParallel = mp
					pass.f()
					t0 := time.Now()
					for k := 0; k < reps; k++ {
						pass.f()
					}
					best[i] = min(best[i], time.Since(t0).Seconds()/float64(reps))
				}
			}
			line += fmt.Sprintf("  %s %.2f (%.1f µs)", pass.name, best[0]/best[1], best[0]*1e6)
		}
		t.Log(line)
	}
}

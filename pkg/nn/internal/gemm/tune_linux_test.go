package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/mhmstream/mhm/internal/cputime"
)

// bestOf returns the fastest of rounds timings of reps calls of f, in
// seconds of the process's CPU time per call (all its threads: with
// GOMAXPROCS=1 that is the product's time however the runtime moves
// goroutines between threads, and gonum's SGEMM starts goroutines of its
// own). CPU time and the minimum both discount the other processes of a
// shared machine, which only ever add time. Call it with GOMAXPROCS=1: it
// measures work, not wall time.
func bestOf(rounds, reps int, f func()) float64 {
	best := 1e9
	for r := 0; r < rounds; r++ {
		t0, _ := cputime.Process()
		for i := 0; i < reps; i++ {
			f()
		}
		t1, _ := cputime.Process()
		best = min(best, (t1-t0).Seconds()/float64(reps))
	}
	return best
}

// TestTune prints the GFLOP/s of the DCASE shapes under the packing and
// blocking alternatives that docs/kernels.md compares. It only runs with
// GEMM_TUNE=1 (GEMM_TUNE=1 go test -count=1 -run 'Tune$' -v ./pkg/nn/internal/gemm).
func TestTune(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	type knob struct {
		name string
		set  func()
	}
	defA, defB, defDot, defRow := packAMinSlivers, packBMinTiles, kernels().dotMaxM, kernels().rowWidth
	defer func() {
		packAMinSlivers, packBMinTiles, kernels().dotMaxM, kernels().rowWidth = defA, defB, defDot, defRow
	}()
	knobs := []knob{
		{"default", func() {}},
		{"packA-always", func() { packAMinSlivers = 0 }},
		{"packB-from2tiles", func() { packBMinTiles = 2 }},
		{"packB-from8tiles", func() { packBMinTiles = 8 }},
		{"dot-off", func() { kernels().dotMaxM = 0 }},
		{"dot-to16", func() { kernels().dotMaxM = 16 }},
		{"dot-all", func() { kernels().dotMaxM = 1 << 30 }},
		{"row-off", func() { kernels().rowWidth = 1 << 30 }},
	}
	shapes := dcaseShapes()
	for _, m := range []int{2, 16, 32, 64, 128, 256} {
		shapes = append(shapes, dcaseShape{fmt.Sprintf("AxBt/%dx128x640", m), false, true, m, 640, 128},
			dcaseShape{fmt.Sprintf("AxBt/%dx640x128", m), false, true, m, 128, 640})
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		ra, ca := s.m, s.k
		if s.transA {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.transB {
			rb, cb = s.n, s.k
		}
		a, b, c := randSlice(rng, ra*ca), randSlice(rng, rb*cb), randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(1, int(4e6/flops))
		line := fmt.Sprintf("%-26s", s.name)
		for _, k := range knobs {
			packAMinSlivers, packBMinTiles, kernels().dotMaxM, kernels().rowWidth = defA, defB, defDot, defRow
			k.set()
			sec := bestOf(40, reps, func() {
				sgemm(kernels(), s.transA, s.transB, s.m, s.n, s.k, 1, a, ca, b, cb, 0, c, s.n, nil, Identity)
			})
			line += fmt.Sprintf(" %s=%.1f", k.name, flops/sec/1e9)
		}
		t.Log(line)
	}
}

// TestTuneParallel prints the wall-clock speed of products around the
// parallel threshold with one goroutine and with GOMAXPROCS goroutines
// (GEMM_TUNE=1 go test -count=1 -run TuneParallel -v -cpu 2 ./pkg/nn/internal/gemm).
func TestTuneParallel(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	def := parallelFlops
	defer func() { parallelFlops = def }()
	// The cost of the hand-off itself: a 12×32×1 product (one tile per
	// goroutine) serial and split.
	tiny := make([]float32, 12*32)
	for _, pf := range []int{1 << 62, 1} {
		parallelFlops = pf
		var lo, sum time.Duration = time.Hour, 0
		const n = 2000
		for r := 0; r < n; r++ {
			t0 := time.Now()
			Sgemm(false, false, 12, 32, 1, 1, tiny, 1, tiny, 32, 0, tiny, 32)
			d := time.Since(t0)
			lo, sum = min(lo, d), sum+d
		}
		t.Logf("12x32x1 with parallelFlops=%d: min %v, mean %v per call", pf, lo, sum/n)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range [][3]int{{512, 128, 2}, {512, 128, 4}, {512, 128, 8}, {512, 128, 16}, {512, 128, 32}, {512, 128, 64}, {128, 128, 128}, {64, 128, 128}, {32, 128, 128}} {
		m, n, k := s[0], s[1], s[2]
		a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
		flops := 2 * float64(m*n*k)
		reps := max(1, int(2e6/flops))
		var res [2]float64
		for i, pf := range []int{1 << 62, 1} {
			parallelFlops = pf
			best := 1e9
			for r := 0; r < 60; r++ {
				t0 := time.Now()
				for i := 0; i < reps; i++ {
					Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				}
				best = min(best, time.Since(t0).Seconds()/float64(reps))
			}
			res[i] = flops / best / 1e9
		}
		t.Logf("%dx%dx%d (%.2f MFLOP): serial %.1f GFLOP/s, parallel(%d) %.1f GFLOP/s, speed-up %.2f",
			m, n, k, flops/1e6, res[0], runtime.GOMAXPROCS(0), res[1], res[1]/res[0])
	}
}

// TestFigures prints the table of docs/kernels.md: for each DCASE shape,
// our single-core GFLOP/s and gonum's (thread CPU time, best of 25 rounds,
// the two interleaved in the same run), their ratio and our share of the
// measured FMA peak; then the wall-clock speed-up of GOMAXPROCS goroutines
// over one (best of 25 rounds each), which needs an otherwise idle machine
// to mean anything:
//
//	GEMM_TUNE=1 go test -count=1 -run Figures -v -cpu 2 ./pkg/nn/internal/gemm
func TestFigures(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("set GEMM_TUNE=1 to run")
	}
	var impl gonum.Implementation
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	peak := 0.0
	runtime.GOMAXPROCS(1)
	if fmaPeak(1) {
		const iters = 1 << 12
		peak = 192 * iters / bestOf(200, 1, func() { fmaPeak(iters) }) / 1e9
	}
	t.Logf("kernels %s, FMA peak %.1f GFLOP/s per core", kernels().name, peak)
	t.Logf("| product | m×n×k | ours | gonum | ratio | %% of peak | %d goroutines | speed-up |", procs)
	t.Logf("|---|---|---:|---:|---:|---:|---:|---:|")
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range dcaseShapes() {
		ra, ca := s.m, s.k
		if s.transA {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.transB {
			rb, cb = s.n, s.k
		}
		a, b, c := randSlice(rng, ra*ca), randSlice(rng, rb*cb), randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(1, int(2e6/flops))
		ta, tb := blas.NoTrans, blas.NoTrans
		if s.transA {
			ta = blas.Trans
		}
		if s.transB {
			tb = blas.Trans
		}
		ours := func() { Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ca, b, cb, 0, c, s.n) }
		theirs := func() { impl.Sgemm(ta, tb, s.m, s.n, s.k, 1, a, ca, b, cb, 0, c, s.n) }
		runtime.GOMAXPROCS(1)
		to, tg := 1e9, 1e9
		for r := 0; r < 25; r++ {
			to = min(to, bestOf(1, reps, ours))
			tg = min(tg, bestOf(1, reps, theirs))
		}
		runtime.GOMAXPROCS(procs)
		wall := func(p int) float64 {
			runtime.GOMAXPROCS(p)
			best := 1e9
			for r := 0; r < 25; r++ {
				t0 := time.Now()
				for i := 0; i < reps; i++ {
					ours()
				}
				best = min(best, time.Since(t0).Seconds()/float64(reps))
			}
			return best
		}
		w1, wp := wall(1), wall(procs)
		runtime.GOMAXPROCS(procs)
		pct := "n/a"
		if peak > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*flops/to/1e9/peak)
		}
		name, _, _ := strings.Cut(s.name, "/")
		t.Logf("| %s | %d×%d×%d | %.1f | %.2f | %.1f× | %s | %.1f | %.2f× |", name, s.m, s.n, s.k,
			flops/to/1e9, flops/tg/1e9, tg/to, pct, flops/wp/1e9, w1/wp)
	}
}

package gemm

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestSgemmNoAlloc checks that steady-state calls allocate nothing on every
// path: packed, in-place, dot kernels, fused epilogue, and the parallel
// split (which testing.AllocsPerRun cannot see, as it forces GOMAXPROCS=1).
func TestSgemmNoAlloc(t *testing.T) {
	defer func(f int) { parallelFlops = f }(parallelFlops)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(1, 5))
	a, b, c, bias := randSlice(rng, 640*512), randSlice(rng, 640*512), randSlice(rng, 640*512), randSlice(rng, 640)
	for _, tc := range []struct {
		name           string
		transA, transB bool
		m, n, k        int
		parallel       bool
	}{
		{"packed", false, false, 100, 40, 300, false},
		{"transA", true, false, 100, 40, 300, false},
		{"dot", false, true, 1, 128, 640, false},
		{"small", false, false, 3, 5, 7, false},
		{"parallel-m", false, false, 120, 32, 64, true},
		{"parallel-n", false, true, 16, 200, 64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parallelFlops = 1 << 62
			if tc.parallel {
				parallelFlops = 1
			}
			lda, ldb := tc.k, tc.n
			if tc.transA {
				lda = tc.m
			}
			if tc.transB {
				ldb = tc.k
			}
			call := func() {
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c, tc.n)
				SgemmBias(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0.5, c, tc.n, bias, ReLU)
			}
			if !tc.parallel {
				// AllocsPerRun warms up with one call and reports the
				// average count, as go test -benchmem does.
				if n := testing.AllocsPerRun(50, call); n != 0 {
					t.Errorf("%v allocations per call, want 0", n)
				}
				return
			}
			if raceEnabled {
				t.Skip("allocation counts of parked goroutines are the race detector's under -race")
			}
			// AllocsPerRun forces GOMAXPROCS=1, so count by hand. Warm up
			// (workspaces, worker pool, job list) after a collection, so
			// that no GC empties the runtime's caches mid-measurement.
			runtime.GC()
			for i := 0; i < 3; i++ {
				call()
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 200
			for i := 0; i < runs; i++ {
				call()
			}
			runtime.ReadMemStats(&after)
			// Parking goroutines lets the runtime allocate for itself now
			// and then (a sudog when its cache was emptied, the
			// scavenger's timer heap: seen with runtime.MemProfile, never
			// in this package), and MemStats counts the whole process, so
			// allow a few allocations that do not grow with the calls.
			if n := after.Mallocs - before.Mallocs; n > runs/10 {
				t.Errorf("%d allocations in %d calls, want <= %d", n, 2*runs, runs/10)
			}
		})
	}
}

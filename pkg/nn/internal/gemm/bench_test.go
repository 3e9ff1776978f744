package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/mhmstream/mhm/internal/cputime"
)

// BenchmarkPeakFMA measures the float32 FMA ceiling of one core: 12
// independent 8-wide FMAs per iteration, no memory traffic.
func BenchmarkPeakFMA(b *testing.B) {
	if !fmaPeak(1) {
		b.Skip("no AVX2+FMA")
	}
	const iters = 1 << 14
	c0, ok := cputime.Process()
	for b.Loop() {
		fmaPeak(iters)
	}
	b.ReportMetric(float64(b.N)*iters*192/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// Per second of process CPU time: on a shared machine the wall-clock
	// figure drops whenever another process holds the core, this one not.
	if c1, _ := cputime.Process(); ok && c1 > c0 {
		b.ReportMetric(float64(b.N)*iters*192/(c1-c0).Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkPeakFMAParallel is BenchmarkPeakFMA on GOMAXPROCS goroutines at
// once (b.RunParallel), reporting their total: the FMA throughput the
// machine gives a process that keeps every core busy, the ceiling of any
// multi-core speed-up of FMA-bound code. On a virtual machine it can be
// well under GOMAXPROCS times the one-core figure when the host runs
// other work on the same physical cores.
func BenchmarkPeakFMAParallel(b *testing.B) {
	if !fmaPeak(1) {
		b.Skip("no AVX2+FMA")
	}
	const iters = 1 << 14
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fmaPeak(iters)
		}
	})
	b.ReportMetric(float64(b.N)*iters*192/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// dcaseShape is one product of the DCASE 2020 baseline autoencoder
// (640-128x4-8-128x4-640, batch 512) in the layer that computes it.
type dcaseShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// dcaseShapes lists the products of one training step (forward Y = X·W,
// weight gradient dW = X^T·dY, input gradient dX = dY·W^T) and of
// batch-1 inference, for each distinct layer size (in, out).
func dcaseShapes() []dcaseShape {
	const batch = 512
	layers := [][2]int{{640, 128}, {128, 128}, {128, 8}, {8, 128}, {128, 640}}
	var s []dcaseShape
	for _, l := range layers {
		in, out := l[0], l[1]
		s = append(s, dcaseShape{fmt.Sprintf("fwd/%dx%dx%d", batch, in, out), false, false, batch, out, in})
	}
	for _, l := range layers {
		in, out := l[0], l[1]
		s = append(s, dcaseShape{fmt.Sprintf("dW=XtdY/%dx%dx%d", in, batch, out), true, false, in, out, batch})
	}
	for _, l := range layers {
		in, out := l[0], l[1]
		s = append(s, dcaseShape{fmt.Sprintf("dX=dYWt/%dx%dx%d", batch, out, in), false, true, batch, in, out})
	}
	for _, l := range layers {
		in, out := l[0], l[1]
		s = append(s, dcaseShape{fmt.Sprintf("infer1/1x%dx%d", in, out), false, false, 1, out, in})
	}
	// Batch-1 inference with the weights stored out×in (Y = X·W^T).
	for _, l := range layers {
		in, out := l[0], l[1]
		s = append(s, dcaseShape{fmt.Sprintf("infer1t/1x%dx%d", in, out), false, true, 1, out, in})
	}
	return s
}

// BenchmarkSgemm runs every DCASE shape with our Sgemm and with gonum's
// pure-Go SGEMM on the same data. Run with -cpu 1,2 for one core and two.
func BenchmarkSgemm(b *testing.B) {
	var impl gonum.Implementation
	for _, s := range dcaseShapes() {
		ra, ca := s.m, s.k
		if s.transA {
			ra, ca = s.k, s.m
		}
		rb, cb := s.k, s.n
		if s.transB {
			rb, cb = s.n, s.k
		}
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randSlice(rng, ra*ca), randSlice(rng, rb*cb), randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		b.Run(s.name+"/ours", func(b *testing.B) {
			b.ReportAllocs()
			// Warm up before b.Loop resets the counters: the first call
			// sizes the packing workspaces, later calls allocate nothing.
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
			for b.Loop() {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(s.name+"/gonum", func(b *testing.B) {
			b.ReportAllocs()
			ta, tb := blas.NoTrans, blas.NoTrans
			if s.transA {
				ta = blas.Trans
			}
			if s.transB {
				tb = blas.Trans
			}
			for b.Loop() {
				impl.Sgemm(ta, tb, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

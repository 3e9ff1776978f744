package fftcmp

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"syscall"
	"testing"

	dspfft "github.com/mjibson/go-dsp/fft"
	"gonum.org/v1/gonum/dsp/fourier"
)

var sizes = []int{256, 1024}

// processCPU returns the CPU time of the whole process (all threads, so
// go-dsp's worker goroutines and the garbage collector are counted).
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// measure runs f b.N times and reports, besides wall ns/op, the process CPU
// time per op ("cpu-ns/op"), which other processes on a shared machine do not
// inflate.
func measure(b *testing.B, f func()) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := processCPU(b)
	for range b.N {
		f()
	}
	b.ReportMetric(float64(processCPU(b)-c0)/float64(b.N), "cpu-ns/op")
}

func signal(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// TestAgree checks that both packages compute the same one-sided spectrum
// (within 1e-9 of the largest coefficient), so the benchmark compares like
// with like.
func TestAgree(t *testing.T) {
	for _, n := range sizes {
		x := signal(n)
		g := fourier.NewFFT(n).Coefficients(nil, x)
		d := dspfft.FFTReal(x)
		var peak float64
		for _, z := range g {
			peak = max(peak, cmplx.Abs(z))
		}
		for k := range g {
			if cmplx.Abs(g[k]-d[k]) > 1e-9*peak {
				t.Fatalf("n=%d bin %d: gonum %v, go-dsp %v", n, k, g[k], d[k])
			}
		}
		if math.IsNaN(peak) || peak == 0 {
			t.Fatalf("n=%d: degenerate spectrum", n)
		}
	}
}

// BenchmarkRealFFT is one real forward FFT of n points per op, as an STFT
// computes per frame: go-dsp's FFTReal (converts to complex, allocates its
// result and work buffers, and fans the butterflies out to GOMAXPROCS
// goroutines, or to one with SetWorkerPoolSize(1)) against a reused gonum
// plan writing into a reused destination.
func BenchmarkRealFFT(b *testing.B) {
	for _, n := range sizes {
		x := signal(n)
		var sink complex128
		b.Run(fmt.Sprintf("godsp/%d", n), func(b *testing.B) {
			measure(b, func() { sink += dspfft.FFTReal(x)[1] })
		})
		b.Run(fmt.Sprintf("godsp-1worker/%d", n), func(b *testing.B) {
			dspfft.SetWorkerPoolSize(1)
			defer dspfft.SetWorkerPoolSize(0)
			measure(b, func() { sink += dspfft.FFTReal(x)[1] })
		})
		b.Run(fmt.Sprintf("gonum/%d", n), func(b *testing.B) {
			p := fourier.NewFFT(n)
			dst := make([]complex128, n/2+1)
			measure(b, func() { sink += p.Coefficients(dst, x)[1] })
		})
		_ = sink
	}
}

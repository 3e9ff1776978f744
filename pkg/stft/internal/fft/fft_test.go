package fft

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/mhmstream/mhm/internal/cputime"
)

// TestAgainstGonum compares with gonum's dsp/fourier FFT (FFTPACK) on random
// sequences for every power of two from 4 to 8192: the coefficients agree
// within 1e-13 of the spectrum's largest magnitude.
func TestAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 4; n <= 8192; n *= 2 {
		p := NewReal(n)
		ref := fourier.NewFFT(n)
		for range 3 {
			x := make([]float64, n)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			in := p.Input()
			for k := range in {
				in[k] = complex(x[2*k], x[2*k+1])
			}
			got := make([]complex128, n/2+1)
			p.Transform(got)
			want := ref.Coefficients(nil, x)
			var peak float64
			for _, z := range want {
				peak = max(peak, cmplx.Abs(z))
			}
			for k := range want {
				if d := cmplx.Abs(got[k] - want[k]); d > 1e-13*peak {
					t.Fatalf("n=%d k=%d: got %v, want %v (|d| = %.3g of peak)", n, k, got[k], want[k], d/peak)
				}
			}
			// Power: |X[k]|² within 1e-13 of the peak power.
			for k := range in {
				in[k] = complex(x[2*k], x[2*k+1])
			}
			pow := make([]float64, n/2+1)
			p.Power(pow)
			for k, z := range want {
				w := real(z)*real(z) + imag(z)*imag(z)
				if math.Abs(pow[k]-w) > 1e-13*peak*peak {
					t.Fatalf("n=%d k=%d: power %g, want %g", n, k, pow[k], w)
				}
			}
		}
	}
}

// TestImpulseAndTone: a unit impulse at 0 has a flat spectrum of ones, and
// cos(2πk0 j/n) has n/2 at bin k0 and zero elsewhere.
func TestImpulseAndTone(t *testing.T) {
	const n = 64
	p := NewReal(n)
	in := p.Input()
	clear(in)
	in[0] = 1
	got := make([]complex128, n/2+1)
	p.Transform(got)
	for k, z := range got {
		if cmplx.Abs(z-1) > 1e-15 {
			t.Fatalf("impulse: bin %d = %v, want 1", k, z)
		}
	}
	const k0 = 5
	for k := range in {
		in[k] = complex(math.Cos(2*math.Pi*k0*float64(2*k)/n), math.Cos(2*math.Pi*k0*float64(2*k+1)/n))
	}
	p.Transform(got)
	for k, z := range got {
		want := 0.0
		if k == k0 {
			want = n / 2
		}
		if cmplx.Abs(z-complex(want, 0)) > 1e-12 {
			t.Fatalf("tone: bin %d = %v, want %g", k, z, want)
		}
	}
}

func TestPanics(t *testing.T) {
	for _, n := range []int{0, 2, 3, 6, 100} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewReal(%d) did not panic", n)
				}
			}()
			NewReal(n)
		}()
	}
}

// BenchmarkReal compares this kernel with gonum's plan on the same lengths,
// in one run (go test -bench . ./pkg/stft/internal/fft). Besides wall ns/op
// it reports the thread's CPU time per op ("cpu-ns/op", Linux), which other
// processes on a shared machine do not inflate.
func BenchmarkReal(b *testing.B) {
	for _, n := range []int{256, 1024} {
		x := make([]float64, n)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		dst := make([]complex128, n/2+1)
		b.Run(fmt.Sprintf("stockham/%d", n), func(b *testing.B) {
			p := NewReal(n)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, ok := cputime.Thread()
			for range b.N {
				in := p.Input()
				for k := range in {
					in[k] = complex(x[2*k], x[2*k+1])
				}
				p.Transform(dst)
			}
			if c1, _ := cputime.Thread(); ok {
				b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
			}
		})
		b.Run(fmt.Sprintf("gonum/%d", n), func(b *testing.B) {
			p := fourier.NewFFT(n)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, ok := cputime.Thread()
			for range b.N {
				p.Coefficients(dst, x)
			}
			if c1, _ := cputime.Thread(); ok {
				b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

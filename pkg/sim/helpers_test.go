package sim

import (
	"flag"
	"math"
	"math/cmplx"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// seedShift moves every seed of the statistical tests, to check that their
// tolerances hold for other noise draws than the committed ones:
//
//	for s in 1 2 3 4 5; do go test ./pkg/sim -args -sim.seedshift=$s; done
var seedShift = flag.Uint64("sim.seedshift", 0, "added to every machine seed the tests use")

// gen returns n samples of spec with seed (plus -sim.seedshift), read in one call.
func gen(t testing.TB, spec Spec, seed uint64, n int) []float32 {
	t.Helper()
	m, err := New(spec, seed+*seedShift)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n)
	if got := m.Read(x); got != n {
		t.Fatalf("Read returned %d, want %d", got, n)
	}
	return x
}

// amplitudeSpectrum returns the single-sided amplitude spectrum of x under a
// Hann window, scaled so a sinusoid of amplitude A on a bin shows A, and the
// bin width in Hz.
func amplitudeSpectrum(x []float32, rate float64) ([]float64, float64) {
	n := len(x)
	seq := make([]float64, n)
	var wsum float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		seq[i] = float64(v) * w
		wsum += w
	}
	c := fourier.NewFFT(n).Coefficients(nil, seq)
	mag := make([]float64, len(c))
	for k, z := range c {
		mag[k] = 2 * cmplx.Abs(z) / wsum
	}
	return mag, rate / float64(n)
}

// peak returns the largest value of mag within ±tol Hz of f.
func peak(mag []float64, df, f, tol float64) float64 {
	lo := max(0, int(math.Floor((f-tol)/df)))
	hi := min(len(mag)-1, int(math.Ceil((f+tol)/df)))
	var p float64
	for k := lo; k <= hi; k++ {
		p = max(p, mag[k])
	}
	return p
}

// floor returns the median of mag over [f-w, f+w] Hz, the local noise floor.
func floor(mag []float64, df, f, w float64) float64 {
	lo := max(1, int((f-w)/df))
	hi := min(len(mag)-1, int((f+w)/df))
	v := append([]float64(nil), mag[lo:hi+1]...)
	// insertion sort is fine for the few hundred bins used here
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v[len(v)/2]
}

// envelopeSpectrum band-passes x to [lo, hi] Hz, takes the magnitude of the
// analytic signal (Hilbert envelope, both done in the frequency domain) and
// returns the amplitude spectrum of the envelope with its mean removed.
func envelopeSpectrum(x []float32, rate, lo, hi float64) ([]float64, float64) {
	n := len(x)
	z := make([]complex128, n)
	for i, v := range x {
		z[i] = complex(float64(v), 0)
	}
	f := fourier.NewCmplxFFT(n)
	c := f.Coefficients(nil, z)
	df := rate / float64(n)
	for k := range c {
		fk := float64(k) * df
		switch {
		case k > 0 && k < n/2 && fk >= lo && fk <= hi:
			c[k] *= 2 // analytic signal: double the positive band
		default:
			c[k] = 0 // remove negative frequencies and everything off-band
		}
	}
	a := f.Sequence(nil, c)
	env := make([]float32, n)
	var mean float64
	for i, v := range a {
		e := cmplx.Abs(v) / float64(n)
		env[i] = float32(e)
		mean += e
	}
	mean /= float64(n)
	for i := range env {
		env[i] -= float32(mean)
	}
	return amplitudeSpectrum(env, rate)
}

// bandDB returns, per frame of 1024 samples (hop 512, Hann) of x, the log
// power (dB) in nb log-spaced bands from 40 Hz to Nyquist: a stand-in for the
// log-mel patches a spectral-patch detector sees.
func bandDB(x []float32, rate float64, nb int) [][]float64 {
	const n, hop = 1024, 512
	fft := fourier.NewFFT(n)
	seq := make([]float64, n)
	var c []complex128
	edges := make([]int, nb+1)
	for b := range edges {
		f := 40 * math.Pow(rate/2/40, float64(b)/float64(nb))
		edges[b] = min(n/2, int(math.Round(f*n/rate)))
	}
	var out [][]float64
	for s := 0; s+n <= len(x); s += hop {
		for i := range seq {
			seq[i] = float64(x[s+i]) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n))
		}
		c = fft.Coefficients(c, seq)
		row := make([]float64, nb)
		for b := range nb {
			var p float64
			for k := edges[b]; k < max(edges[b+1], edges[b]+1); k++ {
				p += real(c[k])*real(c[k]) + imag(c[k])*imag(c[k])
			}
			row[b] = 10 * math.Log10(p+1e-30)
		}
		out = append(out, row)
	}
	return out
}

// bandExcess compares a faulty signal with the healthy one of the same seed
// band by band: it returns the largest excess of the faulty mean band level
// over the healthy one (dB) and the same excess in units of the healthy
// frames' standard deviation in that band (z).
func bandExcess(healthy, faulty []float32, rate float64) (db, z float64) {
	const nb = 48
	h, f := bandDB(healthy, rate, nb), bandDB(faulty, rate, nb)
	for b := range nb {
		var mh, mf, vh float64
		for i := range h {
			mh += h[i][b]
			mf += f[i][b]
		}
		mh /= float64(len(h))
		mf /= float64(len(f))
		for i := range h {
			vh += (h[i][b] - mh) * (h[i][b] - mh)
		}
		sd := math.Sqrt(vh / float64(len(h)))
		if d := mf - mh; d > db {
			db = d
		}
		if d := (mf - mh) / sd; d > z {
			z = d
		}
	}
	return db, z
}

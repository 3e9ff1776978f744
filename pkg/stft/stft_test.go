package stft

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"slices"
	"testing"
)

func noise(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func randomSizes(rng *rand.Rand, maxSize int) []int {
	s := make([]int, 64)
	for i := range s {
		switch rng.IntN(4) {
		case 0:
			s[i] = 1
		case 1:
			s[i] = 0 // empty writes must be harmless
		default:
			s[i] = 1 + rng.IntN(maxSize)
		}
	}
	return s
}

// TestChunkingIsBitIdentical feeds signals in random chunk sizes (including
// empty and one-sample writes) and requires exactly the frames of one Write.
func TestChunkingIsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cfgs := []Config{
		{NFFT: 1024, Hop: 512, Center: true, Mels: 128, Log: DB, Eps: 0x1p-23},
		{NFFT: 256, Hop: 128, Center: true, Log: DB},
		{NFFT: 256, Hop: 100, Center: false, Spectrum: Magnitude},
		{NFFT: 255, Hop: 255, Center: true, Window: Hamming, Mels: 20, Log: Ln},
		{NFFT: 64, Hop: 1, Center: true},
	}
	for _, cfg := range cfgs {
		for _, n := range []int{0, 1, 5, cfg.NFFT / 2, cfg.NFFT/2 + 1, cfg.NFFT, 10000} {
			x := noise(rng, n)
			s, err := New(16000, cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := collect(s, x, []int{max(n, 1)})
			// librosa: 1 + (L + 2*(n_fft/2) - n_fft)/hop frames, 1 + L/hop for an even n_fft.
			if wantN := 1 + (n+2*(cfg.NFFT/2)-cfg.NFFT)/cfg.Hop; cfg.Center && n > 0 && len(want) != wantN {
				t.Errorf("%+v, %d samples: %d frames, want %d", cfg, n, len(want), wantN)
			}
			for trial := range 5 {
				// s is reused: Flush must have reset it.
				got := collect(s, x, randomSizes(rng, 3*cfg.NFFT))
				if len(got) != len(want) {
					t.Fatalf("%+v, %d samples, trial %d: %d frames, want %d", cfg, n, trial, len(got), len(want))
				}
				for i := range got {
					if !slices.Equal(got[i], want[i]) {
						t.Fatalf("%+v, %d samples, trial %d: frame %d differs", cfg, n, trial, i)
					}
				}
			}
		}
	}
}

// naive is an independent O(n²) reference: numpy.pad reflect by index
// arithmetic, a direct DFT in float64, and the dense mel matrix.
func naive(rate float64, cfg Config, x []float32) [][]float64 {
	cfg = cfg.WithDefaults()
	n, hop := cfg.NFFT, cfg.Hop
	xs := make([]float64, len(x))
	for i, v := range x {
		xs[i] = float64(v)
	}
	if len(xs) == 0 {
		return nil
	}
	if cfg.Center {
		L, h := len(xs), n/2
		p := make([]float64, L+2*h)
		for i := range p {
			j := i - h
			if L == 1 {
				j = 0
			}
			for L > 1 && (j < 0 || j >= L) {
				if j < 0 {
					j = -j
				}
				if j >= L {
					j = 2*(L-1) - j
				}
			}
			p[i] = xs[j]
		}
		xs = p
	}
	w := WindowValues(cfg.Window, n, cfg.Symmetric)
	var out [][]float64
	for start := 0; start+n <= len(xs); start += hop {
		spec := make([]float64, n/2+1)
		for k := range spec {
			var z complex128
			for i := range n {
				z += complex(xs[start+i]*w[i], 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i%n)/float64(n)))
			}
			spec[k] = cmplx.Abs(z)
			if cfg.Spectrum == Power {
				spec[k] *= spec[k]
			}
		}
		var row []float64
		if cfg.Mels > 0 {
			for _, wm := range NewMelBank(rate, n, cfg.Mels, cfg.FMin, cfg.FMax, cfg.MelScale, cfg.MelNorm).Dense() {
				var acc float64
				for k, v := range wm {
					acc += v * spec[k]
				}
				row = append(row, acc)
			}
		} else {
			lo, hi := linearRange(rate, n, cfg.FMin, cfg.fmax(rate))
			row = spec[lo:hi]
		}
		for i, v := range row {
			switch cfg.Log {
			case DB:
				row[i] = 10 * math.Log10(max(v, cfg.Floor)+cfg.Eps)
			case Ln:
				row[i] = math.Log(max(v, cfg.Floor) + cfg.Eps)
			}
		}
		out = append(out, row)
	}
	return out
}

// TestRandomConfigsAgainstNaive draws small random configurations, signal
// lengths (including shorter than n_fft/2, where numpy.pad reflects more than
// once) and chunkings, and compares with the naive DFT within 1e-5 relative
// (float32 output) plus 1e-9 of the frame's peak.
func TestRandomConfigsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	windows := []Window{Hann, Hamming, Blackman, Rectangular}
	for trial := range 200 {
		n := 2 + rng.IntN(63)
		cfg := Config{
			NFFT:      n,
			Hop:       1 + rng.IntN(n),
			Window:    windows[rng.IntN(len(windows))],
			Symmetric: rng.IntN(2) == 0,
			Center:    rng.IntN(3) > 0,
		}
		if rng.IntN(2) == 0 {
			cfg.Spectrum = Magnitude
		}
		if rng.IntN(2) == 0 && n >= 16 {
			cfg.Mels = 1 + rng.IntN(4)
			if rng.IntN(2) == 0 {
				cfg.MelScale = HTK
			}
		}
		if rng.IntN(2) == 0 {
			cfg.Log = DB
			cfg.Eps = 1e-6
		}
		L := rng.IntN(4 * n)
		x := noise(rng, L)
		s, err := New(8000, cfg)
		if err != nil {
			t.Fatalf("trial %d %+v: %v", trial, cfg, err)
		}
		got := collect(s, x, randomSizes(rng, n))
		want := naive(8000, cfg, x)
		if len(got) != len(want) {
			t.Fatalf("trial %d %+v, L=%d: %d frames, want %d", trial, cfg, L, len(got), len(want))
		}
		for i := range want {
			peak := 0.0
			for _, v := range want[i] {
				peak = max(peak, math.Abs(v))
			}
			for j, v := range want[i] {
				if d := math.Abs(float64(got[i][j]) - v); d > 1e-5*math.Abs(v)+1e-9*peak {
					t.Fatalf("trial %d %+v, L=%d: frame %d bin %d = %g, want %g", trial, cfg, L, i, j, got[i][j], v)
				}
			}
		}
	}
}

// TestPureTone puts a sinusoid exactly on bin k0 and one between bins: the
// peak lands on the nearest bin, and BinHz of that bin contains the tone.
func TestPureTone(t *testing.T) {
	const rate, n = 16000.0, 1024
	for _, f0 := range []float64{1000, 1234.5, 7000} {
		x := make([]float32, 8192)
		for i := range x {
			x[i] = float32(math.Sin(2 * math.Pi * f0 * float64(i) / rate))
		}
		s, err := New(rate, Config{NFFT: n, Hop: 256})
		if err != nil {
			t.Fatal(err)
		}
		frames := collect(s, x, []int{len(x)})
		wantBin := int(math.Round(f0 * n / rate))
		for fi, fr := range frames[4 : len(frames)-4] { // away from the reflected ends
			arg := 0
			for k, v := range fr {
				if v > fr[arg] {
					arg = k
				}
			}
			if arg != wantBin {
				t.Fatalf("f0 %g Hz, frame %d: peak in bin %d, want %d", f0, fi+4, arg, wantBin)
			}
			if lo, hi := s.BinHz(arg); f0 < lo || f0 > hi {
				t.Fatalf("f0 %g Hz not in BinHz(%d) = [%g, %g]", f0, arg, lo, hi)
			}
		}
		if f0 == 1000 {
			// On-bin tone, periodic Hann: |X[k0]| = A*N/4, so power = (N/4)².
			mid := frames[len(frames)/2]
			if got, want := float64(mid[wantBin]), (n/4.0)*(n/4.0); math.Abs(got-want) > 1e-5*want {
				t.Fatalf("on-bin power %g, want %g", got, want)
			}
		}
	}
	// With mels, the tone's band is the one whose support contains it.
	s, err := New(rate, Config{NFFT: n, Hop: 512, Mels: 64})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(math.Sin(2 * math.Pi * 3000 * float64(i) / rate))
	}
	fr := collect(s, x, []int{len(x)})[3]
	arg := 0
	for k, v := range fr {
		if v > fr[arg] {
			arg = k
		}
	}
	if lo, hi := s.BinHz(arg); 3000 < lo || 3000 > hi {
		t.Fatalf("3 kHz tone peaks in mel band %d = [%g, %g] Hz", arg, lo, hi)
	}
}

// TestParseval checks Σ|x_w[i]|² = (1/N)(|X_0|² + 2Σ_{0<k<N/2}|X_k|² + |X_{N/2}|²)
// for the windowed frames of the power spectrum (even N).
func TestParseval(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, w := range []Window{Rectangular, Hann, Blackman} {
		const n = 512
		x := noise(rng, 4*n)
		s, err := New(1000, Config{NFFT: n, Hop: n, Window: w})
		if err != nil {
			t.Fatal(err)
		}
		win := WindowValues(w, n, false)
		frames := collect(s, x, []int{len(x)})
		if len(frames) != 4 {
			t.Fatalf("%d frames", len(frames))
		}
		for k, fr := range frames {
			var timeE float64
			for i := range n {
				v := float64(x[k*n+i]) * win[i]
				timeE += v * v
			}
			freqE := float64(fr[0]) + float64(fr[n/2])
			for _, v := range fr[1 : n/2] {
				freqE += 2 * float64(v)
			}
			freqE /= n
			if math.Abs(freqE-timeE) > 1e-6*timeE {
				t.Errorf("%s frame %d: Σ|X|²/N = %g, Σ|x|² = %g", w, k, freqE, timeE)
			}
		}
	}
}

// TestMelScale checks the conversions against values printed in librosa's
// documentation (librosa.hz_to_mel(60) = 0.9, hz_to_mel([110, 220, 440]) =
// [1.65, 3.3, 6.6], mel_to_hz(3) = 200) and the closed forms above 1 kHz.
func TestMelScale(t *testing.T) {
	for _, c := range []struct {
		hz, mel float64
		scale   MelScale
	}{
		{60, 0.9, Slaney}, {110, 1.65, Slaney}, {220, 3.3, Slaney}, {440, 6.6, Slaney},
		{200, 3, Slaney}, {1000, 15, Slaney}, {6400, 42, Slaney},
		{700, 2595 * math.Log10(2), HTK}, {0, 0, HTK},
	} {
		if got := HzToMel(c.hz, c.scale); math.Abs(got-c.mel) > 1e-9*max(1, c.mel) {
			t.Errorf("HzToMel(%g, %s) = %.12g, want %g", c.hz, c.scale, got, c.mel)
		}
		if got := MelToHz(c.mel, c.scale); math.Abs(got-c.hz) > 1e-9*max(1, c.hz) {
			t.Errorf("MelToHz(%g, %s) = %.12g, want %g", c.mel, c.scale, got, c.hz)
		}
	}
}

// TestMelBankArea: with Slaney normalisation each triangle has area
// (f2-f0)/2 * 2/(f2-f0) = 1 in Hz; sampled on a fine grid the Riemann sum is
// close to 1 per bin width.
func TestMelBankArea(t *testing.T) {
	const rate, n = 16000.0, 8192
	b := NewMelBank(rate, n, 40, 0, 0, Slaney, SlaneyNorm)
	df := rate / n
	for m := range b.Len() {
		var area float64
		for _, w := range b.Weights(m) {
			area += w * df
		}
		if math.Abs(area-1) > 0.01 {
			t.Errorf("band %d: area %g, want 1", m, area)
		}
		lo, hi := b.BandHz(m)
		for k := range b.Weights(m) {
			c := float64(b.Start(m)+k) * df
			if c <= lo || c >= hi {
				t.Errorf("band %d: weight at %g Hz outside (%g, %g)", m, c, lo, hi)
			}
		}
	}
}

func TestBinHz(t *testing.T) {
	s, err := New(25600, Config{NFFT: 256, Hop: 128, FMin: 100})
	if err != nil {
		t.Fatal(err)
	}
	if s.Bins() != 128 {
		t.Fatalf("Bins() = %d, want 128 (DC dropped by fmin)", s.Bins())
	}
	for i, want := range [][2]float64{{50, 150}, {150, 250}} {
		if lo, hi := s.BinHz(i); lo != want[0] || hi != want[1] {
			t.Errorf("BinHz(%d) = [%g, %g], want %v", i, lo, hi, want)
		}
	}
	if lo, hi := s.BinHz(127); lo != 12750 || hi != 12800 {
		t.Errorf("BinHz(127) = [%g, %g], want [12750, 12800] (clipped at Nyquist)", lo, hi)
	}
	m, err := New(16000, Config{NFFT: 1024, Mels: 128})
	if err != nil {
		t.Fatal(err)
	}
	if lo, _ := m.BinHz(0); lo != 0 {
		t.Errorf("mel BinHz(0) starts at %g, want 0", lo)
	}
	if _, hi := m.BinHz(127); math.Abs(hi-8000) > 1e-9 {
		t.Errorf("mel BinHz(127) ends at %g, want 8000", hi)
	}
	for i := 1; i < 128; i++ {
		lo0, _ := m.BinHz(i - 1)
		lo1, _ := m.BinHz(i)
		if lo1 <= lo0 {
			t.Fatalf("mel band edges not increasing at %d", i)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		rate float64
	}{
		{Config{NFFT: 1}, 16000},
		{Config{NFFT: 256, Hop: 257}, 16000},
		{Config{NFFT: 256, Hop: -1}, 16000},
		{Config{NFFT: 256, Window: "kaiser"}, 16000},
		{Config{NFFT: 256, Spectrum: "complex"}, 16000},
		{Config{NFFT: 256, Mels: 200}, 16000},
		{Config{NFFT: 256, Mels: -1}, 16000},
		{Config{NFFT: 256, Mels: 10, MelScale: "bark"}, 16000},
		{Config{NFFT: 256, Mels: 10, MelNorm: "l2"}, 16000},
		{Config{NFFT: 256, FMin: 5000, FMax: 4000}, 16000},
		{Config{NFFT: 256, FMax: 9000}, 16000},
		{Config{NFFT: 256, FMin: 8000}, 16000},
		{Config{NFFT: 256, FMin: math.NaN()}, 16000},
		{Config{NFFT: 256, FMin: 1010, FMax: 1020}, 16000}, // no bin centre inside
		{Config{NFFT: 256, Log: "log2"}, 16000},
		{Config{NFFT: 256, Log: DB, Eps: -1}, 16000},
		{Config{NFFT: 256}, 0},
		{Config{NFFT: 256}, math.Inf(1)},
	} {
		_, err := New(c.rate, c.cfg)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("New(%g, %+v) = %v, want ErrConfig", c.rate, c.cfg, err)
		}
	}
	d := Config{}.WithDefaults()
	want := Config{NFFT: 1024, Hop: 256, Window: Hann, Spectrum: Power, Log: NoLog}
	if d != want {
		t.Errorf("defaults %+v, want %+v", d, want)
	}
	if got := (Config{Log: DB}).WithDefaults().Eps; got != DefaultEps {
		t.Errorf("default eps %g, want %g", got, DefaultEps)
	}
	if _, err := New(16000, Config{}); err != nil {
		t.Errorf("zero config: %v", err)
	}
}

func TestWindowValues(t *testing.T) {
	// scipy.signal.get_window("hann", 8) and get_window("hann", 8, fftbins=False).
	per := []float64{0, 0.146446609406726, 0.5, 0.853553390593274, 1, 0.853553390593274, 0.5, 0.146446609406726}
	sym := []float64{0, 0.188255099070633, 0.611260466978157, 0.950484433951210, 0.950484433951210, 0.611260466978157, 0.188255099070633, 0}
	for i, w := range WindowValues(Hann, 8, false) {
		if math.Abs(w-per[i]) > 1e-12 {
			t.Errorf("periodic hann[%d] = %.15g, want %.15g", i, w, per[i])
		}
	}
	for i, w := range WindowValues(Hann, 8, true) {
		if math.Abs(w-sym[i]) > 1e-12 {
			t.Errorf("symmetric hann[%d] = %.15g, want %.15g", i, w, sym[i])
		}
	}
}

// FuzzChunking: any split of a signal into chunks (the fuzzer picks the chunk
// sizes) gives bit-identical frames to one Write.
func FuzzChunking(f *testing.F) {
	f.Add([]byte{1, 200, 3, 255, 0, 17})
	f.Add([]byte{0})
	x := noise(rand.New(rand.NewPCG(4, 4)), 3000)
	cfg := Config{NFFT: 256, Hop: 96, Center: true, Mels: 24, Log: DB}
	ref, err := New(16000, cfg)
	if err != nil {
		f.Fatal(err)
	}
	want := collect(ref, x, []int{len(x)})
	f.Fuzz(func(t *testing.T, sizes []byte) {
		if len(sizes) == 0 {
			return
		}
		s, err := New(16000, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ints := make([]int, len(sizes))
		for i, b := range sizes {
			ints[i] = int(b) * 3
		}
		if slices.Max(ints) == 0 {
			return
		}
		got := collect(s, x, ints)
		if len(got) != len(want) {
			t.Fatalf("%d frames, want %d", len(got), len(want))
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

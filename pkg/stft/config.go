package stft

import (
	"errors"
	"fmt"
	"math"
)

// ErrConfig is wrapped by every error that Config.Validate and New return for
// a configuration that cannot be built.
var ErrConfig = errors.New("stft: invalid config")

// Window names an analysis window. Every window is periodic (DFT-even, as
// scipy.signal.get_window with fftbins=True and librosa use) unless
// Config.Symmetric is set. For a window of length N, periodic weights are the
// first N of the N+1 symmetric weights.
type Window string

// The windows, with their symmetric weights for k = 0..M-1 (M = N for a
// symmetric window, M = N+1 truncated to N for a periodic one):
const (
	// Hann: w[k] = 0.5 - 0.5*cos(2πk/(M-1)). The default.
	Hann Window = "hann"
	// Hamming: w[k] = 0.54 - 0.46*cos(2πk/(M-1)).
	Hamming Window = "hamming"
	// Blackman: w[k] = 0.42 - 0.5*cos(2πk/(M-1)) + 0.08*cos(4πk/(M-1)).
	Blackman Window = "blackman"
	// Rectangular: w[k] = 1 (scipy's "boxcar").
	Rectangular Window = "rectangular"
)

// Spectrum selects what each FFT bin contributes.
type Spectrum string

const (
	// Power is |X[k]|², the default (librosa's power=2).
	Power Spectrum = "power"
	// Magnitude is |X[k]| (librosa's power=1).
	Magnitude Spectrum = "magnitude"
)

// MelScale selects the Hz↔mel mapping.
type MelScale string

const (
	// Slaney is the Auditory Toolbox scale, librosa's default: linear below
	// 1 kHz (mel = 3f/200), logarithmic above (mel = 15 + 27*ln(f/1000)/ln(6.4)).
	Slaney MelScale = "slaney"
	// HTK is mel = 2595*log10(1 + f/700).
	HTK MelScale = "htk"
)

// MelNorm selects the normalisation of the triangular mel filters.
type MelNorm string

const (
	// SlaneyNorm scales filter m by 2/(f[m+2]-f[m]) so that each filter has
	// (about) constant area; librosa's default (norm="slaney").
	SlaneyNorm MelNorm = "slaney"
	// NoNorm leaves the triangles with unit peak (librosa's norm=None).
	NoNorm MelNorm = "none"
)

// Log selects the compression applied to each output value.
type Log string

const (
	// NoLog outputs the (mel) spectrum itself. The default.
	NoLog Log = "none"
	// DB outputs 10*log10(max(x, Floor) + Eps).
	DB Log = "db"
	// Ln outputs ln(max(x, Floor) + Eps).
	Ln Log = "ln"
)

// DefaultEps is the Eps that WithDefaults sets when a log is asked for and
// both Eps and Floor are zero; it is librosa's amin (a -100 dB floor on power).
const DefaultEps = 1e-10

// Config describes one short-time Fourier transform. The zero value of each
// field means its default (see WithDefaults); the JSON form is stored in model
// artifacts and hashed, so field names must not change.
type Config struct {
	// NFFT is the frame and window length in samples (default 1024).
	// Any length >= 2 works; powers of two are fastest.
	NFFT int `json:"n_fft"`
	// Hop is the step between frames in samples, 1 <= Hop <= NFFT
	// (default NFFT/4, as librosa).
	Hop int `json:"hop"`
	// Window is the analysis window (default Hann).
	Window Window `json:"window"`
	// Symmetric selects the symmetric form of the window instead of the
	// periodic one (default false: periodic, as scipy.signal.stft and librosa).
	Symmetric bool `json:"symmetric"`
	// Center pads the signal with NFFT/2 reflected samples at both ends
	// (numpy.pad mode "reflect", librosa's center=True), so that frame k is
	// centred on sample k*Hop and a signal of L samples gives 1 + L/Hop frames
	// (1 + (L-1)/Hop for an odd NFFT, padded by (NFFT-1)/2 on each side).
	// Without it, frame k starts at sample k*Hop and there are
	// 1 + (L-NFFT)/Hop frames (none if L < NFFT); leftover samples are dropped
	// (scipy.signal.stft with boundary=None, padded=False).
	Center bool `json:"center"`
	// Spectrum is Power (default) or Magnitude.
	Spectrum Spectrum `json:"spectrum"`
	// Mels is the number of mel bands; 0 (default) outputs the linear FFT bins
	// whose centre frequency k*rate/NFFT lies in [FMin, FMax].
	Mels int `json:"mels"`
	// MelScale is Slaney (default) or HTK; used only when Mels > 0.
	MelScale MelScale `json:"mel_scale,omitempty"`
	// MelNorm is SlaneyNorm (default) or NoNorm; used only when Mels > 0.
	MelNorm MelNorm `json:"mel_norm,omitempty"`
	// FMin is the lowest frequency in Hz (default 0).
	FMin float64 `json:"fmin"`
	// FMax is the highest frequency in Hz; 0 means rate/2 (default).
	FMax float64 `json:"fmax"`
	// Log is NoLog (default), DB or Ln.
	Log Log `json:"log"`
	// Eps is added before the log: out = scale*ln(max(x, Floor) + Eps).
	// The DCASE 2020 baseline uses float32 machine epsilon, 2^-23.
	Eps float64 `json:"eps"`
	// Floor clamps x from below before the log (librosa's amin); 0 means
	// no clamp.
	Floor float64 `json:"floor"`
}

// WithDefaults returns c with every zero field set to its documented default
// and with the fields that do not apply (the mel scale and norm when Mels is
// 0, Eps and Floor when there is no log) cleared, so that two configurations
// that compute the same thing compare and encode equal.
func (c Config) WithDefaults() Config {
	if c.NFFT == 0 {
		c.NFFT = 1024
	}
	if c.Hop == 0 {
		c.Hop = max(c.NFFT/4, 1)
	}
	if c.Window == "" {
		c.Window = Hann
	}
	if c.Spectrum == "" {
		c.Spectrum = Power
	}
	if c.Mels > 0 {
		if c.MelScale == "" {
			c.MelScale = Slaney
		}
		if c.MelNorm == "" {
			c.MelNorm = SlaneyNorm
		}
	} else {
		c.MelScale, c.MelNorm = "", ""
	}
	if c.Log == "" {
		c.Log = NoLog
	}
	if c.Log == NoLog {
		c.Eps, c.Floor = 0, 0
	} else if c.Eps == 0 && c.Floor == 0 {
		c.Eps = DefaultEps
	}
	return c
}

// Validate reports whether c (after WithDefaults) describes a transform that
// can be built, independently of the sample rate. The error wraps ErrConfig.
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	switch {
	case c.NFFT < 2:
		return bad("n_fft %d < 2", c.NFFT)
	case c.NFFT > 1<<20:
		return bad("n_fft %d > 2^20", c.NFFT)
	case c.Hop < 1 || c.Hop > c.NFFT:
		return bad("hop %d not in [1, n_fft=%d]", c.Hop, c.NFFT)
	case c.Mels < 0:
		return bad("mels %d < 0", c.Mels)
	case c.Mels > c.NFFT/2+1:
		return bad("mels %d > n_fft/2+1 = %d bins", c.Mels, c.NFFT/2+1)
	case !finite(c.FMin) || !finite(c.FMax) || c.FMin < 0 || c.FMax < 0:
		return bad("fmin %g and fmax %g must be finite and >= 0", c.FMin, c.FMax)
	case c.FMax != 0 && c.FMax <= c.FMin:
		return bad("fmax %g <= fmin %g", c.FMax, c.FMin)
	case !finite(c.Eps) || !finite(c.Floor) || c.Eps < 0 || c.Floor < 0:
		return bad("eps %g and floor %g must be finite and >= 0", c.Eps, c.Floor)
	}
	switch c.Window {
	case Hann, Hamming, Blackman, Rectangular:
	default:
		return bad("unknown window %q", c.Window)
	}
	switch c.Spectrum {
	case Power, Magnitude:
	default:
		return bad("unknown spectrum %q", c.Spectrum)
	}
	if c.Mels > 0 {
		switch c.MelScale {
		case Slaney, HTK:
		default:
			return bad("unknown mel scale %q", c.MelScale)
		}
		switch c.MelNorm {
		case SlaneyNorm, NoNorm:
		default:
			return bad("unknown mel norm %q", c.MelNorm)
		}
	}
	switch c.Log {
	case NoLog, DB, Ln:
	default:
		return bad("unknown log %q", c.Log)
	}
	return nil
}

// ValidateRate is Validate plus the checks that need the sample rate in Hz:
// the rate is finite and positive, fmax <= rate/2, and the frequency range
// holds at least one output bin.
func (c Config) ValidateRate(rate float64) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c = c.WithDefaults()
	if !finite(rate) || rate <= 0 {
		return fmt.Errorf("%w: sample rate %g must be finite and > 0", ErrConfig, rate)
	}
	if c.FMax > rate/2 {
		return fmt.Errorf("%w: fmax %g > rate/2 = %g", ErrConfig, c.FMax, rate/2)
	}
	if c.FMin >= rate/2 {
		return fmt.Errorf("%w: fmin %g >= rate/2 = %g", ErrConfig, c.FMin, rate/2)
	}
	if c.Mels == 0 {
		lo, hi := linearRange(rate, c.NFFT, c.FMin, c.fmax(rate))
		if hi <= lo {
			return fmt.Errorf("%w: no FFT bin centre in [%g, %g] Hz", ErrConfig, c.FMin, c.fmax(rate))
		}
	}
	return nil
}

// Bins returns the number of values per output frame for the given rate:
// Mels, or the count of FFT bins in [FMin, FMax]. c must be valid for rate.
func (c Config) Bins(rate float64) int {
	c = c.WithDefaults()
	if c.Mels > 0 {
		return c.Mels
	}
	lo, hi := linearRange(rate, c.NFFT, c.FMin, c.fmax(rate))
	return hi - lo
}

// BinEdges returns the frequency range in Hz of every output bin for the
// given rate: for mel band m, the support [f[m], f[m+2]] of its triangle; for
// a linear bin, its centre k*rate/NFFT ± half a bin width, clipped to
// [0, rate/2]. It allocates, and panics if c is invalid for rate.
func (c Config) BinEdges(rate float64) (lo, hi []float64) {
	if err := c.ValidateRate(rate); err != nil {
		panic(err)
	}
	c = c.WithDefaults()
	n := c.Bins(rate)
	lo, hi = make([]float64, n), make([]float64, n)
	if c.Mels > 0 {
		b := NewMelBank(rate, c.NFFT, c.Mels, c.FMin, c.FMax, c.MelScale, c.MelNorm)
		for m := range n {
			lo[m], hi[m] = b.BandHz(m)
		}
		return lo, hi
	}
	k0, _ := linearRange(rate, c.NFFT, c.FMin, c.fmax(rate))
	w := rate / float64(c.NFFT)
	for i := range n {
		f := float64(k0+i) * w
		lo[i], hi[i] = max(0, f-w/2), min(rate/2, f+w/2)
	}
	return lo, hi
}

func (c Config) fmax(rate float64) float64 {
	if c.FMax == 0 {
		return rate / 2
	}
	return c.FMax
}

// linearRange returns the FFT bins [lo, hi) whose centre k*rate/n lies in
// [fmin, fmax].
func linearRange(rate float64, n int, fmin, fmax float64) (lo, hi int) {
	nb := n/2 + 1
	lo, hi = nb, 0
	for k := range nb {
		f := float64(k) * rate / float64(n)
		if f >= fmin && f <= fmax {
			lo = min(lo, k)
			hi = k + 1
		}
	}
	if hi < lo {
		return 0, 0
	}
	return lo, hi
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

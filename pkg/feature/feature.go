package feature

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stft"
)

// ErrConfig is wrapped by every error for an unusable Config; errors from
// pkg/stft and pkg/patch are wrapped as well, so errors.Is(err, stft.ErrConfig)
// still works.
var ErrConfig = errors.New("feature: invalid config")

// Config is everything that decides a patch: the sample rate in Hz, the
// short-time Fourier transform and the patch shape. Its JSON form is stored in
// model artifacts; zero fields mean the documented defaults of stft.Config and
// patch.Config.
type Config struct {
	SampleRate float64      `json:"sample_rate"`
	STFT       stft.Config  `json:"stft"`
	Patch      patch.Config `json:"patch"`
}

// DCASE2020 is the DCASE 2020 Task 2 baseline front end: 16 kHz, n_fft 1024,
// hop 512, periodic Hann, centred with reflect padding, power spectrum,
// 128 Slaney mel bands with Slaney normalisation over 0-8 kHz,
// 10*log10(x + 2^-23) (2^-23 is float32 machine epsilon), and full-band
// patches of 5 frames with a hop of 1 frame: the baseline's 640-value vectors.
func DCASE2020() Config {
	return Config{
		SampleRate: 16000,
		STFT: stft.Config{
			NFFT: 1024, Hop: 512, Window: stft.Hann, Center: true, Spectrum: stft.Power,
			Mels: 128, MelScale: stft.Slaney, MelNorm: stft.SlaneyNorm,
			Log: stft.DB, Eps: 0x1p-23,
		},
		Patch: patch.Config{Frames: 5, Hop: 1},
	}
}

// Vibration is the front end for accelerometers sampled at sampleRate Hz
// (25.6 kHz for FEMTO/PRONOSTIA, 12 or 48 kHz for CWRU): n_fft 256, hop 128,
// periodic Hann, centred, power in dB (10*log10(x + 1e-10)) on the 128 linear
// bins above DC (fmin = sampleRate/256 drops bin 0, the sensor's offset), cut
// into 8 bands of 16 bins, each patch 8 frames long with a hop of 4 frames:
// 128 values per patch. At 25.6 kHz a bin is 100 Hz, a band 1.6 kHz, a frame
// step 5 ms, and a patch's windows span 1152 samples = 45 ms, more than one
// shaft revolution above 1,333 rpm, so a once-per-revolution impact shows in
// every patch. docs/features.md explains the choice.
func Vibration(sampleRate float64) Config {
	return Config{
		SampleRate: sampleRate,
		STFT: stft.Config{
			NFFT: 256, Hop: 128, Window: stft.Hann, Center: true, Spectrum: stft.Power,
			FMin: sampleRate / 256, Log: stft.DB, Eps: 1e-10,
		},
		Patch: patch.Config{Frames: 8, Bins: 16, Hop: 4, BinHop: 16},
	}
}

// WithDefaults returns c with the defaults of its STFT and patch settings
// filled in (stft.Config.WithDefaults, patch.Config.WithDefaults), and a
// patch as wide as the spectrogram written as full band (Bins 0), so that
// equivalent configurations are equal.
func (c Config) WithDefaults() Config {
	c.STFT = c.STFT.WithDefaults()
	if c.STFT.ValidateRate(c.SampleRate) == nil && c.Patch.Bins == c.STFT.Bins(c.SampleRate) {
		c.Patch.Bins, c.Patch.BinHop = 0, 0
	}
	c.Patch = c.Patch.WithDefaults()
	return c
}

// Validate reports whether c can be used: the STFT is valid for the sample
// rate and the patch fits its bins. The error wraps ErrConfig and the
// package error that found the problem.
func (c Config) Validate() error {
	if err := c.STFT.ValidateRate(c.SampleRate); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if _, _, _, err := c.Patch.Shape(c.STFT.Bins(c.SampleRate)); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// Hash returns a stable identifier of c: the hex SHA-256 of the canonical
// encoding, which is the JSON encoding (fixed field order, shortest
// round-trip float formatting) of c.WithDefaults(). Two configs that compute
// the same patches with explicit or default fields hash equal; any change to
// a setting changes the hash. The result is the same in every process and on
// every platform.
func (c Config) Hash() string {
	b, err := json.Marshal(c.WithDefaults())
	if err != nil {
		// Only NaN or infinite floats fail to encode; hash their text.
		b = fmt.Appendf(nil, "%#v", c.WithDefaults())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Bins returns the number of values per spectrogram frame. c must be valid.
func (c Config) Bins() int { return c.STFT.Bins(c.SampleRate) }

// Dim returns T*F, the number of values in a patch. c must be valid.
func (c Config) Dim() int {
	f, _, _, err := c.Patch.Shape(c.Bins())
	if err != nil {
		panic(err)
	}
	return c.Patch.WithDefaults().Frames * f
}

// Bands returns the number of frequency bands, the patches per patch
// position. c must be valid.
func (c Config) Bands() int {
	_, _, n, err := c.Patch.Shape(c.Bins())
	if err != nil {
		panic(err)
	}
	return n
}

// BinHz returns the frequency range in Hz of spectrogram bin i (see
// stft.Config.BinEdges). It allocates; it panics if c is invalid or i is out
// of range.
func (c Config) BinHz(i int) (lo, hi float64) {
	l, h := c.STFT.BinEdges(c.SampleRate)
	return l[i], h[i]
}

// BandHz returns the frequency range in Hz of band b: from the low edge of its
// first bin to the high edge of its last. It allocates; it panics if c is
// invalid or b is out of range.
func (c Config) BandHz(b int) (lo, hi float64) {
	f, hop, n, err := c.Patch.Shape(c.Bins())
	if err != nil {
		panic(err)
	}
	if b < 0 || b >= n {
		panic(fmt.Sprintf("feature: band %d out of range [0, %d)", b, n))
	}
	l, h := c.STFT.BinEdges(c.SampleRate)
	return l[b*hop], h[b*hop+f-1]
}

// Layout returns the patch.Layout of the spectrogram c computes. It
// allocates and panics if c is invalid.
func (c Config) Layout() patch.Layout {
	lo, hi := c.STFT.BinEdges(c.SampleRate)
	return patch.Layout{LowHz: lo, HighHz: hi, Rate: c.SampleRate, Hop: c.STFT.WithDefaults().Hop}
}

package patch

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrConfig is wrapped by every error for a configuration or layout that
// cannot be used.
var ErrConfig = errors.New("patch: invalid config")

// Config is the patch shape. The zero value of each field means its default
// (see WithDefaults). The JSON form is part of feature.Config, which is stored
// in model artifacts and hashed, so field names must not change.
type Config struct {
	// Frames is T, the number of consecutive frames in a patch (>= 1,
	// default 1).
	Frames int `json:"frames"`
	// Bins is F, the number of adjacent bins in a patch; 0 (default) means
	// all bins (a full-band patch).
	Bins int `json:"bins"`
	// Hop is the step in frames between the first frames of consecutive
	// patches (default 1: a patch per frame, as the DCASE baseline).
	Hop int `json:"hop"`
	// BinHop is the step in bins between consecutive bands (default F:
	// bands that tile the spectrum without overlap). Unused when Bins is 0.
	BinHop int `json:"bin_hop"`
}

// WithDefaults returns c with zero fields set to their defaults. A full-band
// configuration keeps Bins and BinHop at 0, since their values depend on the
// spectrogram (see Shape).
func (c Config) WithDefaults() Config {
	if c.Frames == 0 {
		c.Frames = 1
	}
	if c.Hop == 0 {
		c.Hop = 1
	}
	if c.Bins == 0 {
		c.BinHop = 0
	} else if c.BinHop == 0 {
		c.BinHop = c.Bins
	}
	return c
}

// Validate reports whether c can cut some spectrogram. The error wraps
// ErrConfig.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Frames < 1:
		return fmt.Errorf("%w: frames %d < 1", ErrConfig, c.Frames)
	case c.Hop < 1:
		return fmt.Errorf("%w: hop %d < 1", ErrConfig, c.Hop)
	case c.Bins < 0:
		return fmt.Errorf("%w: bins %d < 0", ErrConfig, c.Bins)
	case c.Bins > 0 && c.BinHop < 1:
		return fmt.Errorf("%w: bin_hop %d < 1", ErrConfig, c.BinHop)
	}
	return nil
}

// Shape returns, for a spectrogram of the given number of bins, the patch
// width F, the bin hop and the number of bands 1 + (bins-F)/hop. Bins above
// the last band's are in no patch when (bins-F) is not a multiple of the hop.
// It returns an error wrapping ErrConfig if c is invalid or F > bins.
func (c Config) Shape(bins int) (f, hop, bands int, err error) {
	if err := c.Validate(); err != nil {
		return 0, 0, 0, err
	}
	c = c.WithDefaults()
	if bins < 1 {
		return 0, 0, 0, fmt.Errorf("%w: spectrogram of %d bins", ErrConfig, bins)
	}
	f, hop = c.Bins, c.BinHop
	if f == 0 {
		f, hop = bins, bins
	}
	if f > bins {
		return 0, 0, 0, fmt.Errorf("%w: patch of %d bins > %d spectrogram bins", ErrConfig, f, bins)
	}
	return f, hop, 1 + (bins-f)/hop, nil
}

// Tag says where a patch comes from. Times are Unix nanoseconds.
type Tag struct {
	Machine string `json:"machine"`
	Sensor  string `json:"sensor"`
	// Band is the index of the frequency band: bins [Band*BinHop,
	// Band*BinHop+F) of the spectrogram; 0 for a full-band patch.
	Band int `json:"band"`
	// LowHz and HighHz are the lowest and highest frequency of the band: the
	// low edge of its first bin and the high edge of its last (Layout).
	LowHz  float64 `json:"low_hz"`
	HighHz float64 `json:"high_hz"`
	// Frame is the index of the patch's first frame in its stream.
	Frame int64 `json:"frame"`
	// StartNs is the time of the first frame: the stream's start time plus
	// Frame*Hop/Rate, the sample the frame is anchored at (its window's
	// centre for a centred STFT, its window's first sample otherwise; see
	// Layout).
	StartNs int64 `json:"start_ns"`
	// DurationNs is the time the patch stands for, T*Hop/Rate: consecutive
	// patches with a hop of T frames tile the stream's time line exactly.
	// (The analysis windows reach NFFT-Hop samples further, half on each
	// side when centred.)
	DurationNs int64 `json:"duration_ns"`
}

// Patch is T frames × F bins of a spectrogram with its Tag.
type Patch struct {
	Tag
	// Frames and Bins are T and F.
	Frames int `json:"frames"`
	Bins   int `json:"bins"`
	// Values holds T*F values, frame-major: value (t, f) is Values[t*F+f].
	Values []float32 `json:"values"`
}

// At returns value (t, f). It panics if t or f is out of range.
func (p *Patch) At(t, f int) float32 {
	if t < 0 || t >= p.Frames || f < 0 || f >= p.Bins {
		panic(fmt.Sprintf("patch: index (%d, %d) out of range (%d, %d)", t, f, p.Frames, p.Bins))
	}
	return p.Values[t*p.Bins+f]
}

// Clone returns a deep copy of p. It allocates.
func (p *Patch) Clone() *Patch {
	q := *p
	q.Values = append([]float32(nil), p.Values...)
	return &q
}

// Layout describes the spectrogram a Cutter reads: the frequency range of
// each bin and the timing of frames.
type Layout struct {
	// LowHz[i] and HighHz[i] are the frequency range of bin i; their common
	// length is the number of bins per frame.
	LowHz, HighHz []float64
	// Rate is the sample rate in Hz and Hop the samples between frames:
	// frame k is anchored at sample k*Hop, time StartNs + k*Hop/Rate.
	Rate float64
	Hop  int
}

func (l Layout) validate() error {
	switch {
	case len(l.LowHz) == 0 || len(l.LowHz) != len(l.HighHz):
		return fmt.Errorf("%w: layout has %d low and %d high bin edges", ErrConfig, len(l.LowHz), len(l.HighHz))
	case !(l.Rate > 0) || math.IsInf(l.Rate, 0):
		return fmt.Errorf("%w: layout rate %g", ErrConfig, l.Rate)
	case l.Hop < 1:
		return fmt.Errorf("%w: layout hop %d", ErrConfig, l.Hop)
	}
	return nil
}

// SamplesToNs converts a count of samples at rate Hz to nanoseconds, rounded
// to the nearest: exactly (128-bit integer arithmetic) when the rate is a
// whole number of Hz, in float64 otherwise. It panics if n < 0.
func SamplesToNs(n int64, rate float64) int64 {
	if n < 0 {
		panic("patch: negative sample count")
	}
	if r := uint64(rate); float64(r) == rate && r > 0 && r < 1<<40 {
		hi, lo := bits.Mul64(uint64(n), 1e9)
		lo, carry := bits.Add64(lo, r/2, 0)
		hi += carry
		if hi < r { // quotient fits in 64 bits
			q, _ := bits.Div64(hi, lo, r)
			if q <= math.MaxInt64 {
				return int64(q)
			}
		}
	}
	return int64(math.Round(float64(n) * 1e9 / rate))
}

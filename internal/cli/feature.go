package cli

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/stft"
)

// FeatureFlags are the front-end flags shared by `spectro file`, `train fit`
// and the spectro worker, so the same names mean the same thing everywhere.
// A preset gives the starting values; flags given explicitly override them.
type FeatureFlags struct {
	fs       *FlagSet
	Preset   string
	NFFT     int
	Hop      int
	Window   string
	Sym      bool
	Center   bool
	Spectrum string
	Mels     int
	MelScale string
	MelNorm  string
	FMin     float64
	FMax     float64
	Log      string
	Eps      float64
	Floor    float64
	Frames   int
	Bins     int
	THop     int
	BinHop   int
}

// Presets of the front end, by the name --preset takes.
const (
	PresetDCASE     = "dcase2020"
	PresetVibration = "vibration"
)

// AddFeatureFlags registers the front-end flags on fs. Their defaults are
// those of the DCASE 2020 preset (feature.DCASE2020); --preset vibration
// starts from feature.Vibration instead.
func AddFeatureFlags(fs *FlagSet) *FeatureFlags {
	d := feature.DCASE2020()
	f := &FeatureFlags{fs: fs}
	fs.StringVar(&f.Preset, "preset", PresetDCASE, "front-end preset the other feature flags start from: dcase2020 (16 kHz audio: n_fft 1024, hop 512, 128 log-mels, patches of 5 frames) or vibration (accelerometers: n_fft 256, hop 128, log-power in 8 bands of 16 bins, patches of 8 frames, hop 4)")
	fs.IntVar(&f.NFFT, "n-fft", d.STFT.NFFT, "FFT and window length in samples")
	fs.IntVar(&f.Hop, "hop", d.STFT.Hop, "step between frames in samples")
	fs.StringVar(&f.Window, "window", string(d.STFT.Window), "analysis window: hann, hamming, blackman or rectangular (periodic unless --symmetric)")
	fs.BoolVar(&f.Sym, "symmetric", false, "use the symmetric form of the window instead of the periodic one")
	fs.BoolVar(&f.Center, "center", d.STFT.Center, "centre frames with reflect padding (librosa's convention)")
	fs.StringVar(&f.Spectrum, "spectrum", string(d.STFT.Spectrum), "power or magnitude")
	fs.IntVar(&f.Mels, "mels", d.STFT.Mels, "number of mel bands; 0 keeps the linear FFT bins (log-power spectrogram)")
	fs.StringVar(&f.MelScale, "mel-scale", string(stft.Slaney), "mel scale: slaney (librosa's default) or htk")
	fs.StringVar(&f.MelNorm, "mel-norm", string(stft.SlaneyNorm), "mel filter normalisation: slaney (area) or none")
	fs.Float64Var(&f.FMin, "fmin", 0, "lowest frequency kept, Hz")
	fs.Float64Var(&f.FMax, "fmax", 0, "highest frequency kept, Hz; 0 means half the sample rate")
	fs.StringVar(&f.Log, "log", string(d.STFT.Log), "log compression: db (10*log10(x+eps)), ln (ln(x+eps)) or none")
	fs.Float64Var(&f.Eps, "eps", d.STFT.Eps, "added before the log")
	fs.Float64Var(&f.Floor, "floor", 0, "values below this are raised to it before the log (librosa's amin); 0: no floor")
	fs.IntVar(&f.Frames, "patch-frames", d.Patch.Frames, "frames per patch (T)")
	fs.IntVar(&f.Bins, "patch-bins", 0, "bins per patch (F); 0 means the full band")
	fs.IntVar(&f.THop, "patch-hop", d.Patch.Hop, "frames between consecutive patches")
	fs.IntVar(&f.BinHop, "patch-bin-hop", 0, "bins between consecutive frequency bands; 0 means equal to --patch-bins")
	return f
}

// Config returns the front-end configuration for a signal sampled at
// sampleRate Hz: the preset, with every flag given on the command line
// applied over it. The error wraps ErrUsage.
func (f *FeatureFlags) Config(sampleRate float64) (feature.Config, error) {
	var c feature.Config
	switch f.Preset {
	case PresetDCASE:
		c = feature.DCASE2020()
	case PresetVibration:
		c = feature.Vibration(sampleRate)
	default:
		return c, OneOf("preset", f.Preset, PresetDCASE, PresetVibration)
	}
	c.SampleRate = sampleRate
	set := Explicit(f.fs.FlagSet)
	apply := map[string]func(){
		"n-fft":         func() { c.STFT.NFFT = f.NFFT },
		"hop":           func() { c.STFT.Hop = f.Hop },
		"window":        func() { c.STFT.Window = stft.Window(f.Window) },
		"symmetric":     func() { c.STFT.Symmetric = f.Sym },
		"center":        func() { c.STFT.Center = f.Center },
		"spectrum":      func() { c.STFT.Spectrum = stft.Spectrum(f.Spectrum) },
		"mels":          func() { c.STFT.Mels = f.Mels },
		"mel-scale":     func() { c.STFT.MelScale = stft.MelScale(f.MelScale) },
		"mel-norm":      func() { c.STFT.MelNorm = stft.MelNorm(f.MelNorm) },
		"fmin":          func() { c.STFT.FMin = f.FMin },
		"fmax":          func() { c.STFT.FMax = f.FMax },
		"log":           func() { c.STFT.Log = stft.Log(f.Log) },
		"eps":           func() { c.STFT.Eps = f.Eps },
		"floor":         func() { c.STFT.Floor = f.Floor },
		"patch-frames":  func() { c.Patch.Frames = f.Frames },
		"patch-bins":    func() { c.Patch.Bins = f.Bins },
		"patch-hop":     func() { c.Patch.Hop = f.THop },
		"patch-bin-hop": func() { c.Patch.BinHop = f.BinHop },
	}
	for name, fn := range apply {
		if set[name] {
			fn()
		}
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return c, nil
}

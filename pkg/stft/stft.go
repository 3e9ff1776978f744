package stft

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/mhmstream/mhm/pkg/stft/internal/fft"
)

// STFT is a streaming short-time Fourier transform with an optional mel
// filterbank and log compression. Samples arrive through Write in chunks of
// any length; every complete frame is computed as soon as its last sample
// arrives and handed to the caller's emit function. Any chunking of a signal
// gives bit-identical frames, in the same order, as one Write of the whole
// signal. An STFT holds all its buffers (an FFT plan from gonum's
// dsp/fourier, the window, the padding and overlap buffer) and allocates
// nothing after New. It is not safe for concurrent use; use one per stream.
type STFT struct {
	cfg  Config
	rate float64
	n    int
	hop  int
	half int // n/2: the centring pad

	win   []float64
	rfft  *fft.Real    // power-of-two NFFT: the package's own kernel
	gfft  *fourier.FFT // other lengths: gonum's FFTPACK
	frame []float64    // windowed frame (gonum path)
	coef  []complex128 // n/2+1 coefficients (gonum path)
	spec  []float64    // n/2+1 power or magnitude
	band  []float64    // mel bands
	out   []float32    // output frame
	mel   *MelBank
	kLo   int // FFT bins [kLo, kHi) that the output needs
	kHi   int
	binLo []float64 // BinHz of each output bin
	binHi []float64
	scale float64 // log scale: 10/ln10 (dB) or 1 (ln)

	// Stream state. buf holds padded samples [bufStart, bufStart+len(buf)).
	// In centred mode the padded index p is sample p - half of the signal.
	buf      []float32
	bufStart int64
	total    int64 // signal samples received
	next     int64 // index of the next frame
	padded   bool  // centred: the left reflect pad has been written
}

// New builds an STFT for signals sampled at rate Hz. It returns an error
// wrapping ErrConfig if cfg (after WithDefaults) is invalid for rate.
// It allocates O(NFFT) memory once.
func New(rate float64, cfg Config) (*STFT, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.ValidateRate(rate); err != nil {
		return nil, err
	}
	n := cfg.NFFT
	s := &STFT{
		cfg:  cfg,
		rate: rate,
		n:    n,
		hop:  cfg.Hop,
		win:  WindowValues(cfg.Window, n, cfg.Symmetric),
		coef: make([]complex128, n/2+1),
		spec: make([]float64, n/2+1),
		buf:  make([]float32, 0, 4*n+2),
	}
	if fft.IsPow2(n) {
		s.rfft = fft.NewReal(n)
	} else {
		s.gfft = fourier.NewFFT(n)
		s.frame = make([]float64, n)
		s.coef = make([]complex128, n/2+1)
	}
	if cfg.Center {
		s.half = n / 2
	}
	if cfg.Mels > 0 {
		s.mel = NewMelBank(rate, n, cfg.Mels, cfg.FMin, cfg.FMax, cfg.MelScale, cfg.MelNorm)
		s.band = make([]float64, cfg.Mels)
		// Only the bins some band touches need a spectrum value.
		s.kLo, s.kHi = n/2+1, 0
		for m := range cfg.Mels {
			if w := s.mel.Weights(m); len(w) > 0 {
				s.kLo = min(s.kLo, s.mel.Start(m))
				s.kHi = max(s.kHi, s.mel.Start(m)+len(w))
			}
		}
		if s.kHi < s.kLo {
			s.kLo, s.kHi = 0, 0
		}
	} else {
		s.kLo, s.kHi = linearRange(rate, n, cfg.FMin, cfg.fmax(rate))
	}
	s.out = make([]float32, cfg.Bins(rate))
	s.binLo, s.binHi = cfg.BinEdges(rate)
	switch cfg.Log {
	case DB:
		s.scale = 10 / math.Ln10
	case Ln:
		s.scale = 1
	}
	s.Reset()
	return s, nil
}

// Config returns the configuration with defaults filled in.
func (s *STFT) Config() Config { return s.cfg }

// Rate returns the sample rate in Hz.
func (s *STFT) Rate() float64 { return s.rate }

// Bins returns the number of values in each output frame.
func (s *STFT) Bins() int { return len(s.out) }

// BinHz returns the frequency range in Hz that output bin i stands for: the
// support [f[i], f[i+2]] of mel band i, or, for linear bins, the FFT bin centre
// ± half a bin width (rate/NFFT), clipped to [0, rate/2]. It panics if i is out
// of range.
func (s *STFT) BinHz(i int) (lo, hi float64) {
	if i < 0 || i >= len(s.out) {
		panic(fmt.Sprintf("stft: bin %d out of range [0, %d)", i, len(s.out)))
	}
	return s.binLo[i], s.binHi[i]
}

// MelBank returns the filterbank, or nil when the output is linear bins.
func (s *STFT) MelBank() *MelBank { return s.mel }

// Frames returns the number of frames emitted since the stream started.
func (s *STFT) Frames() int64 { return s.next }

// FrameSample returns the signal sample index frame k is anchored at,
// k*Hop: its centre when centred (the window then starts NFFT/2 samples
// earlier), its first sample otherwise. This is librosa's frames_to_samples.
func (s *STFT) FrameSample(k int64) int64 { return k * int64(s.hop) }

// Reset discards the stream state: the next Write starts a new signal whose
// first frame has index 0.
func (s *STFT) Reset() {
	s.buf = s.buf[:0]
	s.bufStart = 0
	s.total = 0
	s.next = 0
	s.padded = !s.cfg.Center
	if s.cfg.Center {
		// Room for the left pad, written once n/2+1 samples have arrived.
		s.buf = s.buf[:s.half]
	}
}

// Write appends samples to the stream and calls emit once for each frame
// completed by them, in order, with the frame index (0 for the stream's first
// frame) and its Bins() values. The frame slice is owned by the STFT and is
// valid only during the call; a nil emit discards the frames. Write does not
// allocate.
func (s *STFT) Write(samples []float32, emit func(index int64, frame []float32)) {
	for len(samples) > 0 {
		if len(s.buf) == cap(s.buf) {
			s.compact()
		}
		k := copy(s.buf[len(s.buf):cap(s.buf)], samples)
		s.buf = s.buf[:len(s.buf)+k]
		samples = samples[k:]
		s.total += int64(k)
		if !s.padded {
			if s.total < int64(s.half)+1 {
				continue
			}
			// numpy.pad reflect: padded[half-j] = x[j] for j = 1..half.
			for j := 1; j <= s.half; j++ {
				s.buf[s.half-j] = s.buf[s.half+j]
			}
			s.padded = true
		}
		s.drain(emit)
	}
}

// Flush ends the stream: in centred mode it appends the right reflect pad
// (padded[L-1+j] = x[L-1-j], j = 1..NFFT/2) and emits the remaining frames so
// that a signal of L >= 1 samples gives exactly 1 + L/Hop frames, as librosa
// and numpy.pad do (1 + (L-1)/Hop for an odd NFFT, whose pads are
// (NFFT-1)/2 samples; signals shorter than NFFT/2+1 samples are reflected
// repeatedly, as numpy.pad does). Without centring the trailing samples that
// do not fill a frame are dropped. Flush then resets the STFT for a new
// stream. It does not allocate.
func (s *STFT) Flush(emit func(index int64, frame []float32)) {
	defer s.Reset()
	if !s.cfg.Center || s.total == 0 {
		return
	}
	if !s.padded {
		s.flushShort(emit)
		return
	}
	if cap(s.buf)-len(s.buf) < s.half {
		s.compact()
	}
	// The last half+1 signal samples are kept in buf (see compact).
	end := len(s.buf) - 1 // x[L-1]
	s.buf = s.buf[:len(s.buf)+s.half]
	for j := 1; j <= s.half; j++ {
		s.buf[end+j] = s.buf[end-j]
	}
	s.drain(emit)
}

// flushShort handles a centred stream of 1 <= L <= NFFT/2 samples: the whole
// padded signal x[r(p-half)] for p in [0, L+2*half), with r the reflection
// of numpy.pad (period 2(L-1)), fits in the spare capacity of buf.
func (s *STFT) flushShort(emit func(index int64, frame []float32)) {
	L := int(s.total)
	x := s.buf[s.half : s.half+L]
	pad := s.buf[s.half+L : s.half+L+L+2*s.half]
	for p := range pad {
		i := p - s.half
		if L == 1 {
			i = 0
		} else {
			period := 2 * (L - 1)
			i %= period
			if i < 0 {
				i += period
			}
			if i >= L {
				i = period - i
			}
		}
		pad[p] = x[i]
	}
	nFrames := 1 + (L+2*s.half-s.n)/s.hop
	for k := range nFrames {
		s.compute(pad[k*s.hop : k*s.hop+s.n])
		if emit != nil {
			emit(int64(k), s.out)
		}
	}
	s.next = int64(nFrames)
}

// drain computes every frame that buf now holds completely.
func (s *STFT) drain(emit func(index int64, frame []float32)) {
	end := s.bufStart + int64(len(s.buf))
	for {
		start := s.next * int64(s.hop)
		if start+int64(s.n) > end {
			return
		}
		i := int(start - s.bufStart)
		s.compute(s.buf[i : i+s.n])
		if emit != nil {
			emit(s.next, s.out)
		}
		s.next++
	}
}

// compact moves the samples still needed to the front of buf: from the next
// frame's start, and at least the last half+1 samples for the right pad.
func (s *STFT) compact() {
	end := s.bufStart + int64(len(s.buf))
	keep := s.next * int64(s.hop)
	if s.cfg.Center {
		keep = min(keep, end-int64(s.half)-1)
	}
	keep = max(keep, s.bufStart)
	i := int(keep - s.bufStart)
	m := copy(s.buf, s.buf[i:])
	s.buf = s.buf[:m]
	s.bufStart = keep
}

// compute fills s.out from the n padded samples in x.
func (s *STFT) compute(x []float32) {
	x = x[:s.n]
	w := s.win[:s.n]
	lo, hi := s.kLo, s.kHi
	sp := s.spec[lo:hi]
	if s.rfft != nil {
		// Window and pack pairs of samples as complex(x[2k], x[2k+1]), then
		// the fused transform and |X[k]|².
		z := s.rfft.Input()
		x, w := x[:2*len(z)], w[:2*len(z)]
		for k := range z {
			z[k] = complex(float64(x[2*k])*w[2*k], float64(x[2*k+1])*w[2*k+1])
		}
		s.rfft.Power(s.spec)
		if s.cfg.Spectrum == Magnitude {
			for k, v := range sp {
				sp[k] = math.Sqrt(v)
			}
		}
	} else {
		f := s.frame[:s.n]
		for i, v := range x {
			f[i] = float64(v) * w[i]
		}
		s.gfft.Coefficients(s.coef, f)
		c := s.coef[lo:hi]
		for k, z := range c {
			sp[k] = real(z)*real(z) + imag(z)*imag(z)
			if s.cfg.Spectrum == Magnitude {
				sp[k] = math.Sqrt(sp[k])
			}
		}
	}
	src := sp
	if s.mel != nil {
		s.mel.Apply(s.band, s.spec)
		src = s.band
	}
	out := s.out[:len(src)]
	if s.scale == 0 {
		for i, v := range src {
			out[i] = float32(v)
		}
		return
	}
	logTo(out, src, s.scale, s.cfg.Floor, s.cfg.Eps)
}

// Spectrogram transforms a whole signal (Write then Flush) and returns its
// frames, frames[k] being frame k. It allocates the result; it returns an
// error wrapping ErrConfig if cfg is invalid for rate.
func Spectrogram(rate float64, cfg Config, x []float32) ([][]float32, error) {
	s, err := New(rate, cfg)
	if err != nil {
		return nil, err
	}
	var out [][]float32
	emit := func(_ int64, f []float32) { out = append(out, append([]float32(nil), f...)) }
	s.Write(x, emit)
	s.Flush(emit)
	return out, nil
}

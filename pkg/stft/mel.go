package stft

import (
	"fmt"
	"math"
)

// Slaney scale constants (librosa.core.convert.hz_to_mel, htk=False).
const (
	slaneyFSp      = 200.0 / 3 // Hz per mel below 1 kHz
	slaneyMinLogHz = 1000.0
	slaneyMinLog   = slaneyMinLogHz / slaneyFSp // 15 mel
)

var slaneyLogStep = math.Log(6.4) / 27

// HzToMel converts a frequency in Hz to mels on the given scale:
//
//	HTK:    m = 2595*log10(1 + f/700)
//	Slaney: m = 3f/200 for f < 1000, m = 15 + ln(f/1000)*27/ln(6.4) above
//
// as librosa.hz_to_mel. It panics on an unknown scale.
func HzToMel(f float64, scale MelScale) float64 {
	switch scale {
	case HTK:
		return 2595 * math.Log10(1+f/700)
	case Slaney:
		if f >= slaneyMinLogHz {
			return slaneyMinLog + math.Log(f/slaneyMinLogHz)/slaneyLogStep
		}
		return f / slaneyFSp
	}
	panic(fmt.Sprintf("stft: unknown mel scale %q", scale))
}

// MelToHz is the inverse of HzToMel (librosa.mel_to_hz). It panics on an
// unknown scale.
func MelToHz(m float64, scale MelScale) float64 {
	switch scale {
	case HTK:
		return 700 * (math.Pow(10, m/2595) - 1)
	case Slaney:
		if m >= slaneyMinLog {
			return slaneyMinLogHz * math.Exp(slaneyLogStep*(m-slaneyMinLog))
		}
		return slaneyFSp * m
	}
	panic(fmt.Sprintf("stft: unknown mel scale %q", scale))
}

// MelBank is a triangular mel filterbank over the nFFT/2+1 one-sided FFT
// bins, stored sparsely: band m touches only the contiguous bins
// [Start(m), Start(m)+len(Weights(m))). It is immutable after construction
// and safe for concurrent use.
type MelBank struct {
	nBins  int
	edges  []float64 // n_mels+2 band edge frequencies in Hz
	start  []int
	weight [][]float64
}

// NewMelBank builds librosa.filters.mel(sr=rate, n_fft=nFFT, n_mels=mels,
// fmin, fmax, htk=(scale==HTK), norm): mels+2 edge frequencies f[i] equally
// spaced in mel between fmin and fmax; filter m rises linearly from f[m] to a
// peak of 1 at f[m+1] and falls to 0 at f[m+2], evaluated at the bin centres
// k*rate/nFFT:
//
//	W[m][k] = max(0, min((c_k - f[m])/(f[m+1]-f[m]), (f[m+2] - c_k)/(f[m+2]-f[m+1])))
//
// then, with SlaneyNorm, multiplied by 2/(f[m+2]-f[m]). fmax 0 means rate/2.
// It allocates and panics on arguments that Config.ValidateRate rejects.
func NewMelBank(rate float64, nFFT, mels int, fmin, fmax float64, scale MelScale, norm MelNorm) *MelBank {
	if fmax == 0 {
		fmax = rate / 2
	}
	if nFFT < 2 || mels < 1 || rate <= 0 || fmin < 0 || fmax <= fmin {
		panic(fmt.Sprintf("stft: bad mel bank rate=%g n_fft=%d mels=%d fmin=%g fmax=%g", rate, nFFT, mels, fmin, fmax))
	}
	if norm != SlaneyNorm && norm != NoNorm {
		panic(fmt.Sprintf("stft: unknown mel norm %q", norm))
	}
	nb := nFFT/2 + 1
	b := &MelBank{nBins: nb, edges: make([]float64, mels+2), start: make([]int, mels), weight: make([][]float64, mels)}
	lo, hi := HzToMel(fmin, scale), HzToMel(fmax, scale)
	step := (hi - lo) / float64(mels+1) // numpy.linspace
	for i := range b.edges {
		b.edges[i] = MelToHz(lo+float64(i)*step, scale)
	}
	b.edges[mels+1] = MelToHz(hi, scale)
	row := make([]float64, nb)
	for m := range mels {
		f0, f1, f2 := b.edges[m], b.edges[m+1], b.edges[m+2]
		d0, d1 := f1-f0, f2-f1
		scaleW := 1.0
		if norm == SlaneyNorm {
			scaleW = 2 / (f2 - f0)
		}
		first, last := -1, -1
		for k := range nb {
			c := float64(k) * rate / float64(nFFT)
			// librosa: ramps = f - c; lower = -ramp[m]/d0, upper = ramp[m+2]/d1.
			w := max(0, min(-(f0-c)/d0, (f2-c)/d1))
			row[k] = w * scaleW
			if w > 0 {
				if first < 0 {
					first = k
				}
				last = k
			}
		}
		if first < 0 {
			b.start[m] = 0
			b.weight[m] = nil
			continue
		}
		b.start[m] = first
		b.weight[m] = append([]float64(nil), row[first:last+1]...)
	}
	return b
}

// Len returns the number of mel bands.
func (b *MelBank) Len() int { return len(b.start) }

// Start returns the first FFT bin that band m touches. It panics if m is out
// of range.
func (b *MelBank) Start(m int) int { return b.start[m] }

// Weights returns the non-zero run of band m's weights, starting at bin
// Start(m); it is empty if the band falls between two bin centres (too many
// mels for nFFT). The slice is shared: do not modify it. It panics if m is
// out of range.
func (b *MelBank) Weights(m int) []float64 { return b.weight[m] }

// BandHz returns the support of band m in Hz: the lower and upper edge of its
// triangle, f[m] and f[m+2]. It panics if m is out of range.
func (b *MelBank) BandHz(m int) (lo, hi float64) { return b.edges[m], b.edges[m+2] }

// Dense returns the filterbank as a mels × (nFFT/2+1) matrix, as
// librosa.filters.mel does. It allocates.
func (b *MelBank) Dense() [][]float64 {
	d := make([][]float64, b.Len())
	for m := range d {
		d[m] = make([]float64, b.nBins)
		copy(d[m][b.start[m]:], b.weight[m])
	}
	return d
}

// Apply computes dst[m] = Σ_k W[m][k]*spec[k] for the nFFT/2+1 bins of spec,
// touching only each band's non-zero run. It does not allocate and panics if
// len(dst) != Len() or len(spec) != nFFT/2+1.
func (b *MelBank) Apply(dst, spec []float64) {
	if len(dst) != len(b.start) || len(spec) != b.nBins {
		panic("stft: mel bank length mismatch")
	}
	for m, w := range b.weight {
		s := spec[b.start[m]:]
		s = s[:len(w)]
		var acc float64
		for k, v := range w {
			acc += v * s[k]
		}
		dst[m] = acc
	}
}

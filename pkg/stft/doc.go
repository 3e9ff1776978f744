// Package stft is a streaming short-time Fourier transform for sensor
// signals: a window (Hann, Hamming, Blackman or rectangular, periodic or
// symmetric), optional librosa-style centring with reflect padding, a
// one-sided power or magnitude spectrum, an optional triangular mel
// filterbank (Slaney or HTK scale, Slaney area normalisation or none), and
// optional log compression (10*log10 or ln of x+eps, with a floor).
//
// Samples are float32 and arrive in chunks of any length through Write; the
// transform keeps the overlap between chunks and calls back with each frame as
// soon as it is complete. Any chunking gives bit-identical frames. After New,
// nothing is allocated per frame.
//
// Conventions follow librosa and scipy so that results can be checked with
// numpy: frame k of a centred transform is centred on sample k*Hop of the
// signal, which is padded with NFFT/2 reflected samples at each end
// (numpy.pad(x, NFFT/2, mode="reflect")); frame k of an uncentred transform
// starts at sample k*Hop (scipy.signal.stft with boundary=None,
// padded=False). X[k] = Σ_j w[j] x[j] exp(-2πijk/NFFT), unnormalised, for
// k = 0..NFFT/2. The mel filterbank is librosa.filters.mel. The golden tests
// compare against numpy/scipy outputs made by testdata/gen/stft_golden.py.
//
// FFTs of power-of-two length use the package's own radix-4 kernel
// (internal/fft, checked against gonum); other lengths use gonum's
// dsp/fourier. All arithmetic after the float32 samples is float64; output
// frames are float32.
package stft

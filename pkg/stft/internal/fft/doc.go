// Package fft is the real-input FFT kernel behind pkg/stft: a Stockham
// autosort radix-4 complex FFT (with one radix-2 pass when log2 is odd) of
// half the length, plus the usual split step that turns it into the
// one-sided spectrum of a real sequence. It handles power-of-two lengths
// only; pkg/stft uses gonum's dsp/fourier for every other length, and the
// tests check this kernel against gonum. A plan holds its twiddle tables and
// work buffers and allocates nothing per transform.
package fft

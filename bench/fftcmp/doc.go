// Package fftcmp benchmarks the two FFT packages the design card weighed:
// github.com/mjibson/go-dsp/fft and gonum.org/v1/gonum/dsp/fourier. It is a
// separate module so that the main module depends on gonum only; see
// docs/decisions.md for the figures and the decision.
//
//	cd bench/fftcmp && go test -bench . -benchmem -count 5
package fftcmp

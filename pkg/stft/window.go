package stft

import (
	"fmt"

	"gonum.org/v1/gonum/dsp/window"
)

// WindowValues returns the n weights of window w, periodic unless symmetric
// is set (see Window for the formulas). The weights come from gonum's
// dsp/window, which computes the symmetric form; the periodic window of
// length n is the symmetric window of length n+1 without its last weight
// (scipy.signal.get_window(w, n, fftbins=True)). It allocates the result and
// panics if n < 1 or w is unknown.
func WindowValues(w Window, n int, symmetric bool) []float64 {
	if n < 1 {
		panic(fmt.Sprintf("stft: window length %d < 1", n))
	}
	var f func([]float64) []float64
	switch w {
	case Hann:
		f = window.Hann
	case Hamming:
		f = window.Hamming
	case Blackman:
		f = window.Blackman
	case Rectangular:
		f = window.Rectangular
	default:
		panic(fmt.Sprintf("stft: unknown window %q", w))
	}
	m := n
	if !symmetric {
		m = n + 1
	}
	if m == 1 {
		return []float64{1}
	}
	v := window.NewValues(f, m)
	return v[:n:n]
}

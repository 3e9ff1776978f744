package stft_test

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/stft"
)

// A 1 kHz tone sampled at 8 kHz, written in two chunks: its power peaks in
// FFT bin 1000/(8000/64) = 8, whose Hz range is [937.5, 1062.5], at
// 10*log10((64/4)²) = 24.1 dB (an on-bin unit sine under a periodic Hann
// window has |X| = N/4).
func ExampleSTFT() {
	s, err := stft.New(8000, stft.Config{NFFT: 64, Hop: 32, Center: true, Log: stft.DB, Eps: 1e-10})
	if err != nil {
		panic(err)
	}
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(math.Sin(2 * math.Pi * 1000 * float64(i) / 8000))
	}
	emit := func(k int64, frame []float32) {
		if k != 4 {
			return
		}
		peak := 0
		for i, v := range frame {
			if v > frame[peak] {
				peak = i
			}
		}
		lo, hi := s.BinHz(peak)
		fmt.Printf("frame %d of %d bins: peak in bin %d [%g, %g] Hz at %.1f dB\n", k, s.Bins(), peak, lo, hi, frame[peak])
	}
	s.Write(x[:100], emit)
	s.Write(x[100:], emit)
	s.Flush(emit)
	fmt.Println("frames:", 1+len(x)/32)
	// Output:
	// frame 4 of 33 bins: peak in bin 8 [937.5, 1062.5] Hz at 24.1 dB
	// frames: 9
}

// The mel bands of the DCASE 2020 front end: 128 Slaney bands over 0-8 kHz
// (values confirmed with the numpy port in testdata/gen/stft_golden.py).
func ExampleNewMelBank() {
	b := stft.NewMelBank(16000, 1024, 128, 0, 0, stft.Slaney, stft.SlaneyNorm)
	for _, m := range []int{0, 64, 127} {
		lo, hi := b.BandHz(m)
		fmt.Printf("band %3d: %7.1f-%7.1f Hz, bins %d..%d\n", m, lo, hi, b.Start(m), b.Start(m)+len(b.Weights(m))-1)
	}
	// Output:
	// band   0:     0.0-   46.8 Hz, bins 1..2
	// band  64:  1668.7- 1751.1 Hz, bins 107..112
	// band 127:  7623.3- 8000.0 Hz, bins 488..511
}

package plot

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var plotDir = flag.String("plotdir", "", "also write the test figures as PNG files into this folder, to look at them")

func save(t *testing.T, f *Figure, name string) {
	t.Helper()
	if *plotDir == "" {
		return
	}
	if err := f.SavePNG(filepath.Join(*plotDir, name)); err != nil {
		t.Fatal(err)
	}
}

// demoSpectrogram is a synthetic log-power spectrogram: a noise floor, a
// shaft harmonic series and, in frames [fa, fb), a resonance band lit up by
// impulses.
func demoSpectrogram(frames, bins int, fa, fb int) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]float32, frames*bins)
	for t := range frames {
		for f := range bins {
			x := -60 + 4*r.NormFloat64() - 10*float64(f)/float64(bins)
			for hm := 1; hm <= 4; hm++ {
				if f == 5*hm {
					x += 30 / float64(hm)
				}
			}
			if t >= fa && t < fb && f >= bins/2 && f < bins/2+bins/8 {
				x += 25 + 5*math.Sin(float64(t))
			}
			v[t*bins+f] = float32(x)
		}
	}
	return v
}

var _ = os.Getenv

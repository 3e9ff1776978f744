package feature_test

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
)

// One second of a 25.6 kHz accelerometer with a 4.1 kHz tone, streamed in
// 1000-sample chunks: 1 + 25600/128 = 201 frames give 49 patch positions (a
// hop of 4 frames, 8 frames each) × 8 bands; at frame 4 the loudest band is
// band 2 (3.25-4.85 kHz), the one holding 4.1 kHz.
func ExampleExtractor() {
	cfg := feature.Vibration(25600)
	fmt.Printf("%d bins, %d bands, %d values per patch\n", cfg.Bins(), cfg.Bands(), cfg.Dim())
	e, err := feature.NewExtractor(cfg, "pump-3", "acc-x", 1_700_000_000_000_000_000)
	if err != nil {
		panic(err)
	}
	x := make([]float32, 25600)
	for i := range x {
		x[i] = float32(math.Sin(2 * math.Pi * 4100 * float64(i) / 25600))
	}
	n, best, bestBand := 0, math.Inf(-1), -1
	emit := func(p *patch.Patch) {
		n++
		if p.Frame != 4 {
			return
		}
		var sum float64
		for _, v := range p.Values {
			sum += float64(v)
		}
		if sum > best {
			best, bestBand = sum, p.Band
		}
	}
	for i := 0; i < len(x); i += 1000 {
		e.Write(x[i:min(i+1000, len(x))], emit)
	}
	e.Flush(emit)
	lo, hi := cfg.BandHz(bestBand)
	fmt.Printf("%d patches; loudest band %d: %g-%g Hz\n", n, bestBand, lo, hi)
	// Output:
	// 128 bins, 8 bands, 128 values per patch
	// 392 patches; loudest band 2: 3250-4850 Hz
}

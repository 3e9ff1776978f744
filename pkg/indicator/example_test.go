package indicator_test

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/indicator"
)

func ExampleCompute() {
	// One FEMTO-sized snapshot (2560 samples at 25.6 kHz): a 1 g sine at
	// 160 Hz, then the same with an impulse every 10 ms (a bearing defect).
	// numpy/scipy give the same: RMS 0.8004, crest 8.685, kurtosis 14.106.
	x := make([]float32, 2560)
	for i := range x {
		x[i] = float32(math.Sin(2 * math.Pi * 160 * float64(i) / 25600))
	}
	healthy := indicator.Compute(x)
	for i := 0; i < len(x); i += 256 {
		x[i] += 6
	}
	faulty := indicator.Compute(x)
	fmt.Printf("healthy: RMS %.3f g, crest %.2f, kurtosis %.2f\n", healthy.RMS, healthy.Crest, healthy.Kurtosis)
	fmt.Printf("faulty:  RMS %.3f g, crest %.2f, kurtosis %.2f\n", faulty.RMS, faulty.Crest, faulty.Kurtosis)
	// Output:
	// healthy: RMS 0.707 g, crest 1.41, kurtosis 1.50
	// faulty:  RMS 0.800 g, crest 8.68, kurtosis 14.11
}

package threshold_test

import (
	"fmt"

	"github.com/mhmstream/mhm/pkg/threshold"
)

func ExampleFit() {
	// Calibration scores of held-out normal data. Python gives the same:
	// numpy.quantile(x, 0.99) 1.2910, scipy.stats.gamma.ppf(0.99, *fit) with
	// gamma.fit(x, floc=0) 1.4780, x.mean() + 3*x.std(ddof=1) 1.5675.
	cal := []float64{0.8, 1.1, 0.9, 1.3, 1.0, 1.2, 0.7, 1.05, 0.95, 1.15}
	for _, m := range threshold.Methods {
		th, err := threshold.Fit(m, cal, 0) // 0: the method's default parameter
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-8s param %-4g threshold %.4f\n", th.Method, th.Param, th.Value)
	}
	// Output:
	// quantile param 0.99 threshold 1.2910
	// gamma    param 0.99 threshold 1.4780
	// mean-std param 3    threshold 1.5675
}

func ExampleWindowAggregator() {
	// One-second windows every half second; window score = max of the
	// patches; each patch covers one of 4 bands.
	agg := threshold.NewWindowAggregator(threshold.WindowConfig{
		LengthNs: 1e9, HopNs: 5e8,
		Aggregation: threshold.Aggregation{Kind: threshold.AggMax},
		Features:    4, TopFeatures: 1,
	})
	scores := []float64{1, 1, 5, 1, 1, 1}
	for i, s := range scores {
		band := i % 4
		for _, w := range agg.PushBand(int64(i)*4e8, s, band) { // a patch every 0.4 s
			fmt.Printf("[%.1f s, %.1f s) score %g from %d patches, top band %d\n",
				float64(w.StartNs)/1e9, float64(w.EndNs)/1e9, w.Score, w.Patches, w.Top[0].Feature)
		}
	}
	for _, w := range agg.Flush() { // end of stream
		fmt.Printf("[%.1f s, %.1f s) score %g from %d patches (flushed)\n",
			float64(w.StartNs)/1e9, float64(w.EndNs)/1e9, w.Score, w.Patches)
	}
	// Output:
	// [-0.5 s, 0.5 s) score 1 from 2 patches, top band 0
	// [0.0 s, 1.0 s) score 5 from 3 patches, top band 2
	// [0.5 s, 1.5 s) score 5 from 2 patches, top band 2
	// [1.0 s, 2.0 s) score 1 from 2 patches, top band 0
	// [1.5 s, 2.5 s) score 1 from 2 patches (flushed)
	// [2.0 s, 3.0 s) score 1 from 1 patches (flushed)
}

func ExamplePersistence() {
	th := threshold.Threshold{Method: threshold.Quantile, Param: 0.99, Value: 2}
	p := threshold.NewPersistence(threshold.PersistenceConfig{K: 3, N: 3}) // FEMTO: 3 consecutive
	for i, s := range []float64{1, 3, 3, 1, 3, 3, 3, 3, 1} {
		if tr := p.Update(th.Above(s)); tr != threshold.NoChange {
			fmt.Println("window", i, tr)
		}
	}
	// Output:
	// window 6 raised
	// window 8 cleared
}

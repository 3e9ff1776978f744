package ae_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/nn"
)

// patches returns n frame-major patches of frames×bins values: a smooth
// spectrum with a peak at a random bin between 3 and 8 and a little noise.
// With tone ≥ 0 a narrow extra line is added at that bin (an anomaly).
func patches(rng *rand.Rand, n, frames, bins, tone int) []float32 {
	x := make([]float32, 0, n*frames*bins)
	for i := 0; i < n; i++ {
		peak := 3 + 5*rng.Float64()
		for t := 0; t < frames; t++ {
			for f := 0; f < bins; f++ {
				d := float64(f) - peak
				v := 2*math.Exp(-d*d/4) - 0.1*float64(f) + 0.05*rng.NormFloat64()
				if f == tone {
					v += 3
				}
				x = append(x, float32(v))
			}
		}
	}
	return x
}

// Train a small dense autoencoder on normal patches, score a normal and an
// anomalous patch, and locate the anomalous frequency bin from the
// per-feature errors.
func Example() {
	rng := rand.New(rand.NewPCG(1, 1))
	const frames, bins, n = 4, 16, 2000
	x := patches(rng, n, frames, bins, -1)

	cfg := ae.Defaults(ae.Dense, frames, bins) // standardised, BatchNorm+ReLU
	cfg.Hidden, cfg.Code, cfg.Seed = []int{32}, 4, 1
	var epochs int
	m, hist, err := ae.Train(cfg, x, n, frames*bins,
		&nn.FitConfig{Epochs: 20, BatchSize: 64, Seed: 1, ValFraction: 0.1},
		func(e nn.EpochStats) error {
			// A CLI draws its progress bar here: e.Epoch/e.Epochs, e.TrainLoss,
			// e.ValLoss, ETA = e.Elapsed/e.Epoch·(e.Epochs−e.Epoch).
			epochs++
			return nil
		})
	if err != nil {
		panic(err)
	}
	fmt.Println("epochs:", epochs, "validation loss fell:", hist.ValLoss[len(hist.ValLoss)-1] < hist.ValLoss[0])

	s := m.NewScorer()
	test := append(patches(rng, 1, frames, bins, -1), patches(rng, 1, frames, bins, 12)...)
	scores := make([]float64, 2)
	perFeature := make([]float32, 2*frames*bins)
	s.Score(scores, perFeature, test, 2)
	fmt.Println("anomaly scores higher:", scores[1] > 5*scores[0])

	// Localise: sum the anomalous patch's squared errors over its frames.
	perBin := make([]float64, bins)
	for t := 0; t < frames; t++ {
		for f := 0; f < bins; f++ {
			perBin[f] += float64(perFeature[(frames+t)*bins+f])
		}
	}
	worst := 0
	for f := range perBin {
		if perBin[f] > perBin[worst] {
			worst = f
		}
	}
	fmt.Println("most anomalous bin:", worst)
	// Output:
	// epochs: 20 validation loss fell: true
	// anomaly scores higher: true
	// most anomalous bin: 12
}

// The DCASE 2020 Task 2 baseline as a Config, saved as JSON with a model.
func ExampleDCASE2020() {
	cfg := ae.DCASE2020()
	b, _ := json.Marshal(cfg)
	fmt.Println(string(b))
	m, err := ae.NewModel(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.InputDim(), m.CodeDim(), m.NumParams())
	// Output:
	// {"kind":"dense","frames":5,"bins":128,"hidden":[128,128,128,128],"code":8,"activation":"relu","code_activation":"relu","batch_norm":true,"code_batch_norm":true,"init":"torch","no_standardize":true,"learning_rate":0.001,"seed":0}
	// 640 8 267928
}

func ExampleUnmarshal() {
	m, err := ae.NewModel(ae.Defaults(ae.CAES, 5, 128))
	if err != nil {
		panic(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		panic(err)
	}
	l, err := ae.Unmarshal(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Config().Kind, l.InputDim(), l.CodeDim(), l.NumParams() == m.NumParams())
	_, err = ae.Unmarshal(b[:len(b)-1]) // truncated: a checksum error
	fmt.Println(errors.Is(err, ae.ErrFormat))
	// Output:
	// caes 640 32 true
	// true
}

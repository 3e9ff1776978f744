package vae_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/vae"
)

// ring draws patches of 2 frames × 4 bins that lie near a circle: the
// normal behaviour of a toy machine.
func ring(rng *rand.Rand, n int) []float32 {
	x := make([]float32, 0, n*8)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * rng.Float64()
		for t := 0; t < 2; t++ {
			for f := 0; f < 4; f++ {
				v := math.Cos(a+float64(f)) + 0.5*float64(t) + 0.05*rng.NormFloat64()
				x = append(x, float32(v))
			}
		}
	}
	return x
}

// Train a small VAE on normal patches and score a normal and an abnormal
// patch by their negative log-evidence.
func Example() {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 1000
	m, err := vae.New(vae.Config{T: 2, F: 4, Latent: 2, Hidden: []int{32}, Seed: 1})
	if err != nil {
		panic(err)
	}
	if _, err := m.Train(ring(rng, n), nil, n, &vae.TrainConfig{Epochs: 30, BatchSize: 64, LR: 3e-3, Seed: 1}); err != nil {
		panic(err)
	}

	sc, err := m.NewScorer(vae.ScoreConfig{Type: vae.LogEvidence, Samples: 64})
	if err != nil {
		panic(err)
	}
	normal := ring(rng, 1)
	abnormal := append([]float32(nil), normal...)
	abnormal[5] += 1 // one bin of the second frame is off
	scores := make([]float64, 2)
	perBin := make([]float32, 2*8)
	sc.Score(scores, perBin, append(normal, abnormal...), 2)

	fmt.Println("abnormal scores higher:", scores[1] > scores[0])
	worst := 0
	for j, v := range perBin[8:] {
		if v > perBin[8+worst] {
			worst = j
		}
	}
	fmt.Println("most anomalous value: frame", worst/4, "bin", worst%4)
	// Output:
	// abnormal scores higher: true
	// most anomalous value: frame 1 bin 1
}

func ExampleParseScoreType() {
	for _, name := range []string{"log-evidence", "elbo", "recon-prob", "harmonic", "mse"} {
		t, err := vae.ParseScoreType(name)
		fmt.Println(t, err)
	}
	// Output:
	// log-evidence <nil>
	// elbo <nil>
	// recon-prob <nil>
	// harmonic <nil>
	// log-evidence vae: unknown score type "mse" (want log-evidence, elbo, recon-prob or harmonic)
}

// A model is stored with everything needed to score: config, standardiser
// and weights.
func ExampleUnmarshal() {
	m, _ := vae.New(vae.DCASE())
	blob, _ := m.MarshalBinary()
	u, err := vae.Unmarshal(blob)
	fmt.Println(u.InputDim(), u.Config().Hidden, err)
	_, err = vae.Unmarshal(blob[:len(blob)-1])
	fmt.Println(err != nil)
	// Output:
	// 640 [128 128 128 128] <nil>
	// true
}

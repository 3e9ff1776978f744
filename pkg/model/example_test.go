package model_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/mhmstream/mhm/pkg/ae"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// A model is trained, written as an artifact, loaded and applied to
// patches exactly as a detector applies it.
func ExampleLoad() {
	// Patches of a 1 kHz tone with a little noise, vibration front end at 8 kHz.
	cfg := feature.Vibration(8000)
	x := make([]float32, 16000)
	for i := range x {
		x[i] = float32(math.Sin(2*math.Pi*1000*float64(i)/8000) + 0.01*math.Sin(float64(i*i)))
	}
	ps, _ := feature.Patches(cfg, x, "pump-01", "acc-0", 0)
	var rows []float32
	var bands []int
	for _, p := range ps {
		rows, bands = append(rows, p.Values...), append(bands, p.Band)
	}
	n := len(ps)

	m, _, err := ae.Train(ae.Defaults(ae.Dense, 8, 16), rows, n, cfg.Dim(), &nn.FitConfig{Epochs: 2, BatchSize: 64, Seed: 1}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	weights, _ := m.MarshalBinary()
	th, _ := threshold.Fit(threshold.Quantile, []float64{0.8, 0.9, 1.0, 1.1}, 0.99)
	a := &model.Artifact{Meta: model.Meta{Machine: "pump-01", Kind: model.DenseAE, Feature: cfg,
		Score: model.ScoreSpec{Type: model.ScoreMSE}, Threshold: th}, Weights: weights}
	path := filepath.Join(os.TempDir(), "example-pump-01.mhm")
	defer os.Remove(path)
	if err := a.WriteFile(path); err != nil {
		fmt.Println(err)
		return
	}

	l, err := model.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Matches(cfg.Hash()) == nil, l.Matches(feature.DCASE2020().Hash()) != nil)
	s := l.NewScorer() // one per goroutine
	scores := make([]float64, n)
	s.Score(scores, nil, rows, bands, n)
	fmt.Println(l.Meta.Kind, s.InputDim(), l.Bands(), n, scores[0] > 0)
	// Output:
	// true true
	// dense-ae 128 0 240 true
}

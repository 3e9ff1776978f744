package vae

import (
	"math/rand/v2"
	"testing"
)

func TestSmoke(t *testing.T) {
	for _, cfg := range []Config{DCASE(), {T: 4, F: 8, Latent: 3, Hidden: []int{16}, Bands: 2, Conv: &ConvConfig{Channels: []int{4, 8}}, BatchNorm: true}} {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		n := 300
		x := make([]float32, n*m.InputDim())
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		bands := make([]int, n)
		for i := range bands {
			bands[i] = i % 2
		}
		h, err := m.Train(x, bands, n, &TrainConfig{Epochs: 3, ValFraction: 0.2, WarmupEpochs: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(h.TrainLoss, h.ValLoss)
		for _, st := range ScoreTypes() {
			e, err := m.NewScorer(ScoreConfig{Type: st})
			if err != nil {
				t.Fatal(err)
			}
			s := make([]float64, 5)
			pf := make([]float32, 5*m.InputDim())
			e.ScoreBands(s, pf, x, bands, 5)
			t.Log(st, s, e.AcceptanceRate())
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		t.Log(len(b))
	}
}

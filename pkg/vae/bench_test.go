package vae

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/nn"
)

// TestScoreAllocatesNothing checks that scoring (every type, with and
// without per-feature output, dense and conv, with band tags) and
// Reconstruct allocate nothing after the first call with a given n. The
// products are kept small enough (fewer than four 64×64 output blocks)
// that gonum's SGEMM behind the GEMM seam stays serial: its parallel path
// spawns goroutines, which allocate (see docs/vae.md).
func TestScoreAllocatesNothing(t *testing.T) {
	for _, cfg := range []Config{
		{T: 2, F: 8, Latent: 4, Hidden: []int{32}, Bands: 2, BatchNorm: true},
		{T: 2, F: 8, Latent: 4, Hidden: []int{16}, Bands: 2, BatchNorm: true, Conv: &ConvConfig{Channels: []int{2}}},
		{T: 1, F: 8, Latent: 2, Decoder: Bernoulli},
	} {
		m, x, bands := smallTrained(t, cfg)
		const n = 4
		D := m.InputDim()
		scores, pf, rec := make([]float64, n), make([]float32, n*D), make([]float32, n*D)
		for _, typ := range ScoreTypes() {
			e, err := m.NewScorer(ScoreConfig{Type: typ, Samples: 16, BurnIn: 8, Thin: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range [][]float32{nil, pf} {
				e.ScoreBands(scores, p, x, bands, n)
				if a := testing.AllocsPerRun(10, func() { e.ScoreBands(scores, p, x, bands, n) }); a != 0 {
					t.Errorf("%+v, %s, perFeature %v: %v allocations per call", cfg, typ, p != nil, a)
				}
			}
			e.Reconstruct(rec, x, bands, n)
			if a := testing.AllocsPerRun(10, func() { e.Reconstruct(rec, x, bands, n) }); a != 0 {
				t.Errorf("%+v: Reconstruct: %v allocations per call", cfg, a)
			}
		}
	}
}

// BenchmarkScoreSmall proves the steady state allocates nothing per call
// on a model whose products stay serial in gonum (go test -bench Small
// -benchmem): 0 allocs/op.
func BenchmarkScoreSmall(b *testing.B) {
	m, x, bands := smallTrained(b, Config{T: 2, F: 8, Latent: 4, Hidden: []int{32}, Bands: 2, BatchNorm: true})
	for _, typ := range ScoreTypes() {
		b.Run(typ.String(), func(b *testing.B) {
			e, _ := m.NewScorer(ScoreConfig{Type: typ, Samples: 16, BurnIn: 8})
			const n = 4
			scores, pf := make([]float64, n), make([]float32, n*m.InputDim())
			e.ScoreBands(scores, pf, x, bands, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e.ScoreBands(scores, pf, x, bands, n)
			}
		})
	}
}

// dcaseModel is the DCASE-sized dense VAE (640 = 5×128 values, encoder
// 640-128-128-128-128-(8,8), decoder 8-128-128-128-128-640, BatchNorm and
// ReLU) with random weights and unit standardisation, and a batch of
// random patches. Scoring cost does not depend on the weights' values.
func dcaseModel(b *testing.B, n int) (*Model, []float32) {
	m, err := New(DCASE())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*m.InputDim())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return m, x
}

// forwardCost returns the mean time of one plain forward pass (encoder and
// decoder at the posterior mean, Reconstruct) over n patches.
func forwardCost(e *Estimator, dst, x []float32, n int) time.Duration {
	e.Reconstruct(dst, x, nil, n)
	start := time.Now()
	k := 0
	for time.Since(start) < 300*time.Millisecond || k < 3 {
		e.Reconstruct(dst, x, nil, n)
		k++
	}
	return time.Since(start) / time.Duration(k)
}

// BenchmarkScoreDCASE measures log-evidence scoring with K = 1, 16 and 128
// samples of batches of 256 DCASE-sized patches, in patches per second,
// and its cost as a multiple of one plain forward pass over the same batch
// measured in the same run (x-forward; the target of issue 8 is ≤ 12 at
// K = 16). Run on one core:
//
//	go test -run '^$' -bench 'DCASE' -benchtime 3x -count 3 -cpu 1 ./pkg/vae/
func BenchmarkScoreDCASE(b *testing.B) {
	const n = 256
	m, x := dcaseModel(b, n)
	rec := make([]float32, n*m.InputDim())
	b.Run("forward", func(b *testing.B) {
		e, _ := m.NewScorer(ScoreConfig{})
		e.Reconstruct(rec, x, nil, n)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			e.Reconstruct(rec, x, nil, n)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "patches/s")
	})
	for _, typ := range []ScoreType{LogEvidence, ELBO, Harmonic} {
		for _, k := range []int{1, 16, 128} {
			if typ != LogEvidence && k != 16 {
				continue
			}
			b.Run(fmt.Sprintf("%s/K=%d", typ, k), func(b *testing.B) {
				e, err := m.NewScorer(ScoreConfig{Type: typ, Samples: k})
				if err != nil {
					b.Fatal(err)
				}
				scores := make([]float64, n)
				e.Score(scores, nil, x, n)
				fwd := forwardCost(e, rec, x, n)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					e.Score(scores, nil, x, n)
				}
				per := b.Elapsed() / time.Duration(b.N)
				b.StopTimer()
				fwd = (fwd + forwardCost(e, rec, x, n)) / 2
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "patches/s")
				b.ReportMetric(float64(per)/float64(fwd), "x-forward")
			})
		}
	}
}

// BenchmarkTrainDCASE measures one training step (L = 1) of the DCASE-sized
// VAE on a batch of 512: encoder, sampling, decoder, ELBO, backward, Adam.
func BenchmarkTrainDCASE(b *testing.B) {
	const n = 512
	m, x := dcaseModel(b, n)
	xt := nn.View(x, nn.Shape{m.InputDim()})
	opt := nn.NewAdam(m.Params(), 1e-3)
	m.Step(xt, nn.Tensor{}, true)
	opt.Step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Step(xt, nn.Tensor{}, true)
		opt.Step()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
}

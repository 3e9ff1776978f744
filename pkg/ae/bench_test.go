package ae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mhmstream/mhm/pkg/nn"
)

// Benchmarks of the DCASE 2020 preset, the figures docs/ae.md reports
// against PyTorch measured in the same run (testdata/bench_vs_torch.sh):
//
//	go test -run '^$' -bench 'DCASE' -cpu 1,2 ./pkg/ae/

func benchModel(b *testing.B, cfg Config) *Model {
	m, err := NewModel(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkDCASETrain is one training step of the DCASE preset on a batch
// of 512 vectors (forward, MSE, backward, Adam), as Train runs it through
// nn.Fit (without Fit's batch copy); vectors/s is the training throughput.
func BenchmarkDCASETrain(b *testing.B) {
	benchTrain(b, DCASE2020(), 512)
}

func benchTrain(b *testing.B, cfg Config, batch int) {
	m := benchModel(b, cfg)
	rng := rand.New(rand.NewPCG(1, 1))
	x := nn.Tensor{Data: randData(rng, batch, m.InputDim()), N: batch, Shape: m.arch.in}
	t := newTrainer(m)
	opt := nn.NewAdam(t.params, cfg.LearningRate)
	t.Step(x, nn.Tensor{}, true)
	opt.Step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t.Step(x, nn.Tensor{}, true)
		opt.Step()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "vectors/s")
}

// BenchmarkDCASEScore scores batches of 1, 64 and 4096 vectors with the
// DCASE preset's Scorer: folded (the Scorer as NewScorer makes it), with
// the per-feature errors too, and unfolded (BatchNorm run as a layer) to
// show what folding buys.
func BenchmarkDCASEScore(b *testing.B) {
	m := benchModel(b, DCASE2020())
	benchScore(b, m, []int{1, 64, 4096}, true)
}

func benchScore(b *testing.B, m *Model, batches []int, variants bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	d := m.InputDim()
	type variant struct {
		name       string
		fold, feat bool
	}
	vs := []variant{{"folded", true, false}}
	if variants {
		vs = append(vs, variant{"folded+perFeature", true, true}, variant{"unfolded", false, false})
	}
	for _, v := range vs {
		for _, n := range batches {
			b.Run(fmt.Sprintf("%s/batch=%d", v.name, n), func(b *testing.B) {
				x := randData(rng, n, d)
				s := m.newScorer(v.fold)
				scores := make([]float64, n)
				var pf []float32
				if v.feat {
					pf = make([]float32, n*d)
				}
				s.Score(scores, pf, x, n)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					s.Score(scores, pf, x, n)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
			})
		}
	}
}

// BenchmarkCAES measures the default CAES on 5×128 patches (three strided
// conv blocks, 32-unit code): a training step on 64 patches and scoring.
func BenchmarkCAES(b *testing.B) {
	cfg := Defaults(CAES, 5, 128)
	b.Run("train/batch=64", func(b *testing.B) { benchTrain(b, cfg, 64) })
	benchScore(b, benchModel(b, cfg), []int{1, 64}, false)
}

// BenchmarkDCASEFoldGain times the folded and the unfolded scorer
// alternately, one call each per iteration, and reports the fastest call
// of each: the minimum is what a shared, noisy machine disturbs least,
// and alternating exposes both to the same load. Run with
//
//	go test -run '^$' -bench DCASEFoldGain -benchtime 100x -cpu 1 ./pkg/ae/
func BenchmarkDCASEFoldGain(b *testing.B) {
	m := benchModel(b, DCASE2020())
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 64, 4096} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			x := randData(rng, n, m.InputDim())
			scores := make([]float64, n)
			f, u := m.newScorer(true), m.newScorer(false)
			f.Score(scores, nil, x, n)
			u.Score(scores, nil, x, n)
			best := [2]time.Duration{math.MaxInt64, math.MaxInt64}
			for b.Loop() {
				for i, s := range []*Scorer{f, u} {
					start := time.Now()
					s.Score(scores, nil, x, n)
					best[i] = min(best[i], time.Since(start))
				}
			}
			b.ReportMetric(float64(best[0].Nanoseconds()), "folded-ns")
			b.ReportMetric(float64(best[1].Nanoseconds()), "unfolded-ns")
			b.ReportMetric(100*(float64(best[1])/float64(best[0])-1), "gain-%")
		})
	}
}

package vae

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn"
)

// stepLoss runs one training Step with the ε draws fixed by reseeding the
// model's RNG, so the loss is a deterministic function of the parameters.
func stepLoss(m *Model, x nn.Tensor) float64 {
	m.rng = rand.New(rand.NewPCG(9, 9))
	return m.Step(x, nn.Tensor{}, true)
}

// TestStepGradients compares the gradients Step accumulates (through the
// decoder, the reparameterisation z = mu + exp(lv/2)·ε, the analytic KL
// with a weight, the heads, the dense encoder, the conv stack, BatchNorm,
// the learned decoder variance and the band tags) with central differences
// of its own loss, in float32 with the loss summed in float64: ε = 1e-2
// and a norm-wise relative tolerance of 1e-2 per parameter tensor, as the
// layer checks of pkg/nn (docs/nn.md, "Verification"). Smooth activations
// keep the check away from kinks.
func TestStepGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"dense+bands+bn", Config{T: 2, F: 3, Latent: 2, Hidden: []int{5}, Bands: 2, BatchNorm: true, Activation: Tanh}},
		{"conv+bands+bn", Config{T: 4, F: 4, Latent: 2, Hidden: []int{4}, Bands: 2, BatchNorm: true, Activation: Tanh,
			Conv: &ConvConfig{Channels: []int{2, 2}, StrideT: 2}}},
		{"conv-only", Config{T: 3, F: 5, Latent: 2, Activation: ELU, Conv: &ConvConfig{Channels: []int{2}}}},
		{"bernoulli", Config{T: 1, F: 4, Latent: 2, Hidden: []int{3}, Decoder: Bernoulli, Activation: Tanh}},
		{"linear", Config{T: 1, F: 4, Latent: 2}},
		{"fixed-variance", Config{T: 1, F: 4, Latent: 2, Hidden: []int{3}, Decoder: GaussianFixed, DecoderLogVar: -0.5, Activation: Tanh}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(4, 4))
			D, B := m.InputDim(), m.Bands()
			const N = 4
			x := nn.NewTensor(N, nn.Shape{D + B})
			for n := 0; n < N; n++ {
				r := x.Row(n)
				for j := 0; j < D; j++ {
					if c.cfg.Decoder == Bernoulli {
						r[j] = float32(rng.Float64())
					} else {
						r[j] = float32(rng.NormFloat64())
					}
				}
				if B > 0 {
					r[D+n%B] = 1
				}
			}
			for i := range m.xlv.v { // a non-trivial decoder variance
				m.xlv.v[i] = float32(0.3 * rng.NormFloat64())
			}
			m.samples, m.klWeight = 2, 0.7
			nn.ZeroGrad(m.Params())
			stepLoss(m, x)
			var analytic [][]float32
			for _, p := range m.Params() {
				analytic = append(analytic, append([]float32(nil), p.Grad...))
			}
			const h = 1e-2
			for pi, p := range m.Params() {
				var num, diff float64
				for i := range p.Data {
					v := p.Data[i]
					p.Data[i] = v + h
					lp := stepLoss(m, x)
					p.Data[i] = v - h
					lm := stepLoss(m, x)
					p.Data[i] = v
					g := (lp - lm) / (2 * h)
					a := float64(analytic[pi][i])
					num += g * g
					diff += (g - a) * (g - a)
				}
				// Floored at 1e-3 per component for gradients that are zero in
				// theory (a bias before BatchNorm), where only rounding noise
				// of about 1e-5 is compared.
				rel := math.Sqrt(diff) / math.Max(math.Sqrt(num), 1e-3*math.Sqrt(float64(len(p.Data))))
				if rel > 1e-2 {
					t.Errorf("%s: relative gradient error %.2e (|numeric| %.2e, |error| %.2e)", p.Name, rel, math.Sqrt(num), math.Sqrt(diff))
				}
			}
			nn.ZeroGrad(m.Params())
		})
	}
}

// TestTrainedEncoderFindsPosterior trains only the encoder of a
// linear-Gaussian VAE (decoder fixed at W, b, s) on data from that model:
// maximising the ELBO must drive q(z|x) to the exact posterior, whose
// weights are known in closed form (Σ Wᵀ/s² for the mean, log diag Σ for
// the log-variance bias, 0 for the log-variance weights).
func TestTrainedEncoderFindsPosterior(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	g := newLinGauss(rng, 5, []float64{2, 1}, 0.5)
	m := g.model(t, encoder{0, 0, 1}) // start from mean 0, variance of the posterior
	nets := m.Nets()
	for i := range nets.LV.B {
		nets.LV.B[i] = 0
	}
	xs := g.sample(rng, 2048)
	x := nn.View(flatten(xs), nn.Shape{g.D})
	enc := append(append([]nn.Param(nil), nets.Mu.Params()...), nets.LV.Params()...)
	const lr, steps, decay, batch = 0.05, 1500, 700, 256
	opt := nn.NewAdam(enc, lr)
	m.samples = 4
	m.rng = rand.New(rand.NewPCG(6, 6))
	for s := 0; s < steps; s++ {
		lo := (s * batch) % x.N
		m.Step(x.Slice(lo, lo+batch), nn.Tensor{}, true)
		if s > decay { // then linear decay to 0, to average out the Monte-Carlo noise
			opt.SetLR(lr * float64(steps-s) / float64(steps-decay))
		}
		opt.Step()
		nets.Dec.ZeroGrad()
	}
	var worst float64
	for j := 0; j < g.Z; j++ {
		v := 1 / (1 + g.norms[j]*g.norms[j]/g.S2)
		for i := 0; i < g.D; i++ {
			want := v * g.W[i*g.Z+j] / g.S2
			worst = max(worst, math.Abs(float64(nets.Mu.W[j*g.D+i])-want))
			worst = max(worst, math.Abs(float64(nets.LV.W[j*g.D+i])))
		}
		worst = max(worst, math.Abs(float64(nets.LV.B[j])-math.Log(v)))
	}
	t.Logf("largest deviation of the trained encoder from the exact posterior's weights: %.4f", worst)
	if worst > 0.05 {
		t.Errorf("trained encoder deviates from the exact posterior by %.4f > 0.05", worst)
	}
}

// mixture draws n points of an 8-dimensional mixture of three Gaussians
// concentrated near 2-dimensional planes (a 2-D latent plus noise 0.1).
type mixture struct {
	means, basis [][]float64
}

func newMixture(rng *rand.Rand) *mixture {
	mx := &mixture{}
	for c := 0; c < 3; c++ {
		mean := make([]float64, 8)
		basis := make([]float64, 16)
		for i := range mean {
			mean[i] = 3 * rng.NormFloat64()
		}
		for i := range basis {
			basis[i] = rng.NormFloat64()
		}
		mx.means = append(mx.means, mean)
		mx.basis = append(mx.basis, basis)
	}
	return mx
}

func (mx *mixture) sample(rng *rand.Rand, n int) []float32 {
	x := make([]float32, 0, n*8)
	for k := 0; k < n; k++ {
		c := rng.IntN(3)
		u0, u1 := rng.NormFloat64(), rng.NormFloat64()
		for i := 0; i < 8; i++ {
			v := mx.means[c][i] + u0*mx.basis[c][2*i] + u1*mx.basis[c][2*i+1] + 0.1*rng.NormFloat64()
			x = append(x, float32(v))
		}
	}
	return x
}

// outliers draws points far from the mixture: an inlier moved by N(0, 3²)
// in every coordinate.
func (mx *mixture) outliers(rng *rand.Rand, n int) []float32 {
	x := mx.sample(rng, n)
	for i := range x {
		x[i] += float32(3 * rng.NormFloat64())
	}
	return x
}

// auc is the ROC AUC of "pos scores above neg scores", by the
// Mann-Whitney count (ties count one half).
func auc(pos, neg []float64) float64 {
	type v struct {
		s   float64
		pos bool
	}
	var all []v
	for _, s := range pos {
		all = append(all, v{s, true})
	}
	for _, s := range neg {
		all = append(all, v{s, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	var u float64
	for i := 0; i < len(all); {
		j := i
		var np, nn int
		for ; j < len(all) && all[j].s == all[i].s; j++ {
			if all[j].pos {
				np++
			} else {
				nn++
			}
		}
		// Each positive in this tie group beats every negative below it
		// and half of the negatives tied with it.
		below := 0
		for k := 0; k < i; k++ {
			if !all[k].pos {
				below++
			}
		}
		u += float64(np) * (float64(below) + 0.5*float64(nn))
		i = j
	}
	return u / float64(len(pos)*len(neg))
}

func TestAUC(t *testing.T) {
	if a := auc([]float64{3, 4}, []float64{1, 2}); a != 1 {
		t.Errorf("separated: %v", a)
	}
	if a := auc([]float64{1, 2}, []float64{3, 4}); a != 0 {
		t.Errorf("reversed: %v", a)
	}
	if a := auc([]float64{1, 3}, []float64{2, 2}); a != 0.5 {
		t.Errorf("interleaved: %v", a)
	}
	if a := auc([]float64{2}, []float64{2}); a != 0.5 {
		t.Errorf("tie: %v", a)
	}
}

func scoreWith(t testing.TB, m *Model, cfg ScoreConfig, x []float32, bands []int) []float64 {
	e, err := m.NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x) / m.InputDim()
	s := make([]float64, n)
	e.ScoreBands(s, nil, x, bands, n)
	return s
}

var mixtureModel struct {
	once sync.Once
	m    *Model
	mx   *mixture
	err  error
	hist *nn.History
}

// trainMixture trains the small dense VAE on the Gaussian mixture once
// for the tests that use it (they only score with it), and returns it with
// the mixture and a fresh RNG for test data.
func trainMixture(t testing.TB) (*Model, *mixture, *rand.Rand) {
	mm := &mixtureModel
	mm.once.Do(func() {
		rng := rand.New(rand.NewPCG(7, 7))
		mm.mx = newMixture(rng)
		mm.m, mm.err = New(Config{T: 1, F: 8, Latent: 2, Hidden: []int{32, 32}, Seed: 1})
		if mm.err != nil {
			return
		}
		const n = 3000
		mm.hist, mm.err = mm.m.Train(mm.mx.sample(rng, n), nil, n, &TrainConfig{Epochs: 40, BatchSize: 64, LR: 3e-3, Seed: 2,
			ValFraction: 0.1, WarmupEpochs: 5})
	})
	if mm.err != nil {
		t.Fatal(mm.err)
	}
	if h := mm.hist; !(h.ValLoss[len(h.ValLoss)-1] < h.ValLoss[0]-1) {
		t.Errorf("validation loss %.3f → %.3f did not fall", h.ValLoss[0], h.ValLoss[len(h.ValLoss)-1])
	}
	return mm.m, mm.mx, rand.New(rand.NewPCG(70, uint64(len(t.Name()))))
}

// TestMixtureOutliers trains a VAE on a Gaussian mixture and checks that
// every score ranks held-out outliers above held-out inliers with ROC
// AUC > 0.99.
func TestMixtureOutliers(t *testing.T) {
	m, mx, rng := trainMixture(t)
	in, out := mx.sample(rng, 300), mx.outliers(rng, 300)
	for _, cfg := range []ScoreConfig{
		{Type: LogEvidence, Samples: 64},
		{Type: ELBO, Samples: 16},
		{Type: ReconProb, Samples: 16},
		{Type: Harmonic, Samples: 64, BurnIn: 16, Thin: 2},
	} {
		a := auc(scoreWith(t, m, cfg, out, nil), scoreWith(t, m, cfg, in, nil))
		t.Logf("%-12s AUC %.4f", cfg.Type, a)
		if a <= 0.99 {
			t.Errorf("%s: AUC %.4f ≤ 0.99", cfg.Type, a)
		}
	}
}

// TestPerFeature checks the per-feature NLL: its sum over bins is the
// recon-prob score with the same samples (and the ELBO score exceeds it by
// the KL), and it localises: after a deviation of 5 standard deviations
// is injected in one bin of an inlier, that bin's per-feature NLL rises
// the most in at least 75% of the patches (chance: 12.5%). Not always: the
// encoder absorbs part of a deviation by moving z, and with the sharp
// learned variances of this data (exp(v) ≈ 0.01–0.04 in standardised
// units) the shift spreads over other bins; 81–88% for deviations of 2 to
// 10 standard deviations.
func TestPerFeature(t *testing.T) {
	m, mx, rng := trainMixture(t)
	D := m.InputDim()
	const n = 100
	clean := mx.sample(rng, n)
	x := append([]float32(nil), clean...)
	for i := 0; i < n; i++ {
		j := i % D
		x[i*D+j] += 5 * m.Standardizer().Std[j]
	}
	pf := make([]float32, n*D)
	base := make([]float32, n*D)
	rp := scoreWith(t, m, ScoreConfig{Type: ReconProb, Samples: 32, Seed: 3}, x, nil)
	for _, typ := range ScoreTypes() {
		e, err := m.NewScorer(ScoreConfig{Type: typ, Samples: 32, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		s := make([]float64, n)
		e.Score(s, base, clean, n)
		e.Score(s, pf, x, n)
		hits := 0
		for i := 0; i < n; i++ {
			row := pf[i*D : (i+1)*D]
			var sum float64
			best := 0
			for j, v := range row {
				sum += float64(v)
				if v-base[i*D+j] > row[best]-base[i*D+best] {
					best = j
				}
			}
			if typ != Harmonic { // Harmonic averages over its M = BurnIn + K proposals
				if d := math.Abs(sum - rp[i]); d > 1e-5*math.Abs(rp[i])+1e-4 {
					t.Errorf("%s, patch %d: Σ per-feature %.6f, recon-prob %.6f", typ, i, sum, rp[i])
				}
			}
			if typ == ELBO {
				if kl := s[i] - rp[i]; !(kl > 0) {
					t.Errorf("patch %d: elbo − recon-prob = KL = %v, want > 0", i, kl)
				}
			}
			if best == i%D {
				hits++
			}
		}
		t.Logf("%s: the injected bin's per-feature NLL rose the most in %d of %d patches", typ, hits, n)
		if hits < n*75/100 {
			t.Errorf("%s: localised %d of %d", typ, hits, n)
		}
	}
}

// TestScoreDeterministic checks that a patch's score depends only on the
// patch and the seed: equal across calls, batch sizes and positions, and
// different for another seed. A batch of one takes other GEMM kernels than a
// batch of fifty (pkg/nn/internal/gemm picks row and dot kernels for small
// products), so "alone" agrees to float32 rounding, not bit for bit.
func TestScoreDeterministic(t *testing.T) {
	m, mx, rng := trainMixture(t)
	D := m.InputDim()
	x := mx.sample(rng, 50)
	for _, typ := range ScoreTypes() {
		cfg := ScoreConfig{Type: typ, Samples: 8, Seed: 11, MaxRows: 64}
		all := scoreWith(t, m, cfg, x, nil)
		again := scoreWith(t, m, cfg, x, nil)
		for i := range all {
			one := scoreWith(t, m, cfg, x[i*D:(i+1)*D], nil)[0]
			if all[i] != again[i] || math.Abs(one-all[i]) > 1e-4*math.Max(1, math.Abs(all[i])) {
				t.Fatalf("%s, patch %d: batch %v, repeat %v, alone %v", typ, i, all[i], again[i], one)
			}
		}
		cfg.Seed = 12
		other := scoreWith(t, m, cfg, x, nil)
		if other[0] == all[0] {
			t.Errorf("%s: seeds 11 and 12 give the same score", typ)
		}
	}
}

// TestTrainDeterministic trains twice with equal seeds (bit-identical
// blobs) and once with another seed (different).
func TestTrainDeterministic(t *testing.T) {
	train := func(seed uint64) []byte {
		rng := rand.New(rand.NewPCG(1, 2))
		m, err := New(Config{T: 2, F: 4, Latent: 2, Hidden: []int{8}, BatchNorm: true, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 200*8)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		if _, err := m.Train(x, nil, 200, &TrainConfig{Epochs: 3, BatchSize: 32, Seed: seed, ValFraction: 0.2}); err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := train(1), train(1), train(2)
	if !bytes.Equal(a, b) {
		t.Error("equal seeds gave different models")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same model")
	}
}

// TestKLWarmup checks the KL weight that Train sets before each step:
// β·min(1, t/WarmupEpochs) at progress t, β without warm-up.
func TestKLWarmup(t *testing.T) {
	m, err := New(Config{T: 1, F: 4, Latent: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*100)
	for i := range x {
		x[i] = float32(i % 7)
	}
	var got []float64
	_, err = m.Train(x, nil, 100, &TrainConfig{Epochs: 3, BatchSize: 25, Beta: 0.5, WarmupEpochs: 2,
		OnEpoch: func(nn.EpochStats) error { got = append(got, m.klWeight); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// Last step of epoch e (from 0) is at t = e + 3/4.
	want := []float64{0.5 * 0.75 / 2, 0.5 * 1.75 / 2, 0.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("epoch %d: KL weight %v, want %v", i+1, got[i], want[i])
		}
	}
	if m.klWeight != 1 {
		t.Errorf("after Train the KL weight is %v, want 1", m.klWeight)
	}
}

// TestBands trains one model on two bands with different data and checks
// that a band's patches scored with the wrong band tag look anomalous.
func TestBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	mxA, mxB := newMixture(rng), newMixture(rng)
	const n = 2000
	x := make([]float32, 0, n*8)
	bands := make([]int, n)
	for i := 0; i < n; i++ {
		bands[i] = i % 2
		if bands[i] == 0 {
			x = append(x, mxA.sample(rng, 1)...)
		} else {
			x = append(x, mxB.sample(rng, 1)...)
		}
	}
	m, err := New(Config{T: 1, F: 8, Latent: 2, Hidden: []int{32, 32}, Bands: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(x, bands, n, &TrainConfig{Epochs: 30, BatchSize: 64, LR: 3e-3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	test := mxA.sample(rng, 200)
	right, wrong := make([]int, 200), make([]int, 200)
	for i := range wrong {
		wrong[i] = 1
	}
	cfg := ScoreConfig{Type: LogEvidence, Samples: 32}
	a := auc(scoreWith(t, m, cfg, test, wrong), scoreWith(t, m, cfg, test, right))
	t.Logf("band-0 patches tagged band 1 vs band 0: AUC %.4f", a)
	if a <= 0.99 {
		t.Errorf("wrong band tag AUC %.4f ≤ 0.99", a)
	}
	e, _ := m.NewScorer(cfg)
	mustPanic(t, "Score on a tagged model", func() { e.Score(make([]float64, 1), nil, test, 1) })
	mustPanic(t, "band out of range", func() { e.ScoreBands(make([]float64, 1), nil, test, []int{2}, 1) })
	if _, err := m.Train(x, []int{5}, 1, nil); !errors.Is(err, ErrData) {
		t.Errorf("training with band 5 of 2: %v, want ErrData", err)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

// patches draws T×F spectrogram-like patches: a few harmonic lines at
// random positions with random gains over a noise floor; outliers add a
// broadband burst to one frame.
func patches(rng *rand.Rand, n, T, F int, outlier bool) []float32 {
	x := make([]float32, n*T*F)
	for i := 0; i < n; i++ {
		p := x[i*T*F : (i+1)*T*F]
		f0 := 1 + rng.IntN(3)
		gain := 1 + 0.3*rng.NormFloat64()
		for t := 0; t < T; t++ {
			for f := 0; f < F; f++ {
				v := 0.1 * rng.NormFloat64()
				if f%(f0+1) == 0 {
					v += gain
				}
				p[t*F+f] = float32(v)
			}
		}
		if outlier {
			t := rng.IntN(T)
			for f := 0; f < F; f++ {
				p[t*F+f] += float32(1.5 + 0.3*rng.NormFloat64())
			}
		}
	}
	return x
}

// TestConv trains the convolutional VAE on spectrogram-like patches and
// checks that its validation loss falls, bursts are detected, and a new
// spectral line (a tone in a bin that never holds a harmonic) is
// localised: summed over the frames, the per-feature NLL rises most at
// that bin in at least 90% of the patches.
func TestConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const T, F, n = 4, 16, 1500
	m, err := New(Config{T: T, F: F, Latent: 4, Hidden: []int{32}, BatchNorm: true, Seed: 2,
		Conv: &ConvConfig{Channels: []int{8, 8}, StrideT: 2, StrideF: 2}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Train(patches(rng, n, T, F, false), nil, n, &TrainConfig{Epochs: 15, BatchSize: 64, LR: 3e-3, ValFraction: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := h.ValLoss[0], h.ValLoss[len(h.ValLoss)-1]; !(last < first) {
		t.Errorf("validation loss %.3f → %.3f did not fall", first, last)
	}
	for _, typ := range ScoreTypes() {
		cfg := ScoreConfig{Type: typ, Samples: 16}
		a := auc(scoreWith(t, m, cfg, patches(rng, 100, T, F, true), nil), scoreWith(t, m, cfg, patches(rng, 100, T, F, false), nil))
		t.Logf("conv, %-12s AUC %.4f", typ, a)
		if a <= 0.95 {
			t.Errorf("conv %s: AUC %.4f ≤ 0.95", typ, a)
		}
	}

	const tone, n2 = 7, 50 // 7 is not a multiple of 2, 3 or 4
	clean := patches(rng, n2, T, F, false)
	x := append([]float32(nil), clean...)
	for i := 0; i < n2; i++ {
		for t := 0; t < T; t++ {
			x[i*T*F+t*F+tone] += 1
		}
	}
	e, _ := m.NewScorer(ScoreConfig{Type: LogEvidence, Samples: 16})
	s := make([]float64, n2)
	base, pf := make([]float32, n2*T*F), make([]float32, n2*T*F)
	e.Score(s, base, clean, n2)
	e.Score(s, pf, x, n2)
	hits := 0
	for i := 0; i < n2; i++ {
		rise := make([]float64, F)
		for j := 0; j < T*F; j++ {
			rise[j%F] += float64(pf[i*T*F+j] - base[i*T*F+j])
		}
		best := 0
		for f := range rise {
			if rise[f] > rise[best] {
				best = f
			}
		}
		if best == tone {
			hits++
		}
	}
	t.Logf("conv: a tone at bin %d is where the per-feature NLL rose most in %d of %d patches", tone, hits, n2)
	if hits < n2*9/10 {
		t.Errorf("tone localised in %d of %d patches", hits, n2)
	}
}

// TestBernoulli trains a Bernoulli-decoder VAE on noisy binary prototypes
// and checks that random bit patterns score higher, and that data outside
// [0, 1] is refused.
func TestBernoulli(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	const D = 16
	protos := make([][]float32, 4)
	for i := range protos {
		protos[i] = make([]float32, D)
		for j := range protos[i] {
			protos[i][j] = float32(rng.IntN(2))
		}
	}
	draw := func(n int, random bool) []float32 {
		x := make([]float32, 0, n*D)
		for i := 0; i < n; i++ {
			p := protos[rng.IntN(4)]
			for j := 0; j < D; j++ {
				v := p[j]
				if random {
					v = float32(rng.IntN(2))
				} else if rng.Float64() < 0.03 {
					v = 1 - v
				}
				x = append(x, v)
			}
		}
		return x
	}
	m, err := New(Config{T: 1, F: D, Latent: 2, Hidden: []int{32}, Decoder: Bernoulli, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(draw(2000, false), nil, 2000, &TrainConfig{Epochs: 20, BatchSize: 64, LR: 3e-3}); err != nil {
		t.Fatal(err)
	}
	if m.Standardizer() != nil {
		t.Error("a Bernoulli model was standardised")
	}
	for _, typ := range ScoreTypes() {
		cfg := ScoreConfig{Type: typ, Samples: 32}
		a := auc(scoreWith(t, m, cfg, draw(200, true), nil), scoreWith(t, m, cfg, draw(200, false), nil))
		t.Logf("bernoulli, %-12s AUC %.4f", typ, a)
		if a <= 0.95 {
			t.Errorf("bernoulli %s: AUC %.4f ≤ 0.95", typ, a)
		}
	}
}

func TestTrainRejectsBadData(t *testing.T) {
	m, _ := New(Config{T: 1, F: 2, Latent: 1, Decoder: Bernoulli})
	if _, err := m.Train([]float32{0.5, 2}, nil, 1, nil); !errors.Is(err, ErrData) {
		t.Errorf("value 2 for a Bernoulli decoder: %v, want ErrData", err)
	}
	g, _ := New(Config{T: 1, F: 2, Latent: 1})
	if _, err := g.Train([]float32{0.5, float32(math.NaN())}, nil, 1, nil); !errors.Is(err, ErrData) {
		t.Errorf("NaN: %v, want ErrData", err)
	}
	if _, err := g.Train(nil, nil, 0, nil); !errors.Is(err, ErrData) {
		t.Errorf("no patches: %v, want ErrData", err)
	}
	mustPanic(t, "short x", func() { g.Train([]float32{1}, nil, 1, nil) })
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{T: 0, F: 4, Latent: 1},
		{T: 1, F: 4, Latent: 0},
		{T: 1, F: 4, Latent: 1, Hidden: []int{0}},
		{T: 1, F: 4, Latent: 1, Decoder: "poisson"},
		{T: 1, F: 4, Latent: 1, Activation: "swish"},
		{T: 1, F: 4, Latent: 1, Bands: -1},
		{T: 1, F: 4, Latent: 1, DecoderLogVar: math.NaN()},
		{T: 1, F: 4, Latent: 1, Conv: &ConvConfig{}},
		{T: 2, F: 4, Latent: 1, Conv: &ConvConfig{Channels: []int{2}, KernelT: 100}},
		{T: 2, F: 4, Latent: 1, Conv: &ConvConfig{Channels: []int{2}, StrideF: -1}},
		{T: 1 << 11, F: 1 << 11, Latent: 1},
		{T: 1, F: 1024, Latent: 1, Hidden: []int{60000, 60000}},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", c, err)
		}
	}
	m, _ := New(Config{T: 1, F: 4, Latent: 1})
	for _, c := range []ScoreConfig{{Type: 7}, {Samples: -1}, {Type: Harmonic, Thin: -2}, {Samples: 1 << 25}} {
		if _, err := m.NewScorer(c); err == nil {
			t.Errorf("NewScorer(%+v) accepted", c)
		}
	}
}

func TestParseScoreType(t *testing.T) {
	for _, typ := range ScoreTypes() {
		got, err := ParseScoreType(typ.String())
		if err != nil || got != typ {
			t.Errorf("ParseScoreType(%q) = %v, %v", typ.String(), got, err)
		}
		b, _ := typ.MarshalText()
		var u ScoreType
		if err := u.UnmarshalText(b); err != nil || u != typ {
			t.Errorf("text round trip of %v: %v, %v", typ, u, err)
		}
	}
	if _, err := ParseScoreType("likelihood"); !errors.Is(err, ErrScoreType) {
		t.Errorf("unknown name: %v", err)
	}
	if s := ScoreType(9).String(); s != "ScoreType(9)" {
		t.Errorf("String of an unknown type: %q", s)
	}
}

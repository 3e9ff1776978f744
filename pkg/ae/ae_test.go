package ae

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/mhmstream/mhm/pkg/nn"
)

// lowRank returns n vectors of d values x = m + Σ_i c_i·s_i·b_i + σ·ε: a
// mean m, k orthonormal directions b_i with scales s_i = 3, 2.5, 2, ...
// and standard normal coefficients c_i, and white noise of deviation
// noise. It also returns the noiseless vectors.
func lowRank(rng *rand.Rand, n, d, k int, noise float64) (x, clean []float32) {
	// Orthonormal directions from the QR factorisation of a Gaussian matrix.
	g := mat.NewDense(d, k, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < k; j++ {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	mean := make([]float64, d)
	for j := range mean {
		mean[j] = rng.NormFloat64()
	}
	x = make([]float32, n*d)
	clean = make([]float32, n*d)
	for r := 0; r < n; r++ {
		row := clean[r*d : (r+1)*d]
		for j := range row {
			row[j] = float32(mean[j])
		}
		for i := 0; i < k; i++ {
			c := rng.NormFloat64() * (3 - 0.5*float64(i))
			for j := range row {
				row[j] += float32(c * q.At(j, i))
			}
		}
		for j, v := range row {
			x[r*d+j] = v + float32(noise*rng.NormFloat64())
		}
	}
	return x, clean
}

// pcaError returns the mean squared error (per value) of reconstructing the
// n×d data x from its mean and first k principal components: the sum of
// the squared singular values of the centred data beyond the k-th, divided
// by n·d (Eckart–Young), computed with gonum's SVD.
func pcaError(x []float32, n, d, k int) float64 {
	a := mat.NewDense(n, d, nil)
	for j := 0; j < d; j++ {
		var m float64
		for r := 0; r < n; r++ {
			m += float64(x[r*d+j])
		}
		m /= float64(n)
		for r := 0; r < n; r++ {
			a.Set(r, j, float64(x[r*d+j])-m)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDNone) {
		panic("SVD failed")
	}
	var e float64
	for _, s := range svd.Values(nil)[k:] {
		e += s * s
	}
	return e / float64(n*d)
}

// meanScore returns the mean of a model's scores on x.
func meanScore(m *Model, x []float32, n int) float64 {
	s := make([]float64, n)
	m.NewScorer().Score(s, nil, x, n)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(n)
}

// TestLinearAEMatchesPCA: an autoencoder with a linear code of size k
// (d → k → d, no nonlinearity) trained on data of rank k plus small noise
// learns the principal subspace, so its reconstruction error reaches PCA's
// with k components, the optimum of any rank-k linear reconstruction
// (Baldi & Hornik 1989); required within 10%.
func TestLinearAEMatchesPCA(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, d, k = 2000, 32, 4
	x, _ := lowRank(rng, n, d, k, 0.1)
	want := pcaError(x, n, d, k)
	cfg := Config{Kind: Dense, Frames: 1, Bins: d, Code: k, NoStandardize: true, LearningRate: 1e-2, Seed: 1}
	const epochs = 150
	m, h, err := Train(cfg, x, n, d, &nn.FitConfig{Epochs: epochs, BatchSize: 64, Seed: 1,
		Schedule: nn.CosineLR(1e-2, 1e-4, epochs, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := meanScore(m, x, n)
	t.Logf("linear AE error %.5f, PCA(%d) %.5f, ratio %.3f; first epoch loss %.4f", got, k, want, got/want, h.TrainLoss[0])
	if got > 1.1*want {
		t.Fatalf("AE error %.5f is more than 10%% above PCA's %.5f", got, want)
	}
	if got < 0.98*want {
		t.Fatalf("AE error %.5f below PCA's optimum %.5f: the error is mismeasured", got, want)
	}
}

// sqDist returns Σ (a−b)² over the first n values.
func sqDist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return s
}

// denoiseRatio trains cfg on the first n clean-ish rows of rank-4 data and
// returns Σ‖x̂(x̃) − x‖² / Σ‖x̃ − x‖² over nt fresh rows x corrupted like the
// training input: Gaussian noise of σ = 0.5 standardised units, i.e.
// 0.5·Std_j in input units. Below 1, the model denoises.
func denoiseRatio(t *testing.T, cfg Config, sigma float64) float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, 2))
	const n, nt, d, k = 2000, 500, 32, 4
	x, clean := lowRank(rng, n+nt, d, k, 0.01)
	cfg.Seed = 2
	m, _, err := Train(cfg, x[:n*d], n, d, &nn.FitConfig{Epochs: 15, BatchSize: 64, Seed: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clean = clean[n*d:]
	noisy := make([]float32, len(clean))
	std := m.Standardizer().Std
	for i, v := range clean {
		noisy[i] = v + float32(sigma*float64(std[i%d])*rng.NormFloat64())
	}
	out := make([]float32, len(clean))
	m.NewScorer().Reconstruct(out, noisy, nt)
	return sqDist(out, clean) / sqDist(noisy, clean)
}

// TestDenoisingAEDenoises: a denoising autoencoder's reconstruction of a
// noisy input is closer to the clean signal than the noisy input is. With
// the Denoising defaults (a bottleneck of 8) the bottleneck alone already
// removes noise; an overcomplete one (code 64 > 32 inputs) shows the
// corruption's own effect: trained without it, the network learns to copy
// the noise through; with it, it denoises.
func TestDenoisingAEDenoises(t *testing.T) {
	cfg := Defaults(Denoising, 1, 32) // σ = 0.5, BatchNorm+ReLU, code 8 with BatchNorm+ReLU
	cfg.Hidden = []int{64, 64}        // narrower than the default 128 ×4, for speed
	sigma := cfg.Corruption.Sigma
	if r := denoiseRatio(t, cfg, sigma); r >= 0.5 {
		t.Fatalf("bottleneck DAE: reconstruction error / input noise = %.3f, want < 0.5", r)
	} else {
		t.Logf("bottleneck DAE: reconstruction error / input noise = %.3f", r)
	}
	over := Config{Kind: Denoising, Frames: 1, Bins: 32, Hidden: []int{64}, Code: 64, BatchNorm: true,
		CodeActivation: ReLU, Corruption: Corruption{Sigma: sigma}}
	dae := denoiseRatio(t, over, sigma)
	over.Kind, over.Corruption = Dense, Corruption{}
	plain := denoiseRatio(t, over, sigma)
	t.Logf("overcomplete: reconstruction error / input noise = %.3f denoising, %.3f plain", dae, plain)
	if dae >= 0.5 || dae >= 0.6*plain {
		t.Fatalf("overcomplete DAE ratio %.3f, plain AE %.3f: want < 0.5 and < 0.6 × plain", dae, plain)
	}
}

// meanCode returns the mean code value and the mean |code| of a model on x.
func meanCode(m *Model, x []float32, n int) (mean, meanAbs float64) {
	s := m.NewScorer()
	k := s.CodeDim()
	z := make([]float32, n*k)
	s.Encode(z, x, n)
	for _, v := range z {
		mean += float64(v)
		meanAbs += math.Abs(float64(v))
	}
	return mean / float64(len(z)), meanAbs / float64(len(z))
}

// TestSparseKL: with the KL penalty toward ρ = 0.05 the mean activation of
// the sigmoid code units approaches ρ; without it, it stays far above.
func TestSparseKL(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n, d = 1000, 32
	x, _ := lowRank(rng, n, d, 6, 0.1)
	fit := &nn.FitConfig{Epochs: 20, BatchSize: 64, Seed: 3}
	cfg := Defaults(Sparse, 1, d)
	m, p := trainWithoutPenalty(t, cfg, x, n, d, fit)
	got, _ := meanCode(m, x, n)
	ref, _ := meanCode(p, x, n)
	t.Logf("mean code activation: KL(ρ=%.2f, β=%.2f) %.4f, no penalty %.4f; reconstruction %.4f vs %.4f",
		cfg.Sparsity.Rho, cfg.Sparsity.Beta, got, ref, meanScore(m, x, n), meanScore(p, x, n))
	if math.Abs(got-cfg.Sparsity.Rho) > 0.3*cfg.Sparsity.Rho {
		t.Fatalf("mean activation %.4f, want ρ = %.2f within 30%%", got, cfg.Sparsity.Rho)
	}
	if ref < 4*cfg.Sparsity.Rho {
		t.Fatalf("without the penalty the mean activation is %.4f: the test does not discriminate", ref)
	}
}

// trainWithoutPenalty trains cfg and, on the same data and fit, the same
// network as a plain dense autoencoder without the sparsity penalty: the
// reference a sparsity test compares with.
func trainWithoutPenalty(t *testing.T, cfg Config, x []float32, n, d int, fit *nn.FitConfig) (m, plain *Model) {
	t.Helper()
	m, _, err := Train(cfg, x, n, d, fit, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg
	pc.Kind, pc.Sparsity = Dense, Sparsity{}
	plain, _, err = Train(pc, x, n, d, fit, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, plain
}

// TestSparseL1: the L1 penalty on a ReLU code reduces its mean |code|.
func TestSparseL1(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, d = 2000, 32
	x, _ := lowRank(rng, n, d, 6, 0.1)
	fit := &nn.FitConfig{Epochs: 20, BatchSize: 64, Seed: 4}
	cfg := Config{Kind: Sparse, Frames: 1, Bins: d, Hidden: []int{64}, Code: 32, BatchNorm: true,
		CodeActivation: ReLU, Sparsity: Sparsity{L1: 0.05}, Seed: 4}
	m, p := trainWithoutPenalty(t, cfg, x, n, d, fit)
	_, got := meanCode(m, x, n)
	_, ref := meanCode(p, x, n)
	t.Logf("mean |code|: L1(λ=%.2f) %.4f, no penalty %.4f; reconstruction %.4f vs %.4f",
		cfg.Sparsity.L1, got, ref, meanScore(m, x, n), meanScore(p, x, n))
	if got > 0.5*ref {
		t.Fatalf("mean |code| %.4f with L1, %.4f without: not reduced by half", got, ref)
	}
}

// harmonicPatches returns n structured T×F patches: a harmonic series with
// a random fundamental bin and decaying, time-modulated partials on a
// sloped floor, plus a little noise (log-spectrogram-like).
func harmonicPatches(rng *rand.Rand, n, T, F int) []float32 {
	x := make([]float32, n*T*F)
	for r := 0; r < n; r++ {
		f0 := 2 + rng.Float64()*5
		amp := 1 + rng.Float64()
		phase := rng.Float64() * 2 * math.Pi
		for ti := 0; ti < T; ti++ {
			mod := 1 + 0.3*math.Sin(phase+float64(ti))
			for f := 0; f < F; f++ {
				v := -0.05 * float64(f)
				for h := 1; float64(h)*f0 < float64(F); h++ {
					dist := float64(f) - float64(h)*f0
					v += amp * mod / float64(h) * math.Exp(-dist*dist)
				}
				x[(r*T+ti)*F+f] = float32(v + 0.005*rng.NormFloat64())
			}
		}
	}
	return x
}

// TestCAESTrains: a CAES (two strided Conv2D blocks of 8 and 16 channels,
// 4×4 kernels with stride 2, a 32-unit dense code, the mirror in
// ConvTranspose2D) on structured 8×32 patches reaches a validation error far
// below the data's variance (1 per value once standardised: the error of
// predicting the mean). Smaller than Defaults(CAES) to keep the test fast.
func TestCAESTrains(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, T, F = 1200, 8, 32
	x := harmonicPatches(rng, n, T, F)
	cfg := Config{Kind: CAES, Frames: T, Bins: F, Code: 32, BatchNorm: true, Seed: 5, LearningRate: 1e-2,
		Conv: []ConvLayer{
			{Channels: 8, KH: 4, KW: 4, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
			{Channels: 16, KH: 4, KW: 4, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		}}
	_, h, err := Train(cfg, x, n, T*F, &nn.FitConfig{Epochs: 15, BatchSize: 32, Seed: 5, ValFraction: 0.2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := h.ValLoss[len(h.ValLoss)-1]
	t.Logf("CAES training loss per epoch: %.4f\nvalidation: %.4f", h.TrainLoss, h.ValLoss)
	if last > 0.1 {
		t.Fatalf("validation MSE %.4f in standardised units, want < 0.1 (variance 1)", last)
	}
}

package vae

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// linGauss is the linear-Gaussian VAE
//
//	p(z) = N(0, I_Z),  p(x|z) = N(Wz + b, s² I_D)
//
// whose evidence is known in closed form, p(x) = N(x; b, WWᵀ + s² I). W has
// orthogonal columns of norms n_i, so the exact posterior
//
//	p(z|x) = N(Σ Wᵀ(x − b)/s², Σ),  Σ = (I + WᵀW/s²)⁻¹ = diag(1/(1 + n_i²/s²))
//
// is diagonal and a VAE encoder (a Dense mu head and a bias-only
// log-variance head) can represent it exactly.
type linGauss struct {
	D, Z  int
	W     []float64 // D×Z, row-major
	B     []float64
	S2    float64
	norms []float64 // column norms n_i
	U     *mat.Dense
}

func newLinGauss(rng *rand.Rand, D int, norms []float64, s float64) *linGauss {
	Z := len(norms)
	a := mat.NewDense(D, Z, nil)
	for i := 0; i < D; i++ {
		for j := 0; j < Z; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q) // D×D orthogonal; its first Z columns span a
	g := &linGauss{D: D, Z: Z, W: make([]float64, D*Z), B: make([]float64, D), S2: s * s, norms: norms,
		U: mat.NewDense(D, Z, nil)}
	for i := 0; i < D; i++ {
		for j := 0; j < Z; j++ {
			g.U.Set(i, j, q.At(i, j))
			g.W[i*Z+j] = q.At(i, j) * norms[j]
		}
		g.B[i] = rng.NormFloat64()
	}
	return g
}

// logEvidence returns log N(x; b, WWᵀ + s²I), computed with a Cholesky
// factorisation in float64.
func (g *linGauss) logEvidence(x []float64) float64 {
	w := mat.NewDense(g.D, g.Z, g.W)
	var c mat.SymDense
	c.SymOuterK(1, w)
	for i := 0; i < g.D; i++ {
		c.SetSym(i, i, c.At(i, i)+g.S2)
	}
	var ch mat.Cholesky
	if !ch.Factorize(&c) {
		panic("covariance not positive definite")
	}
	r := make([]float64, g.D)
	for i := range r {
		r[i] = x[i] - g.B[i]
	}
	rv := mat.NewVecDense(g.D, r)
	var sol mat.VecDense
	if err := ch.SolveVecTo(&sol, rv); err != nil {
		panic(err)
	}
	return -0.5 * (float64(g.D)*math.Log(2*math.Pi) + ch.LogDet() + mat.Dot(rv, &sol))
}

// posterior returns the exact posterior mean and variances of z given x.
func (g *linGauss) posterior(x []float64) (mean, vars []float64) {
	mean = make([]float64, g.Z)
	vars = make([]float64, g.Z)
	for j := 0; j < g.Z; j++ {
		vars[j] = 1 / (1 + g.norms[j]*g.norms[j]/g.S2)
		var s float64
		for i := 0; i < g.D; i++ {
			s += g.W[i*g.Z+j] * (x[i] - g.B[i])
		}
		mean[j] = vars[j] * s / g.S2
	}
	return mean, vars
}

// sample draws n points from the model.
func (g *linGauss) sample(rng *rand.Rand, n int) [][]float64 {
	s := math.Sqrt(g.S2)
	xs := make([][]float64, n)
	for k := range xs {
		z := make([]float64, g.Z)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		x := make([]float64, g.D)
		for i := range x {
			x[i] = g.B[i] + s*rng.NormFloat64()
			for j := range z {
				x[i] += g.W[i*g.Z+j] * z[j]
			}
		}
		xs[k] = x
	}
	return xs
}

// encoder describes a linear encoder q(z|x) = N(A(x − b) + c, diag v):
// meanScale scales the exact posterior's A, meanShift is c, varScale
// multiplies the exact posterior variances.
type encoder struct{ meanScale, meanShift, varScale float64 }

var (
	exact     = encoder{1, 0, 1}
	perturbed = encoder{0.9, 0.05, 1.5} // mean shrunk 10% and shifted, variance ×1.5
)

// model builds the VAE with the linear-Gaussian decoder (GaussianFixed,
// log-variance log s²) and the given encoder, without standardisation.
func (g *linGauss) model(t testing.TB, enc encoder) *Model {
	m, err := New(Config{T: 1, F: g.D, Latent: g.Z, Decoder: GaussianFixed, DecoderLogVar: math.Log(g.S2), NoStandardize: true})
	if err != nil {
		t.Fatal(err)
	}
	n := m.Nets()
	if n.Enc != nil || n.Conv != nil || len(n.Dec.Layers) != 1 {
		t.Fatalf("not a linear VAE: %+v", n)
	}
	d := n.Dec.Params()
	for i, v := range g.W { // Dense(Z→D) weight is D×Z: exactly W
		d[0].Data[i] = float32(v)
	}
	for i, v := range g.B {
		d[1].Data[i] = float32(v)
	}
	for j := 0; j < g.Z; j++ {
		v := 1 / (1 + g.norms[j]*g.norms[j]/g.S2)
		var ab float64
		for i := 0; i < g.D; i++ {
			a := enc.meanScale * v * g.W[i*g.Z+j] / g.S2
			n.Mu.W[j*g.D+i] = float32(a)
			ab += a * g.B[i]
			n.LV.W[j*g.D+i] = 0
		}
		n.Mu.B[j] = float32(enc.meanShift - ab)
		n.LV.B[j] = float32(math.Log(enc.varScale * v))
	}
	return m
}

func flatten(xs [][]float64) []float32 {
	var out []float32
	for _, x := range xs {
		for _, v := range x {
			out = append(out, float32(v))
		}
	}
	return out
}

// scores runs one estimator over the points.
func scoreAll(t testing.TB, m *Model, cfg ScoreConfig, xs [][]float64) ([]float64, *Estimator) {
	e, err := m.NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]float64, len(xs))
	e.Score(s, nil, flatten(xs), len(xs))
	return s, e
}

// TestLogEvidenceClosedForm checks the importance-sampling estimate of
// log p(x) (the IWAE bound) against the exact evidence of a linear-Gaussian
// VAE: with a perturbed encoder its error shrinks with K and is below 0.05
// nats averaged over the batch at K = 5000; with the exact posterior as
// encoder every importance weight equals p(x), so even K = 1 is exact.
func TestLogEvidenceClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := newLinGauss(rng, 6, []float64{2, 1}, 0.5)
	xs := g.sample(rng, 32)
	want := make([]float64, len(xs))
	for i, x := range xs {
		want[i] = g.logEvidence(x)
	}

	m := g.model(t, exact)
	got, _ := scoreAll(t, m, ScoreConfig{Type: LogEvidence, Samples: 1}, xs)
	for i := range xs {
		if d := math.Abs(-got[i] - want[i]); d > 1e-3 {
			t.Errorf("exact encoder, K=1, point %d: log p̂ %.5f, exact %.5f", i, -got[i], want[i])
		}
	}

	m = g.model(t, perturbed)
	prev := math.Inf(1)
	for _, K := range []int{1, 10, 100, 1000, 5000} {
		got, _ := scoreAll(t, m, ScoreConfig{Type: LogEvidence, Samples: K, Seed: 7}, xs)
		var mae, bias float64
		for i := range xs {
			d := -got[i] - want[i]
			mae += math.Abs(d)
			bias += d
		}
		mae /= float64(len(xs))
		bias /= float64(len(xs))
		t.Logf("log-evidence, perturbed encoder, K=%4d: mean |error| %.4f nats, mean error %+.4f", K, mae, bias)
		if mae >= prev {
			t.Errorf("K=%d: error %.4f did not shrink from %.4f", K, mae, prev)
		}
		prev = mae
		if K == 5000 && mae > 0.05 {
			t.Errorf("K=5000: mean |error| %.4f > 0.05 nats", mae)
		}
	}
}

// elboMoments returns the analytic ELBO of x under the encoder and the
// standard deviation of one Monte-Carlo term log p(x|z), z ~ q:
//
//	E_q log p(x|z) = −(D/2) log 2πs² − (|u|² + Σ_i n_i² v_i)/(2s²),  u = x − b − W m
//	Var_q log p(x|z) = (4 Σ_i (Wᵀu)_i² v_i + 2 Σ_i n_i⁴ v_i²)/(4 s⁴)
//
// (W has orthogonal columns).
func (g *linGauss) elboMoments(x []float64, enc encoder) (elbo, sd float64) {
	mean, vars := g.posterior(x)
	var kl, tr, uu, v1, v2 float64
	u := make([]float64, g.D)
	for i := range u {
		u[i] = x[i] - g.B[i]
	}
	m := make([]float64, g.Z)
	for j := range m {
		m[j] = enc.meanScale*mean[j] + enc.meanShift
		v := enc.varScale * vars[j]
		vars[j] = v
		kl += 0.5 * (m[j]*m[j] + v - 1 - math.Log(v))
		tr += g.norms[j] * g.norms[j] * v
		for i := range u {
			u[i] -= g.W[i*g.Z+j] * m[j]
		}
	}
	for i := range u {
		uu += u[i] * u[i]
	}
	for j := 0; j < g.Z; j++ {
		var wu float64
		for i := range u {
			wu += g.W[i*g.Z+j] * u[i]
		}
		v1 += wu * wu * vars[j]
		n2 := g.norms[j] * g.norms[j]
		v2 += n2 * n2 * vars[j] * vars[j]
	}
	rec := -0.5*float64(g.D)*math.Log(2*math.Pi*g.S2) - (uu+tr)/(2*g.S2)
	return rec - kl, math.Sqrt(4*v1+2*v2) / (2 * g.S2)
}

// TestELBOClosedForm checks the ELBO score: its Monte-Carlo estimate
// (L = 1000, analytic KL) agrees with the analytic ELBO within 4 standard
// errors, lies below log p(x) for every point with a perturbed encoder,
// and equals log p(x) within 4 standard errors with the exact posterior.
func TestELBOClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	g := newLinGauss(rng, 6, []float64{2, 1}, 0.5)
	xs := g.sample(rng, 32)
	const L = 1000
	for _, c := range []struct {
		name string
		enc  encoder
	}{{"perturbed", perturbed}, {"exact", exact}} {
		m := g.model(t, c.enc)
		got, _ := scoreAll(t, m, ScoreConfig{Type: ELBO, Samples: L, Seed: 3}, xs)
		var worst, gap float64
		for i, x := range xs {
			lp := g.logEvidence(x)
			elbo, sd := g.elboMoments(x, c.enc)
			tol := 4 * sd / math.Sqrt(L)
			est := -got[i]
			if d := math.Abs(est - elbo); d > tol {
				t.Errorf("%s, point %d: ELBO estimate %.4f, analytic %.4f, tolerance %.4f", c.name, i, est, elbo, tol)
			}
			worst = max(worst, math.Abs(est-elbo)/tol*4)
			gap += lp - est
			switch c.enc {
			case exact:
				if d := math.Abs(est - lp); d > tol {
					t.Errorf("exact posterior, point %d: ELBO %.4f, log p(x) %.4f, tolerance %.4f", i, est, lp, tol)
				}
			default:
				if est >= lp {
					t.Errorf("%s, point %d: ELBO %.4f is not below log p(x) %.4f", c.name, i, est, lp)
				}
			}
		}
		t.Logf("ELBO, %s encoder, L=%d: mean log p(x) − ELBO %.4f nats; largest deviation from the analytic ELBO %.2f standard errors",
			c.name, L, gap/float64(len(xs)), worst)
	}
}

// harmonicRho returns the relative variance ρ(x) = Var[p(x|z)⁻¹]/E[p(x|z)⁻¹]²
// of one harmonic-mean term under the exact posterior,
//
//	1 + ρ(x) = Π_i (1 − λ_i²)^(−1/2) · exp(a_i² n_i² / (s⁴ − n_i⁴)),  λ_i = n_i²/s²,  a_i = u_iᵀ(x − b)
//
// (u_i the unit columns of W), infinite when some n_i ≥ s.
func (g *linGauss) harmonicRho(x []float64) float64 {
	var l float64
	for j := 0; j < g.Z; j++ {
		n2 := g.norms[j] * g.norms[j]
		lam := n2 / g.S2
		if lam >= 1 {
			return math.Inf(1)
		}
		var a float64
		for i := 0; i < g.D; i++ {
			a += g.U.At(i, j) * (x[i] - g.B[i])
		}
		l += -0.5*math.Log(1-lam*lam) + a*a*n2/(g.S2*g.S2-n2*n2)
	}
	return math.Expm1(l)
}

// TestHarmonicClosedForm checks the harmonic-mean (Monte-Carlo EM) estimate
// of log p(x):
//   - with the exact posterior as the proposal every Metropolis-Hastings
//     proposal is accepted, the chain draws exact posterior samples, and the
//     estimate agrees with log p(x) within 5·sqrt(ρ(x)/K) per point (the
//     delta-method standard error, ρ computed in closed form);
//   - with a perturbed proposal the chain corrects the samples and the
//     estimate drifts by a recorded amount (asserted loosely);
//   - when a column norm exceeds s, ρ is infinite and the estimate is biased
//     high in log p (by Jensen, E log p̂ ≥ log p); the figures are logged.
func TestHarmonicClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const K = 2000
	finite := newLinGauss(rng, 6, []float64{0.35, 0.25}, 0.5) // λ = 0.49, 0.25
	xs := finite.sample(rng, 32)

	m := finite.model(t, exact)
	got, e := scoreAll(t, m, ScoreConfig{Type: Harmonic, Samples: K, BurnIn: -1, Seed: 5}, xs)
	if r := e.AcceptanceRate(); r < 0.99 {
		t.Errorf("exact posterior proposal: acceptance rate %.4f, want ≈ 1", r)
	}
	var exactErr, meanRho float64
	var rhos []float64
	for i, x := range xs {
		lp := finite.logEvidence(x)
		rho := finite.harmonicRho(x)
		rhos = append(rhos, rho)
		meanRho += rho / float64(len(xs))
		tol := 5 * math.Sqrt(rho/K)
		if d := math.Abs(-got[i] - lp); d > tol {
			t.Errorf("exact samples, point %d: harmonic %.4f, log p(x) %.4f, tolerance %.4f (ρ = %.3f)", i, -got[i], lp, tol, rho)
		}
		exactErr += math.Abs(-got[i]-lp) / float64(len(xs))
	}
	sort.Float64s(rhos)
	t.Logf("harmonic, exact posterior samples, K=%d: acceptance %.4f, mean |error| %.4f nats; ρ(x) median %.3f, mean %.3f, max %.1f (standard error sqrt(ρ/K): median %.4f, max %.4f nats)",
		K, e.AcceptanceRate(), exactErr, rhos[len(rhos)/2], meanRho, rhos[len(rhos)-1], math.Sqrt(rhos[len(rhos)/2]/K), math.Sqrt(rhos[len(rhos)-1]/K))

	m = finite.model(t, perturbed)
	for _, c := range []struct{ burn, thin int }{{100, 1}, {100, 5}} {
		got, e := scoreAll(t, m, ScoreConfig{Type: Harmonic, Samples: K, BurnIn: c.burn, Thin: c.thin, Seed: 5}, xs)
		var mae, bias float64
		for i, x := range xs {
			d := -got[i] - finite.logEvidence(x)
			mae += math.Abs(d) / float64(len(xs))
			bias += d / float64(len(xs))
		}
		t.Logf("harmonic, MCMC (perturbed proposal, burn-in %d, thin %d, K=%d): acceptance %.3f, mean |error| %.4f nats, mean error %+.4f",
			c.burn, c.thin, K, e.AcceptanceRate(), mae, bias)
		if mae > 0.1 {
			t.Errorf("MCMC drift: mean |error| %.4f nats > 0.1", mae)
		}
		if r := e.AcceptanceRate(); r < 0.3 || r > 0.99 {
			t.Errorf("perturbed proposal: acceptance rate %.3f outside (0.3, 0.99)", r)
		}
	}

	infinite := newLinGauss(rng, 6, []float64{2, 1}, 0.5) // λ = 16, 4: ρ = ∞
	xs = infinite.sample(rng, 32)
	m = infinite.model(t, exact)
	for _, k := range []int{100, 1000, 10000} {
		got, _ := scoreAll(t, m, ScoreConfig{Type: Harmonic, Samples: k, BurnIn: -1, Seed: 5}, xs)
		var mae, bias float64
		for i, x := range xs {
			d := -got[i] - infinite.logEvidence(x)
			mae += math.Abs(d) / float64(len(xs))
			bias += d / float64(len(xs))
		}
		t.Logf("harmonic, infinite variance (n = s·(4, 2)), exact posterior samples, K=%5d: mean |error| %.3f nats, mean error %+.3f", k, mae, bias)
		if bias <= 0 {
			t.Errorf("K=%d: infinite-variance harmonic estimate should be biased high, mean error %+.3f", k, bias)
		}
	}
}

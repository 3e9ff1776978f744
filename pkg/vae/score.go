package vae

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// Scorer scores patches; higher is more anomalous. Not safe for concurrent
// use; allocation-free after the first call with a given n.
//
// It is the contract pkg/model and the detector use for every model kind
// (the autoencoders of pkg/ae implement the same methods).
type Scorer interface {
	InputDim() int // values per patch (T*F)
	// Score writes the anomaly score of each of the n patches stored
	// row-major in x (n×InputDim) into scores[:n]; when perFeature is
	// non-nil (len >= n×InputDim) it also writes each feature's
	// contribution (here: expected per-bin NLL), for localisation.
	Score(scores []float64, perFeature []float32, x []float32, n int)
}

// BandScorer is a Scorer whose model is conditioned on the frequency band
// of each patch (Config.Bands > 0). The detector passes each patch's band
// index (its patch.Tag's band index, in [0, Bands())) in bands.
type BandScorer interface {
	Scorer
	Bands() int // number of bands; 0 when the model has no band tag
	// ScoreBands is Score with the band index of each patch in bands[:n]
	// (ignored, may be nil, when Bands() is 0).
	ScoreBands(scores []float64, perFeature []float32, x []float32, bands []int, n int)
}

var (
	_ Scorer     = (*Estimator)(nil)
	_ BandScorer = (*Estimator)(nil)
)

// ScoreType selects an anomaly score. Every score is oriented "higher is
// more anomalous" and is in nats per patch in the units of the input x
// (the standardisation's Jacobian Σ_j log Std_j is added, so with the
// standardisation the score is −log p(x) of the raw patch, not of its
// standardised form).
type ScoreType int

const (
	// LogEvidence is −log p(x) estimated by importance sampling with q as
	// the proposal and K samples, log-mean-exp in float64 (the IWAE bound):
	//
	//	−log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x)
	//
	// Its expectation is ≥ −log p(x) and falls to it as K grows. The
	// default.
	LogEvidence ScoreType = iota
	// ELBO is the negative ELBO: −(1/L) Σ_l log p(x|z_l) + KL(q(z|x) ‖ p(z)),
	// z_l ~ q(z|x), the KL term analytic.
	ELBO
	// ReconProb is the negative reconstruction probability
	// −(1/L) Σ_l log p(x|z_l), z_l ~ q(z|x).
	ReconProb
	// Harmonic is −log p(x) by the Monte-Carlo EM identity
	// p(x) = E_{z~p(z|x)}[p(x|z)^−1]^−1, the harmonic mean of the
	// likelihood over K posterior samples:
	//
	//	log (1/K) Σ_k p(x|z_k)^−1,   z_k ~ p(z|x)
	//
	// The posterior samples come from an independence Metropolis-Hastings
	// chain with q(z|x) as the proposal (acceptance min(1, w'/w) with
	// w = p(x,z)/q(z|x)), after BurnIn steps, every Thin-th state. The
	// estimator is consistent but notoriously high-variance: its variance
	// is infinite when the likelihood is sharper than the prior in some
	// direction (see docs/vae.md for the figures).
	Harmonic
)

var scoreNames = [...]string{LogEvidence: "log-evidence", ELBO: "elbo", ReconProb: "recon-prob", Harmonic: "harmonic"}

// ScoreTypes lists every score type.
func ScoreTypes() []ScoreType { return []ScoreType{LogEvidence, ELBO, ReconProb, Harmonic} }

// String returns the score's name: "log-evidence", "elbo", "recon-prob" or
// "harmonic".
func (t ScoreType) String() string {
	if t < 0 || int(t) >= len(scoreNames) {
		return fmt.Sprintf("ScoreType(%d)", int(t))
	}
	return scoreNames[t]
}

// ErrScoreType is wrapped by ParseScoreType's error for an unknown name.
var ErrScoreType = errors.New("vae: unknown score type")

// ParseScoreType returns the ScoreType named s (the names of String).
func ParseScoreType(s string) (ScoreType, error) {
	for i, n := range scoreNames {
		if n == s {
			return ScoreType(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want log-evidence, elbo, recon-prob or harmonic)", ErrScoreType, s)
}

// MarshalText encodes the name, so a ScoreType is a string in JSON.
func (t ScoreType) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(scoreNames) {
		return nil, fmt.Errorf("%w %d", ErrScoreType, int(t))
	}
	return []byte(scoreNames[t]), nil
}

// UnmarshalText decodes a name.
func (t *ScoreType) UnmarshalText(b []byte) error {
	v, err := ParseScoreType(string(b))
	if err == nil {
		*t = v
	}
	return err
}

// ScoreConfig configures an Estimator. Zero fields take the defaults noted.
type ScoreConfig struct {
	Type ScoreType `json:"type"` // default LogEvidence
	// Samples is L (ELBO, ReconProb) or K (LogEvidence, and the number of
	// kept posterior samples of Harmonic); default 16.
	Samples int `json:"samples"`
	// BurnIn is the number of Metropolis-Hastings states discarded before
	// the first kept one (Harmonic); default 10 when 0, none when negative.
	BurnIn int `json:"burn_in"`
	// Thin keeps every Thin-th state after the burn-in (Harmonic); default 1.
	Thin int `json:"thin"`
	// Seed seeds the standard-normal draws ε (and the acceptance uniforms),
	// PCG(Seed, Seed).
	Seed uint64 `json:"seed"`
	// MaxRows bounds the rows of one decoder pass (patches × samples);
	// default 4096. A pass decodes all samples of ⌊MaxRows/M⌋ patches
	// (at least one), M the samples per patch.
	MaxRows int `json:"max_rows"`
}

// Estimator computes one anomaly score (and the per-feature NLL) of patches
// with a copy of a model's weights. It implements Scorer and BandScorer.
//
// Common random numbers: the Estimator draws its M×Latent standard-normal
// ε (and for Harmonic the M acceptance uniforms) once, from the seed, and
// uses the same draws for every patch: z_k = mu(x) + σ(x)⊙ε_k. A patch's
// score is therefore a deterministic function of the patch and the seed,
// independent of the batch it comes in, its position and earlier calls,
// and differences between patches carry no independent Monte-Carlo noise.
// For each patch on its own the draws are independent, so every
// estimator keeps its usual properties.
//
// Work per batch: the encoder runs once per patch; the decoder runs once
// on all M samples of many patches (rows of concat(z, tag)), in passes of
// at most MaxRows rows; the log-likelihoods are summed in float64. After
// the first call with a given n nothing is allocated (the GEMM behind
// pkg/nn may allocate for its own parallelism; see docs/vae.md).
type Estimator struct {
	cfg        ScoreConfig
	m          int // proposals (decoded samples) per patch
	d, b, z    int
	t, f, feat int

	conv, enc, mu, lv, dec *nn.Sequential // inference copies (nn.Fold)
	std                    *norm.Standardizer
	bern                   bool
	iv, half, jac          []float64 // exp(−v_j), ½(log 2π + v_j), log Std_j
	halfSum, jacSum        float64

	eps   []float32 // M×Latent standard normals
	epsSq []float64 // Σ_i ε_ki²
	logU  []float64 // log of the acceptance uniforms (Harmonic)

	perPass int

	xs, cat, zin, sig []float32
	ll, lw, acc       []float64

	accepted, steps int
}

// NewScorer returns an Estimator of the score cfg selects, with inference
// copies of the model's networks (BatchNorm folded, nn.Fold): train first,
// and make a new Estimator after the weights change. Estimators are
// independent of each other and of the model, so one per goroutine scores
// concurrently. It allocates the ε table (M×Latent float32, M = Samples,
// or BurnIn + Samples·Thin for Harmonic) and returns an error for an
// unknown type or a negative or too large count.
func (m *Model) NewScorer(cfg ScoreConfig) (*Estimator, error) {
	if cfg.Type < 0 || int(cfg.Type) >= len(scoreNames) {
		return nil, fmt.Errorf("%w %d", ErrScoreType, int(cfg.Type))
	}
	if cfg.Samples == 0 {
		cfg.Samples = 16
	}
	if cfg.BurnIn == 0 {
		cfg.BurnIn = 10
	}
	if cfg.BurnIn < 0 || cfg.Type != Harmonic {
		cfg.BurnIn = 0
	}
	if cfg.Thin == 0 || cfg.Type != Harmonic {
		cfg.Thin = 1
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = 4096
	}
	if cfg.Samples < 0 || cfg.Thin < 0 || cfg.MaxRows < 0 {
		return nil, fmt.Errorf("vae: NewScorer: negative count in %+v", cfg)
	}
	M := cfg.Samples
	if cfg.Type == Harmonic {
		M = cfg.BurnIn + cfg.Samples*cfg.Thin
	}
	if M > 1<<24 || M*m.cfg.Latent > 1<<28 {
		return nil, fmt.Errorf("vae: NewScorer: %d samples per patch is too many", M)
	}
	e := &Estimator{cfg: cfg, m: M, d: m.d, b: m.cfg.Bands, z: m.cfg.Latent,
		t: m.cfg.T, f: m.cfg.F, feat: m.geom.feat,
		mu: nn.Fold(nn.NewSequential(m.mu)), lv: nn.Fold(nn.NewSequential(m.lv)), dec: nn.Fold(m.dec),
		bern: m.cfg.Decoder == Bernoulli}
	if m.conv != nil {
		e.conv = nn.Fold(m.conv)
	}
	if m.enc != nil {
		e.enc = nn.Fold(m.enc)
	}
	if m.std != nil {
		e.std = &norm.Standardizer{Mean: append([]float32(nil), m.std.Mean...), Std: append([]float32(nil), m.std.Std...)}
		e.jac = make([]float64, m.d)
		for j, s := range e.std.Std {
			e.jac[j] = math.Log(float64(s))
			e.jacSum += e.jac[j]
		}
	}
	if !e.bern {
		lv := m.decoderLogVar(nil)
		e.iv = make([]float64, m.d)
		e.half = make([]float64, m.d)
		for j, v := range lv {
			e.iv[j] = math.Exp(-v)
			e.half[j] = 0.5 * (log2Pi + v)
			e.halfSum += e.half[j]
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed))
	e.eps = make([]float32, M*e.z)
	for i := range e.eps {
		e.eps[i] = float32(rng.NormFloat64())
	}
	e.epsSq = make([]float64, M)
	for k := range e.epsSq {
		for _, v := range e.eps[k*e.z : (k+1)*e.z] {
			e.epsSq[k] += float64(v) * float64(v)
		}
	}
	if cfg.Type == Harmonic {
		e.logU = make([]float64, M)
		for k := range e.logU {
			e.logU[k] = math.Log(rng.Float64())
		}
	}
	e.perPass = max(1, cfg.MaxRows/M)
	return e, nil
}

// Config returns the configuration with the defaults filled in.
func (e *Estimator) Config() ScoreConfig { return e.cfg }

// InputDim returns T·F, the values per patch.
func (e *Estimator) InputDim() int { return e.d }

// Bands returns the number of bands of the model's tag (0: none).
func (e *Estimator) Bands() int { return e.b }

// AcceptanceRate returns the fraction of accepted Metropolis-Hastings
// proposals over the patches of the last Score call (Harmonic; NaN for
// the other scores or before the first call).
func (e *Estimator) AcceptanceRate() float64 {
	if e.steps == 0 {
		return math.NaN()
	}
	return float64(e.accepted) / float64(e.steps)
}

// Score implements Scorer for a model without a band tag. It panics if the
// model has a band tag (use ScoreBands) or a slice is too short.
func (e *Estimator) Score(scores []float64, perFeature []float32, x []float32, n int) {
	if e.b > 0 {
		panic("vae: Score on a band-tagged model: use ScoreBands")
	}
	e.ScoreBands(scores, perFeature, x, nil, n)
}

// ScoreBands writes the score of each of the n patches of x (n×InputDim
// values, row-major, in the units the model was trained on) into
// scores[:n], and when perFeature is non-nil the expected per-bin negative
// log-likelihood under q,
//
//	perFeature[n·D + j] = −(1/M) Σ_k log p(x_j | z_k) (+ log Std_j),   z_k ~ q(z|x)
//
// over the M decoded samples (for Harmonic: the M proposals, which are
// draws from q), so that Σ_j perFeature[n·D+j] is the ReconProb score with
// the same samples. bands[:n] holds each patch's band index when Bands() >
// 0 and is ignored otherwise. It allocates nothing after the first call
// with a given n. It panics if a slice is too short or a band index is out
// of range.
func (e *Estimator) ScoreBands(scores []float64, perFeature []float32, x []float32, bands []int, n int) {
	D := e.d
	if n < 0 || len(scores) < n || len(x) < n*D || (perFeature != nil && len(perFeature) < n*D) {
		panic(fmt.Sprintf("vae: Score of %d patches of %d: scores %d, x %d, perFeature %d", n, D, len(scores), len(x), len(perFeature)))
	}
	e.checkBands(bands, n)
	e.accepted, e.steps = 0, 0
	for lo := 0; lo < n; lo += e.perPass {
		hi := min(n, lo+e.perPass)
		var pf []float32
		if perFeature != nil {
			pf = perFeature[lo*D : hi*D]
		}
		var bs []int
		if e.b > 0 {
			bs = bands[lo:hi]
		}
		e.pass(scores[lo:hi], pf, x[lo*D:hi*D], bs, hi-lo)
	}
}

func (e *Estimator) checkBands(bands []int, n int) {
	if e.b == 0 {
		return
	}
	if len(bands) < n {
		panic(fmt.Sprintf("vae: %d band indices for %d patches", len(bands), n))
	}
	for i, b := range bands[:n] {
		if b < 0 || b >= e.b {
			panic(fmt.Sprintf("vae: band %d of patch %d out of range [0, %d)", b, i, e.b))
		}
	}
}

// encode standardises c patches into e.xs and returns mu and log σ².
func (e *Estimator) encode(x []float32, bands []int, c int) (mu, lv nn.Tensor) {
	D, B := e.d, e.b
	e.xs = grow(e.xs, c*D)
	if e.std != nil {
		e.std.Apply(e.xs, x, c)
	} else {
		copy(e.xs, x[:c*D])
	}
	in := nn.Tensor{Data: e.xs, N: c, Shape: nn.Shape{D}}
	if e.conv != nil {
		in = e.conv.Forward(nn.Tensor{Data: e.xs, N: c, Shape: nn.Shape{1, e.t, e.f}}, false)
	}
	if B > 0 {
		F := in.Shape.Size()
		e.cat = grow(e.cat, c*(F+B))
		for i := 0; i < c; i++ {
			r := e.cat[i*(F+B) : (i+1)*(F+B)]
			copy(r, in.Data[i*F:(i+1)*F])
			clear(r[F:])
			r[F+bands[i]] = 1
		}
		in = nn.Tensor{Data: e.cat, N: c, Shape: nn.Shape{F + B}}
	}
	if e.enc != nil {
		in = e.enc.Forward(in, false)
	}
	return e.mu.Forward(in, false), e.lv.Forward(in, false)
}

// pass scores c ≤ perPass patches with one decoder pass.
func (e *Estimator) pass(scores []float64, pf []float32, x []float32, bands []int, c int) {
	D, B, Z, M := e.d, e.b, e.z, e.m
	mu, lv := e.encode(x, bands, c)
	zr := Z + B
	e.zin = grow(e.zin, c*M*zr)
	e.sig = grow(e.sig, Z)
	for n := 0; n < c; n++ {
		mr, lr := mu.Data[n*Z:(n+1)*Z], lv.Data[n*Z:(n+1)*Z]
		for i, v := range lr {
			e.sig[i] = float32(math.Exp(0.5 * float64(v)))
		}
		for k := 0; k < M; k++ {
			z := e.zin[(n*M+k)*zr : (n*M+k+1)*zr]
			ek := e.eps[k*Z : (k+1)*Z]
			for i, m := range mr {
				z[i] = m + e.sig[i]*ek[i]
			}
			if B > 0 {
				clear(z[Z:])
				z[Z+bands[n]] = 1
			}
		}
	}
	out := e.dec.Forward(nn.Tensor{Data: e.zin, N: c * M, Shape: nn.Shape{zr}}, false)

	needW := e.cfg.Type == LogEvidence || e.cfg.Type == Harmonic
	e.ll = grow64(e.ll, M)
	e.lw = grow64(e.lw, M)
	e.acc = grow64(e.acc, D)
	logM := math.Log(float64(M))
	for n := 0; n < c; n++ {
		xr := e.xs[n*D : (n+1)*D]
		mr, lr := mu.Data[n*Z:(n+1)*Z], lv.Data[n*Z:(n+1)*Z]
		var lvSum, kl float64
		for i := range mr {
			a, b := float64(mr[i]), float64(lr[i])
			lvSum += b
			kl += a*a + math.Exp(b) - 1 - b
		}
		kl *= 0.5
		var acc []float64
		if pf != nil {
			acc = e.acc
			clear(acc)
		}
		for k := 0; k < M; k++ {
			o := out.Data[(n*M+k)*D : (n*M+k+1)*D]
			if e.bern {
				e.ll[k] = bernLL(xr, o, acc)
			} else {
				e.ll[k] = -(e.halfSum + 0.5*gaussSq(xr, o, e.iv, acc))
			}
			if needW {
				// log p(z) − log q(z|x) = −½Σz² + ½Σε² + ½Σ lv (the 2π terms cancel).
				var zz float64
				for _, v := range e.zin[(n*M+k)*zr : (n*M+k)*zr+Z] {
					zz += float64(v) * float64(v)
				}
				e.lw[k] = e.ll[k] - 0.5*zz + 0.5*e.epsSq[k] + 0.5*lvSum
			}
		}
		var s float64
		switch e.cfg.Type {
		case ELBO:
			s = -mean(e.ll[:M]) + kl
		case ReconProb:
			s = -mean(e.ll[:M])
		case LogEvidence:
			s = -(logSumExp(e.lw[:M]) - logM)
		case Harmonic:
			s = e.harmonic()
		}
		scores[n] = s + e.jacSum
		if pf != nil {
			p := pf[n*D : (n+1)*D]
			inv := 1 / float64(M)
			for j := range p {
				v := acc[j] * inv
				if !e.bern {
					v = e.half[j] + 0.5*v
				}
				if e.jac != nil {
					v += e.jac[j]
				}
				p[j] = float32(v)
			}
		}
	}
}

// harmonic runs the independence Metropolis-Hastings chain over the
// proposals with log weights e.lw and returns log (1/K) Σ_k exp(−ll(z_k))
// over the kept states, i.e. −log p̂(x).
func (e *Estimator) harmonic() float64 {
	burn, thin := e.cfg.BurnIn, e.cfg.Thin
	cur := 0 // the chain starts at the first proposal
	// Streaming log-sum-exp of −ll over the kept states.
	mx, sum := math.Inf(-1), 0.0
	kept := 0
	for t := 0; t < e.m; t++ {
		if t > 0 {
			e.steps++
			if e.logU[t] < e.lw[t]-e.lw[cur] {
				cur = t
				e.accepted++
			}
		}
		if t >= burn && (t-burn)%thin == thin-1 {
			v := -e.ll[cur]
			if v > mx {
				sum = sum*math.Exp(mx-v) + 1
				mx = v
			} else {
				sum += math.Exp(v - mx)
			}
			kept++
		}
	}
	return mx + math.Log(sum) - math.Log(float64(kept))
}

// gaussSq returns Σ_j (x_j − o_j)² iv_j in float64 and adds each term to
// acc when acc is non-nil.
func gaussSq(x, o []float32, iv, acc []float64) float64 {
	o = o[:len(x)]
	iv = iv[:len(x)]
	if acc != nil {
		acc = acc[:len(x)]
		var s float64
		for j, xv := range x {
			d := float64(xv - o[j])
			q := d * d * iv[j]
			acc[j] += q
			s += q
		}
		return s
	}
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		d0 := float64(x[j] - o[j])
		d1 := float64(x[j+1] - o[j+1])
		d2 := float64(x[j+2] - o[j+2])
		d3 := float64(x[j+3] - o[j+3])
		s0 += d0 * d0 * iv[j]
		s1 += d1 * d1 * iv[j+1]
		s2 += d2 * d2 * iv[j+2]
		s3 += d3 * d3 * iv[j+3]
	}
	for ; j < len(x); j++ {
		d := float64(x[j] - o[j])
		s0 += d * d * iv[j]
	}
	return (s0 + s1) + (s2 + s3)
}

// bernLL returns Σ_j x_j a_j − softplus(a_j) for logits a = o and adds each
// bin's negative log-likelihood to acc when acc is non-nil.
func bernLL(x, o []float32, acc []float64) float64 {
	o = o[:len(x)]
	var s float64
	for j, xv := range x {
		a := float64(o[j])
		l := float64(xv)*a - softplus(a)
		if acc != nil {
			acc[j] -= l
		}
		s += l
	}
	return s
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// logSumExp returns log Σ exp(v_i), stably.
func logSumExp(v []float64) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = max(mx, x)
	}
	if math.IsInf(mx, 0) {
		return mx
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - mx)
	}
	return mx + math.Log(s)
}

// Reconstruct writes the decoder's output at the posterior mean,
// g(mu(x)), for n patches into dst (n×InputDim, in the input's units:
// the Gaussian mean de-standardised, or the Bernoulli probability): one
// plain forward pass of encoder and decoder. It allocates nothing after
// the first call with a given n and panics on short slices or a bad band
// index (bands as in ScoreBands).
func (e *Estimator) Reconstruct(dst, x []float32, bands []int, n int) {
	D, B, Z := e.d, e.b, e.z
	if len(dst) < n*D || len(x) < n*D {
		panic(fmt.Sprintf("vae: Reconstruct of %d patches of %d: dst %d, x %d", n, D, len(dst), len(x)))
	}
	e.checkBands(bands, n)
	step := max(1, e.cfg.MaxRows)
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		c := hi - lo
		var bs []int
		if B > 0 {
			bs = bands[lo:hi]
		}
		mu, _ := e.encode(x[lo*D:hi*D], bs, c)
		zr := Z + B
		e.zin = grow(e.zin, c*zr)
		for i := 0; i < c; i++ {
			r := e.zin[i*zr : (i+1)*zr]
			copy(r, mu.Data[i*Z:(i+1)*Z])
			if B > 0 {
				clear(r[Z:])
				r[Z+bs[i]] = 1
			}
		}
		out := e.dec.Forward(nn.Tensor{Data: e.zin[:c*zr], N: c, Shape: nn.Shape{zr}}, false)
		d := dst[lo*D : hi*D]
		switch {
		case e.bern:
			for j, a := range out.Data[:c*D] {
				d[j] = float32(sigmoid(float64(a)))
			}
		case e.std != nil:
			e.std.Invert(d, out.Data, c)
		default:
			copy(d, out.Data[:c*D])
		}
	}
}

package vae

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// ErrData is wrapped by Train's errors about unusable training data.
var ErrData = errors.New("vae: bad training data")

// log2Pi is log(2π).
var log2Pi = math.Log(2 * math.Pi)

// Model is a variational autoencoder over patches of T×F values:
//
//	q(z|x) = N(z; mu(x), diag exp(lv(x)))   encoder, predicting the log-variance lv
//	p(z)   = N(z; 0, I)                     prior
//	p(x|z)                                  decoder (Config.Decoder: Gaussian or Bernoulli)
//
// trained by maximising the ELBO (Train) and scored by the estimators of
// NewScorer. A Model implements nn.Model (Params, Step) and nn.Stateful, so
// nn.Fit trains it. It is not safe for concurrent use; Estimators made by
// NewScorer copy the weights and are independent of it.
type Model struct {
	cfg  Config
	geom geometry
	nets
	d int // T·F

	// Decoder log-variance per feature (Gaussian decoders), and its
	// gradient; held in a Layer so that nn.Save stores it.
	xlv *paramLayer

	std *norm.Standardizer // nil: the identity (not fitted, or not used)

	params, state []nn.Param

	// Training state used by Step.
	rng      *rand.Rand
	klWeight float64 // weight of the KL term in training steps
	samples  int     // L, samples of z per example in training steps
	ws       trainWork
}

var (
	_ nn.Model    = (*Model)(nil)
	_ nn.Stateful = (*Model)(nil)
)

// paramLayer holds a parameter vector as an nn.Layer so that nn.Save,
// nn.Load and nn.CollectParams treat it like a layer's weights. It is
// never run: Forward and Backward panic.
type paramLayer struct {
	v, g   []float32
	params []nn.Param
}

func newParamLayer(name string, n int, value float32) *paramLayer {
	p := &paramLayer{v: make([]float32, n), g: make([]float32, n)}
	for i := range p.v {
		p.v[i] = value
	}
	p.params = []nn.Param{{Name: name, Data: p.v, Grad: p.g}}
	return p
}

func (p *paramLayer) Params() []nn.Param            { return p.params }
func (p *paramLayer) OutShape(in nn.Shape) nn.Shape { return in }
func (p *paramLayer) Forward(nn.Tensor, bool) nn.Tensor {
	panic("vae: paramLayer is not a network layer")
}
func (p *paramLayer) Backward(nn.Tensor) nn.Tensor { panic("vae: paramLayer is not a network layer") }

// New builds an untrained model of the given architecture, with weights
// drawn from PCG(cfg.Seed, cfg.Seed): He-uniform for hidden layers,
// Glorot-uniform for the heads and a dense output layer, the decoder
// log-variance at cfg.DecoderLogVar. It returns an error wrapping ErrConfig
// for an invalid config.
func New(cfg Config) (*Model, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g, _ := c.geometry()
	m := &Model{cfg: c, geom: g, nets: c.build(), d: c.T * c.F, klWeight: 1, samples: 1,
		rng: rand.New(rand.NewPCG(c.Seed, c.Seed+1))}
	m.xlv = newParamLayer("log_var", m.d, float32(c.DecoderLogVar))
	m.params = nn.CollectParams(m.layers(true)...)
	m.state = nn.CollectState(m.layers(true)...)
	return m, nil
}

// layers lists the model's layers in the order Save writes them: the conv
// stack, the dense encoder, the mu and log-variance heads, the decoder and
// (learned Gaussian variance only) the decoder log-variance.
func (m *Model) layers(withVar bool) []nn.Layer {
	var ls []nn.Layer
	if m.conv != nil {
		ls = append(ls, m.conv)
	}
	if m.enc != nil {
		ls = append(ls, m.enc)
	}
	ls = append(ls, m.mu, m.lv, m.dec)
	if withVar && m.cfg.Decoder == Gaussian {
		ls = append(ls, m.xlv)
	}
	return ls
}

// Config returns the model's architecture with the defaults filled in.
func (m *Model) Config() Config {
	c := m.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	if c.Conv != nil {
		cc := *c.Conv
		cc.Channels = append([]int(nil), cc.Channels...)
		c.Conv = &cc
	}
	return c
}

// InputDim returns T·F, the values per patch.
func (m *Model) InputDim() int { return m.d }

// Bands returns the number of frequency bands of the tag (0: no tag).
func (m *Model) Bands() int { return m.cfg.Bands }

// Standardizer returns the fitted input standardisation, or nil when the
// model does not standardise (Bernoulli decoder, NoStandardize) or has not
// been trained yet.
func (m *Model) Standardizer() *norm.Standardizer { return m.std }

// SetStandardizer sets the input standardisation (nil removes it) instead
// of the one Train fits. It panics if s has a dimension other than
// InputDim.
func (m *Model) SetStandardizer(s *norm.Standardizer) {
	if s != nil && s.Dim() != m.d {
		panic(fmt.Sprintf("vae: standardizer of %d features for a model of %d", s.Dim(), m.d))
	}
	m.std = s
}

// standardizes reports whether Train fits a standardizer.
func (m *Model) standardizes() bool {
	return m.cfg.Decoder != Bernoulli && !m.cfg.NoStandardize
}

// Nets are a model's networks, for inspection and for setting weights by
// hand (tests, imported models). Conv and Enc are nil when the config has
// no conv stack or no hidden layers. Changing their weights changes the
// model; Estimators made before do not see the change.
type Nets struct {
	Conv *nn.Sequential // patch image (1×T×F) → flattened conv features
	Enc  *nn.Sequential // concat(features, one-hot band) → last hidden layer
	Mu   *nn.Dense      // → mu(x), Latent values
	LV   *nn.Dense      // → log σ²(x), Latent values
	Dec  *nn.Sequential // concat(z, one-hot band) → T·F means (Gaussian) or logits (Bernoulli)
	// DecoderLogVar is the per-feature log-variance of a Gaussian decoder
	// (T·F values; all equal to Config.DecoderLogVar for GaussianFixed,
	// where changing it has no effect on scoring).
	DecoderLogVar []float32
}

// Nets returns the model's networks (not copies).
func (m *Model) Nets() Nets {
	return Nets{Conv: m.conv, Enc: m.enc, Mu: m.mu, LV: m.lv, Dec: m.dec, DecoderLogVar: m.xlv.v}
}

// decoderLogVar returns the log-variance used in p(x|z).
func (m *Model) decoderLogVar(dst []float64) []float64 {
	dst = dst[:0]
	for _, v := range m.xlv.v {
		if m.cfg.Decoder == GaussianFixed {
			v = float32(m.cfg.DecoderLogVar)
		}
		dst = append(dst, float64(v))
	}
	return dst
}

// Params returns the trainable parameters: every layer's weights and, for
// a Gaussian decoder with learned variance, the decoder log-variance. It
// implements nn.Model; the slice is shared, do not modify it.
func (m *Model) Params() []nn.Param { return m.params }

// State returns the BatchNorm running statistics (nn.Stateful).
func (m *Model) State() []nn.Param { return m.state }

// trainWork holds Step's buffers; they grow to the largest batch.
type trainWork struct {
	patch, cat, eps, zin, dout, dmu, dlv, dh, dfeat []float32
	glv, lvd, iv                                    []float64
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func grow64(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// Step computes the loss of one minibatch, the negative ELBO per example in
// nats (in standardised units),
//
//	loss = (1/N) Σ_n [ −(1/L) Σ_l log p(x_n | z_nl) + w·KL(q(z|x_n) ‖ N(0, I)) ]
//	z_nl = mu(x_n) + exp(lv(x_n)/2) ⊙ ε_nl,  ε_nl ~ N(0, I)   (reparameterisation)
//	KL   = ½ Σ_i (mu_i² + exp(lv_i) − 1 − lv_i)               (analytic)
//
// with the likelihood summed in float64. With train it runs the layers in
// training mode, draws ε from the model's training RNG, uses the KL weight
// w set by Train (β times the warm-up factor; 1 for a fresh model) and L =
// TrainConfig.Samples, and accumulates the gradients into Params; without,
// it runs in inference mode with w = 1 (the true negative ELBO, so
// validation losses are comparable across epochs and β) and computes no
// gradients. It implements nn.Model.
//
// x holds N rows of InputDim() standardised values followed by the
// one-hot band tag (Bands() values; none without a tag); y is ignored.
// Train builds these rows. Step allocates only when the batch is larger
// than any before. It panics if x has the wrong row size.
func (m *Model) Step(x, y nn.Tensor, train bool) float64 {
	D, B, Z := m.d, m.cfg.Bands, m.cfg.Latent
	row := D + B
	if x.Shape.Size() != row || len(x.Data) < x.N*row {
		panic(fmt.Sprintf("vae: Step: rows of %v (%d values) for a model of %d+%d", x.Shape, len(x.Data), D, B))
	}
	N, L := x.N, m.samples
	ws := &m.ws

	h := m.encodeTrain(x, train)
	mu := m.mu.Forward(h, train)
	lv := m.lv.Forward(h, train)

	// Sample z = mu + σ ε for every example and sample, with the tag.
	zr := Z + B
	ws.eps = grow(ws.eps, N*L*Z)
	ws.zin = grow(ws.zin, N*L*zr)
	var kl float64
	for n := 0; n < N; n++ {
		mr, lr := mu.Data[n*Z:(n+1)*Z], lv.Data[n*Z:(n+1)*Z]
		for i := range mr {
			a, b := float64(mr[i]), float64(lr[i])
			kl += a*a + math.Exp(b) - 1 - b
		}
		tag := x.Data[n*row+D : (n+1)*row]
		for l := 0; l < L; l++ {
			r := n*L + l
			e := ws.eps[r*Z : (r+1)*Z]
			z := ws.zin[r*zr : (r+1)*zr]
			for i := range e {
				e[i] = float32(m.rng.NormFloat64())
				z[i] = mr[i] + float32(math.Exp(0.5*float64(lr[i])))*e[i]
			}
			copy(z[Z:], tag)
		}
	}
	kl *= 0.5
	out := m.dec.Forward(nn.Tensor{Data: ws.zin, N: N * L, Shape: nn.Shape{zr}}, train)

	w := 1.0
	if train {
		w = m.klWeight
	}
	var grad []float32
	if train {
		ws.dout = grow(ws.dout, N*L*D)
		grad = ws.dout
	}
	scale := 1 / float64(N*L)
	ll := m.reconTrain(grad, out.Data, x.Data, N, L, scale, train)
	loss := -ll*scale + w*kl/float64(N)
	if !train {
		return loss
	}

	// Backward: decoder, then the reparameterisation and the KL term.
	dzin := m.dec.Backward(nn.Tensor{Data: ws.dout, N: N * L, Shape: out.Shape})
	ws.dmu = grow(ws.dmu, N*Z)
	ws.dlv = grow(ws.dlv, N*Z)
	wn := w / float64(N)
	for n := 0; n < N; n++ {
		mr, lr := mu.Data[n*Z:(n+1)*Z], lv.Data[n*Z:(n+1)*Z]
		dm, dl := ws.dmu[n*Z:(n+1)*Z], ws.dlv[n*Z:(n+1)*Z]
		for i := range dm {
			a, b := float64(mr[i]), float64(lr[i])
			s := math.Exp(0.5 * b)
			var gm, gl float64
			for l := 0; l < L; l++ {
				r := n*L + l
				g := float64(dzin.Data[r*zr+i])
				gm += g
				gl += g * float64(ws.eps[r*Z+i]) * 0.5 * s
			}
			dm[i] = float32(gm + wn*a)
			dl[i] = float32(gl + wn*0.5*(math.Exp(b)-1))
		}
	}
	m.backwardEncoder(N)
	return loss
}

// encodeTrain runs the encoder up to the heads' input on Step's rows.
func (m *Model) encodeTrain(x nn.Tensor, train bool) nn.Tensor {
	D, B := m.d, m.cfg.Bands
	N := x.N
	in := nn.Tensor{Data: x.Data[:N*(D+B)], N: N, Shape: nn.Shape{D + B}}
	if m.conv != nil {
		ws := &m.ws
		img := x.Data[:N*D]
		if B > 0 {
			ws.patch = grow(ws.patch, N*D)
			for n := 0; n < N; n++ {
				copy(ws.patch[n*D:(n+1)*D], x.Data[n*(D+B):n*(D+B)+D])
			}
			img = ws.patch
		}
		f := m.conv.Forward(nn.Tensor{Data: img, N: N, Shape: nn.Shape{1, m.cfg.T, m.cfg.F}}, train)
		in = f
		if B > 0 {
			Fc := m.geom.feat
			ws.cat = grow(ws.cat, N*(Fc+B))
			for n := 0; n < N; n++ {
				copy(ws.cat[n*(Fc+B):], f.Data[n*Fc:(n+1)*Fc])
				copy(ws.cat[n*(Fc+B)+Fc:(n+1)*(Fc+B)], x.Data[n*(D+B)+D:(n+1)*(D+B)])
			}
			in = nn.Tensor{Data: ws.cat, N: N, Shape: nn.Shape{Fc + B}}
		}
	}
	if m.enc != nil {
		return m.enc.Forward(in, train)
	}
	return in
}

// backwardEncoder backpropagates ws.dmu and ws.dlv through the heads and
// the encoder, accumulating parameter gradients.
func (m *Model) backwardEncoder(N int) {
	ws := &m.ws
	Z, B := m.cfg.Latent, m.cfg.Bands
	dmu := nn.Tensor{Data: ws.dmu, N: N, Shape: nn.Shape{Z}}
	dlv := nn.Tensor{Data: ws.dlv, N: N, Shape: nn.Shape{Z}}
	if m.enc == nil && m.conv == nil {
		m.mu.BackwardParams(dmu)
		m.lv.BackwardParams(dlv)
		return
	}
	a := m.mu.Backward(dmu)
	ws.dh = grow(ws.dh, len(a.Data))
	copy(ws.dh, a.Data)
	b := m.lv.Backward(dlv)
	for i, v := range b.Data[:len(ws.dh)] {
		ws.dh[i] += v
	}
	dh := nn.Tensor{Data: ws.dh, N: N, Shape: a.Shape}
	if m.conv == nil {
		m.enc.BackwardParams(dh)
		return
	}
	dcat := dh
	if m.enc != nil {
		dcat = m.enc.Backward(dh)
	}
	Fc := m.geom.feat
	df := dcat.Data[:N*Fc]
	if B > 0 {
		ws.dfeat = grow(ws.dfeat, N*Fc)
		for n := 0; n < N; n++ {
			copy(ws.dfeat[n*Fc:(n+1)*Fc], dcat.Data[n*(Fc+B):n*(Fc+B)+Fc])
		}
		df = ws.dfeat
	}
	m.conv.BackwardParams(nn.Tensor{Data: df, N: N, Shape: nn.Shape{Fc}})
}

// reconTrain returns Σ_{n,l} log p(x_n | out_nl) in float64 for Step and,
// when grad is non-nil, writes grad = −scale·∂/∂out and adds the decoder
// log-variance gradient (Gaussian) into m.xlv's gradient.
func (m *Model) reconTrain(grad, out, x []float32, N, L int, scale float64, train bool) float64 {
	D, row := m.d, m.d+m.cfg.Bands
	ws := &m.ws
	var total float64
	switch m.cfg.Decoder {
	case Bernoulli:
		for n := 0; n < N; n++ {
			xr := x[n*row : n*row+D]
			for l := 0; l < L; l++ {
				r := n*L + l
				o := out[r*D : (r+1)*D]
				var s float64
				for j, a := range o {
					av, xv := float64(a), float64(xr[j])
					s += xv*av - softplus(av)
					if grad != nil {
						grad[r*D+j] = float32(scale * (sigmoid(av) - xv))
					}
				}
				total += s
			}
		}
		return total
	default:
		ws.lvd = m.decoderLogVar(ws.lvd)
		learn := grad != nil && m.cfg.Decoder == Gaussian
		if learn {
			ws.glv = grow64(ws.glv, D)
			clear(ws.glv)
		}
		ws.iv = grow64(ws.iv, D)
		var c float64
		for j, v := range ws.lvd {
			c += log2Pi + v
			ws.iv[j] = math.Exp(-v)
		}
		for n := 0; n < N; n++ {
			xr := x[n*row : n*row+D]
			for l := 0; l < L; l++ {
				r := n*L + l
				o := out[r*D : (r+1)*D]
				var s float64
				for j, mj := range o {
					iv := ws.iv[j]
					d := float64(xr[j]) - float64(mj)
					q := d * d * iv
					s += q
					if grad != nil {
						grad[r*D+j] = float32(-d * iv * scale)
						if learn {
							ws.glv[j] += 0.5 * (1 - q)
						}
					}
				}
				total += -0.5 * (c + s)
			}
		}
		if learn {
			g := m.xlv.g
			for j, v := range ws.glv {
				g[j] += float32(v * scale)
			}
		}
		return total
	}
}

// softplus returns log(1 + e^a) without overflow.
func softplus(a float64) float64 {
	if a > 0 {
		return a + math.Log1p(math.Exp(-a))
	}
	return math.Log1p(math.Exp(a))
}

func sigmoid(a float64) float64 {
	if a >= 0 {
		return 1 / (1 + math.Exp(-a))
	}
	e := math.Exp(a)
	return e / (1 + e)
}

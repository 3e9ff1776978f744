package ae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// Model is a trained (or freshly initialised) autoencoder of the family: its
// resolved Config, the input Standardizer (nil when the Config turns
// standardisation off) and two networks, the encoder (input → code) and the
// decoder (code → reconstruction).
//
// A Model is not safe for concurrent use while it trains; once trained, any
// number of goroutines may each call NewScorer and use their own Scorer.
type Model struct {
	cfg      Config
	arch     *arch
	std      *norm.Standardizer
	enc, dec *nn.Sequential
}

// NewModel returns an untrained model of cfg, its weights drawn from an RNG
// seeded with cfg.Seed, with an identity standardiser when cfg
// standardises (Train fits the real one). It returns an error wrapping
// ErrConfig if cfg is invalid.
func NewModel(cfg Config) (*Model, error) {
	rc, a, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return build(rc, a), nil
}

// build constructs the networks of a resolved, valid Config.
func build(c Config, a *arch) *Model {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6165)) // "ae"
	m := &Model{cfg: c, arch: a}
	if !c.NoStandardize {
		m.std = norm.Identity(c.InputDim())
	}
	var enc, dec []nn.Layer
	// block appends a layer, its optional BatchNorm and activation.
	block := func(ls []nn.Layer, l nn.Layer, bn int, act Activation) []nn.Layer {
		ls = append(ls, l)
		if bn > 0 {
			ls = append(ls, nn.NewBatchNorm(bn))
		}
		if a := activation(act); a != nil {
			ls = append(ls, a)
		}
		return ls
	}
	bnIf := func(on bool, n int) int {
		if on {
			return n
		}
		return 0
	}
	if c.Kind == CAES {
		L := len(c.Conv)
		for i, l := range c.Conv {
			ch := l.Channels
			enc = block(enc, nn.NewConv2D(a.shapes[i][0], ch, window(l, [2]int{}), rng), bnIf(c.convBN(i), ch), c.convAct(i))
		}
		last := a.shapes[L]
		if c.Code > 0 {
			f := last.Size()
			enc = append(enc, nn.NewFlatten())
			enc = block(enc, nn.NewDense(f, c.Code, rng), bnIf(c.CodeBatchNorm, c.Code), c.CodeActivation)
			dec = block(dec, nn.NewDense(c.Code, f, rng), bnIf(c.BatchNorm, f), c.Activation)
			dec = append(dec, nn.NewReshape(last))
		}
		for i := L - 1; i >= 0; i-- {
			l, out := c.Conv[i], a.shapes[i][0]
			t := nn.NewConvTranspose2D(l.Channels, out, window(l, a.outPad[i]), rng)
			if i == 0 {
				dec = append(dec, t) // linear output
				break
			}
			dec = block(dec, t, bnIf(c.BatchNorm, out), c.Activation)
		}
	} else {
		prev := c.InputDim()
		for _, h := range c.Hidden {
			enc = block(enc, nn.NewDense(prev, h, rng), bnIf(c.BatchNorm, h), c.Activation)
			prev = h
		}
		enc = block(enc, nn.NewDense(prev, c.Code, rng), bnIf(c.CodeBatchNorm, c.Code), c.CodeActivation)
		prev = c.Code
		for i := len(c.Hidden) - 1; i >= 0; i-- {
			h := c.Hidden[i]
			dec = block(dec, nn.NewDense(prev, h, rng), bnIf(c.BatchNorm, h), c.Activation)
			prev = h
		}
		dec = append(dec, nn.NewDense(prev, c.InputDim(), rng)) // linear output
	}
	m.enc, m.dec = nn.NewSequential(enc...), nn.NewSequential(dec...)
	init := inits[c.Init]
	m.enc.Initialize(init, rng)
	m.dec.Initialize(init, rng)
	return m
}

func window(l ConvLayer, outPad [2]int) nn.Window2D {
	return nn.Window2D{KH: l.KH, KW: l.KW, StrideH: max(l.StrideH, 1), StrideW: max(l.StrideW, 1),
		PadH: l.PadH, PadW: l.PadW, OutPadH: outPad[0], OutPadW: outPad[1]}
}

func activation(a Activation) nn.Layer {
	switch a {
	case ReLU:
		return nn.NewReLU()
	case LeakyReLU:
		return nn.NewLeakyReLU(0.01)
	case ELU:
		return nn.NewELU(1)
	case Tanh:
		return nn.NewTanh()
	case Sigmoid:
		return nn.NewSigmoid()
	}
	return nil // Linear
}

// Config returns the model's resolved Config (defaults filled in).
func (m *Model) Config() Config {
	c := m.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	c.Conv = append([]ConvLayer(nil), c.Conv...)
	return c
}

// Standardizer returns the input standardiser (shared, do not modify), or
// nil when the model works on raw inputs.
func (m *Model) Standardizer() *norm.Standardizer { return m.std }

// InputDim returns the values per patch, Frames·Bins.
func (m *Model) InputDim() int { return m.cfg.InputDim() }

// CodeDim returns the number of code values per patch (Code, or the size
// of the last CAES block's feature map without a dense bottleneck).
func (m *Model) CodeDim() int { return m.arch.code.Size() }

// NumParams returns the number of trainable values.
func (m *Model) NumParams() int {
	return nn.NumParams(m.enc.Params()) + nn.NumParams(m.dec.Params())
}

// Train builds the model of cfg and trains it on the n patches stored
// row-major in x (n×dim, dim must equal cfg.InputDim()) with Adam
// (cfg.LearningRate, cfg.WeightDecay) and the loop of fit (nil means
// DCASE2020Fit(): 100 epochs, batches of 512, last 10% for validation),
// through nn.Fit: shuffled minibatches from fit.Seed, validation, early
// stopping and restore-best as fit says.
//
// Unless cfg.NoStandardize, a per-feature Standardizer is fitted (norm.Fit)
// on the training rows only (without the validation rows when fit holds
// out a ValFraction) and applied to a copy of x and of fit.ValX (given in
// raw units with any Shape of dim values); the model then trains, and
// scores, in standardised units.
//
// The training loss of an epoch is the mean of the batch objectives: MSE
// between the reconstruction and the clean input, over all values (each
// value weighs 1/(N·dim), PyTorch's "mean"), plus the sparsity penalty; the
// reconstruction is made from the corrupted input for a denoising
// configuration. The validation loss is the plain reconstruction MSE of the
// clean validation inputs in inference mode: the mean anomaly score.
//
// onEpoch, if not nil, is called after every epoch (after fit.OnEpoch) with
// the epoch's statistics (epoch/epochs, train and validation loss,
// elapsed time), enough for a progress bar with an ETA; returning
// nn.ErrStop ends training early. With equal cfg, data and fit (seeds
// included) two runs give bit-identical models.
//
// It returns ErrDim (wrapped) if dim differs from cfg.InputDim(), an error
// wrapping ErrConfig for an invalid cfg, and nn.Fit's errors (nn.ErrNoData,
// nn.ErrNonFinite, onEpoch's); the model is nil on error, the history holds
// the epochs that ran. It allocates a standardised copy of the data (none
// with NoStandardize; x is never modified). It panics if len(x) < n·dim.
func Train(cfg Config, x []float32, n, dim int, fit *nn.FitConfig, onEpoch func(nn.EpochStats) error) (*Model, *nn.History, error) {
	rc, a, err := cfg.resolve()
	if err != nil {
		return nil, nil, err
	}
	if dim != rc.InputDim() {
		return nil, nil, fmt.Errorf("%w: data has %d values per patch, config %d×%d = %d", ErrDim, dim, rc.Frames, rc.Bins, rc.InputDim())
	}
	if n < 0 || len(x) < n*dim {
		panic(fmt.Sprintf("ae: Train: %d patches of %d values need %d values, have %d", n, dim, n*dim, len(x)))
	}
	if n == 0 {
		return nil, nil, nn.ErrNoData
	}
	fc := DCASE2020Fit()
	if fit != nil {
		fc = *fit
	}
	if onEpoch != nil {
		first := fc.OnEpoch
		fc.OnEpoch = func(e nn.EpochStats) error {
			if first != nil {
				if err := first(e); err != nil {
					return err
				}
			}
			return onEpoch(e)
		}
	}
	m := build(rc, a)
	xs := x[:n*dim] // nn.Fit never writes its data; copied below only to standardise
	val := fc.ValX
	if val.N > 0 && val.Shape.Size() != dim {
		return nil, nil, fmt.Errorf("%w: validation data has %d values per patch, config %d", ErrDim, val.Shape.Size(), dim)
	}
	if val.N > 0 {
		val = nn.Tensor{Data: append([]float32(nil), val.Data[:val.N*dim]...), N: val.N, Shape: a.in}
	}
	if m.std != nil {
		rows := n
		if val.N == 0 && fc.ValFraction > 0 {
			rows = int(float64(n) * (1 - fc.ValFraction)) // nn.Fit's split
		}
		if rows < 1 {
			return nil, nil, nn.ErrNoData
		}
		m.std = norm.Fit(xs, rows, dim, 0)
		xs = make([]float32, n*dim)
		m.std.Apply(xs, x, n)
		if val.N > 0 {
			m.std.Apply(val.Data, val.Data, val.N)
		}
	}
	fc.ValX, fc.ValY = val, nn.Tensor{}
	t := newTrainer(m)
	opt := nn.NewAdam(t.params, rc.LearningRate)
	opt.WeightDecay = rc.WeightDecay
	h, err := nn.Fit(t, opt, nn.Tensor{Data: xs, N: n, Shape: a.in}, nn.Tensor{}, &fc)
	if err != nil {
		return nil, h, err
	}
	return m, h, nil
}

// trainer is the nn.Model that Fit trains: encoder, decoder, the
// corruption and the sparsity penalty glued by hand.
type trainer struct {
	m             *Model
	params, state []nn.Param
	rng           *rand.Rand // corruption
	xin           []float32  // corrupted input
	grad, dz      []float32  // ∂loss/∂output, ∂loss/∂code
	rho           []float64  // batch mean of each code unit
}

var (
	_ nn.Model    = (*trainer)(nil)
	_ nn.Stateful = (*trainer)(nil)
)

func newTrainer(m *Model) *trainer {
	return &trainer{m: m,
		params: nn.CollectParams(m.enc, m.dec),
		state:  nn.CollectState(m.enc, m.dec),
		rng:    rand.New(rand.NewPCG(m.cfg.Seed, 0x6e6f697365)), // "noise"
		rho:    make([]float64, m.CodeDim()),
	}
}

func (t *trainer) Params() []nn.Param { return t.params }
func (t *trainer) State() []nn.Param  { return t.state }

// Step runs one batch: corrupt (training only), encode, decode, MSE against
// the clean x; in training backpropagate the MSE and the sparsity penalty.
func (t *trainer) Step(x, _ nn.Tensor, train bool) float64 {
	c := &t.m.cfg
	in := x
	nv := x.N * x.Shape.Size()
	if train && (c.Corruption.Sigma > 0 || c.Corruption.MaskProb > 0) {
		t.xin = grow(t.xin, nv)
		t.corrupt(t.xin, x.Data[:nv])
		in = nn.Tensor{Data: t.xin, N: x.N, Shape: x.Shape}
	}
	z := t.m.enc.Forward(in, train)
	y := t.m.dec.Forward(z, train)
	if !train {
		return nn.MSE(nil, y.Data[:nv], x.Data[:nv])
	}
	t.grad = grow(t.grad, nv)
	loss := nn.MSE(t.grad, y.Data[:nv], x.Data[:nv])
	dz := t.m.dec.Backward(nn.Tensor{Data: t.grad, N: y.N, Shape: y.Shape})
	if s := c.Sparsity; s.L1 > 0 || s.Beta > 0 {
		nz := z.N * z.Shape.Size()
		t.dz = grow(t.dz, nz)
		copy(t.dz, dz.Data[:nz])
		loss += t.penalty(t.dz, z.Data[:nz], z.N)
		dz = nn.Tensor{Data: t.dz, N: z.N, Shape: z.Shape}
	}
	t.m.enc.BackwardParams(dz)
	return loss
}

// corrupt writes the corrupted copy of x into dst: mask, then noise.
func (t *trainer) corrupt(dst, x []float32) {
	k := t.m.cfg.Corruption
	p, sd := float32(k.MaskProb), k.Sigma
	for i, v := range x {
		if p > 0 && t.rng.Float32() < p {
			v = 0
		}
		if sd > 0 {
			v += float32(sd * t.rng.NormFloat64())
		}
		dst[i] = v
	}
}

// penalty returns the sparsity penalty of the code h (n rows) and adds its
// gradient to dh.
func (t *trainer) penalty(dh, h []float32, n int) float64 {
	s := t.m.cfg.Sparsity
	k := len(t.rho)
	inv := 1 / float64(n)
	var p float64
	if s.L1 > 0 {
		var sum float64
		g := float32(s.L1 * inv)
		for i, v := range h {
			switch {
			case v > 0:
				sum += float64(v)
				dh[i] += g
			case v < 0:
				sum -= float64(v)
				dh[i] -= g
			}
		}
		p += s.L1 * inv * sum
	}
	if s.Beta > 0 {
		const eps = 1e-6
		rho := s.Rho
		clear(t.rho)
		for r := 0; r < n; r++ {
			for j, v := range h[r*k : (r+1)*k] {
				t.rho[j] += float64(v)
			}
		}
		var kl float64
		for j := range t.rho {
			q := min(max(t.rho[j]*inv, eps), 1-eps)
			kl += rho*math.Log(rho/q) + (1-rho)*math.Log((1-rho)/(1-q))
			t.rho[j] = s.Beta * inv * (-rho/q + (1-rho)/(1-q)) // now the gradient per value
		}
		for r := 0; r < n; r++ {
			row := dh[r*k : (r+1)*k]
			for j := range row {
				row[j] += float32(t.rho[j])
			}
		}
		p += s.Beta * kl
	}
	return p
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

package vae

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
)

// ErrConfig is wrapped by the errors of New and Unmarshal about an invalid
// Config.
var ErrConfig = errors.New("vae: invalid config")

// Likelihood names the decoder's observation model p(x|z).
type Likelihood string

const (
	// Gaussian is p(x|z) = Π_j N(x_j; m_j(z), exp(v_j)) with a learned
	// per-feature log-variance v (one value per bin, shared by all z),
	// initialised to Config.DecoderLogVar. The default.
	Gaussian Likelihood = "gaussian"
	// GaussianFixed is Gaussian with v_j = Config.DecoderLogVar fixed.
	GaussianFixed Likelihood = "gaussian-fixed"
	// Bernoulli is p(x|z) = Π_j p_j^x_j (1−p_j)^(1−x_j) with
	// p_j = sigmoid(a_j(z)) for data in [0, 1] (the continuous relaxation
	// for non-binary values, as in Kingma & Welling 2014). Inputs are never
	// standardised.
	Bernoulli Likelihood = "bernoulli"
)

// Activation names the nonlinearity after every hidden layer.
type Activation string

const (
	ReLU      Activation = "relu"       // max(0, x); the default
	LeakyReLU Activation = "leaky-relu" // slope 0.01 below 0
	ELU       Activation = "elu"        // α = 1
	Tanh      Activation = "tanh"
)

// Config is the architecture of a VAE. It is stored as JSON in the
// MarshalBinary blob, so it holds everything needed to rebuild the
// networks. Zero fields take the defaults noted.
//
// The encoder is
//
//	patch (T×F) → [Conv stack, flattened] → concat band tag → Hidden dense layers → mu, log σ² heads
//
// and the decoder mirrors it:
//
//	concat(z, band tag) → reversed Hidden dense layers → [dense to the conv map, transposed conv stack] → T×F
//
// Every hidden layer is followed by BatchNorm (when set) and the
// activation; the heads and the decoder's output layer are linear (the
// output is the mean for Gaussian decoders, the logits for Bernoulli).
type Config struct {
	T int `json:"t"` // frames per patch; required (≥ 1)
	F int `json:"f"` // values (bins) per frame; required (≥ 1). A patch has T·F values, frame-major.

	Latent int   `json:"latent"` // code size; required (≥ 1)
	Hidden []int `json:"hidden"` // widths of the encoder's dense hidden layers, first to last; may be empty

	// Conv selects the convolutional variant; nil is the dense VAE.
	Conv *ConvConfig `json:"conv,omitempty"`

	// Bands > 0 conditions the model on the frequency band of the patch:
	// the one-hot vector of the band index (Bands entries) is concatenated
	// to the encoder's dense input and to the decoder's input, so one
	// model serves every band. 0: no tag.
	Bands int `json:"bands"`

	Decoder       Likelihood `json:"decoder"`         // default Gaussian
	DecoderLogVar float64    `json:"decoder_log_var"` // initial (Gaussian) or fixed (GaussianFixed) log-variance of p(x_j|z); default 0
	BatchNorm     bool       `json:"batch_norm"`      // BatchNorm after every hidden layer
	Activation    Activation `json:"activation"`      // default ReLU
	// NoStandardize turns off the per-feature standardisation (norm.Fit on
	// the training data) that Gaussian decoders get by default.
	NoStandardize bool `json:"no_standardize"`

	Seed uint64 `json:"seed"` // seed of the weight initialisation, PCG(Seed, Seed)
}

// ConvConfig is the convolutional stack of the encoder, run on the patch as
// a one-channel T×F image. Each layer is a Conv2D with a KernelT×KernelF
// window, stride (StrideT, StrideF) and padding (KernelT/2, KernelF/2);
// the decoder mirrors it with ConvTranspose2D layers whose output padding
// restores the exact sizes.
type ConvConfig struct {
	Channels []int `json:"channels"` // output channels per layer; required, non-empty
	KernelT  int   `json:"kernel_t"` // default 3
	KernelF  int   `json:"kernel_f"` // default 3
	StrideT  int   `json:"stride_t"` // default 1 (patches are short in time)
	StrideF  int   `json:"stride_f"` // default 2
}

// DCASE returns the dense VAE with the DCASE 2020 Task 2 baseline's shape:
// 640 inputs (5 frames × 128 mels), encoder 640→128→128→128→128→(8, 8),
// decoder 8→128→128→128→128→640, BatchNorm and ReLU after every hidden
// layer, Gaussian decoder with a learned per-bin variance.
func DCASE() Config {
	return Config{T: 5, F: 128, Latent: 8, Hidden: []int{128, 128, 128, 128}, BatchNorm: true}
}

// InputDim returns T·F, the values per patch.
func (c *Config) InputDim() int { return c.T * c.F }

// limits on sizes, so that a corrupt or hostile config is an error, not an
// out-of-memory crash.
const (
	maxDim      = 1 << 20
	maxWidth    = 1 << 16
	maxLayers   = 64
	maxParams   = 1 << 28
	maxKernel   = 64
	maxChannels = 4096
)

// withDefaults fills the zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	c.Hidden = append([]int(nil), c.Hidden...)
	if c.Decoder == "" {
		c.Decoder = Gaussian
	}
	if c.Activation == "" {
		c.Activation = ReLU
	}
	if c.Conv != nil {
		cc := *c.Conv
		cc.Channels = append([]int(nil), cc.Channels...)
		if cc.KernelT == 0 {
			cc.KernelT = 3
		}
		if cc.KernelF == 0 {
			cc.KernelF = 3
		}
		if cc.StrideT == 0 {
			cc.StrideT = 1
		}
		if cc.StrideF == 0 {
			cc.StrideF = 2
		}
		c.Conv = &cc
	}
	return c, c.validate()
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
}

func (c *Config) validate() error {
	if c.T < 1 || c.F < 1 || c.T > maxDim || c.F > maxDim || c.T*c.F > maxDim {
		return bad("patch %d×%d", c.T, c.F)
	}
	if c.Latent < 1 || c.Latent > maxWidth {
		return bad("latent size %d", c.Latent)
	}
	if len(c.Hidden) > maxLayers {
		return bad("%d hidden layers", len(c.Hidden))
	}
	for _, h := range c.Hidden {
		if h < 1 || h > maxWidth {
			return bad("hidden width %d", h)
		}
	}
	if c.Bands < 0 || c.Bands > maxWidth {
		return bad("%d bands", c.Bands)
	}
	switch c.Decoder {
	case Gaussian, GaussianFixed, Bernoulli:
	default:
		return bad("decoder %q (want %q, %q or %q)", c.Decoder, Gaussian, GaussianFixed, Bernoulli)
	}
	if math.IsNaN(c.DecoderLogVar) || math.Abs(c.DecoderLogVar) > 50 {
		return bad("decoder log-variance %v", c.DecoderLogVar)
	}
	switch c.Activation {
	case ReLU, LeakyReLU, ELU, Tanh:
	default:
		return bad("activation %q", c.Activation)
	}
	if cc := c.Conv; cc != nil {
		if len(cc.Channels) == 0 || len(cc.Channels) > maxLayers {
			return bad("%d conv layers", len(cc.Channels))
		}
		for _, ch := range cc.Channels {
			if ch < 1 || ch > maxChannels {
				return bad("conv channels %d", ch)
			}
		}
		if cc.KernelT < 1 || cc.KernelF < 1 || cc.KernelT > maxKernel || cc.KernelF > maxKernel ||
			cc.StrideT < 1 || cc.StrideF < 1 || cc.StrideT > maxKernel || cc.StrideF > maxKernel {
			return bad("conv window %+v", *cc)
		}
	}
	g, err := c.geometry()
	if err != nil {
		return err
	}
	if g.params > maxParams {
		return bad("%d parameters", g.params)
	}
	return nil
}

// geometry is what the layer sizes work out to.
type geometry struct {
	convShapes []nn.Shape // input shape of each conv layer, then the output of the last
	outPads    [][2]int   // output padding of the transposed conv mirroring each conv layer
	feat       int        // encoder features before the tag (T·F, or the flattened conv map)
	params     int        // values nn.Save writes: weights, BatchNorm state, decoder log-variance
}

func (c *Config) window(outPad [2]int) nn.Window2D {
	cc := c.Conv
	return nn.Window2D{KH: cc.KernelT, KW: cc.KernelF, StrideH: cc.StrideT, StrideW: cc.StrideF,
		PadH: cc.KernelT / 2, PadW: cc.KernelF / 2, OutPadH: outPad[0], OutPadW: outPad[1]}
}

func (c *Config) geometry() (geometry, error) {
	var g geometry
	d := c.T * c.F
	g.feat = d
	p := 0
	bn := func(ch int) {
		if c.BatchNorm {
			p += 4 * ch // γ, β, running mean and variance
		}
	}
	dense := func(in, out int) { p += in*out + out }
	var top nn.Shape
	if cc := c.Conv; cc != nil {
		s := nn.Shape{1, c.T, c.F}
		g.convShapes = append(g.convShapes, s)
		w := c.window([2]int{})
		for i, ch := range cc.Channels {
			oh := (s[1]+2*w.PadH-w.KH)/w.StrideH + 1
			ow := (s[2]+2*w.PadW-w.KW)/w.StrideW + 1
			if s[1]+2*w.PadH < w.KH || s[2]+2*w.PadW < w.KW || oh < 1 || ow < 1 {
				return g, bad("conv layer %d: window %d×%d does not fit the %d×%d map", i, w.KH, w.KW, s[1], s[2])
			}
			// The mirroring transposed conv maps oh back to
			// (oh−1)·s − 2p + k + outPad, which must equal s[1].
			ph := s[1] - ((oh-1)*w.StrideH - 2*w.PadH + w.KH)
			pw := s[2] - ((ow-1)*w.StrideW - 2*w.PadW + w.KW)
			if ph < 0 || ph >= w.StrideH || pw < 0 || pw >= w.StrideW {
				return g, bad("conv layer %d: a transposed conv cannot restore %d×%d from %d×%d", i, s[1], s[2], oh, ow)
			}
			g.outPads = append(g.outPads, [2]int{ph, pw})
			p += s[0]*ch*w.KH*w.KW + ch // conv
			bn(ch)
			p += ch*s[0]*w.KH*w.KW + s[0] // its transposed mirror
			if i > 0 {
				bn(s[0])
			}
			s = nn.Shape{ch, oh, ow}
			g.convShapes = append(g.convShapes, s)
			if s.Size() > maxDim {
				return g, bad("conv map %v too large", s)
			}
		}
		top = s
		g.feat = s.Size()
	}
	in := g.feat + c.Bands
	for _, h := range c.Hidden {
		dense(in, h)
		bn(h)
		in = h
	}
	dense(in, c.Latent)
	dense(in, c.Latent)
	in = c.Latent + c.Bands
	for i := len(c.Hidden) - 1; i >= 0; i-- {
		dense(in, c.Hidden[i])
		bn(c.Hidden[i])
		in = c.Hidden[i]
	}
	if c.Conv != nil {
		dense(in, top.Size())
		bn(top.Size())
	} else {
		dense(in, d)
	}
	if c.Decoder == Gaussian {
		p += d
	}
	g.params = p
	return g, nil
}

// activation returns a fresh activation layer of the configured kind.
func (c *Config) activation() nn.Layer {
	switch c.Activation {
	case LeakyReLU:
		return nn.NewLeakyReLU(0.01)
	case ELU:
		return nn.NewELU(1)
	case Tanh:
		return nn.NewTanh()
	default:
		return nn.NewReLU()
	}
}

// hidden appends a hidden block (BatchNorm when configured, activation).
func (c *Config) hidden(layers []nn.Layer, width int) []nn.Layer {
	if c.BatchNorm {
		layers = append(layers, nn.NewBatchNorm(width))
	}
	return append(layers, c.activation())
}

// nets are the networks of a VAE. Conv and Enc are nil when absent.
type nets struct {
	conv   *nn.Sequential // patch image → flattened conv features
	enc    *nn.Sequential // concat(features, tag) → last hidden
	mu, lv *nn.Dense      // heads
	dec    *nn.Sequential // concat(z, tag) → T·F means or logits
}

// build constructs the networks of a validated config.
func (c *Config) build() nets {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed))
	g, err := c.geometry()
	if err != nil {
		panic(err) // validated before
	}
	var n nets
	if cc := c.Conv; cc != nil {
		var ls []nn.Layer
		for i, ch := range cc.Channels {
			ls = append(ls, nn.NewConv2D(g.convShapes[i][0], ch, c.window([2]int{}), rng))
			ls = c.hidden(ls, ch)
		}
		n.conv = nn.NewSequential(append(ls, nn.NewFlatten())...)
	}
	in := g.feat + c.Bands
	if len(c.Hidden) > 0 {
		var ls []nn.Layer
		for _, h := range c.Hidden {
			ls = append(ls, nn.NewDense(in, h, rng))
			ls = c.hidden(ls, h)
			in = h
		}
		n.enc = nn.NewSequential(ls...)
	}
	n.mu = nn.NewDense(in, c.Latent, rng)
	n.lv = nn.NewDense(in, c.Latent, rng)
	// Glorot for the linear heads: the log-variance starts near 0.
	n.mu.Initialize(nn.GlorotUniform, rng)
	n.lv.Initialize(nn.GlorotUniform, rng)

	var ls []nn.Layer
	in = c.Latent + c.Bands
	for i := len(c.Hidden) - 1; i >= 0; i-- {
		ls = append(ls, nn.NewDense(in, c.Hidden[i], rng))
		ls = c.hidden(ls, c.Hidden[i])
		in = c.Hidden[i]
	}
	if cc := c.Conv; cc != nil {
		top := g.convShapes[len(g.convShapes)-1]
		ls = append(ls, nn.NewDense(in, top.Size(), rng))
		ls = c.hidden(ls, top.Size())
		ls = append(ls, nn.NewReshape(top))
		for i := len(cc.Channels) - 1; i >= 0; i-- {
			outC := g.convShapes[i][0]
			ls = append(ls, nn.NewConvTranspose2D(cc.Channels[i], outC, c.window(g.outPads[i]), rng))
			if i > 0 {
				ls = c.hidden(ls, outC)
			}
		}
		ls = append(ls, nn.NewFlatten())
	} else {
		last := nn.NewDense(in, c.T*c.F, rng)
		last.Initialize(nn.GlorotUniform, rng)
		ls = append(ls, last)
	}
	n.dec = nn.NewSequential(ls...)
	return n
}

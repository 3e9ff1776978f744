package ae

import (
	"errors"
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/nn"
)

// Kind names a member of the autoencoder family.
type Kind string

const (
	// Dense is a fully connected autoencoder (the DCASE 2020 baseline's
	// family): Hidden widths, a Code layer, the Hidden widths mirrored, a
	// linear output.
	Dense Kind = "dense"
	// CAES is a convolutional autoencoder stack over T×F patches: strided
	// Conv2D blocks, an optional dense bottleneck, the blocks mirrored with
	// ConvTranspose2D.
	CAES Kind = "caes"
	// Sparse is a dense autoencoder trained with a sparsity penalty on its
	// code: L1 (weight Sparsity.L1) and/or KL divergence toward a target
	// mean activation (Sparsity.Rho, weight Sparsity.Beta).
	Sparse Kind = "sparse"
	// Denoising is a dense autoencoder trained to reconstruct the clean
	// input from a corrupted copy (Gaussian noise Corruption.Sigma and/or
	// masking with probability Corruption.MaskProb).
	Denoising Kind = "denoising"
)

// Activation names an elementwise nonlinearity (the pkg/nn layer of the
// same name).
type Activation string

// The activations.
const (
	ReLU      Activation = "relu"       // max(x, 0)
	LeakyReLU Activation = "leaky_relu" // x, or 0.01·x below zero (PyTorch's default slope)
	ELU       Activation = "elu"        // x, or e^x − 1 below zero (alpha 1)
	Tanh      Activation = "tanh"       // tanh(x)
	Sigmoid   Activation = "sigmoid"    // 1/(1 + e^−x), values in (0, 1)
	Linear    Activation = "linear"     // the identity: no layer
)

// Init names a weight initialisation (see nn.Init).
type Init string

// The initialisations.
const (
	HeUniform     Init = "he_uniform"     // U(±√(6/fanIn)), bias 0; the default
	HeNormal      Init = "he_normal"      // N(0, 2/fanIn)
	GlorotUniform Init = "glorot_uniform" // U(±√(6/(fanIn+fanOut))): Keras' default (the original DCASE baseline)
	GlorotNormal  Init = "glorot_normal"  // N(0, 2/(fanIn+fanOut))
	TorchDefault  Init = "torch"          // PyTorch's U(±1/√fanIn) for weights and biases (dcase_ae.py)
)

// ConvLayer is one block of a CAES encoder: a Conv2D from the previous
// block's channels (1 for the input patch) to Channels, with a KH×KW kernel
// over (time, frequency), strides and zero padding; then BatchNorm (when
// Config.BatchNorm) and the activation. The decoder mirrors it with a
// ConvTranspose2D of the same window whose output padding restores the
// exact input size. Zero strides mean 1.
type ConvLayer struct {
	Channels int `json:"channels"`
	KH       int `json:"kh"`
	KW       int `json:"kw"`
	StrideH  int `json:"stride_h,omitempty"`
	StrideW  int `json:"stride_w,omitempty"`
	PadH     int `json:"pad_h,omitempty"`
	PadW     int `json:"pad_w,omitempty"`
}

// Sparsity configures the sparsity penalty on the code h (the encoder's
// output, N rows of K units), added to the reconstruction loss in training:
//
//	L1 · (1/N)·Σ_n Σ_j |h_nj|  +  Beta · Σ_j KL(Rho ‖ ρ̂_j),
//	ρ̂_j = (1/N)·Σ_n h_nj,  KL(ρ‖ρ̂) = ρ·log(ρ/ρ̂) + (1−ρ)·log((1−ρ)/(1−ρ̂))
//
// with ρ̂ clamped to [1e-6, 1−1e-6] and the batch as the averaging set. The
// KL term needs code units in (0, 1): it requires the sigmoid code
// activation. Zero weights disable a term.
type Sparsity struct {
	L1   float64 `json:"l1,omitempty"`   // λ, weight of the L1 term
	Rho  float64 `json:"rho,omitempty"`  // target mean activation, in (0, 1)
	Beta float64 `json:"beta,omitempty"` // weight of the KL term
}

// Corruption configures the denoising corruption of the training input
// (after standardisation, so Sigma is in standardised units when the model
// standardises): each value is first zeroed with probability MaskProb (the
// feature mean, in standardised units), then Gaussian noise of deviation
// Sigma is added. The target stays the clean input. Validation and scoring
// see clean inputs. The draws come from an RNG seeded by Config.Seed.
type Corruption struct {
	Sigma    float64 `json:"sigma,omitempty"`
	MaskProb float64 `json:"mask_prob,omitempty"`
}

// Config describes an autoencoder of the family and how it is trained
// (besides the loop settings of nn.FitConfig). It is saved with the model
// as JSON. Zero fields take the defaults noted; NewModel and Train store
// the resolved Config (defaults filled in), which Model.Config returns.
//
// Input: patches of Frames×Bins values, frame-major (value (t, f) at
// t·Bins+f, docs/architecture.md); a plain vector of d features is
// Frames 1, Bins d.
type Config struct {
	Kind   Kind `json:"kind"`   // default Dense
	Frames int  `json:"frames"` // T, required
	Bins   int  `json:"bins"`   // F, required

	// Dense kinds (Dense, Sparse, Denoising): encoder hidden widths; the
	// decoder uses them reversed. May be empty (a single-layer encoder).
	Hidden []int `json:"hidden,omitempty"`
	// Conv is the CAES encoder (at least one block); ignored otherwise.
	Conv []ConvLayer `json:"conv,omitempty"`
	// Code is the bottleneck width: required for dense kinds; for CAES a
	// dense bottleneck of this width after the convolutions, or none when 0
	// (the code is then the last block's feature map).
	Code int `json:"code"`

	Activation     Activation `json:"activation,omitempty"`      // hidden layers; default ReLU
	CodeActivation Activation `json:"code_activation,omitempty"` // the code layer; default Linear (Sigmoid when Sparsity.Beta > 0)
	BatchNorm      bool       `json:"batch_norm,omitempty"`      // BatchNorm after every hidden Dense/conv, before its activation
	CodeBatchNorm  bool       `json:"code_batch_norm,omitempty"` // BatchNorm on the code layer, before its activation
	Init           Init       `json:"init,omitempty"`            // default HeUniform

	// NoStandardize turns off the per-feature standardisation of the input
	// (norm.Fit on the training rows, saved with the model). Standardising
	// is the default; the DCASE2020 preset turns it off to mirror the
	// baseline, which trains on raw log-mel values.
	NoStandardize bool `json:"no_standardize,omitempty"`

	LearningRate float64 `json:"learning_rate,omitempty"` // Adam's; default 1e-3
	WeightDecay  float64 `json:"weight_decay,omitempty"`  // Adam's L2 term; default 0

	Sparsity   Sparsity   `json:"sparsity,omitzero"`
	Corruption Corruption `json:"corruption,omitzero"`

	// Seed seeds the weight initialisation and the corruption draws
	// (shuffling is nn.FitConfig.Seed).
	Seed uint64 `json:"seed"`
}

// Errors returned by Validate, NewModel and Train.
var (
	// ErrConfig is wrapped by every error about an invalid Config.
	ErrConfig = errors.New("ae: invalid config")
	// ErrDim is returned when data do not have the Config's input size.
	ErrDim = errors.New("ae: data dimension does not match the config")
)

// Limits that keep a Config (possibly read from a file) from asking for
// absurd sizes.
const (
	maxInput  = 1 << 22 // values per patch
	maxWidth  = 1 << 16 // units or channels of one layer
	maxLayers = 64      // hidden or conv layers
	maxParams = 1 << 28 // values (weights, biases, statistics)
)

// DCASE2020 returns the DCASE 2020 Task 2 baseline autoencoder, as
// /work/shared/bench/dcase_ae.py builds it: 5 frames × 128 log-mel bins =
// 640 → 128 ×4 → 8 → 128 ×4 → 640, every hidden Dense (including the
// 8-unit code) followed by BatchNorm and ReLU, a linear output; PyTorch's
// default initialisation; Adam with learning rate 1e-3; MSE. Like the
// baseline it trains on the raw log-mel values (NoStandardize), so its
// scores are in dB². Train it with DCASE2020Fit.
func DCASE2020() Config {
	return Config{
		Kind: Dense, Frames: 5, Bins: 128,
		Hidden: []int{128, 128, 128, 128}, Code: 8,
		Activation: ReLU, CodeActivation: ReLU,
		BatchNorm: true, CodeBatchNorm: true,
		Init: TorchDefault, NoStandardize: true, LearningRate: 1e-3,
	}
}

// DCASE2020Fit returns the baseline's training loop: 100 epochs of
// shuffled batches of 512 (dcase_ae.py), with the last 10% of the rows
// held out for validation (the original Keras baseline's
// validation_split); no early stopping.
func DCASE2020Fit() nn.FitConfig {
	return nn.FitConfig{Epochs: 100, BatchSize: 512, ValFraction: 0.1}
}

// Defaults returns a reasonable Config of the given kind for patches of
// frames×bins, standardised:
//
//	Dense      the DCASE 2020 topology (128 ×4, code 8 with BatchNorm+ReLU), HeUniform
//	Denoising  the same, trained with Gaussian corruption σ = 0.5 (standardised units)
//	Sparse     128 → 64 sigmoid code units (no BatchNorm on the code), KL toward
//	           ρ = 0.05 with β = 0.1
//	CAES       three blocks of 8, 16, 32 channels; along each axis a 4-wide kernel
//	           with stride 2 while the axis is at least 8 long, else 3-wide with
//	           stride 1 (padding 1); BatchNorm+ReLU; a 32-unit linear dense code
//
// It panics on an unknown kind.
func Defaults(kind Kind, frames, bins int) Config {
	c := Config{Kind: kind, Frames: frames, Bins: bins, Activation: ReLU, BatchNorm: true,
		Init: HeUniform, LearningRate: 1e-3}
	switch kind {
	case Dense, Denoising:
		c.Hidden, c.Code = []int{128, 128, 128, 128}, 8
		c.CodeActivation, c.CodeBatchNorm = ReLU, true
		if kind == Denoising {
			c.Corruption.Sigma = 0.5
		}
	case Sparse:
		c.Hidden, c.Code = []int{128}, 64
		c.CodeActivation = Sigmoid
		c.Sparsity = Sparsity{Rho: 0.05, Beta: 0.1}
	case CAES:
		h, w := frames, bins
		for _, ch := range []int{8, 16, 32} {
			l := ConvLayer{Channels: ch}
			l.KH, l.StrideH, l.PadH = axis(h)
			l.KW, l.StrideW, l.PadW = axis(w)
			c.Conv = append(c.Conv, l)
			h, w = (h+2*l.PadH-l.KH)/l.StrideH+1, (w+2*l.PadW-l.KW)/l.StrideW+1
		}
		c.Code, c.CodeActivation = 32, Linear
	default:
		panic(fmt.Sprintf("ae: Defaults: unknown kind %q", kind))
	}
	return c
}

// axis returns the kernel, stride and padding of a default CAES block
// along an axis of length n.
func axis(n int) (k, s, p int) {
	if n >= 8 {
		return 4, 2, 1 // halves n exactly for even n; k multiple of s: no checkerboard
	}
	return 3, 1, 1 // keeps n
}

// InputDim returns Frames·Bins, the values per patch.
func (c Config) InputDim() int { return c.Frames * c.Bins }

// Validate reports whether c (with defaults filled in) describes a valid
// model; the error wraps ErrConfig.
func (c Config) Validate() error {
	_, _, err := c.resolve()
	return err
}

// resolve returns c with defaults filled in, its architecture, and an error
// wrapping ErrConfig if it is invalid.
func (c Config) resolve() (Config, *arch, error) {
	bad := func(format string, a ...any) (Config, *arch, error) {
		return c, nil, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if c.Kind == "" {
		c.Kind = Dense
	}
	if c.Activation == "" {
		c.Activation = ReLU
	}
	if c.CodeActivation == "" {
		c.CodeActivation = Linear
		if c.Sparsity.Beta > 0 {
			c.CodeActivation = Sigmoid
		}
	}
	if c.Init == "" {
		c.Init = HeUniform
	}
	if c.LearningRate == 0 {
		c.LearningRate = 1e-3
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	c.Conv = append([]ConvLayer(nil), c.Conv...)

	switch c.Kind {
	case Dense, Sparse, Denoising, CAES:
	default:
		return bad("unknown kind %q", c.Kind)
	}
	if c.Frames < 1 || c.Bins < 1 || c.Frames > maxInput || c.Bins > maxInput || c.Frames*c.Bins > maxInput {
		return bad("patch of %d×%d values", c.Frames, c.Bins)
	}
	for _, a := range []Activation{c.Activation, c.CodeActivation} {
		if _, ok := activations[a]; !ok {
			return bad("unknown activation %q", a)
		}
	}
	if _, ok := inits[c.Init]; !ok {
		return bad("unknown init %q", c.Init)
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) || !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return bad("learning rate %v, weight decay %v", c.LearningRate, c.WeightDecay)
	}
	s := c.Sparsity
	if !(s.L1 >= 0) || !(s.Beta >= 0) || math.IsInf(s.L1, 0) || math.IsInf(s.Beta, 0) {
		return bad("sparsity weights l1 %v, beta %v", s.L1, s.Beta)
	}
	if s.Beta > 0 {
		if !(s.Rho > 0 && s.Rho < 1) {
			return bad("sparsity rho %v not in (0, 1)", s.Rho)
		}
		if c.CodeActivation != Sigmoid {
			return bad("KL sparsity needs the sigmoid code activation, have %q", c.CodeActivation)
		}
	} else if s.Rho != 0 && !(s.Rho > 0 && s.Rho < 1) {
		return bad("sparsity rho %v not in (0, 1)", s.Rho)
	}
	if c.Kind == Sparse && s.L1 == 0 && s.Beta == 0 {
		return bad("kind sparse needs sparsity.l1 > 0 or sparsity.beta > 0")
	}
	k := c.Corruption
	if !(k.Sigma >= 0) || math.IsInf(k.Sigma, 0) || !(k.MaskProb >= 0 && k.MaskProb < 1) {
		return bad("corruption sigma %v, mask probability %v", k.Sigma, k.MaskProb)
	}
	if c.Kind == Denoising && k.Sigma == 0 && k.MaskProb == 0 {
		return bad("kind denoising needs corruption.sigma > 0 or corruption.mask_prob > 0")
	}
	if len(c.Hidden) > maxLayers || len(c.Conv) > maxLayers {
		return bad("%d hidden and %d conv layers, at most %d", len(c.Hidden), len(c.Conv), maxLayers)
	}
	if c.Code < 0 || c.Code > maxWidth {
		return bad("code width %d", c.Code)
	}
	var a *arch
	var err error
	if c.Kind == CAES {
		a, err = c.convArch()
	} else {
		a, err = c.denseArch()
	}
	if err != nil {
		return bad("%v", err)
	}
	if a.params > maxParams {
		return bad("%d parameters, at most %d", a.params, maxParams)
	}
	return c, a, nil
}

var activations = map[Activation]bool{ReLU: true, LeakyReLU: true, ELU: true, Tanh: true, Sigmoid: true, Linear: true}

var inits = map[Init]nn.Init{HeUniform: nn.HeUniform, HeNormal: nn.HeNormal, GlorotUniform: nn.GlorotUniform,
	GlorotNormal: nn.GlorotNormal, TorchDefault: nn.TorchDefault}

// arch is the shape arithmetic of a Config, computed without allocating
// any weights: per-example input and code shapes, the CAES geometry, and
// the number of stored values (parameters and BatchNorm statistics).
type arch struct {
	in, code nn.Shape
	shapes   []nn.Shape // CAES: input of conv block i, and (last) the conv output
	outPad   [][2]int   // CAES: output padding of the transposed block i
	params   int
}

func (c Config) denseArch() (*arch, error) {
	if c.Code < 1 {
		return nil, fmt.Errorf("code width %d, need at least 1", c.Code)
	}
	d := c.InputDim()
	a := &arch{in: nn.Shape{d}, code: nn.Shape{c.Code}}
	prev := d
	for i, h := range c.Hidden {
		if h < 1 || h > maxWidth {
			return nil, fmt.Errorf("hidden layer %d has width %d", i, h)
		}
		// Encoder and mirrored decoder Dense layers, their BatchNorms.
		a.params += (prev*h + h) + (h*prev + prev)
		if c.BatchNorm {
			a.params += 2 * 4 * h
		}
		prev = h
	}
	// The code layer and the first decoder layer (to the last hidden width
	// or the output).
	a.params += prev*c.Code + c.Code + c.Code*prev + prev
	if c.CodeBatchNorm {
		a.params += 4 * c.Code
	}
	return a, nil
}

func (c Config) convArch() (*arch, error) {
	if len(c.Conv) == 0 {
		return nil, errors.New("caes needs at least one conv layer")
	}
	a := &arch{in: nn.Shape{1, c.Frames, c.Bins}}
	s := a.in
	for i, l := range c.Conv {
		sh, sw := max(l.StrideH, 1), max(l.StrideW, 1)
		if l.Channels < 1 || l.Channels > maxWidth || l.KH < 1 || l.KW < 1 || l.KH > maxWidth || l.KW > maxWidth ||
			l.StrideH < 0 || l.StrideW < 0 || l.StrideH > maxWidth || l.StrideW > maxWidth ||
			l.PadH < 0 || l.PadW < 0 || l.PadH >= l.KH || l.PadW >= l.KW {
			return nil, fmt.Errorf("conv layer %d: %+v (padding must be smaller than the kernel)", i, l)
		}
		h, w := s[1]+2*l.PadH-l.KH, s[2]+2*l.PadW-l.KW
		if h < 0 || w < 0 {
			return nil, fmt.Errorf("conv layer %d: kernel %d×%d larger than its padded input %d×%d", i, l.KH, l.KW, s[1]+2*l.PadH, s[2]+2*l.PadW)
		}
		// The transposed block maps OH back to (OH−1)·s − 2p + k + outPad;
		// outPad = (H + 2p − k) mod s restores H exactly, and is < s.
		a.shapes = append(a.shapes, s)
		a.outPad = append(a.outPad, [2]int{h % sh, w % sw})
		oh, ow := h/sh+1, w/sw+1
		if satMul(l.Channels, oh, ow) > maxInput {
			return nil, fmt.Errorf("conv layer %d: output of %d×%d×%d values too large", i, l.Channels, oh, ow)
		}
		// The weights (twice: the block and its mirror) and the im2col
		// workspace of both, (InC·KH·KW)×(OH·OW) values.
		w1 := satMul(s[0], l.Channels, l.KH, l.KW)
		if col := satMul(s[0], l.KH, l.KW, oh, ow); w1 > maxParams || col > maxParams {
			return nil, fmt.Errorf("conv layer %d: %d weights, %d-value workspace, at most %d", i, w1, col, maxParams)
		}
		a.params += 2*w1 + l.Channels + s[0]
		s = nn.Shape{l.Channels, oh, ow}
		if c.convBN(i) {
			a.params += 4 * l.Channels // encoder block
		}
		if i > 0 && c.BatchNorm {
			a.params += 4 * c.Conv[i-1].Channels // decoder block producing this block's input
		}
	}
	a.shapes = append(a.shapes, s)
	a.code = s
	if c.Code > 0 {
		f := s.Size()
		a.code = nn.Shape{c.Code}
		a.params += f*c.Code + c.Code + c.Code*f + f
		if c.CodeBatchNorm {
			a.params += 4 * c.Code
		}
		if c.BatchNorm {
			a.params += 4 * f
		}
	}
	return a, nil
}

// convBN reports whether encoder block i of a CAES has a BatchNorm: the
// hidden setting, or the code setting for the last block without a dense
// bottleneck (that block produces the code).
func (c Config) convBN(i int) bool {
	if i == len(c.Conv)-1 && c.Code == 0 {
		return c.CodeBatchNorm
	}
	return c.BatchNorm
}

// convAct is convBN's counterpart for the activation.
func (c Config) convAct(i int) Activation {
	if i == len(c.Conv)-1 && c.Code == 0 {
		return c.CodeActivation
	}
	return c.Activation
}

// satMul returns the product of positive factors, saturated at
// maxParams+1 so that it cannot overflow.
func satMul(f ...int) int {
	p := 1
	for _, v := range f {
		if v > 0 && p > (maxParams+1)/v {
			return maxParams + 1
		}
		p *= v
	}
	return min(p, maxParams+1)
}

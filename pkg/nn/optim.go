package nn

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/nn/internal/vec"
)

// Optimizer updates parameters from their gradients.
//
// Step applies one update to every parameter from its accumulated gradient
// and then zeroes the gradient (in the same pass), so the next Backward
// starts from zero. It allocates nothing.
type Optimizer interface {
	Step()
	LR() float64
	SetLR(lr float64)
}

// Adam is the Adam optimiser (Kingma & Ba 2015) with PyTorch's torch.optim.Adam
// and AdamW semantics: with g the gradient, t the step number from 1,
//
//	g ← g + WeightDecay·θ                  (Adam, L2 penalty; not Decoupled)
//	θ ← θ·(1 − LR·WeightDecay)             (AdamW, Decoupled)
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	θ ← θ − LR/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + Eps)
//
// Defaults (NewAdam): LR as given, β1 0.9, β2 0.999, Eps 1e-8, WeightDecay 0;
// NewAdamW: WeightDecay 0.01, Decoupled. The moments are float32, one pair
// per parameter value, allocated by the constructor.
type Adam struct {
	Rate, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                            bool // AdamW
	T                                    int  // steps taken

	params []Param
	w, g   [][]float32 // the parameters' Data and Grad, for vec.AdamAll
	m, v   [][]float32
}

var _ Optimizer = (*Adam)(nil)

// NewAdam returns Adam over params with learning rate lr and PyTorch's
// defaults.
func NewAdam(params []Param, lr float64) *Adam {
	a := &Adam{Rate: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, params: params}
	for _, p := range params {
		if len(p.Grad) != len(p.Data) {
			panic(fmt.Sprintf("nn: NewAdam: parameter %q has %d values and %d gradients", p.Name, len(p.Data), len(p.Grad)))
		}
		a.w = append(a.w, p.Data)
		a.g = append(a.g, p.Grad[:len(p.Data)])
		a.m = append(a.m, make([]float32, len(p.Data)))
		a.v = append(a.v, make([]float32, len(p.Data)))
	}
	return a
}

// NewAdamW returns AdamW (decoupled weight decay, Loshchilov & Hutter 2019)
// over params with learning rate lr and PyTorch's defaults (weight decay
// 0.01).
func NewAdamW(params []Param, lr float64) *Adam {
	a := NewAdam(params, lr)
	a.WeightDecay, a.Decoupled = 0.01, true
	return a
}

// LR returns the learning rate.
func (a *Adam) LR() float64 { return a.Rate }

// SetLR sets the learning rate.
func (a *Adam) SetLR(lr float64) { a.Rate = lr }

// Step applies one Adam update and zeroes the gradients.
func (a *Adam) Step() {
	a.T++
	t := float64(a.T)
	bc1 := 1 - math.Pow(a.Beta1, t)
	bc2 := 1 - math.Pow(a.Beta2, t)
	step := float32(a.Rate / bc1)
	ibc2 := float32(1 / math.Sqrt(bc2))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	h := vec.AdamCoef{Decay: 1, WD: float32(a.WeightDecay), B1: b1, C1: 1 - b1, B2: b2, C2: 1 - b2,
		Step: step, IBC2: ibc2, Eps: float32(a.Eps)}
	if a.Decoupled {
		h.Decay = float32(1 - a.Rate*a.WeightDecay)
		h.WD = 0
	}
	vec.AdamAll(a.w, a.g, a.m, a.v, &h) // one pass over all parameters, split across cores
}

// SGD is stochastic gradient descent with optional momentum, dampening,
// Nesterov momentum and L2 weight decay, with torch.optim.SGD semantics:
//
//	g ← g + WeightDecay·θ
//	b ← g (first step), b ← Momentum·b + (1−Dampening)·g (later steps)
//	g ← g + Momentum·b (Nesterov) or g ← b (Momentum > 0)
//	θ ← θ − LR·g
//
// Defaults: Momentum, Dampening and WeightDecay 0, Nesterov false.
type SGD struct {
	Rate, Momentum, Dampening, WeightDecay float64
	Nesterov                               bool

	params []Param
	buf    [][]float32
	t      int
}

var _ Optimizer = (*SGD)(nil)

// NewSGD returns SGD over params with learning rate lr and momentum
// (0 for plain SGD). The momentum buffers are allocated here.
func NewSGD(params []Param, lr, momentum float64) *SGD {
	s := &SGD{Rate: lr, Momentum: momentum, params: params}
	for _, p := range params {
		if len(p.Grad) != len(p.Data) {
			panic(fmt.Sprintf("nn: NewSGD: parameter %q has %d values and %d gradients", p.Name, len(p.Data), len(p.Grad)))
		}
		s.buf = append(s.buf, make([]float32, len(p.Data)))
	}
	return s
}

// LR returns the learning rate.
func (s *SGD) LR() float64 { return s.Rate }

// SetLR sets the learning rate.
func (s *SGD) SetLR(lr float64) { s.Rate = lr }

// Step applies one SGD update and zeroes the gradients.
func (s *SGD) Step() {
	s.t++
	lr, mom, wd := float32(s.Rate), float32(s.Momentum), float32(s.WeightDecay)
	damp := float32(1 - s.Dampening)
	if s.t == 1 {
		damp = 1 // the buffer starts as the first gradient
	}
	for k, p := range s.params {
		w, g, b := p.Data, p.Grad[:len(p.Data)], s.buf[k][:len(p.Data)]
		for i, gi := range g {
			gi += wd * w[i]
			if mom != 0 {
				bi := mom*b[i] + damp*gi
				if s.t == 1 {
					bi = gi
				}
				b[i] = bi
				if s.Nesterov {
					gi += mom * bi
				} else {
					gi = bi
				}
			}
			w[i] -= lr * gi
			g[i] = 0
		}
	}
}

// ClipGradNorm scales all gradients by maxNorm/(‖g‖+1e-6) when the global
// L2 norm ‖g‖ over every gradient value exceeds maxNorm (PyTorch
// clip_grad_norm_), and returns ‖g‖ before clipping. The norm is
// accumulated in float64. It allocates nothing.
func ClipGradNorm(params []Param, maxNorm float64) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(s)
	if c := maxNorm / (norm + 1e-6); c < 1 {
		cf := float32(c)
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= cf
			}
		}
	}
	return norm
}

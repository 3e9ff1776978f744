package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Layer is one differentiable stage of a network working on minibatches.
//
// Forward computes the output for the batch x (training selects training
// behaviour: batch statistics in BatchNorm, masking in Dropout). The result
// lives in a buffer the layer owns and stays valid until the layer's next
// Forward. The layer keeps a reference to x for Backward, so x must not be
// changed between Forward and Backward.
//
// Backward takes the gradient of the loss with respect to the output of the
// last Forward (dy, same shape as that output; any values the caller likes,
// so gradients can be injected at any layer), adds the parameter gradients
// into Params()[i].Grad (it accumulates; an Optimizer's Step zeroes them) and
// returns the gradient with respect to the input x, in a layer-owned buffer
// valid until the next Backward. Backward is valid after a Forward in either
// mode; after an inference-mode Forward it differentiates the inference
// function (BatchNorm with running statistics, Dropout as identity).
//
// Params returns the trainable parameters with their gradient buffers; the
// slices alias the layer's storage, so they stay valid for the layer's life.
//
// OutShape returns the per-example output shape for a per-example input
// shape; it panics if the layer cannot take that input.
//
// Workspaces are allocated on the first Forward/Backward with a batch larger
// than any before, and reused afterwards: a steady-state training step
// allocates nothing.
type Layer interface {
	Forward(x Tensor, training bool) Tensor
	Backward(dy Tensor) Tensor
	Params() []Param
	OutShape(in Shape) Shape
}

// Param is a trainable tensor and its gradient, both flat float32 slices of
// equal length that alias the owning layer's storage. Name is the
// parameter's name within its layer ("weight", "bias", ...) or, from a
// Sequential, the path "3.weight" (layer index, dot, name), like PyTorch's
// state_dict keys.
type Param struct {
	Name string
	Data []float32
	Grad []float32 // nil for non-trainable state (see Stateful)
}

// Stateful is implemented by layers that hold non-trainable state that must
// be saved with the weights (BatchNorm's running mean and variance). State
// returns it as Params with nil Grad.
type Stateful interface {
	State() []Param
}

// ParamBackwarder is implemented by layers that can compute their parameter
// gradients without the gradient with respect to their input, which saves a
// matrix product. Sequential.BackwardParams uses it for its first layer.
type ParamBackwarder interface {
	BackwardParams(dy Tensor)
}

// Init selects a weight initialisation. Biases start at zero except with
// TorchDefault. fanIn is the number of inputs summed into one output (in
// for Dense, inC*kh*kw for Conv2D), fanOut the number of outputs one input
// feeds.
type Init int

const (
	// HeUniform draws W ~ U(-a, a), a = sqrt(6/fanIn) (He et al. 2015,
	// PyTorch kaiming_uniform_ with nonlinearity="relu"). The default.
	HeUniform Init = iota
	// HeNormal draws W ~ N(0, 2/fanIn).
	HeNormal
	// GlorotUniform draws W ~ U(-a, a), a = sqrt(6/(fanIn+fanOut)) (Glorot
	// & Bengio 2010, Keras' default).
	GlorotUniform
	// GlorotNormal draws W ~ N(0, 2/(fanIn+fanOut)).
	GlorotNormal
	// TorchDefault reproduces PyTorch's nn.Linear/nn.ConvNd reset_parameters:
	// W and b ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
	TorchDefault
)

// Initializer is implemented by layers with weights. Initialize redraws
// them from rng (in a fixed order, so the result is deterministic for a
// seed) and zeroes their gradients.
type Initializer interface {
	Initialize(init Init, rng *rand.Rand)
}

func initWeights(w, b []float32, init Init, fanIn, fanOut int, rng *rand.Rand) {
	fi, fo := float64(fanIn), float64(fanOut)
	switch init {
	case HeUniform:
		uniform(w, math.Sqrt(6/fi), rng)
	case HeNormal:
		normal(w, math.Sqrt(2/fi), rng)
	case GlorotUniform:
		uniform(w, math.Sqrt(6/(fi+fo)), rng)
	case GlorotNormal:
		normal(w, math.Sqrt(2/(fi+fo)), rng)
	case TorchDefault:
		a := 1 / math.Sqrt(fi)
		uniform(w, a, rng)
		uniform(b, a, rng)
		return
	default:
		panic(fmt.Sprintf("nn: unknown Init %d", init))
	}
	clear(b)
}

func uniform(w []float32, a float64, rng *rand.Rand) {
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * a)
	}
}

func normal(w []float32, sd float64, rng *rand.Rand) {
	for i := range w {
		w[i] = float32(rng.NormFloat64() * sd)
	}
}

// Sequential chains layers: the output of Layers[i] is the input of
// Layers[i+1]. It is itself a Layer, so Sequentials nest.
//
// A Dense followed by BatchNorm and ReLU, or by ReLU alone, runs as one
// fused step: the bias and (without BatchNorm) the ReLU are applied in the
// product's store (gemm.SgemmBias), BatchNorm's normalisation and the ReLU
// share one pass, and the backward pass masks, sums and scales the
// gradient in two passes before the Dense products. The results are those
// of the layers run one by one; only the intermediate outputs of the
// BatchNorm and the ReLU's input are not materialised, so the
// Sequential's Forward must be followed by the Sequential's Backward (not
// by Backward calls on its individual layers).
type Sequential struct {
	Layers []Layer
	params []Param
	state  []Param
	plan   []Layer // the steps Forward runs: Layers with fused blocks
	first  int     // index in plan of the first step with parameters (len(plan) if none)
}

var (
	_ Layer           = (*Sequential)(nil)
	_ Stateful        = (*Sequential)(nil)
	_ ParamBackwarder = (*Sequential)(nil)
	_ Initializer     = (*Sequential)(nil)
)

// NewSequential returns the chain of layers. It panics if layers is empty.
// The layers' parameter lists are collected once here, so layers must not
// be added to Layers afterwards.
func NewSequential(layers ...Layer) *Sequential {
	if len(layers) == 0 {
		panic("nn: NewSequential with no layers")
	}
	s := &Sequential{Layers: layers}
	for i := 0; i < len(layers); {
		if f, k := fuseDense(layers, i); f != nil {
			s.plan = append(s.plan, f)
			i += k
			continue
		}
		s.plan = append(s.plan, layers[i])
		i++
	}
	s.first = len(s.plan)
	for i, l := range s.plan {
		if len(l.Params()) > 0 {
			s.first = i
			break
		}
	}
	for i, l := range layers {
		for _, p := range l.Params() {
			p.Name = fmt.Sprintf("%d.%s", i, p.Name)
			s.params = append(s.params, p)
		}
		if st, ok := l.(Stateful); ok {
			for _, p := range st.State() {
				p.Name = fmt.Sprintf("%d.%s", i, p.Name)
				s.state = append(s.state, p)
			}
		}
	}
	return s
}

// Forward runs the layers in order and returns the last one's output.
func (s *Sequential) Forward(x Tensor, training bool) Tensor {
	for _, l := range s.plan {
		x = l.Forward(x, training)
	}
	return x
}

// Backward runs the layers' Backward in reverse order and returns the
// gradient with respect to the Sequential's input.
func (s *Sequential) Backward(dy Tensor) Tensor {
	for i := len(s.plan) - 1; i >= 0; i-- {
		dy = s.plan[i].Backward(dy)
	}
	return dy
}

// BackwardParams is Backward without the gradient with respect to the
// input: layers before the first one with parameters are skipped, and that
// one computes only its parameter gradients when it can (Dense and the
// convolutions skip one matrix product). Use it when nothing upstream needs
// dx, e.g. training a plain network.
func (s *Sequential) BackwardParams(dy Tensor) {
	if s.first == len(s.plan) {
		return
	}
	for i := len(s.plan) - 1; i > s.first; i-- {
		dy = s.plan[i].Backward(dy)
	}
	backwardParams(s.plan[s.first], dy)
}

// backwardParams calls l.BackwardParams when l has it, else l.Backward.
func backwardParams(l Layer, dy Tensor) {
	if pb, ok := l.(ParamBackwarder); ok {
		pb.BackwardParams(dy)
		return
	}
	l.Backward(dy)
}

// Params returns every layer's parameters, named "i.name". The returned
// slice is shared: do not modify it.
func (s *Sequential) Params() []Param { return s.params }

// State returns every layer's non-trainable state (BatchNorm running
// statistics), named "i.name".
func (s *Sequential) State() []Param { return s.state }

// OutShape chains the layers' OutShape.
func (s *Sequential) OutShape(in Shape) Shape {
	for _, l := range s.Layers {
		in = l.OutShape(in)
	}
	return in
}

// Initialize re-initialises every layer that implements Initializer, in
// order, from rng.
func (s *Sequential) Initialize(init Init, rng *rand.Rand) {
	for _, l := range s.Layers {
		if in, ok := l.(Initializer); ok {
			in.Initialize(init, rng)
		}
	}
}

// ZeroGrad sets every parameter gradient to zero.
func (s *Sequential) ZeroGrad() { ZeroGrad(s.params) }

// ZeroGrad sets the gradients of params to zero.
func ZeroGrad(params []Param) {
	for _, p := range params {
		clear(p.Grad)
	}
}

// NumParams returns the number of trainable values in params.
func NumParams(params []Param) int {
	n := 0
	for _, p := range params {
		n += len(p.Data)
	}
	return n
}

// CollectParams returns the parameters of several layers (say a VAE's
// encoder, heads and decoder) as one list, named "i.name" with i the
// position in layers, in the order Save writes them. It allocates the list.
func CollectParams(layers ...Layer) []Param {
	var ps []Param
	for i, l := range layers {
		for _, p := range l.Params() {
			p.Name = fmt.Sprintf("%d.%s", i, p.Name)
			ps = append(ps, p)
		}
	}
	return ps
}

// CollectState returns the non-trainable state of those layers that are
// Stateful, named "i.name" like CollectParams.
func CollectState(layers ...Layer) []Param {
	var ps []Param
	for i, l := range layers {
		if s, ok := l.(Stateful); ok {
			for _, p := range s.State() {
				p.Name = fmt.Sprintf("%d.%s", i, p.Name)
				ps = append(ps, p)
			}
		}
	}
	return ps
}

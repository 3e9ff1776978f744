package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
)

// Dense is a fully connected layer, y = x·Wᵀ + b, on a batch of N rows:
// x is N×In, W is Out×In (PyTorch's nn.Linear layout), b has Out values and
// y is N×Out. Any input shape with In values per example is accepted (it is
// flattened; the input gradient keeps the input's shape).
//
// Forward is one gemm.SgemmBias call (the bias is added while each tile of
// y is in registers, no separate pass); Backward is two products
// (dW += dyᵀ·x accumulated with beta = 1, dx = dy·W) and a one-row product
// for db += 1ᵀ·dy; BackwardParams skips the dx product.
type Dense struct {
	In, Out int
	W, B    []float32 // weights (Out×In, row-major) and bias (Out)
	GW, GB  []float32 // their gradients

	params []Param
	x      Tensor
	y, dx  []float32
	ones   []float32 // a row of ones, for db = 1ᵀ·dy
}

var (
	_ Layer           = (*Dense)(nil)
	_ ParamBackwarder = (*Dense)(nil)
	_ Initializer     = (*Dense)(nil)
)

// NewDense returns an in→out Dense layer initialised with HeUniform from rng
// (call Initialize to choose another scheme). It panics if in or out < 1.
func NewDense(in, out int, rng *rand.Rand) *Dense {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("nn: NewDense(%d, %d)", in, out))
	}
	d := &Dense{In: in, Out: out,
		W: make([]float32, out*in), B: make([]float32, out),
		GW: make([]float32, out*in), GB: make([]float32, out)}
	d.params = []Param{{Name: "weight", Data: d.W, Grad: d.GW}, {Name: "bias", Data: d.B, Grad: d.GB}}
	d.Initialize(HeUniform, rng)
	return d
}

// Initialize redraws W (and b for TorchDefault) with fanIn = In,
// fanOut = Out, and zeroes the gradients.
func (d *Dense) Initialize(init Init, rng *rand.Rand) {
	initWeights(d.W, d.B, init, d.In, d.Out, rng)
	clear(d.GW)
	clear(d.GB)
}

// Params returns weight (Out×In) and bias (Out).
func (d *Dense) Params() []Param { return d.params }

// OutShape returns {Out}; it panics unless in has In values.
func (d *Dense) OutShape(in Shape) Shape {
	if in.Size() != d.In {
		panic(fmt.Sprintf("nn: Dense(%d→%d) cannot take input shape %v", d.In, d.Out, in))
	}
	return Shape{d.Out}
}

// Forward computes y = x·Wᵀ + b.
func (d *Dense) Forward(x Tensor, training bool) Tensor {
	return d.forward(x, gemm.Identity)
}

// forward computes y = act(x·Wᵀ + b) in one product.
func (d *Dense) forward(x Tensor, act gemm.Activation) Tensor {
	x.check("Dense", d.In)
	n := x.N
	d.x = x
	d.y = grow(d.y, n*d.Out)
	gemm.SgemmBias(false, true, n, d.Out, d.In, 1, x.Data, d.In, d.W, d.In, 0, d.y, d.Out, d.B, act)
	return Tensor{Data: d.y, N: n, Shape: Shape{d.Out}}
}

// Backward accumulates dW += dyᵀ·x and db += Σ_rows dy and returns dx = dy·W.
func (d *Dense) Backward(dy Tensor) Tensor {
	d.BackwardParams(dy)
	return d.backwardInput(dy)
}

// backwardInput returns dx = dy·W.
func (d *Dense) backwardInput(dy Tensor) Tensor {
	n := dy.N
	d.dx = grow(d.dx, n*d.In)
	gemm.Sgemm(false, false, n, d.In, d.Out, 1, dy.Data, d.Out, d.W, d.In, 0, d.dx, d.In)
	return Tensor{Data: d.dx, N: n, Shape: d.x.Shape}
}

// BackwardParams accumulates the parameter gradients only.
func (d *Dense) BackwardParams(dy Tensor) {
	dy.check("Dense.Backward", d.Out)
	n := dy.N
	if n != d.x.N {
		panic(fmt.Sprintf("nn: Dense.Backward: batch %d, forward had %d", n, d.x.N))
	}
	gemm.Sgemm(true, false, d.Out, d.In, n, 1, dy.Data, d.Out, d.x.Data, d.In, 1, d.GW, d.In)
	d.ones = onesRow(d.ones, n)
	gemm.Sgemm(false, false, 1, d.Out, n, 1, d.ones, n, dy.Data, d.Out, 1, d.GB, d.Out)
}

// onesRow returns n ones: buf resliced when its capacity suffices (all of
// it is ones), else a new buffer.
func onesRow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	buf = make([]float32, n)
	for i := range buf {
		buf[i] = 1
	}
	return buf
}

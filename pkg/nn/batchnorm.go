package nn

import (
	"fmt"
	"math"
)

// BatchNorm normalises each channel over the batch (Ioffe & Szegedy 2015),
// with PyTorch's semantics:
//
//	training:  y = γ·(x−μ_B)/sqrt(σ²_B+ε) + β, μ_B, σ²_B the mean and biased
//	           variance of the channel over the batch (and over positions);
//	           running_mean ← (1−m)·running_mean + m·μ_B,
//	           running_var  ← (1−m)·running_var  + m·σ²_B·M/(M−1)  (M values)
//	inference: y = γ·(x−running_mean)/sqrt(running_var+ε) + β
//
// The channel is the first per-example dimension: for input shape {F} every
// feature is a channel (PyTorch BatchNorm1d on N×F); for {C, L} and
// {C, H, W} statistics run over the N·L or N·H·W values of each channel
// (BatchNorm1d on N×C×L, BatchNorm2d). Defaults: Momentum 0.1, Eps 1e-5,
// γ = 1, β = 0, running mean 0 and variance 1. Sums are accumulated in
// float64.
type BatchNorm struct {
	C                       int
	Momentum, Eps           float64
	Gamma, Beta             []float32 // scale and shift (C)
	GGamma, GBeta           []float32 // their gradients
	RunningMean, RunningVar []float32 // running statistics (C)

	params, state []Param
	x             Tensor
	training      bool
	y, dx         []float32
	invStd        []float64 // per channel, from the last Forward
	mean          []float64 // per channel, from the last Forward
	s1, s2        []float64 // per-channel accumulators
	// Per-channel float32 coefficients of the elementwise passes: the
	// mean, the forward scale and shift, the backward k, p, q.
	mu, sc, sh, k, p, q []float32
}

var (
	_ Layer    = (*BatchNorm)(nil)
	_ Stateful = (*BatchNorm)(nil)
)

// NewBatchNorm returns a BatchNorm over c channels (features). It panics if
// c < 1.
func NewBatchNorm(c int) *BatchNorm {
	if c < 1 {
		panic(fmt.Sprintf("nn: NewBatchNorm(%d)", c))
	}
	b := &BatchNorm{C: c, Momentum: 0.1, Eps: 1e-5,
		Gamma: make([]float32, c), Beta: make([]float32, c),
		GGamma: make([]float32, c), GBeta: make([]float32, c),
		RunningMean: make([]float32, c), RunningVar: make([]float32, c),
		invStd: make([]float64, c), mean: make([]float64, c),
		s1: make([]float64, c), s2: make([]float64, c)}
	coef := make([]float32, 6*c)
	b.mu, b.sc, b.sh, b.k, b.p, b.q = coef[:c], coef[c:2*c], coef[2*c:3*c], coef[3*c:4*c], coef[4*c:5*c], coef[5*c:]
	for i := range b.Gamma {
		b.Gamma[i] = 1
		b.RunningVar[i] = 1
	}
	b.params = []Param{{Name: "weight", Data: b.Gamma, Grad: b.GGamma}, {Name: "bias", Data: b.Beta, Grad: b.GBeta}}
	b.state = []Param{{Name: "running_mean", Data: b.RunningMean}, {Name: "running_var", Data: b.RunningVar}}
	return b
}

// NewBatchNorm1D is NewBatchNorm, named after PyTorch's BatchNorm1d (input
// N×F or N×C×L).
func NewBatchNorm1D(c int) *BatchNorm { return NewBatchNorm(c) }

// NewBatchNorm2D is NewBatchNorm, named after PyTorch's BatchNorm2d (input
// N×C×H×W).
func NewBatchNorm2D(c int) *BatchNorm { return NewBatchNorm(c) }

// Params returns weight (γ) and bias (β).
func (b *BatchNorm) Params() []Param { return b.params }

// State returns running_mean and running_var.
func (b *BatchNorm) State() []Param { return b.state }

// OutShape returns in; it panics unless in[0] == C.
func (b *BatchNorm) OutShape(in Shape) Shape {
	if in[0] != b.C {
		panic(fmt.Sprintf("nn: BatchNorm(%d) cannot take input shape %v", b.C, in))
	}
	return in
}

// Forward normalises x with batch statistics (training, updating the
// running statistics) or the running statistics (inference).
func (b *BatchNorm) Forward(x Tensor, training bool) Tensor {
	N, S := b.begin(x, training)
	b.y = grow(b.y, N*b.C*S)
	chanAffine(b.y, x.Data, N, b.C, S, b.mu, b.sc, b.sh, false)
	return Tensor{Data: b.y, N: N, Shape: x.Shape}
}

// begin checks x, records it for Backward and computes the statistics of
// the pass: in training the batch mean and variance (updating the running
// statistics), in inference the running ones; then the coefficients of
// y = (x − μ)·sc + sh. It returns N and the positions per channel S.
func (b *BatchNorm) begin(x Tensor, training bool) (N, S int) {
	b.OutShape(x.Shape)
	C := b.C
	S = x.Shape.Size() / C
	x.check("BatchNorm", C*S)
	b.x, b.training = x, training
	if !training {
		for c := 0; c < C; c++ {
			b.mean[c] = float64(b.RunningMean[c])
			b.invStd[c] = 1 / math.Sqrt(float64(b.RunningVar[c])+b.Eps)
		}
	} else {
		M := float64(x.N * S)
		s1, s2 := b.s1, b.s2
		clear(s1)
		clear(s2)
		chanSums(s1, s2, x.Data, x.N, C, S)
		m := b.Momentum
		for c := 0; c < C; c++ {
			mu := s1[c] / M
			v := max(s2[c]/M-mu*mu, 0)
			b.mean[c] = mu
			b.invStd[c] = 1 / math.Sqrt(v+b.Eps)
			unbiased := v
			if M > 1 {
				unbiased = v * M / (M - 1)
			}
			b.RunningMean[c] = float32((1-m)*float64(b.RunningMean[c]) + m*mu)
			b.RunningVar[c] = float32((1-m)*float64(b.RunningVar[c]) + m*unbiased)
		}
	}
	for c := 0; c < C; c++ {
		b.mu[c] = float32(b.mean[c])
		b.sc[c] = float32(float64(b.Gamma[c]) * b.invStd[c])
		b.sh[c] = b.Beta[c]
	}
	return x.N, S
}

// Backward accumulates dγ = Σ dy·x̂ and dβ = Σ dy and returns
//
//	training:  dx = γ/(M·σ_B)·(M·dy − Σdy − x̂·Σ(dy·x̂))
//	inference: dx = γ·dy/sqrt(running_var+ε)
//
// with sums over the M values of each channel and x̂ = (x − μ)/σ
// recomputed from the input of the last Forward.
func (b *BatchNorm) Backward(dy Tensor) Tensor {
	x := b.x
	n := x.N * x.Shape.Size()
	if dy.N != x.N || dy.Shape.Size() != x.Shape.Size() || len(dy.Data) < n {
		panic("nn: BatchNorm.Backward: shape differs from the last Forward")
	}
	b.dx = grow(b.dx, n)
	b.backward(b.dx, dy.Data, nil)
	return Tensor{Data: b.dx, N: x.N, Shape: x.Shape}
}

// backward writes dx for the gradient dy of the output, or, with mask not
// nil, for the gradient dy of ReLU(output) where mask is that ReLU's
// output. It accumulates dγ and dβ. dx must not alias dy.
func (b *BatchNorm) backward(dx, dy, mask []float32) {
	x := b.x
	C := b.C
	S := x.Shape.Size() / C
	sg, sgx := b.s1, b.s2 // Σg and Σg·x per channel
	clear(sg)
	clear(sgx)
	chanGradSums(sg, sgx, dx, dy, mask, x.Data, x.N, C, S)
	g := dy
	if mask != nil {
		g = dx // chanGradSums wrote the masked gradient there
	}
	M := float64(x.N * S)
	for c := 0; c < C; c++ {
		is := b.invStd[c]
		sgh := is * (sgx[c] - b.mean[c]*sg[c]) // Σg·x̂
		b.GBeta[c] += float32(sg[c])
		b.GGamma[c] += float32(sgh)
		k := float64(b.Gamma[c]) * is
		b.k[c] = float32(k)
		// dx = k·(g − Σg/M − x̂·Σg·x̂/M) = k·g + p·(x − μ) + q.
		if b.training {
			b.p[c] = float32(-k * is * sgh / M)
			b.q[c] = float32(-k * sg[c] / M)
		} else {
			b.p[c], b.q[c] = 0, 0
		}
	}
	chanGradOut(dx, g, x.Data, x.N, C, S, b.k, b.p, b.mu, b.q)
}

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
	xhat, y, dx   []float32
	invStd        []float64 // per channel, from the last Forward
	mean          []float64 // per channel, from the last Forward
	s1, s2        []float64 // per-channel accumulators
	f1, f2, f3    []float32 // per-channel float32 coefficients of the elementwise passes
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
		s1: make([]float64, c), s2: make([]float64, c),
		f1: make([]float32, c), f2: make([]float32, c), f3: make([]float32, c)}
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
	b.OutShape(x.Shape)
	C := b.C
	S := x.Shape.Size() / C
	n := x.N * C * S
	x.check("BatchNorm", C*S)
	b.x, b.training = x, training
	b.y = grow(b.y, n)
	y, xd := b.y, x.Data[:n]
	if !training {
		// y = x·scale + shift, one pass.
		for c := 0; c < C; c++ {
			b.mean[c] = float64(b.RunningMean[c])
			b.invStd[c] = 1 / math.Sqrt(float64(b.RunningVar[c])+b.Eps)
		}
		b.affine(y, xd, S, x.N)
		return Tensor{Data: y, N: x.N, Shape: x.Shape}
	}
	M := float64(x.N * S)
	s1, s2 := b.s1, b.s2
	clear(s1)
	clear(s2)
	if S == 1 {
		s1, s2 := s1[:C], s2[:C]
		for i := 0; i < x.N; i++ {
			row := xd[i*C : (i+1)*C]
			for c, v := range row {
				f := float64(v)
				s1[c] += f
				s2[c] += f * f
			}
		}
	} else {
		for i := 0; i < x.N; i++ {
			for c := 0; c < C; c++ {
				var a1, a2 float64
				for _, v := range xd[(i*C+c)*S : (i*C+c+1)*S] {
					f := float64(v)
					a1 += f
					a2 += f * f
				}
				s1[c] += a1
				s2[c] += a2
			}
		}
	}
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
	b.xhat = grow(b.xhat, n)
	xh := b.xhat
	if S == 1 {
		mu, is := b.f1[:C], b.f2[:C]
		for c := range mu {
			mu[c], is[c] = float32(b.mean[c]), float32(b.invStd[c])
		}
		g, be := b.Gamma[:C], b.Beta[:C]
		for i := 0; i < x.N; i++ {
			o := i * C
			xs, hs, ys := xd[o:o+C], xh[o:o+C], y[o:o+C]
			for c, v := range xs {
				h := (v - mu[c]) * is[c]
				hs[c] = h
				ys[c] = g[c]*h + be[c]
			}
		}
	} else {
		for i := 0; i < x.N; i++ {
			for c := 0; c < C; c++ {
				o := (i*C + c) * S
				mu, is := float32(b.mean[c]), float32(b.invStd[c])
				g, be := b.Gamma[c], b.Beta[c]
				hs, ys := xh[o:o+S], y[o:o+S]
				for k, v := range xd[o : o+S] {
					h := (v - mu) * is
					hs[k] = h
					ys[k] = g*h + be
				}
			}
		}
	}
	return Tensor{Data: y, N: x.N, Shape: x.Shape}
}

// affine writes y = (x−mean)·invStd·γ + β using b.mean and b.invStd.
func (b *BatchNorm) affine(y, x []float32, S, N int) {
	C := b.C
	if S == 1 {
		sc, sh := b.f1[:C], b.f2[:C]
		for c := range sc {
			k := float64(b.Gamma[c]) * b.invStd[c]
			sc[c] = float32(k)
			sh[c] = float32(float64(b.Beta[c]) - b.mean[c]*k)
		}
		for i := 0; i < N; i++ {
			o := i * C
			xs, ys := x[o:o+C], y[o:o+C]
			for c, v := range xs {
				ys[c] = v*sc[c] + sh[c]
			}
		}
		return
	}
	for i := 0; i < N; i++ {
		for c := 0; c < C; c++ {
			o := (i*C + c) * S
			sc := float64(b.Gamma[c]) * b.invStd[c]
			s, h := float32(sc), float32(float64(b.Beta[c])-b.mean[c]*sc)
			ys := y[o : o+S]
			for k, v := range x[o : o+S] {
				ys[k] = v*s + h
			}
		}
	}
}

// Backward accumulates dγ = Σ dy·x̂ and dβ = Σ dy and returns
//
//	training:  dx = γ/(M·σ_B)·(M·dy − Σdy − x̂·Σ(dy·x̂))
//	inference: dx = γ·dy/sqrt(running_var+ε)
//
// with sums over the M values of each channel.
func (b *BatchNorm) Backward(dy Tensor) Tensor {
	x := b.x
	C := b.C
	S := x.Shape.Size() / C
	n := x.N * C * S
	if dy.N != x.N || dy.Shape.Size() != C*S || len(dy.Data) < n {
		panic("nn: BatchNorm.Backward: shape differs from the last Forward")
	}
	b.dx = grow(b.dx, n)
	dx, g := b.dx, dy.Data[:n]
	sg, sgh := b.s1, b.s2 // Σdy and Σdy·x̂ per channel
	clear(sg)
	clear(sgh)
	// x̂ is stored in training mode; in inference mode it is recomputed.
	if S == 1 {
		for i := 0; i < x.N; i++ {
			o := i * C
			gs := g[o : o+C]
			if b.training {
				hs := b.xhat[o : o+C]
				for c, v := range gs {
					sg[c] += float64(v)
					sgh[c] += float64(v * hs[c])
				}
			} else {
				xs := x.Data[o : o+C]
				for c, v := range gs {
					h := (float64(xs[c]) - b.mean[c]) * b.invStd[c]
					sg[c] += float64(v)
					sgh[c] += float64(v) * h
				}
			}
		}
	} else {
		for i := 0; i < x.N; i++ {
			for c := 0; c < C; c++ {
				o := (i*C + c) * S
				var a1, a2 float64
				if b.training {
					hs := b.xhat[o : o+S]
					for k, v := range g[o : o+S] {
						a1 += float64(v)
						a2 += float64(v * hs[k])
					}
				} else {
					mu, is := b.mean[c], b.invStd[c]
					xs := x.Data[o : o+S]
					for k, v := range g[o : o+S] {
						a1 += float64(v)
						a2 += float64(v) * (float64(xs[k]) - mu) * is
					}
				}
				sg[c] += a1
				sgh[c] += a2
			}
		}
	}
	for c := 0; c < C; c++ {
		b.GBeta[c] += float32(sg[c])
		b.GGamma[c] += float32(sgh[c])
	}
	if !b.training {
		for i := 0; i < x.N; i++ {
			for c := 0; c < C; c++ {
				o := (i*C + c) * S
				k := float32(float64(b.Gamma[c]) * b.invStd[c])
				ds := dx[o : o+S]
				for j, v := range g[o : o+S] {
					ds[j] = k * v
				}
			}
		}
		return Tensor{Data: dx, N: x.N, Shape: x.Shape}
	}
	M := float64(x.N * S)
	// dx = k·(dy − a − x̂·c2) with k = γ·invStd, a = Σdy/M, c2 = Σ(dy·x̂)/M.
	for c := 0; c < C; c++ {
		sg[c] /= M
		sgh[c] /= M
	}
	if S == 1 {
		kk, aa, cc := b.f1[:C], b.f2[:C], b.f3[:C]
		for c := range kk {
			kk[c] = float32(float64(b.Gamma[c]) * b.invStd[c])
			aa[c], cc[c] = float32(sg[c]), float32(sgh[c])
		}
		for i := 0; i < x.N; i++ {
			o := i * C
			gs, hs, ds := g[o:o+C], b.xhat[o:o+C], dx[o:o+C]
			for c, v := range gs {
				ds[c] = kk[c] * (v - aa[c] - hs[c]*cc[c])
			}
		}
	} else {
		for i := 0; i < x.N; i++ {
			for c := 0; c < C; c++ {
				o := (i*C + c) * S
				k := float32(float64(b.Gamma[c]) * b.invStd[c])
				a, c2 := float32(sg[c]), float32(sgh[c])
				hs, ds := b.xhat[o:o+S], dx[o:o+S]
				for j, v := range g[o : o+S] {
					ds[j] = k * (v - a - hs[j]*c2)
				}
			}
		}
	}
	return Tensor{Data: dx, N: x.N, Shape: x.Shape}
}

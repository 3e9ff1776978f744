package nn

import (
	"fmt"
	"math"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
)

// Fold returns an inference-only copy of s with BatchNorm folded into the
// layer before it and ReLU fused into the same pass:
//
//	Dense/Conv → BatchNorm  becomes  Dense/Conv with W'[o] = s_o·W[o],
//	                                 b'[o] = s_o·(b[o]−running_mean[o]) + β[o],
//	                                 s_o = γ[o]/sqrt(running_var[o]+ε)
//	Dense → ReLU            stays a Dense and a ReLU, which the new
//	                        Sequential runs as one gemm.SgemmBias call (bias
//	                        and ReLU applied in the product's store)
//	Conv → ReLU             becomes the convolution clamping its own output
//	                        (Conv1D/2D in the product's store, transposed
//	                        convolutions in a pass after col2im)
//	Dropout                 is dropped (the identity in inference)
//
// for Dense, Conv1D, Conv2D, ConvTranspose1D and ConvTranspose2D. Other
// BatchNorms, activations, Reshapes and nested Sequentials are copied;
// layers of other types are shared with s, not copied. The copy's
// Forward computes s.Forward(x, false) up to float32 rounding, whatever its
// training argument, in fewer passes over the activations (one product
// per Dense+BatchNorm+ReLU block, with no pass over its output); it is
// meant for scoring. Backward works on it (the gradient of the folded function) but
// training it does not train s. Fold copies the weights: call it again
// after s changes. It allocates the copy.
func Fold(s *Sequential) *Sequential {
	var out []Layer
	ls := s.Layers
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		var bn *BatchNorm
		if i+1 < len(ls) {
			bn, _ = ls[i+1].(*BatchNorm)
		}
		var f Layer
		switch v := l.(type) {
		case *Dense:
			d := cloneDense(v)
			if bn != nil {
				foldRows(d.W, d.B, d.In, bn)
				i++
			}
			f = d
		case *Conv1D:
			c := &Conv1D{Conv2D{cloneConv(&v.convBase)}}
			if bn != nil {
				foldRows(c.W, c.B, len(c.W)/c.OutC, bn)
				i++
			}
			f = c
		case *Conv2D:
			c := &Conv2D{cloneConv(&v.convBase)}
			if bn != nil {
				foldRows(c.W, c.B, len(c.W)/c.OutC, bn)
				i++
			}
			f = c
		case *ConvTranspose1D:
			c := &ConvTranspose1D{ConvTranspose2D{cloneConv(&v.convBase)}}
			if bn != nil {
				foldCols(c.W, c.B, c.InC, c.OutC, bn)
				i++
			}
			f = c
		case *ConvTranspose2D:
			c := &ConvTranspose2D{cloneConv(&v.convBase)}
			if bn != nil {
				foldCols(c.W, c.B, c.InC, c.OutC, bn)
				i++
			}
			f = c
		case *BatchNorm:
			b := NewBatchNorm(v.C)
			b.Momentum, b.Eps = v.Momentum, v.Eps
			copy(b.Gamma, v.Gamma)
			copy(b.Beta, v.Beta)
			copy(b.RunningMean, v.RunningMean)
			copy(b.RunningVar, v.RunningVar)
			f = &inference{b}
		case *Dropout:
			continue
		case *ReLU:
			f = NewReLU()
		case *LeakyReLU:
			f = NewLeakyReLU(v.Slope)
		case *ELU:
			f = NewELU(v.Alpha)
		case *Tanh:
			f = NewTanh()
		case *Sigmoid:
			f = NewSigmoid()
		case *Reshape:
			f = &Reshape{To: v.To}
		case *Sequential:
			f = Fold(v)
		default:
			f = &inference{l}
		}
		_, dense := f.(*Dense)
		if _, ok := l.(ParamBackwarder); ok && !dense && !isSequential(l) && i+1 < len(ls) {
			// The convolutions never read their output again, so a
			// following ReLU can clamp it in place. (A Dense keeps its
			// ReLU: NewSequential fuses the pair into one SgemmBias call.)
			if _, ok := ls[i+1].(*ReLU); ok {
				f = &clampReLU{inner: f}
				i++
			}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = []Layer{identity{}} // only Dropouts: the identity
	}
	return NewSequential(out...)
}

func cloneDense(v *Dense) *Dense {
	d := &Dense{In: v.In, Out: v.Out,
		W: append([]float32(nil), v.W...), B: append([]float32(nil), v.B...),
		GW: make([]float32, len(v.W)), GB: make([]float32, len(v.B))}
	d.params = []Param{{Name: "weight", Data: d.W, Grad: d.GW}, {Name: "bias", Data: d.B, Grad: d.GB}}
	return d
}

func cloneConv(v *convBase) convBase {
	var c convBase
	c.init(v.InC, v.OutC, v.Win, len(v.W))
	copy(c.W, v.W)
	copy(c.B, v.B)
	return c
}

// bnScale returns s_o and the folded shift term for channel o.
func bnScale(bn *BatchNorm, o int) (s, mean, beta float64) {
	s = float64(bn.Gamma[o]) / math.Sqrt(float64(bn.RunningVar[o])+bn.Eps)
	return s, float64(bn.RunningMean[o]), float64(bn.Beta[o])
}

// foldRows folds bn into weights stored one row of k values per output
// channel (Dense, Conv).
func foldRows(w, b []float32, k int, bn *BatchNorm) {
	if bn.C != len(b) {
		panic(fmt.Sprintf("nn: Fold: BatchNorm(%d) after a layer with %d outputs", bn.C, len(b)))
	}
	for o := range b {
		s, m, beta := bnScale(bn, o)
		row := w[o*k : (o+1)*k]
		for j := range row {
			row[j] = float32(float64(row[j]) * s)
		}
		b[o] = float32(s*(float64(b[o])-m) + beta)
	}
}

// foldCols folds bn into transposed-convolution weights, InC×OutC×(k).
func foldCols(w, b []float32, inC, outC int, bn *BatchNorm) {
	if bn.C != outC {
		panic(fmt.Sprintf("nn: Fold: BatchNorm(%d) after a layer with %d outputs", bn.C, outC))
	}
	k := len(w) / (inC * outC)
	for o := 0; o < outC; o++ {
		s, m, beta := bnScale(bn, o)
		for i := 0; i < inC; i++ {
			blk := w[(i*outC+o)*k : (i*outC+o+1)*k]
			for j := range blk {
				blk[j] = float32(float64(blk[j]) * s)
			}
		}
		b[o] = float32(s*(float64(b[o])-m) + beta)
	}
}

func isSequential(l Layer) bool {
	_, ok := l.(*Sequential)
	return ok
}

// clampReLU runs inner and applies ReLU to its output in place (the
// output buffer belongs to inner, which does not read it again).
type clampReLU struct {
	inner Layer
	y     []float32
	dy    []float32
}

func (c *clampReLU) Params() []Param         { return c.inner.Params() }
func (c *clampReLU) OutShape(in Shape) Shape { return c.inner.OutShape(in) }

func (c *clampReLU) Forward(x Tensor, training bool) Tensor {
	var y Tensor
	switch v := c.inner.(type) {
	case *Conv2D: // the ReLU goes into the product's store
		y = v.forward(x, gemm.ReLU)
	case *Conv1D:
		y = as1D(v.Conv2D.forward(as2D(x, "Conv1D"), gemm.ReLU))
	default:
		y = c.inner.Forward(x, false)
		d := y.Data[:y.N*y.Shape.Size()]
		for i, v := range d {
			d[i] = max(v, 0)
		}
	}
	c.y = y.Data[:y.N*y.Shape.Size()]
	return y
}

func (c *clampReLU) Backward(dy Tensor) Tensor {
	c.dy = grow(c.dy, len(c.y))
	reluMask(c.dy, dy.Data, c.y)
	return c.inner.Backward(Tensor{Data: c.dy, N: dy.N, Shape: dy.Shape})
}

// inference runs a layer always in inference mode.
type inference struct{ Layer }

func (l *inference) Forward(x Tensor, training bool) Tensor { return l.Layer.Forward(x, false) }

// identity passes its input through.
type identity struct{}

func (identity) Forward(x Tensor, training bool) Tensor { return x }
func (identity) Backward(dy Tensor) Tensor              { return dy }
func (identity) Params() []Param                        { return nil }
func (identity) OutShape(in Shape) Shape                { return in }

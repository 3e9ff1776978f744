package nn

import (
	"fmt"
	"math/rand/v2"
)

// Dropout zeroes each value with probability P in training and scales the
// survivors by 1/(1−P) (inverted dropout, as PyTorch), so inference is the
// identity. The mask is drawn from the layer's own RNG, so a run is
// deterministic for the seed of that RNG. In inference mode Forward returns
// x itself and Backward returns dy itself (no copy).
type Dropout struct {
	P    float64
	rng  *rand.Rand
	mask []float32 // 0 or 1/(1−P), from the last training Forward
	x    Tensor
	on   bool
	y    []float32
	dx   []float32
}

var _ Layer = (*Dropout)(nil)

// NewDropout returns a Dropout with drop probability p drawing from rng. It
// panics unless 0 <= p < 1.
func NewDropout(p float64, rng *rand.Rand) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: NewDropout(%v): p must be in [0, 1)", p))
	}
	return &Dropout{P: p, rng: rng}
}

// Params returns nil.
func (d *Dropout) Params() []Param { return nil }

// OutShape returns in.
func (d *Dropout) OutShape(in Shape) Shape { return in }

// Forward applies a fresh mask in training, the identity in inference.
func (d *Dropout) Forward(x Tensor, training bool) Tensor {
	d.x = x
	d.on = training && d.P > 0
	if !d.on {
		return x
	}
	n := x.N * x.Shape.Size()
	d.mask = grow(d.mask, n)
	d.y = grow(d.y, n)
	keep, scale := float32(1-d.P), float32(1/(1-d.P))
	for i, v := range x.Data[:n] {
		m := float32(0)
		if d.rng.Float32() < keep {
			m = scale
		}
		d.mask[i] = m
		d.y[i] = v * m
	}
	return Tensor{Data: d.y, N: x.N, Shape: x.Shape}
}

// Backward returns dy times the last mask (dy itself in inference).
func (d *Dropout) Backward(dy Tensor) Tensor {
	if !d.on {
		return Tensor{Data: dy.Data, N: dy.N, Shape: d.x.Shape}
	}
	n := len(d.mask)
	if dy.N*dy.Shape.Size() != n || len(dy.Data) < n {
		panic("nn: Dropout.Backward: shape differs from the last Forward")
	}
	d.dx = grow(d.dx, n)
	for i, g := range dy.Data[:n] {
		d.dx[i] = g * d.mask[i]
	}
	return Tensor{Data: d.dx, N: dy.N, Shape: d.x.Shape}
}

// Reshape changes the per-example shape without copying: Forward returns a
// view of x with shape To, Backward a view of dy with the input's shape.
type Reshape struct {
	To Shape
	in Shape
}

var _ Layer = (*Reshape)(nil)

// NewReshape returns a Reshape to the per-example shape to.
func NewReshape(to Shape) *Reshape { return &Reshape{To: to} }

// NewFlatten returns a Reshape to one dimension, {Size}; the size is taken
// from the input on each Forward.
func NewFlatten() *Reshape { return &Reshape{} }

// Params returns nil.
func (r *Reshape) Params() []Param { return nil }

// OutShape returns To ({in.Size()} for Flatten); it panics if the sizes
// differ.
func (r *Reshape) OutShape(in Shape) Shape {
	if r.To.Rank() == 0 {
		return Shape{in.Size()}
	}
	if r.To.Size() != in.Size() {
		panic(fmt.Sprintf("nn: Reshape to %v cannot take input shape %v", r.To, in))
	}
	return r.To
}

// Forward returns x viewed with the new shape.
func (r *Reshape) Forward(x Tensor, training bool) Tensor {
	r.in = x.Shape
	return Tensor{Data: x.Data, N: x.N, Shape: r.OutShape(x.Shape)}
}

// Backward returns dy viewed with the input's shape.
func (r *Reshape) Backward(dy Tensor) Tensor {
	return Tensor{Data: dy.Data, N: dy.N, Shape: r.in}
}

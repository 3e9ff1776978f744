package nn

import "math"

// elementwise is the shared state of the parameter-free elementwise layers:
// the input (kept for Backward) and the output and input-gradient buffers.
type elementwise struct {
	x     Tensor
	y, dx []float32
}

func (e *elementwise) forward(x Tensor) []float32 {
	n := x.N * x.Shape.Size()
	if len(x.Data) < n {
		panic("nn: activation: Data shorter than N×Shape")
	}
	e.x = x
	e.y = grow(e.y, n)
	return e.y
}

func (e *elementwise) backward(dy Tensor) []float32 {
	n := e.x.N * e.x.Shape.Size()
	if dy.N != e.x.N || dy.Shape.Size() != e.x.Shape.Size() || len(dy.Data) < n {
		panic("nn: activation: Backward shape differs from the last Forward")
	}
	e.dx = grow(e.dx, n)
	return e.dx
}

func (e *elementwise) out(d []float32) Tensor {
	return Tensor{Data: d, N: e.x.N, Shape: e.x.Shape}
}

// Params returns nil: the layer has no parameters.
func (e *elementwise) Params() []Param { return nil }

// OutShape returns in.
func (e *elementwise) OutShape(in Shape) Shape { return in }

// ReLU is y = max(0, x); dx = dy where y > 0, else 0.
type ReLU struct{ elementwise }

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{} }

// Forward computes max(0, x).
func (l *ReLU) Forward(x Tensor, training bool) Tensor {
	y := l.forward(x)
	for i, v := range x.Data[:len(y)] {
		y[i] = max(v, 0)
	}
	return l.out(y)
}

// Backward returns dy masked by y > 0.
func (l *ReLU) Backward(dy Tensor) Tensor {
	dx := l.backward(dy)
	reluMask(dx, dy.Data, l.y)
	return l.out(dx)
}

// leakyFactor returns 1 for x > 0 (or +0) and slope for x < 0, branch-free.
func leakyFactor(x, slope float32) float32 {
	pos := 1 - math.Float32bits(x)>>31
	return slope + (1-slope)*float32(pos)
}

// LeakyReLU is y = x for x > 0, Slope·x otherwise (PyTorch's default
// negative_slope is 0.01).
type LeakyReLU struct {
	elementwise
	Slope float32
}

// NewLeakyReLU returns a LeakyReLU with the given negative slope.
func NewLeakyReLU(slope float32) *LeakyReLU { return &LeakyReLU{Slope: slope} }

// Forward computes x > 0 ? x : Slope·x.
func (l *LeakyReLU) Forward(x Tensor, training bool) Tensor {
	y := l.forward(x)
	s := l.Slope
	for i, v := range x.Data[:len(y)] {
		y[i] = v * leakyFactor(v, s)
	}
	return l.out(y)
}

// Backward returns dy where x > 0, Slope·dy elsewhere.
func (l *LeakyReLU) Backward(dy Tensor) Tensor {
	dx := l.backward(dy)
	x := l.x.Data[:len(dx)]
	s := l.Slope
	for i, g := range dy.Data[:len(dx)] {
		dx[i] = g * leakyFactor(x[i], s)
	}
	return l.out(dx)
}

// ELU is y = x for x > 0, Alpha·(exp(x)−1) otherwise (Clevert et al. 2016;
// PyTorch's default alpha is 1); dx = dy for x > 0, dy·(y+Alpha) otherwise.
type ELU struct {
	elementwise
	Alpha float32
}

// NewELU returns an ELU with the given alpha.
func NewELU(alpha float32) *ELU { return &ELU{Alpha: alpha} }

// Forward computes the ELU.
func (l *ELU) Forward(x Tensor, training bool) Tensor {
	y := l.forward(x)
	a := float64(l.Alpha)
	for i, v := range x.Data[:len(y)] {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = float32(a * math.Expm1(float64(v)))
		}
	}
	return l.out(y)
}

// Backward returns dy·ELU'(x).
func (l *ELU) Backward(dy Tensor) Tensor {
	dx := l.backward(dy)
	x, y := l.x.Data[:len(dx)], l.y[:len(dx)]
	for i, g := range dy.Data[:len(dx)] {
		if x[i] > 0 {
			dx[i] = g
		} else {
			dx[i] = g * (y[i] + l.Alpha)
		}
	}
	return l.out(dx)
}

// Tanh is y = tanh(x); dx = dy·(1−y²).
type Tanh struct{ elementwise }

// NewTanh returns a Tanh layer.
func NewTanh() *Tanh { return &Tanh{} }

// Forward computes tanh(x) (in float64, rounded).
func (l *Tanh) Forward(x Tensor, training bool) Tensor {
	y := l.forward(x)
	for i, v := range x.Data[:len(y)] {
		y[i] = float32(math.Tanh(float64(v)))
	}
	return l.out(y)
}

// Backward returns dy·(1−y²).
func (l *Tanh) Backward(dy Tensor) Tensor {
	dx := l.backward(dy)
	y := l.y[:len(dx)]
	for i, g := range dy.Data[:len(dx)] {
		dx[i] = g * (1 - y[i]*y[i])
	}
	return l.out(dx)
}

// Sigmoid is y = 1/(1+exp(−x)); dx = dy·y·(1−y).
type Sigmoid struct{ elementwise }

// NewSigmoid returns a Sigmoid layer.
func NewSigmoid() *Sigmoid { return &Sigmoid{} }

// Forward computes the logistic function (in float64, rounded).
func (l *Sigmoid) Forward(x Tensor, training bool) Tensor {
	y := l.forward(x)
	for i, v := range x.Data[:len(y)] {
		y[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	return l.out(y)
}

// Backward returns dy·y·(1−y).
func (l *Sigmoid) Backward(dy Tensor) Tensor {
	dx := l.backward(dy)
	y := l.y[:len(dx)]
	for i, g := range dy.Data[:len(dx)] {
		dx[i] = g * y[i] * (1 - y[i])
	}
	return l.out(dx)
}

var (
	_ Layer = (*ReLU)(nil)
	_ Layer = (*LeakyReLU)(nil)
	_ Layer = (*ELU)(nil)
	_ Layer = (*Tanh)(nil)
	_ Layer = (*Sigmoid)(nil)
)

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checks: every layer's analytic gradients (with respect to its
// input and to each parameter) against central finite differences
//
//	∂L/∂θ ≈ (L(θ+ε) − L(θ−ε)) / 2ε,  ε = 1e-2,
//
// of the scalar L = Σ r·y for a fixed random r (so Backward gets dy = r).
// The layers compute in float32 and L is summed in float64. With inputs of
// order 1 kept at least 0.1 away from the kinks of ReLU-like functions, the
// truncation error is O(ε²)·|f'''| ≈ 1e-4 relative and the rounding error
// about (float32 eps · |L|)/2ε ≈ 1e-5·|L|, so a relative error below 1e-2
// (norm-wise over all components) separates right from wrong: a missing
// term or factor gives O(1) errors.

const (
	gcEps = 1e-2
	gcTol = 1e-2
)

// randAway fills x with values of magnitude in [0.1, 1.1] and random sign.
func randAway(rng *rand.Rand, x []float32) {
	for i := range x {
		v := float32(0.1 + rng.Float64())
		if rng.IntN(2) == 0 {
			v = -v
		}
		x[i] = v
	}
}

// gradCheck checks l's gradients at x. reset, if not nil, runs before every
// Forward (to replay random masks).
func gradCheck(t *testing.T, l Layer, x Tensor, training bool, reset func()) {
	t.Helper()
	for _, e := range gradErrors(l, x, training, reset) {
		t.Error(e)
	}
}

// gradErrors returns the failures of the gradient check of l at x.
func gradErrors(l Layer, x Tensor, training bool, reset func()) []string {
	var errs []string
	rng := rand.New(rand.NewPCG(7, 7))
	fwd := func() Tensor {
		if reset != nil {
			reset()
		}
		return l.Forward(x, training)
	}
	y := fwd()
	r := make([]float32, len(y.Data[:y.N*y.Shape.Size()]))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	var scale float64 // Σ|r·y|, the size of L's rounding error in float32 units
	loss := func() float64 {
		y := fwd()
		var s, a float64
		for i, v := range y.Data[:len(r)] {
			s += float64(v) * float64(r[i])
			a += math.Abs(float64(v) * float64(r[i]))
		}
		scale = a
		return s
	}
	loss()
	params := l.Params()
	ZeroGrad(params)
	fwd()
	dx := l.Backward(Tensor{Data: r, N: y.N, Shape: y.Shape})
	if dx.N != x.N || dx.Shape != x.Shape {
		return []string{fmt.Sprintf("dx is %d×%v, x is %d×%v", dx.N, dx.Shape, x.N, x.Shape)}
	}
	check := func(name string, v, analytic []float32) {
		num := make([]float64, len(v))
		for i := range v {
			old := v[i]
			v[i] = old + gcEps
			lp := loss()
			v[i] = old - gcEps
			lm := loss()
			v[i] = old
			num[i] = (lp - lm) / (2 * gcEps)
		}
		// Relative to the numerical gradient's norm, floored at
		// 1e-3·max(1, Σ|r·y|) per component so that gradients that are
		// exactly zero in theory (a bias before BatchNorm) compare on an
		// absolute scale above the finite difference's rounding noise,
		// about 6e-8·Σ|r·y|/2ε = 3e-6·Σ|r·y|.
		var dn, nn float64
		for i, n := range num {
			d := float64(analytic[i]) - n
			dn += d * d
			nn += n * n
		}
		floor := 1e-3 * max(1, scale) * math.Sqrt(float64(len(num)))
		if rel := math.Sqrt(dn) / max(math.Sqrt(nn), floor); rel > gcTol {
			errs = append(errs, fmt.Sprintf("%s: relative error %.3g > %g\nanalytic %v\nnumeric  %v", name, rel, gcTol, analytic, num))
		}
	}
	check("dx", x.Data[:len(dx.Data[:x.N*x.Shape.Size()])], append([]float32(nil), dx.Data[:x.N*x.Shape.Size()]...))
	for _, p := range params {
		check(p.Name, p.Data, append([]float32(nil), p.Grad...))
	}

	// BackwardParams, where implemented, must give the same parameter
	// gradients as Backward.
	if pb, ok := l.(ParamBackwarder); ok {
		want := make([][]float32, len(params))
		for i, p := range params {
			want[i] = append([]float32(nil), p.Grad...)
		}
		ZeroGrad(params)
		fwd()
		pb.BackwardParams(Tensor{Data: r, N: y.N, Shape: y.Shape})
		for i, p := range params {
			for k := range p.Grad {
				if p.Grad[k] != want[i][k] {
					return append(errs, fmt.Sprintf("BackwardParams: %s[%d] = %v, Backward gave %v", p.Name, k, p.Grad[k], want[i][k]))
				}
			}
		}
	}
	return errs
}

func randTensor(rng *rand.Rand, n int, s Shape) Tensor {
	x := NewTensor(n, s)
	randAway(rng, x.Data)
	return x
}

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	type tc struct {
		name     string
		layer    func() Layer
		n        int
		in       Shape
		training bool
	}
	cases := []tc{
		{"Dense", func() Layer { return NewDense(5, 4, rng) }, 3, Shape{5}, true},
		{"Dense/flatten", func() Layer { return NewDense(6, 3, rng) }, 2, Shape{2, 3}, true},
		{"Conv1D", func() Layer { return NewConv1D(2, 3, 3, 2, 1, rng) }, 2, Shape{2, 7}, true},
		{"Conv1D/1x1", func() Layer { return NewConv1D(3, 2, 1, 1, 0, rng) }, 2, Shape{3, 5}, true},
		{"Conv2D/3x3", func() Layer { return NewConv2D(2, 3, Square(3, 1, 1), rng) }, 2, Shape{2, 4, 5}, true},
		{"Conv2D/asym", func() Layer {
			return NewConv2D(2, 3, Window2D{KH: 2, KW: 3, StrideH: 2, StrideW: 1, PadH: 0, PadW: 1}, rng)
		}, 2, Shape{2, 5, 4}, true},
		{"Conv2D/stride3", func() Layer { return NewConv2D(1, 2, Square(3, 3, 2), rng) }, 2, Shape{1, 7, 8}, true},
		{"Conv2D/1x1", func() Layer { return NewConv2D(3, 2, Square(1, 1, 0), rng) }, 2, Shape{3, 3, 4}, true},
		{"ConvTranspose2D", func() Layer {
			return NewConvTranspose2D(2, 3, Window2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}, rng)
		}, 2, Shape{2, 3, 4}, true},
		{"ConvTranspose2D/asym", func() Layer {
			return NewConvTranspose2D(2, 2, Window2D{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadW: 1}, rng)
		}, 2, Shape{2, 3, 3}, true},
		{"ConvTranspose2D/1x1", func() Layer { return NewConvTranspose2D(3, 2, Square(1, 1, 0), rng) }, 2, Shape{3, 2, 3}, true},
		{"ConvTranspose1D", func() Layer { return NewConvTranspose1D(2, 3, 4, 2, 1, 0, rng) }, 2, Shape{2, 5}, true},
		{"BatchNorm/dense/train", func() Layer { return bnRand(4, rng) }, 6, Shape{4}, true},
		{"BatchNorm/dense/eval", func() Layer { return bnRand(4, rng) }, 6, Shape{4}, false},
		{"BatchNorm/conv1d/train", func() Layer { return bnRand(3, rng) }, 3, Shape{3, 4}, true},
		{"BatchNorm/conv2d/train", func() Layer { return bnRand(2, rng) }, 3, Shape{2, 3, 2}, true},
		{"BatchNorm/conv2d/eval", func() Layer { return bnRand(2, rng) }, 3, Shape{2, 3, 2}, false},
		{"ReLU", func() Layer { return NewReLU() }, 3, Shape{5}, true},
		{"LeakyReLU", func() Layer { return NewLeakyReLU(0.1) }, 3, Shape{5}, true},
		{"ELU", func() Layer { return NewELU(1) }, 3, Shape{5}, true},
		{"ELU/alpha0.5", func() Layer { return NewELU(0.5) }, 3, Shape{5}, true},
		{"Tanh", func() Layer { return NewTanh() }, 3, Shape{5}, true},
		{"Sigmoid", func() Layer { return NewSigmoid() }, 3, Shape{5}, true},
		{"Dropout/eval", func() Layer { return NewDropout(0.5, rng) }, 3, Shape{5}, false},
		{"Flatten", func() Layer { return NewFlatten() }, 2, Shape{2, 3}, true},
		{"Reshape", func() Layer { return NewReshape(Shape{3, 2}) }, 2, Shape{6}, true},
		{"Sequential/dense", func() Layer {
			return NewSequential(NewDense(4, 6, rng), bnRand(6, rng), NewReLU(), NewDense(6, 3, rng), NewTanh())
		}, 5, Shape{4}, true},
		{"Sequential/flatten-first", func() Layer {
			return NewSequential(NewFlatten(), NewDropout(0.2, rng), NewDense(6, 3, rng), NewSigmoid())
		}, 2, Shape{2, 3}, false},
		{"Sequential/conv", func() Layer {
			return NewSequential(
				NewConv2D(1, 2, Square(3, 2, 1), rng), bnRand(2, rng), NewELU(1),
				NewFlatten(), NewDense(2*3*3, 4, rng), NewReshape(Shape{1, 2, 2}),
				NewConvTranspose2D(1, 2, Square(2, 2, 0), rng), NewSigmoid())
		}, 3, Shape{1, 5, 6}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.layer()
			if got := l.OutShape(c.in); got.Rank() == 0 {
				t.Fatalf("OutShape(%v) = %v", c.in, got)
			}
			gradCheck(t, l, randTensor(rng, c.n, c.in), c.training, nil)
		})
	}

	t.Run("Dropout/train", func(t *testing.T) {
		src := rand.NewPCG(3, 3)
		d := NewDropout(0.4, rand.New(src))
		gradCheck(t, d, randTensor(rng, 4, Shape{6}), true, func() { src.Seed(3, 3) })
	})
}

// bnRand returns a BatchNorm with random γ, β and running statistics.
func bnRand(c int, rng *rand.Rand) *BatchNorm {
	b := NewBatchNorm(c)
	for i := 0; i < c; i++ {
		b.Gamma[i] = float32(0.5 + rng.Float64())
		b.Beta[i] = float32(rng.NormFloat64())
		b.RunningMean[i] = float32(0.3 * rng.NormFloat64())
		b.RunningVar[i] = float32(0.5 + rng.Float64())
	}
	return b
}

// TestGradCheckDetectsErrors makes sure the check fails on wrong gradients:
// a Dense whose Backward doubles dx, and one that drops the bias gradient.
func TestGradCheckDetectsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, wrong := range []Layer{&doubleDx{NewDense(3, 2, rng)}, &noBiasGrad{NewDense(3, 2, rng)}} {
		if errs := gradErrors(wrong, randTensor(rng, 2, Shape{3}), true, nil); len(errs) == 0 {
			t.Errorf("%T: gradient check passed a wrong gradient", wrong)
		}
	}
}

type doubleDx struct{ *Dense }

func (w *doubleDx) Backward(dy Tensor) Tensor {
	dx := w.Dense.Backward(dy)
	for i := range dx.Data {
		dx.Data[i] *= 2
	}
	return dx
}

type noBiasGrad struct{ *Dense }

func (w *noBiasGrad) Backward(dy Tensor) Tensor {
	dx := w.Dense.Backward(dy)
	clear(w.GB)
	return dx
}

package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	tw := Window2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}
	cases := []struct {
		name string
		net  *Sequential
		in   Shape
	}{
		{"dcase", dcaseNet(rng), Shape{640}},
		{"conv", NewSequential(
			NewConv2D(1, 4, Square(3, 2, 1), rng), NewBatchNorm2D(4), NewReLU(), NewDropout(0.3, rng),
			NewConvTranspose2D(4, 3, tw, rng), NewBatchNorm2D(3), NewLeakyReLU(0.1),
			NewReshape(Shape{3, 64}), NewConv1D(3, 2, 3, 1, 1, rng), NewBatchNorm1D(2), NewTanh(),
			NewConvTranspose1D(2, 2, 4, 2, 1, 0, rng), NewBatchNorm1D(2), NewReLU(),
			NewSequential(NewFlatten(), NewDense(256, 5, rng), NewReLU()), NewBatchNorm1D(5), NewSigmoid()),
			Shape{1, 8, 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Train a few steps so that BatchNorm has non-trivial running
			// statistics and γ, β.
			x := randTensor(rng, 32, c.in)
			m := NewLossModel(c.net, MSE)
			out := c.net.OutShape(c.in)
			y := randTensor(rng, 32, out)
			opt := NewAdam(c.net.Params(), 1e-2)
			for i := 0; i < 20; i++ {
				m.Step(x, y, true)
				opt.Step()
			}
			want := append([]float32(nil), c.net.Forward(x, false).Data...)
			f := Fold(c.net)
			if len(f.Layers) >= len(c.net.Layers) {
				t.Fatalf("folded %d layers into %d", len(c.net.Layers), len(f.Layers))
			}
			if f.OutShape(c.in) != out {
				t.Fatalf("folded OutShape %v, want %v", f.OutShape(c.in), out)
			}
			got := f.Forward(x, true).Data // training is ignored
			var maxAbs float64
			for _, v := range want {
				maxAbs = max(maxAbs, math.Abs(float64(v)))
			}
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*max(1, maxAbs) {
					t.Fatalf("folded output %d: %v, original %v", i, got[i], want[i])
				}
			}
			// The original is untouched: same output after Fold.
			again := c.net.Forward(x, false).Data
			for i := range want {
				if again[i] != want[i] {
					t.Fatal("Fold changed the original network")
				}
			}
		})
	}
	t.Run("gradients", func(t *testing.T) {
		net := NewSequential(NewDense(4, 6, rng), bnRand(6, rng), NewReLU(), NewConv1D2(rng))
		gradCheck(t, Fold(net), randTensor(rng, 3, Shape{4}), false, nil)
	})
	t.Run("only dropout", func(t *testing.T) {
		f := Fold(NewSequential(NewDropout(0.5, rng)))
		x := randTensor(rng, 2, Shape{3})
		if y := f.Forward(x, true); &y.Data[0] != &x.Data[0] {
			t.Fatal("folded Dropout is not the identity")
		}
	})
}

// NewConv1D2 returns Reshape{2,3} then a Conv1D, to mix layer types.
func NewConv1D2(rng *rand.Rand) Layer {
	return NewSequential(NewReshape(Shape{2, 3}), NewConv1D(2, 2, 3, 1, 1, rng), NewBatchNorm1D(2), NewReLU())
}

package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// chainUnfused runs layers one by one (no fused steps): Forward in order,
// Backward in reverse.
type chainUnfused []Layer

func (c chainUnfused) forward(x Tensor, training bool) Tensor {
	for _, l := range c {
		x = l.Forward(x, training)
	}
	return x
}

func (c chainUnfused) backward(dy Tensor) Tensor {
	for i := len(c) - 1; i >= 0; i-- {
		dy = c[i].Backward(dy)
	}
	return dy
}

// TestFusedMatchesLayers: a Sequential runs Dense→BatchNorm→ReLU and
// Dense→ReLU as fused steps; its output, input gradient, parameter
// gradients and BatchNorm running statistics equal those of the same
// layers run one at a time, exactly (the fused step does the same
// arithmetic in fewer passes), in training and inference mode, at batch
// sizes on both sides of the passes' parallel threshold.
func TestFusedMatchesLayers(t *testing.T) {
	build := func() []Layer {
		rng := rand.New(rand.NewPCG(5, 5))
		return []Layer{
			NewDense(20, 136, rng), bnRand(136, rng), NewReLU(),
			NewDense(136, 24, rng), NewReLU(),
			NewDense(24, 8, rng), bnRand(8, rng), NewReLU(),
			NewDense(8, 12, rng), bnRand(12, rng), NewTanh(), // BatchNorm without ReLU: not fused
			NewDense(12, 5, rng),
		}
	}
	for _, n := range []int{3, 600} {
		for _, training := range []bool{true, false} {
			t.Run(fmt.Sprintf("n=%d/training=%v", n, training), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(6, 6))
				x := randTensor(rng, n, Shape{20})
				seq := NewSequential(build()...)
				if len(seq.plan) != 7 {
					t.Fatalf("plan has %d steps, want 7 (3 fused)", len(seq.plan))
				}
				ref := chainUnfused(build())
				ys, yr := seq.Forward(x, training), ref.forward(x, training)
				dy := randTensor(rng, n, Shape{5})
				dxs, dxr := seq.Backward(dy), ref.backward(dy)
				same := func(what string, a, b []float32) {
					t.Helper()
					if len(a) != len(b) {
						t.Fatalf("%s: lengths %d and %d", what, len(a), len(b))
					}
					for i := range a {
						if a[i] != b[i] {
							t.Fatalf("%s[%d]: fused %v, layers %v", what, i, a[i], b[i])
						}
					}
				}
				same("output", ys.Data[:n*5], yr.Data[:n*5])
				same("dx", dxs.Data[:n*20], dxr.Data[:n*20])
				for i, p := range seq.Params() {
					same(p.Name+" grad", p.Grad, CollectParams(ref...)[i].Grad)
				}
				for i, p := range seq.State() {
					same(p.Name, p.Data, CollectState(ref...)[i].Data)
				}
			})
		}
	}
}

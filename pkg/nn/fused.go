package nn

import "github.com/mhmstream/mhm/pkg/nn/internal/gemm"

// denseBlock runs Dense → BatchNorm → ReLU (or Dense → ReLU when bn is
// nil) as one step of a Sequential, with fewer passes over the activations
// than the three layers one after the other:
//
//	forward, Dense+ReLU:    one SgemmBias call, bias and ReLU in the store
//	forward, Dense+BN+ReLU: SgemmBias (bias in the store), one statistics
//	                        pass (training), one normalise-and-clamp pass
//	backward:               one pass for the masked gradient and the
//	                        channel sums, one for BatchNorm's dx, then the
//	                        Dense products (dW with beta = 1, db as 1ᵀ·dy)
//
// BatchNorm's output before the ReLU and its x̂ are never stored. The
// arithmetic is that of the separate layers (the same per-channel
// coefficients and passes), so the results are equal to the unfused chain
// up to float32 rounding of the ReLU mask recomputation, which is exact.
//
// The block keeps the Dense and BatchNorm in the state their own Backward
// expects (their inputs and statistics), but not the ReLU, whose input was
// never materialised: inside a Sequential, call the Sequential's Backward.
type denseBlock struct {
	d  *Dense
	bn *BatchNorm // nil: Dense → ReLU
	r  *ReLU
	g  []float32 // masked gradient (Dense → ReLU)
}

var (
	_ Layer           = (*denseBlock)(nil)
	_ ParamBackwarder = (*denseBlock)(nil)
)

// fuseDense returns the block starting at ls[i] and the number of layers it
// covers, or nil when ls[i] does not start a Dense→[BatchNorm→]ReLU chain.
func fuseDense(ls []Layer, i int) (*denseBlock, int) {
	d, ok := ls[i].(*Dense)
	if !ok || i+1 >= len(ls) {
		return nil, 0
	}
	if r, ok := ls[i+1].(*ReLU); ok {
		return &denseBlock{d: d, r: r}, 2
	}
	bn, ok := ls[i+1].(*BatchNorm)
	if !ok || bn.C != d.Out || i+2 >= len(ls) {
		return nil, 0
	}
	if r, ok := ls[i+2].(*ReLU); ok {
		return &denseBlock{d: d, bn: bn, r: r}, 3
	}
	return nil, 0
}

func (f *denseBlock) Params() []Param { return f.d.Params() } // non-empty; Sequential only tests that

func (f *denseBlock) OutShape(in Shape) Shape { return f.d.OutShape(in) }

func (f *denseBlock) Forward(x Tensor, training bool) Tensor {
	f.r.x = Tensor{} // the ReLU's own Backward is not valid after the block's Forward
	if f.bn == nil {
		return f.d.forward(x, gemm.ReLU)
	}
	h := f.d.forward(x, gemm.Identity)
	N, _ := f.bn.begin(h, training)
	C := f.bn.C
	f.r.y = grow(f.r.y, N*C)
	chanAffine(f.r.y, h.Data, N, C, 1, f.bn.mu, f.bn.sc, f.bn.sh, true)
	return Tensor{Data: f.r.y, N: N, Shape: Shape{C}}
}

// gradient returns the gradient with respect to the Dense's output.
func (f *denseBlock) gradient(dy Tensor) Tensor {
	d := f.d
	n := d.x.N * d.Out
	if dy.N != d.x.N || dy.Shape.Size() != d.Out || len(dy.Data) < n {
		panic("nn: Dense+ReLU block: Backward shape differs from the last Forward")
	}
	if f.bn == nil {
		f.g = grow(f.g, n)
		reluMask(f.g, dy.Data, d.y)
		return Tensor{Data: f.g, N: dy.N, Shape: Shape{d.Out}}
	}
	f.bn.dx = grow(f.bn.dx, n)
	f.bn.backward(f.bn.dx, dy.Data[:n], f.r.y)
	return Tensor{Data: f.bn.dx, N: dy.N, Shape: Shape{d.Out}}
}

func (f *denseBlock) Backward(dy Tensor) Tensor { return f.d.Backward(f.gradient(dy)) }

func (f *denseBlock) BackwardParams(dy Tensor) { f.d.BackwardParams(f.gradient(dy)) }

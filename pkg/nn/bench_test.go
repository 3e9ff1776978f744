package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/mhmstream/mhm/pkg/nn/internal/gemm"
)

// dcaseNet is the DCASE 2020 Task 2 baseline autoencoder:
// 640 → 128 → 128 → 128 → 128 → 8 → 128 → 128 → 128 → 128 → 640, every
// hidden Dense followed by BatchNorm1d and ReLU, linear output
// (/work/shared/bench/dcase_ae.py, model()).
func dcaseNet(rng *rand.Rand) *Sequential {
	sizes := []int{640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640}
	var layers []Layer
	for i := 0; i+1 < len(sizes); i++ {
		layers = append(layers, NewDense(sizes[i], sizes[i+1], rng))
		if i+2 < len(sizes) {
			layers = append(layers, NewBatchNorm1D(sizes[i+1]), NewReLU())
		}
	}
	return NewSequential(layers...)
}

// BenchmarkDCASETrain measures one training step of the DCASE baseline on a
// batch of 512 synthetic vectors: forward, MSE, backward, Adam(1e-3).
// Run with `go test -run '^$' -bench DCASE -cpu 1,2 ./pkg/nn/`.
func BenchmarkDCASETrain(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	net := dcaseNet(rng)
	const batch = 512
	x := NewTensor(batch, Shape{640})
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	m := NewLossModel(net, MSE)
	opt := NewAdam(net.Params(), 1e-3)
	m.Step(x, Tensor{}, true)
	opt.Step()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		m.Step(x, Tensor{}, true)
		opt.Step()
	}
	reportCPU(b, c0)
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "vectors/s")
}

// BenchmarkDCASEInfer measures inference (Forward in inference mode) of the
// DCASE baseline at batch sizes 1, 64 and 4096, as built and after Fold.
func BenchmarkDCASEInfer(b *testing.B) {
	for _, c := range []struct {
		name  string
		batch int
		fold  bool
	}{{"batch=1", 1, false}, {"batch=64", 64, false}, {"batch=4096", 4096, false},
		{"folded/batch=1", 1, true}, {"folded/batch=64", 64, true}, {"folded/batch=4096", 4096, true}} {
		batch := c.batch
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			net := dcaseNet(rng)
			if c.fold {
				net = Fold(net)
			}
			x := NewTensor(batch, Shape{640})
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			net.Forward(x, false)
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				net.Forward(x, false)
			}
			reportCPU(b, c0)
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "vectors/s")
		})
	}
}

// BenchmarkConv2DStep measures a training step (forward, backward with dx)
// of a 3×3 stride-1 Conv2D 8→16 channels on 32×64 patches, batch 32.
func BenchmarkConv2DStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := NewConv2D(8, 16, Square(3, 1, 1), rng)
	x := randTensor(rng, 32, Shape{8, 32, 64})
	y := c.Forward(x, true)
	dy := NewTensor(y.N, y.Shape)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Forward(x, true)
		c.Backward(dy)
	}
	flops := 3 * 2 * float64(32*16*8*9*32*64)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkDCASEGemmOnly performs exactly the gemm.Sgemm calls of one
// BenchmarkDCASETrain step (per Dense: forward (F,T), weight gradient
// (T,F), input gradient (F,F) except for the first layer) and nothing
// else. Its allocs/op are the seam's own; equal allocs/op for the two
// benchmarks show that the layers, loss and optimiser allocate nothing.
// (Its time is not the seam's share of a training step: gonum's kernels
// skip zero multipliers, which ReLU activations and gradients are half
// made of; use pprof for the share, see docs/nn.md.)
func BenchmarkDCASEGemmOnly(b *testing.B) {
	sizes := []int{640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640}
	const n = 512
	rng := rand.New(rand.NewPCG(1, 1))
	buf := func(k int) []float32 {
		// Non-zero values: gonum's kernels skip zero multipliers.
		v := make([]float32, k)
		randAway(rng, v)
		return v
	}
	type layer struct {
		in, out             int
		x, w, y, dy, dx, gw []float32
	}
	var ls []layer
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		ls = append(ls, layer{in, out, buf(n * in), buf(out * in), buf(n * out), buf(n * out), buf(n * in), buf(out * in)})
	}
	step := func() {
		for _, l := range ls {
			gemm.Sgemm(false, true, n, l.out, l.in, 1, l.x, l.in, l.w, l.in, 1, l.y, l.out)
		}
		for i := len(ls) - 1; i >= 0; i-- {
			l := ls[i]
			gemm.Sgemm(true, false, l.out, l.in, n, 1, l.dy, l.out, l.x, l.in, 1, l.gw, l.in)
			if i > 0 {
				gemm.Sgemm(false, false, n, l.in, l.out, 1, l.dy, l.out, l.w, l.in, 0, l.dx, l.in)
			}
		}
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		step()
	}
	reportCPU(b, c0)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
}

// caesNet is a convolutional autoencoder like pkg/ae's CAES default on
// 32×128 patches: three Conv2D blocks (8, 16, 32 channels, 4×4 kernels,
// stride 2, padding 1) with BatchNorm and ReLU, a 32-unit linear code,
// and the mirror image with ConvTranspose2D.
func caesNet(rng *rand.Rand) *Sequential {
	w := Square(4, 2, 1)
	w.OutPadH, w.OutPadW = 0, 0
	return NewSequential(
		NewConv2D(1, 8, w, rng), NewBatchNorm2D(8), NewReLU(),
		NewConv2D(8, 16, w, rng), NewBatchNorm2D(16), NewReLU(),
		NewConv2D(16, 32, w, rng), NewBatchNorm2D(32), NewReLU(),
		NewFlatten(), NewDense(32*4*16, 32, rng), NewDense(32, 32*4*16, rng), NewReshape(Shape{32, 4, 16}),
		NewConvTranspose2D(32, 16, w, rng), NewBatchNorm2D(16), NewReLU(),
		NewConvTranspose2D(16, 8, w, rng), NewBatchNorm2D(8), NewReLU(),
		NewConvTranspose2D(8, 1, w, rng))
}

// caesMACs is the multiply-adds of one caesNet forward pass per example.
const caesMACs = (8*1024*16 + 16*256*128 + 32*64*256 + 2048*32) * 2

// BenchmarkCAES measures a training step (batch 64, MSE, Adam) and
// inference (batch 64) of caesNet on 32×128 patches, in patches per second
// and GFLOP/s of the products (training: forward, weight gradients and
// input gradients except the first layer's).
func BenchmarkCAES(b *testing.B) {
	const batch = 64
	rng := rand.New(rand.NewPCG(1, 1))
	net := caesNet(rng)
	x := randTensor(rng, batch, Shape{1, 32, 128})
	m := NewLossModel(net, MSE)
	opt := NewAdam(net.Params(), 1e-3)
	b.Run("train", func(b *testing.B) {
		m.Step(x, Tensor{}, true)
		opt.Step()
		b.ReportAllocs()
		c0 := cpuTime()
		for b.Loop() {
			m.Step(x, Tensor{}, true)
			opt.Step()
		}
		reportCPU(b, c0)
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "patches/s")
		b.ReportMetric(float64(3*caesMACs-2*8*1024*16)*2*batch*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	f := Fold(net)
	b.Run("infer", func(b *testing.B) {
		f.Forward(x, false)
		b.ReportAllocs()
		c0 := cpuTime()
		for b.Loop() {
			f.Forward(x, false)
		}
		reportCPU(b, c0)
		b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "patches/s")
		b.ReportMetric(float64(caesMACs)*2*batch*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

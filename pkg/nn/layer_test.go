package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestShapeAndTensor(t *testing.T) {
	s := Shape{3, 4, 5}
	if s.Rank() != 3 || s.Size() != 60 || s.String() != "[3 4 5]" || (Shape{}).Size() != 0 {
		t.Fatalf("Shape %v: rank %d size %d", s, s.Rank(), s.Size())
	}
	x := View(make([]float32, 120), s)
	if x.N != 2 || len(x.Row(1)) != 60 || x.Slice(1, 2).N != 1 {
		t.Fatalf("View %+v", x.N)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("View of 7 values as shape {3} did not panic")
		}
	}()
	View(make([]float32, 7), Shape{3})
}

func TestDropoutStatistics(t *testing.T) {
	d := NewDropout(0.3, rand.New(rand.NewPCG(1, 2)))
	x := NewTensor(100, Shape{100})
	for i := range x.Data {
		x.Data[i] = 1
	}
	y := d.Forward(x, true)
	var kept int
	var sum float64
	for _, v := range y.Data {
		if v != 0 {
			kept++
			if math.Abs(float64(v)-1/0.7) > 1e-6 {
				t.Fatalf("kept value %v, want 1/0.7", v)
			}
		}
		sum += float64(v)
	}
	// 10,000 Bernoulli(0.7): sd of the kept fraction 0.0046; allow 4 sd.
	if f := float64(kept) / 1e4; math.Abs(f-0.7) > 0.02 {
		t.Fatalf("kept fraction %v, want 0.7", f)
	}
	if m := sum / 1e4; math.Abs(m-1) > 0.03 {
		t.Fatalf("mean %v, want 1 (inverted dropout keeps the expectation)", m)
	}
	if y2 := d.Forward(x, false); &y2.Data[0] != &x.Data[0] {
		t.Fatal("inference-mode Dropout copied its input")
	}
}

func TestOutShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		l       Layer
		in, out Shape
	}{
		{NewDense(12, 5, rng), Shape{3, 4}, Shape{5}},
		{NewConv2D(1, 8, Square(3, 2, 1), rng), Shape{1, 32, 64}, Shape{8, 16, 32}},
		{NewConvTranspose2D(8, 1, Window2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}, rng), Shape{8, 16, 32}, Shape{1, 32, 64}},
		{NewConv1D(4, 6, 5, 1, 2, rng), Shape{4, 100}, Shape{6, 100}},
		{NewConvTranspose1D(6, 4, 4, 2, 1, 0, rng), Shape{6, 50}, Shape{4, 100}},
		{NewFlatten(), Shape{2, 3, 4}, Shape{24}},
		{NewReshape(Shape{4, 6}), Shape{24}, Shape{4, 6}},
		{NewBatchNorm(3), Shape{3, 7}, Shape{3, 7}},
	} {
		if got := c.l.OutShape(c.in); got != c.out {
			t.Errorf("%T.OutShape(%v) = %v, want %v", c.l, c.in, got, c.out)
		}
		x := NewTensor(2, c.in)
		if y := c.l.Forward(x, true); y.Shape != c.out || y.N != 2 || len(y.Data) != 2*c.out.Size() {
			t.Errorf("%T.Forward on %v gives %d×%v", c.l, c.in, y.N, y.Shape)
		}
	}
}

// TestBatchNormRunningStatsConverge: after many training batches from
// N(3, 2²), the running statistics approach (3, 4), and inference output
// is standardised.
func TestBatchNormRunningStatsConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	b := NewBatchNorm1D(2)
	x := NewTensor(256, Shape{2})
	for it := 0; it < 100; it++ {
		for i := range x.Data {
			x.Data[i] = float32(3 + 2*rng.NormFloat64())
		}
		b.Forward(x, true)
	}
	for c := 0; c < 2; c++ {
		if math.Abs(float64(b.RunningMean[c])-3) > 0.1 || math.Abs(float64(b.RunningVar[c])-4) > 0.3 {
			t.Fatalf("running stats %v %v, want 3 and 4", b.RunningMean, b.RunningVar)
		}
	}
}

// TestStepAllocatesNothing runs training steps of a Dense+BN+ReLU network
// and a small convolutional network with matrices small enough that
// gonum's SGEMM stays serial (its parallel path allocates goroutines; the
// seam, not this package, owns that), and checks zero allocations per
// step: forward, loss, backward, Adam.
func TestStepAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	dense := NewSequential(NewDense(32, 48, rng), NewBatchNorm1D(48), NewReLU(), NewDense(48, 8, rng),
		NewBatchNorm1D(8), NewELU(1), NewDropout(0.1, rng), NewDense(8, 32, rng), NewSigmoid())
	conv := NewSequential(NewConv2D(1, 4, Square(3, 2, 1), rng), NewBatchNorm2D(4), NewLeakyReLU(0.01),
		NewConv1D(4, 4, 3, 1, 1, rng), NewReshape(Shape{4, 4, 4}),
		NewConvTranspose2D(4, 1, Window2D{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutPadH: 1, OutPadW: 1}, rng), NewTanh())
	conv.Layers[3] = NewSequential(NewReshape(Shape{4, 16}), NewConv1D(4, 4, 3, 1, 1, rng))
	conv = NewSequential(conv.Layers...)
	for _, c := range []struct {
		name string
		net  *Sequential
		in   Shape
	}{{"dense", dense, Shape{32}}, {"conv", conv, Shape{1, 8, 8}}} {
		x := randTensor(rng, 16, c.in)
		m := NewLossModel(c.net, MSE)
		opt := NewAdam(c.net.Params(), 1e-3)
		step := func() {
			m.Step(x, Tensor{}, true)
			ClipGradNorm(c.net.Params(), 1)
			opt.Step()
			c.net.Forward(x, false)
		}
		step()
		if a := testing.AllocsPerRun(20, step); a != 0 {
			t.Errorf("%s: %v allocations per training step", c.name, a)
		}
		// Alternating batch sizes (a last, smaller batch; a decoder run on
		// batch×K rows) reuse the buffers sized for the largest.
		big, small := randTensor(rng, 48, c.in), randTensor(rng, 5, c.in)
		m.Step(big, Tensor{}, true)
		if a := testing.AllocsPerRun(20, func() {
			m.Step(small, Tensor{}, true)
			m.Step(big, Tensor{}, true)
			c.net.Forward(small, false)
		}); a != 0 {
			t.Errorf("%s: %v allocations with alternating batch sizes", c.name, a)
		}
		// Backward with an injected gradient (the VAE's use) allocates nothing either.
		y := c.net.Forward(x, true)
		dy := NewTensor(y.N, y.Shape)
		if a := testing.AllocsPerRun(20, func() { c.net.Forward(x, true); c.net.Backward(dy) }); a != 0 {
			t.Errorf("%s: %v allocations per Forward+Backward", c.name, a)
		}
	}
}

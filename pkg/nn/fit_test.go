package nn

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// linearData returns n rows of x ∈ R^in and y = x·A + noise.
func linearData(n, in, out int, noise float64, seed uint64) (Tensor, Tensor) {
	rng := rand.New(rand.NewPCG(seed, seed))
	a := make([]float64, in*out)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	x, y := NewTensor(n, Shape{in}), NewTensor(n, Shape{out})
	for r := 0; r < n; r++ {
		for i := 0; i < in; i++ {
			x.Data[r*in+i] = float32(rng.NormFloat64())
		}
		for j := 0; j < out; j++ {
			s := noise * rng.NormFloat64()
			for i := 0; i < in; i++ {
				s += float64(x.Data[r*in+i]) * a[i*out+j]
			}
			y.Data[r*out+j] = float32(s)
		}
	}
	return x, y
}

func smallNet(seed uint64) *Sequential {
	rng := rand.New(rand.NewPCG(seed, seed))
	return NewSequential(NewDense(4, 16, rng), NewBatchNorm1D(16), NewReLU(),
		NewDropout(0.1, rng), NewDense(16, 2, rng))
}

func TestFitLearnsAndIsDeterministic(t *testing.T) {
	x, y := linearData(600, 4, 2, 0.05, 3)
	run := func() (*Sequential, *History) {
		net := smallNet(5)
		h, err := Fit(NewLossModel(net, MSE), NewAdam(net.Params(), 1e-2), x, y,
			&FitConfig{Epochs: 15, BatchSize: 32, Seed: 9, ValFraction: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		return net, h
	}
	n1, h1 := run()
	n2, h2 := run()
	// The regression target has variance about 4 per output; the net must
	// get well below it.
	if last := h1.ValLoss[len(h1.ValLoss)-1]; !(last < 0.2*h1.ValLoss[0]) || last > 0.5 {
		t.Fatalf("validation loss %v did not fall enough from %v", last, h1.ValLoss[0])
	}
	if len(h1.TrainLoss) != 15 || len(h1.ValLoss) != 15 {
		t.Fatalf("history lengths %d, %d", len(h1.TrainLoss), len(h1.ValLoss))
	}
	for i := range h1.TrainLoss {
		if h1.TrainLoss[i] != h2.TrainLoss[i] || h1.ValLoss[i] != h2.ValLoss[i] {
			t.Fatalf("epoch %d: losses differ between identical runs", i)
		}
	}
	var b1, b2 bytes.Buffer
	if err := Save(&b1, n1); err != nil {
		t.Fatal(err)
	}
	if err := Save(&b2, n2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("two runs with the same seeds gave different weights")
	}
	// A different shuffling seed gives different weights.
	n3 := smallNet(5)
	if _, err := Fit(NewLossModel(n3, MSE), NewAdam(n3.Params(), 1e-2), x, y,
		&FitConfig{Epochs: 15, BatchSize: 32, Seed: 10, ValFraction: 0.2}); err != nil {
		t.Fatal(err)
	}
	var b3 bytes.Buffer
	Save(&b3, n3)
	if bytes.Equal(b1.Bytes(), b3.Bytes()) {
		t.Fatal("a different shuffle seed gave identical weights")
	}
}

// recorder is a Model that records which rows it saw.
type recorder struct {
	p    Param
	seen map[float32]int
	val  map[float32]int
}

func (r *recorder) Params() []Param { return []Param{r.p} }
func (r *recorder) Step(x, y Tensor, train bool) float64 {
	for i := 0; i < x.N; i++ {
		if train {
			r.seen[x.Row(i)[0]]++
		} else {
			r.val[x.Row(i)[0]]++
		}
	}
	return 1
}

func TestFitValidationSplit(t *testing.T) {
	x := NewTensor(103, Shape{1})
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	r := &recorder{p: Param{Data: make([]float32, 1), Grad: make([]float32, 1)}, seen: map[float32]int{}, val: map[float32]int{}}
	if _, err := Fit(r, NewSGD(r.Params(), 0.1, 0), x, Tensor{}, &FitConfig{Epochs: 2, BatchSize: 10, ValFraction: 0.25}); err != nil {
		t.Fatal(err)
	}
	// ⌊103·0.75⌋ = 77 training rows, each seen once per epoch; the last 26
	// validate, never train.
	if len(r.seen) != 77 {
		t.Fatalf("trained on %d distinct rows, want 77", len(r.seen))
	}
	for v, c := range r.seen {
		if v >= 77 || c != 2 {
			t.Fatalf("row %v trained %d times", v, c)
		}
	}
	if len(r.val) != 26 {
		t.Fatalf("validated on %d rows, want 26", len(r.val))
	}
	for v := range r.val {
		if v < 77 {
			t.Fatalf("row %v validated but is a training row", v)
		}
	}
}

// scripted is a Model whose losses follow a script: the validation loss
// of epoch e is script[e]; its one parameter is set to e during epoch e,
// so restore-best shows which epoch was restored.
type scripted struct {
	p      Param
	epoch  int
	script []float64
	bn     []float32
}

func (s *scripted) Params() []Param { return []Param{s.p} }
func (s *scripted) State() []Param  { return []Param{{Name: "bn", Data: s.bn}} }
func (s *scripted) Step(x, y Tensor, train bool) float64 {
	if train {
		s.p.Data[0] = float32(s.epoch)
		s.bn[0] = float32(10 * s.epoch)
		return 1
	}
	l := s.script[s.epoch]
	s.epoch++
	return l
}

type nopOpt struct{ lr float64 }

func (o *nopOpt) Step()            {}
func (o *nopOpt) LR() float64      { return o.lr }
func (o *nopOpt) SetLR(lr float64) { o.lr = lr }

func TestFitEarlyStoppingRestoresBest(t *testing.T) {
	x := NewTensor(20, Shape{1})
	vx := NewTensor(5, Shape{1})
	s := &scripted{p: Param{Data: make([]float32, 1), Grad: make([]float32, 1)},
		script: []float64{5, 4, 3, 3.5, 3.2, 3.1, 2.0, 1.0}, bn: make([]float32, 1)}
	var epochs []EpochStats
	h, err := Fit(s, &nopOpt{}, x, Tensor{}, &FitConfig{Epochs: 8, BatchSize: 20, ValX: vx, Patience: 3, RestoreBest: true,
		OnEpoch: func(e EpochStats) error { epochs = append(epochs, e); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// Best is epoch 3 (loss 3); epochs 4, 5, 6 do not improve: stop after 6.
	if !h.StoppedEarly || len(h.ValLoss) != 6 || h.BestEpoch != 3 || h.BestLoss != 3 || !h.Restored {
		t.Fatalf("history %+v", h)
	}
	if s.p.Data[0] != 2 || s.bn[0] != 20 {
		t.Fatalf("restored parameter %v and state %v, want those of epoch 3 (2, 20)", s.p.Data[0], s.bn[0])
	}
	if len(epochs) != 6 || epochs[2].Epoch != 3 || !epochs[2].Best || epochs[3].Best || epochs[5].Epochs != 8 {
		t.Fatalf("callbacks %+v", epochs)
	}
	// MinDelta: 3.2 → 3.1 is not an improvement of more than 0.5.
	s.epoch = 0
	s.script = []float64{5, 3, 2.9, 2.8, 2.7}
	h, _ = Fit(s, &nopOpt{}, x, Tensor{}, &FitConfig{Epochs: 5, BatchSize: 20, ValX: vx, Patience: 2, MinDelta: 0.5})
	if !h.StoppedEarly || h.BestEpoch != 2 || len(h.ValLoss) != 4 {
		t.Fatalf("MinDelta: history %+v", h)
	}
}

func TestFitCallbacksAndErrors(t *testing.T) {
	x, y := linearData(50, 4, 2, 0, 1)
	net := smallNet(1)
	m := NewLossModel(net, MSE)
	// ErrStop ends training without an error.
	h, err := Fit(m, NewAdam(net.Params(), 1e-3), x, y, &FitConfig{Epochs: 5, BatchSize: 16,
		OnEpoch: func(e EpochStats) error {
			if e.Epoch == 2 {
				return ErrStop
			}
			return nil
		}})
	if err != nil || len(h.TrainLoss) != 2 || !h.StoppedEarly {
		t.Fatalf("ErrStop: %v, %+v", err, h)
	}
	// Another error is returned.
	boom := errors.New("boom")
	if _, err := Fit(m, NewAdam(net.Params(), 1e-3), x, y, &FitConfig{Epochs: 5,
		OnEpoch: func(EpochStats) error { return boom }}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	// OnBatch sees every step; DropLast drops the 50 mod 16 = 2 leftover rows.
	var calls, last int
	Fit(m, NewAdam(net.Params(), 1e-3), x, y, &FitConfig{Epochs: 2, BatchSize: 16, DropLast: true,
		OnBatch: func(e, b, n int) { calls++; last = n }})
	if calls != 6 || last != 3 {
		t.Fatalf("OnBatch called %d times with %d batches, want 6 and 3", calls, last)
	}
	// Non-finite data.
	bad := NewTensor(10, Shape{4})
	bad.Data[3] = float32(math.NaN())
	if _, err := Fit(m, NewAdam(net.Params(), 1e-3), bad, NewTensor(10, Shape{2}), &FitConfig{Epochs: 1, BatchSize: 4}); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN data: %v", err)
	}
	if _, err := Fit(m, NewAdam(net.Params(), 1e-3), Tensor{Shape: Shape{4}}, Tensor{}, nil); !errors.Is(err, ErrNoData) {
		t.Fatalf("no data: %v", err)
	}
}

func TestFitScheduleAndClip(t *testing.T) {
	x, y := linearData(64, 4, 2, 0, 1)
	net := smallNet(1)
	opt := NewSGD(net.Params(), 1, 0.9)
	var lrs []float64
	_, err := Fit(NewLossModel(net, MSE), opt, x, y, &FitConfig{Epochs: 4, BatchSize: 16, ClipNorm: 1,
		Schedule: StepLR(0.1, 2, 0.5),
		OnEpoch:  func(e EpochStats) error { lrs = append(lrs, e.LR); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.1, 0.1, 0.05, 0.05}
	for i := range want {
		if math.Abs(lrs[i]-want[i]) > 1e-15 {
			t.Fatalf("learning rates %v, want %v", lrs, want)
		}
	}
}

func TestSchedules(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Schedule
		t    []float64
		want []float64
	}{
		{"constant", ConstantLR(0.3), []float64{0, 5.5}, []float64{0.3, 0.3}},
		{"step", StepLR(1, 3, 0.1), []float64{0, 2.99, 3, 6.5}, []float64{1, 1, 0.1, 0.01}},
		{"cosine", CosineLR(1, 0.1, 10, 0), []float64{0, 5, 10, 12}, []float64{1, 0.55, 0.1, 0.1}},
		{"cosine/warmup", CosineLR(1, 0, 12, 2), []float64{0, 1, 2, 7, 12}, []float64{0, 0.5, 1, 0.5, 0}},
	} {
		for i, tt := range c.t {
			if got := c.s.LR(tt); math.Abs(got-c.want[i]) > 1e-12 {
				t.Errorf("%s: LR(%v) = %v, want %v", c.name, tt, got, c.want[i])
			}
		}
	}
}

// TestFitStepsAllocateNothing: Fit's allocations do not grow with the
// number of steps per epoch (they are per Fit and per epoch only).
func TestFitStepsAllocateNothing(t *testing.T) {
	x, y := linearData(640, 4, 2, 0, 1)
	allocs := func(batch int) float64 {
		net := smallNet(1)
		m := NewLossModel(net, MSE)
		opt := NewAdam(net.Params(), 1e-3)
		cfg := &FitConfig{Epochs: 3, BatchSize: batch, ValFraction: 0.1}
		Fit(m, opt, x, y, cfg) // size the layers' buffers
		return testing.AllocsPerRun(3, func() { Fit(m, opt, x, y, cfg) })
	}
	// 576 training rows: 9 steps per epoch at batch 64, 36 at batch 16.
	if a, b := allocs(64), allocs(16); a != b {
		t.Fatalf("Fit allocates %v times with 9 steps per epoch, %v with 36", a, b)
	}
}

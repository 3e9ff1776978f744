package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

var (
	// ErrNoData is returned by Fit when there are no training examples.
	ErrNoData = errors.New("nn: no training data")
	// ErrNonFinite is returned by Fit when a loss becomes NaN or infinite.
	ErrNonFinite = errors.New("nn: loss is not finite")
	// ErrStop may be returned by FitConfig.OnEpoch to end training early
	// without an error.
	ErrStop = errors.New("nn: stop training")
)

// Model is what Fit trains: a set of parameters and a step that computes
// the loss of one minibatch.
//
// Step(x, y, train) returns the mean loss of the batch x (with targets y,
// a zero Tensor when Fit was given none). With train true it must also
// accumulate the gradients of that loss into Params()' Grad (Fit then clips
// and calls the optimiser, which zeroes them); with train false (validation)
// it must run the layers in inference mode, compute no gradients and
// change no parameters. Fit averages the returned losses weighted by x.N.
// The tensors passed to Step are views into Fit's buffers or the data,
// valid only during the call; Step must not modify them.
//
// This is where model families differ: an autoencoder corrupts x and
// reconstructs the clean x, a sparse one adds a penalty, a VAE samples and
// backpropagates through two networks; LossModel is the plain case.
//
// A Model that also implements Stateful has its state (BatchNorm running
// statistics) saved and restored with the parameters by RestoreBest.
type Model interface {
	Params() []Param
	Step(x, y Tensor, train bool) float64
}

// LossModel is the plain Model: a network and a LossFunc. Step runs
// Net.Forward, compares the output with y (or with x when y is empty, an
// autoencoder) and backpropagates with BackwardParams (the input gradient
// is not needed). Its gradient buffer grows to the largest batch and is
// reused.
type LossModel struct {
	Net  Layer
	Loss LossFunc // nil means MSE
	grad []float32
}

var (
	_ Model    = (*LossModel)(nil)
	_ Stateful = (*LossModel)(nil)
)

// NewLossModel returns the LossModel of net and loss (nil loss means MSE).
func NewLossModel(net Layer, loss LossFunc) *LossModel {
	return &LossModel{Net: net, Loss: loss}
}

// Params returns Net.Params().
func (m *LossModel) Params() []Param { return m.Net.Params() }

// State returns Net's state when Net is Stateful.
func (m *LossModel) State() []Param {
	if s, ok := m.Net.(Stateful); ok {
		return s.State()
	}
	return nil
}

// Step computes the loss of one batch and, with train, its gradients.
func (m *LossModel) Step(x, y Tensor, train bool) float64 {
	loss := m.Loss
	if loss == nil {
		loss = MSE
	}
	out := m.Net.Forward(x, train)
	n := out.N * out.Shape.Size()
	tgt := x
	if y.N > 0 {
		tgt = y
	}
	if tgt.N != out.N || tgt.Shape.Size() != out.Shape.Size() || len(tgt.Data) < n {
		panic(fmt.Sprintf("nn: LossModel: output %d×%v, target %d×%v", out.N, out.Shape, tgt.N, tgt.Shape))
	}
	target := tgt.Data[:n]
	if !train {
		return loss(nil, out.Data[:n], target)
	}
	m.grad = grow(m.grad, n)
	l := loss(m.grad, out.Data[:n], target)
	backwardParams(m.Net, Tensor{Data: m.grad, N: out.N, Shape: out.Shape})
	return l
}

// FitConfig configures Fit. The zero value (or nil) means the defaults
// noted on each field.
type FitConfig struct {
	Epochs    int    // passes over the training data; default 10
	BatchSize int    // examples per step; default 32. The last batch may be smaller.
	DropLast  bool   // drop the last, smaller batch of each epoch
	Seed      uint64 // seed of the shuffling RNG (PCG(Seed, Seed))
	NoShuffle bool   // keep the data order

	// Validation data: ValX (and ValY) when ValX.N > 0, else the last
	// ValFraction of x (and y), never trained on: the first
	// ⌊N·(1−ValFraction)⌋ rows train. Default: no validation.
	ValFraction float64
	ValX, ValY  Tensor

	// Early stopping on the validation loss (the training loss when there
	// is no validation data): stop after Patience epochs without an
	// improvement larger than MinDelta; 0 disables it. RestoreBest puts
	// back the parameters (and state) of the best epoch at the end.
	Patience    int
	MinDelta    float64
	RestoreBest bool

	ClipNorm float64  // clip gradients to this global L2 norm; 0: no clipping
	Schedule Schedule // learning rate per step; nil keeps the optimiser's

	// OnEpoch is called after every epoch; returning ErrStop ends training
	// (Fit returns nil), another error ends it and Fit returns it.
	OnEpoch func(EpochStats) error
	// OnBatch is called after every optimiser step (for progress bars).
	OnBatch func(epoch, batch, batches int)
}

// EpochStats reports one finished epoch.
type EpochStats struct {
	Epoch, Epochs int           // this epoch (from 1) and the planned number
	TrainLoss     float64       // mean training loss over the epoch (training mode)
	ValLoss       float64       // validation loss (inference mode); NaN without validation
	LR            float64       // learning rate of the epoch's last step
	Elapsed       time.Duration // since Fit started
	Best          bool          // the monitored loss improved this epoch
}

// History is the record of a Fit.
type History struct {
	TrainLoss, ValLoss []float64 // per epoch; ValLoss is empty without validation
	BestEpoch          int       // epoch (from 1) with the lowest monitored loss
	BestLoss           float64
	StoppedEarly       bool // patience ran out (or OnEpoch returned ErrStop)
	Restored           bool // RestoreBest put back the best epoch's parameters
	Elapsed            time.Duration
}

// Fit trains m with opt on the examples x (targets y, or a zero Tensor) in
// shuffled minibatches and returns the loss history.
//
// Each epoch visits the training rows in an order drawn from the seeded RNG
// (so two runs with equal seeds, models and data give bit-identical
// weights), copies each batch into a buffer allocated once, and calls
// m.Step, ClipGradNorm (if ClipNorm > 0) and opt.Step; the learning rate
// follows Schedule if set. Validation uses m.Step with train false in
// batches of BatchSize. The steady-state step allocates nothing in Fit
// itself. It returns ErrNoData without training rows, ErrNonFinite
// (wrapped, with the epoch) when a loss is NaN or ±Inf, and OnEpoch's
// error. It panics if y has a different number of rows than x, or ValY
// is missing (given) when y is given (missing).
func Fit(m Model, opt Optimizer, x, y Tensor, cfg *FitConfig) (*History, error) {
	var c FitConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Epochs <= 0 {
		c.Epochs = 10
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 32
	}
	if y.N > 0 && y.N != x.N {
		panic(fmt.Sprintf("nn: Fit: x has %d rows, y %d", x.N, y.N))
	}
	hasY := y.N > 0
	if c.ValX.N > 0 && hasY != (c.ValY.N > 0) || c.ValY.N > 0 && c.ValY.N != c.ValX.N {
		panic(fmt.Sprintf("nn: Fit: ValX has %d rows and ValY %d; give ValY exactly when y is given", c.ValX.N, c.ValY.N))
	}
	trainX, trainY := x, y
	valX, valY := c.ValX, c.ValY
	if valX.N == 0 && c.ValFraction > 0 {
		split := int(float64(x.N) * (1 - c.ValFraction))
		trainX, valX = x.Slice(0, split), x.Slice(split, x.N)
		if hasY {
			trainY, valY = y.Slice(0, split), y.Slice(split, y.N)
		}
	}
	if trainX.N == 0 {
		return nil, ErrNoData
	}
	hasVal := valX.N > 0
	start := time.Now()

	params := m.Params()
	var state []Param
	if s, ok := m.(Stateful); ok {
		state = s.State()
	}
	var best [][]float32
	if c.RestoreBest {
		for _, p := range append(append([]Param(nil), params...), state...) {
			best = append(best, make([]float32, len(p.Data)))
		}
	}
	snapshot := func(restore bool) {
		i := 0
		for _, ps := range [][]Param{params, state} {
			for _, p := range ps {
				if restore {
					copy(p.Data, best[i])
				} else {
					copy(best[i], p.Data)
				}
				i++
			}
		}
	}

	n := trainX.N
	bs := min(c.BatchSize, n)
	batches := (n + bs - 1) / bs
	if c.DropLast && n%bs != 0 && n > bs {
		batches = n / bs
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed))
	xs, ys := trainX.Shape.Size(), 0
	xb := make([]float32, bs*xs)
	var yb []float32
	if hasY {
		ys = trainY.Shape.Size()
		yb = make([]float32, bs*ys)
	}

	h := &History{BestLoss: math.Inf(1)}
	wait := 0
	for epoch := 0; epoch < c.Epochs; epoch++ {
		if !c.NoShuffle {
			rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		var sum float64
		rows := 0
		for b := 0; b < batches; b++ {
			lo, hi := b*bs, min((b+1)*bs, n)
			var bx, by Tensor
			if c.NoShuffle {
				bx = trainX.Slice(lo, hi)
				if hasY {
					by = trainY.Slice(lo, hi)
				}
			} else {
				for k, r := range perm[lo:hi] {
					copy(xb[k*xs:(k+1)*xs], trainX.Data[r*xs:(r+1)*xs])
					if hasY {
						copy(yb[k*ys:(k+1)*ys], trainY.Data[r*ys:(r+1)*ys])
					}
				}
				bx = Tensor{Data: xb[:(hi-lo)*xs], N: hi - lo, Shape: trainX.Shape}
				if hasY {
					by = Tensor{Data: yb[:(hi-lo)*ys], N: hi - lo, Shape: trainY.Shape}
				}
			}
			if c.Schedule != nil {
				opt.SetLR(c.Schedule.LR(float64(epoch) + float64(b)/float64(batches)))
			}
			l := m.Step(bx, by, true)
			if math.IsNaN(l) || math.IsInf(l, 0) {
				h.Elapsed = time.Since(start)
				return h, fmt.Errorf("epoch %d, batch %d: %w", epoch+1, b+1, ErrNonFinite)
			}
			if c.ClipNorm > 0 {
				ClipGradNorm(params, c.ClipNorm)
			}
			opt.Step()
			sum += l * float64(hi-lo)
			rows += hi - lo
			if c.OnBatch != nil {
				c.OnBatch(epoch+1, b+1, batches)
			}
		}
		st := EpochStats{Epoch: epoch + 1, Epochs: c.Epochs, TrainLoss: sum / float64(rows), ValLoss: math.NaN(), LR: opt.LR()}
		h.TrainLoss = append(h.TrainLoss, st.TrainLoss)
		monitored := st.TrainLoss
		if hasVal {
			st.ValLoss = Evaluate(m, valX, valY, c.BatchSize)
			h.ValLoss = append(h.ValLoss, st.ValLoss)
			monitored = st.ValLoss
			if math.IsNaN(monitored) || math.IsInf(monitored, 0) {
				h.Elapsed = time.Since(start)
				return h, fmt.Errorf("epoch %d, validation: %w", epoch+1, ErrNonFinite)
			}
		}
		if monitored < h.BestLoss-c.MinDelta || h.BestEpoch == 0 {
			h.BestLoss, h.BestEpoch, st.Best = monitored, epoch+1, true
			wait = 0
			if c.RestoreBest {
				snapshot(false)
			}
		} else {
			wait++
		}
		st.Elapsed = time.Since(start)
		h.Elapsed = st.Elapsed
		stop := c.Patience > 0 && wait >= c.Patience
		if c.OnEpoch != nil {
			if err := c.OnEpoch(st); err != nil {
				if !errors.Is(err, ErrStop) {
					return h, err
				}
				stop = true
			}
		}
		if stop {
			h.StoppedEarly = true
			break
		}
	}
	if c.RestoreBest && h.BestEpoch != len(h.TrainLoss) {
		snapshot(true)
		h.Restored = true
	}
	h.Elapsed = time.Since(start)
	return h, nil
}

// Evaluate returns m's mean loss over the examples x (targets y, or a zero
// Tensor) in inference mode (m.Step with train false), in batches of
// batchSize (default 32 when <= 0), weighted by batch rows. It copies no
// data.
func Evaluate(m Model, x, y Tensor, batchSize int) float64 {
	if batchSize <= 0 {
		batchSize = 32
	}
	if x.N == 0 {
		return math.NaN()
	}
	var sum float64
	for lo := 0; lo < x.N; lo += batchSize {
		hi := min(lo+batchSize, x.N)
		var by Tensor
		if y.N > 0 {
			by = y.Slice(lo, hi)
		}
		sum += m.Step(x.Slice(lo, hi), by, false) * float64(hi-lo)
	}
	return sum / float64(x.N)
}

package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/norm"
)

// TrainConfig configures Train. Zero fields (or a nil *TrainConfig) take
// the defaults noted.
type TrainConfig struct {
	Epochs    int         // passes over the data; default 50
	BatchSize int         // patches per step; default 128
	LR        float64     // Adam learning rate; default 1e-3
	Schedule  nn.Schedule // learning rate per step (overrides LR); nil: constant LR
	Seed      uint64      // seeds the shuffling (PCG(Seed, Seed)) and the ε draws (PCG(Seed, Seed+1))

	// Beta weights the KL term (β-VAE); default 1 (the ELBO).
	Beta float64
	// WarmupEpochs > 0 ramps the KL weight linearly: a step at training
	// progress t (epochs, fractional within an epoch) uses
	// β·min(1, t/WarmupEpochs), so the first step has weight 0. Default 0:
	// no warm-up.
	WarmupEpochs float64
	// Samples is L, the number of z drawn per patch in a training step;
	// default 1.
	Samples int

	// Validation and early stopping, as nn.FitConfig: the last ValFraction
	// of the rows is held out (shuffle the data first if it is ordered),
	// its loss is the negative ELBO with β = 1.
	ValFraction float64
	Patience    int
	MinDelta    float64
	RestoreBest bool
	ClipNorm    float64 // clip the global gradient norm; 0: none

	// OnEpoch is called after every epoch (nn.FitConfig.OnEpoch).
	OnEpoch func(nn.EpochStats) error
}

// Train fits the model to n patches x (n×InputDim() values, row-major)
// with Adam, maximising the ELBO through nn.Fit (Step is the loss), and
// returns the loss history (negative ELBO per patch, nats, standardised
// units).
//
// bands holds each patch's band index in [0, Bands()) when the model has a
// band tag, and is ignored (may be nil) otherwise. On the first call a
// model that standardises (Gaussian decoder without NoStandardize) fits
// its Standardizer (norm.Fit, float64) to the training rows (not the
// validation rows); later calls reuse it, so Train can continue training.
// Train allocates a standardised copy of the data with the tags.
// It returns an error wrapping ErrData for a non-finite value, a band
// index out of range or (Bernoulli) a value outside [0, 1], and nn.Fit's
// errors (nn.ErrNonFinite when the loss diverges). It panics if x or bands
// is shorter than n patches.
func (m *Model) Train(x []float32, bands []int, n int, tc *TrainConfig) (*nn.History, error) {
	var c TrainConfig
	if tc != nil {
		c = *tc
	}
	if c.Epochs <= 0 {
		c.Epochs = 50
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 128
	}
	if c.LR <= 0 {
		c.LR = 1e-3
	}
	if c.Beta <= 0 {
		c.Beta = 1
	}
	if c.Samples <= 0 {
		c.Samples = 1
	}
	D, B := m.d, m.cfg.Bands
	if n < 1 {
		return nil, fmt.Errorf("%w: %d patches", ErrData, n)
	}
	if len(x) < n*D {
		panic(fmt.Sprintf("vae: Train: %d values for %d patches of %d", len(x), n, D))
	}
	if B > 0 && len(bands) < n {
		panic(fmt.Sprintf("vae: Train: %d band indices for %d patches", len(bands), n))
	}
	for i, v := range x[:n*D] {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: value %d of patch %d is %v", ErrData, i%D, i/D, v)
		}
		if m.cfg.Decoder == Bernoulli && (f < 0 || f > 1) {
			return nil, fmt.Errorf("%w: value %d of patch %d is %v, outside [0, 1] for a Bernoulli decoder", ErrData, i%D, i/D, v)
		}
	}
	if B > 0 {
		for i, b := range bands[:n] {
			if b < 0 || b >= B {
				return nil, fmt.Errorf("%w: band %d of patch %d, the model has %d bands", ErrData, b, i, B)
			}
		}
	}
	if m.std == nil && m.standardizes() {
		split := int(float64(n) * (1 - c.ValFraction))
		if split < 1 || c.ValFraction <= 0 {
			split = n
		}
		m.std = norm.Fit(x, split, D, 0)
	}
	rows := make([]float32, n*(D+B))
	for i := 0; i < n; i++ {
		r := rows[i*(D+B) : (i+1)*(D+B)]
		if m.std != nil {
			m.std.Apply(r[:D], x[i*D:(i+1)*D], 1)
		} else {
			copy(r[:D], x[i*D:(i+1)*D])
		}
		if B > 0 {
			r[D+bands[i]] = 1
		}
	}

	m.rng = rand.New(rand.NewPCG(c.Seed, c.Seed+1))
	m.samples = c.Samples
	defer func() { m.klWeight, m.samples = 1, 1 }()
	sched := c.Schedule
	if sched == nil {
		sched = nn.ConstantLR(c.LR)
	}
	warm := c.WarmupEpochs
	opt := nn.NewAdam(m.params, c.LR)
	fc := &nn.FitConfig{
		Epochs: c.Epochs, BatchSize: c.BatchSize, Seed: c.Seed,
		ValFraction: c.ValFraction, Patience: c.Patience, MinDelta: c.MinDelta,
		RestoreBest: c.RestoreBest, ClipNorm: c.ClipNorm, OnEpoch: c.OnEpoch,
		// nn.Fit evaluates the schedule before every step with the
		// progress t in epochs: the hook sets the KL weight there.
		Schedule: nn.ScheduleFunc(func(t float64) float64 {
			m.klWeight = c.Beta
			if warm > 0 && t < warm {
				m.klWeight = c.Beta * t / warm
			}
			return sched.LR(t)
		}),
	}
	return nn.Fit(m, opt, nn.View(rows, nn.Shape{D + B}), nn.Tensor{}, fc)
}

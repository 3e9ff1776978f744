package detect

import (
	"errors"
	"fmt"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// Scorer scores patches; higher is more anomalous. It has the methods of
// pkg/model's Scorer. Not safe for concurrent use: detect keeps one per
// partition and model version.
type Scorer interface {
	InputDim() int
	// Score writes the score of each of the n patches of x (n×InputDim,
	// row-major) to scores[:n] and, when perFeature is not nil, each
	// value's contribution to perFeature[:n×InputDim]; bands[i] is patch
	// i's band index (nil for full-band models).
	Score(scores []float64, perFeature []float32, x []float32, bands []int, n int)
}

// OpenFunc binds an artifact to a factory of scorers (one per goroutine).
type OpenFunc func(*model.Artifact) (func() Scorer, error)

// Defaults of the decision rule for an artifact that does not set one.
const (
	DefaultWindowNs = int64(1e9) // 1 s tumbling windows, mean of the patch scores
)

// binding is a model as the detector uses it: its scorers and everything the
// decision needs, resolved once when the model is loaded.
type binding struct {
	meta      model.Meta
	newScorer func() Scorer
	feat      feature.Config // with defaults
	dim       int            // values per patch, T·F
	t, f      int            // patch shape
	binHop    int            // bins between bands
	bands     int            // bands per patch position; 1 = full band
	bins      int            // spectrogram bins
	binLo     []float64      // Hz range of each bin
	binHi     []float64
	baseline  []float64 // per-bin calibration contribution (localisation), or nil
	window    threshold.WindowConfig
	tumbling  bool  // window hop = length: a window can be decided as soon as its last patch is in
	stepNs    int64 // time between consecutive patch positions
	persist   threshold.PersistenceConfig
	th        threshold.Threshold
	scoreType string
}

// bind validates an artifact's decision settings and opens its weights.
// The window aggregator ranks spectrogram bins (Features = bins, top 3),
// as the trainer does when it learns the threshold (docs/artifact.md).
func bind(open OpenFunc) func(a *model.Artifact) (*binding, error) {
	return func(a *model.Artifact) (b *binding, err error) {
		m := a.Meta
		if err := m.Feature.Validate(); err != nil {
			return nil, err
		}
		if err := m.Threshold.Validate(); err != nil {
			return nil, fmt.Errorf("threshold: %w", err)
		}
		if m.Threshold.Value == 0 {
			return nil, errors.New("threshold is 0: severity undefined")
		}
		if err := m.Decision.Persistence.Validate(); err != nil {
			return nil, fmt.Errorf("persistence: %w", err)
		}
		cfg := m.Feature.WithDefaults()
		b = &binding{meta: m, feat: cfg, dim: cfg.Dim(), bands: cfg.Bands(), bins: cfg.Bins(), th: m.Threshold,
			persist: m.Decision.Persistence, scoreType: m.Score.Type, baseline: binBaseline(&m)}
		b.t = cfg.Patch.Frames
		b.f = b.dim / b.t
		b.binHop = cfg.Patch.BinHop
		if b.binHop == 0 {
			b.binHop = b.f
		}
		if b.scoreType == "" {
			b.scoreType = "mse"
		}
		if len(b.baseline) != 0 && len(b.baseline) != b.bins {
			return nil, fmt.Errorf("bin baseline of %d values for %d bins", len(b.baseline), b.bins)
		}
		b.binLo, b.binHi = cfg.STFT.BinEdges(cfg.SampleRate)
		w := m.Decision.Window
		if w.LengthNs == 0 {
			w.LengthNs, w.HopNs = DefaultWindowNs, 0
		}
		w.Features = b.bins
		if w.TopFeatures == 0 {
			w.TopFeatures = 3
		}
		defer func() { // NewWindowAggregator panics on a bad window config
			if r := recover(); r != nil {
				b, err = nil, fmt.Errorf("decision window: %v", r)
			}
		}()
		b.window = threshold.NewWindowAggregator(w).Config()
		b.tumbling = b.window.HopNs == b.window.LengthNs
		b.stepNs = patch.SamplesToNs(int64(cfg.Patch.Hop*cfg.STFT.Hop), cfg.SampleRate)
		newScorer, err := open(a)
		if err != nil {
			return nil, err
		}
		if s := newScorer(); s.InputDim() != b.dim {
			return nil, fmt.Errorf("%w: scorer takes %d values, the feature configuration gives %d", model.ErrMismatch, s.InputDim(), b.dim)
		}
		b.newScorer = newScorer
		return b, nil
	}
}

// binContrib writes into perBin (length bins) one patch's per-bin
// contribution: for the bins of its band, the mean over its frames of the
// per-value scores pf, minus the calibration baseline; 0 elsewhere. This is
// the trainer's localisation (docs/artifact.md, bin_baseline).
func (b *binding) binContrib(perBin []float32, pf []float32, band int) {
	clear(perBin)
	base := band * b.binHop
	inv := 1 / float64(b.t)
	for f := 0; f < b.f; f++ {
		var s float64
		for t := 0; t < b.t; t++ {
			s += float64(pf[t*b.f+f])
		}
		s *= inv
		k := base + f
		if b.baseline != nil {
			s -= b.baseline[k]
		}
		perBin[k] = float32(s)
	}
}

// DefaultOpen binds an artifact with pkg/model's Open (any kind: the
// autoencoders and the VAE with its score estimator); the factory gives
// each partition its own scorer.
func DefaultOpen(a *model.Artifact) (func() Scorer, error) {
	l, err := model.Open(a)
	if err != nil {
		return nil, err
	}
	return func() Scorer { return l.NewScorer() }, nil
}

var _ Scorer = model.Scorer(nil)

// binBaseline returns the artifact's per-bin localisation baseline.
func binBaseline(m *model.Meta) []float64 { return m.BinBaseline }

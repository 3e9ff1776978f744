package train

import (
	"math"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/threshold"
)

// chunk is the most patches scored in one call.
const chunk = 2048

// binScore is a spectrogram bin's share of a window's score.
type binScore struct {
	Bin    int     `json:"bin"`
	LowHz  float64 `json:"low_hz"`
	HighHz float64 `json:"high_hz"`
	Score  float64 `json:"score"` // mean per-patch excess over the calibration baseline
}

// windowResult is one decision window of an item.
type windowResult struct {
	StartS   float64    `json:"start_s"` // from the item's start
	EndS     float64    `json:"end_s"`
	Score    float64    `json:"score"`
	MaxPatch float64    `json:"max_patch_score"`
	Patches  int        `json:"patches"`
	Above    bool       `json:"above"`
	Top      []binScore `json:"top,omitempty"`
}

// result is an item's outcome: its windows and its score, the largest
// window score (the only one when the window is the item's length, the
// default).
type result struct {
	Score   float64
	Windows []windowResult
	Above   int // windows above the threshold
	Top     []binScore
}

// engine scores items exactly as a detector does: the artifact's Scorer
// on the patches, then threshold.WindowAggregator with the artifact's
// Decision over the patch scores and their per-bin contributions.
type engine struct {
	l        *model.Loaded
	cfg      feature.Config
	sc       model.Scorer
	agg      *threshold.WindowAggregator
	dim      int
	frames   int // T
	width    int // F
	binHop   int
	bins     int
	lo, hi   []float64 // bin edges, Hz
	baseline []float64

	// accumulate the calibration baseline
	sums   []float64
	counts []float64

	scores []float64
	pf     []float32
	perBin []float32
}

func newEngine(l *model.Loaded) *engine {
	cfg := l.Meta.Feature
	p := cfg.Patch.WithDefaults()
	bins := cfg.Bins()
	f := p.Bins
	if f == 0 {
		f = bins
	}
	hop := p.BinHop
	if hop == 0 {
		hop = f
	}
	lo, hi := cfg.STFT.BinEdges(cfg.SampleRate)
	wc := l.Meta.Decision.Window
	wc.Features, wc.TopFeatures = bins, 3
	return &engine{
		l: l, cfg: cfg, sc: l.NewScorer(), agg: threshold.NewWindowAggregator(wc),
		dim: cfg.Dim(), frames: p.Frames, width: f, binHop: hop, bins: bins, lo: lo, hi: hi,
		baseline: l.Meta.BinBaseline, perBin: make([]float32, bins),
	}
}

// collectBaseline makes the engine sum the per-bin contributions of every
// patch it scores, for Baseline.
func (e *engine) collectBaseline() {
	e.sums, e.counts = make([]float64, e.bins), make([]float64, e.bins)
}

// Baseline returns the mean per-bin contribution of the patches scored
// since collectBaseline (0 for bins no patch covered).
func (e *engine) Baseline() []float64 {
	out := make([]float64, e.bins)
	for k := range out {
		if e.counts[k] > 0 {
			out[k] = e.sums[k] / e.counts[k]
		}
	}
	return out
}

// score scores patches [lo, hi) of it and aggregates them into windows.
func (e *engine) score(it *item, lo, hi int) result {
	var res result
	e.agg.Reset()
	th := e.l.Meta.Threshold
	collect := func(ws []threshold.Window) {
		for _, w := range ws {
			wr := windowResult{StartS: float64(w.StartNs) * 1e-9, EndS: float64(w.EndNs) * 1e-9,
				Score: w.Score, MaxPatch: w.MaxScore, Patches: w.Patches, Above: th.Above(w.Score)}
			for _, c := range w.Top {
				wr.Top = append(wr.Top, binScore{Bin: c.Feature, LowHz: e.lo[c.Feature], HighHz: e.hi[c.Feature], Score: c.Score})
			}
			if wr.Above {
				res.Above++
			}
			if len(res.Windows) == 0 || wr.Score > res.Score {
				res.Score, res.Top = wr.Score, wr.Top
			}
			res.Windows = append(res.Windows, wr)
		}
	}
	d := e.dim
	for c := lo; c < hi; c += chunk {
		n := min(chunk, hi-c)
		if len(e.scores) < n {
			e.scores, e.pf = make([]float64, n), make([]float32, n*d)
		}
		e.sc.Score(e.scores[:n], e.pf[:n*d], it.Values[c*d:(c+n)*d], it.Bands[c:c+n], n)
		for i := range n {
			e.binContrib(e.pf[i*d:(i+1)*d], it.Bands[c+i])
			collect(e.agg.Push(it.TimesNs[c+i], e.scores[i], e.perBin))
		}
	}
	collect(e.agg.Flush())
	if len(res.Windows) == 0 {
		res.Score = math.NaN()
	}
	return res
}

// binContrib writes the per-bin contribution of one patch (mean over its
// frames of the per-feature scores, minus the baseline) into e.perBin;
// bins outside the patch's band are 0.
func (e *engine) binContrib(pf []float32, band int) {
	clear(e.perBin)
	base := band * e.binHop
	for f := 0; f < e.width; f++ {
		var s float64
		for t := 0; t < e.frames; t++ {
			s += float64(pf[t*e.width+f])
		}
		s /= float64(e.frames)
		k := base + f
		if e.sums != nil {
			e.sums[k] += s
			e.counts[k]++
		}
		if len(e.baseline) > 0 {
			s -= e.baseline[k]
		}
		e.perBin[k] = float32(s)
	}
}

package threshold

import (
	"fmt"
	"math"
)

// WindowConfig configures a [WindowAggregator].
type WindowConfig struct {
	// LengthNs is the window length in ns (> 0).
	LengthNs int64 `json:"length_ns"`
	// HopNs is the distance between window starts in ns, 0 < HopNs ≤
	// LengthNs; 0 means LengthNs (tumbling windows).
	HopNs int64 `json:"hop_ns"`
	// Aggregation reduces a window's patch scores; the zero value is the mean.
	Aggregation Aggregation `json:"aggregation"`
	// Features is the length of the per-feature score vectors given to
	// Push (or the number of bands given to PushBand); 0 disables the
	// per-feature ranking.
	Features int `json:"features,omitempty"`
	// TopFeatures is how many features a Window ranks; 0 means 3 (at most
	// Features).
	TopFeatures int `json:"top_features,omitempty"`
}

// Contribution is one feature's share of a window's score: the mean over
// the window's patches of that feature's score (a patch that did not carry
// it counts 0).
type Contribution struct {
	Feature int     // index into the per-feature vector, or band index
	Score   float64 // mean per-patch score of the feature in the window
}

// Window is the decision unit the [WindowAggregator] emits.
type Window struct {
	StartNs, EndNs int64   // the window covers [StartNs, EndNs)
	Score          float64 // aggregated patch score
	Patches        int     // number of patches aggregated (≥ 1)
	MaxScore       float64 // largest patch score
	// Top holds up to TopFeatures features, highest Score first (ties:
	// lower index first); empty when no patch of the window carried
	// per-feature scores. It aliases the aggregator's memory and is valid
	// until the next Push, PushBand, Flush or Reset.
	Top []Contribution
}

// WindowAggregator aggregates a time-ordered stream of patch scores over
// windows aligned to multiples of the hop since the epoch: window j covers
// [j·HopNs, j·HopNs + LengthNs). A patch with time t belongs to every
// window containing t (⌈LengthNs/HopNs⌉ at most). A window is emitted once
// a patch arrives at or after its end (or on Flush), in order of start;
// windows without patches are not emitted.
//
// Patches must arrive in non-decreasing time. A late patch is added to the
// windows that are still open; if all its windows were emitted already it
// is dropped and counted by Late. NaN scores are skipped and counted by
// Invalid.
//
// Once every window has held as many patches as it will, Push allocates
// nothing (buffers grow to the largest window seen, then are reused).
// A WindowAggregator serves one stream and is not safe for concurrent use.
type WindowAggregator struct {
	cfg    WindowConfig
	topN   int
	slots  []windowSlot
	lo, hi int64 // open windows are lo..hi (none if hi < lo)
	begun  bool
	late   int
	bad    int
	out    []Window
	outTop []Contribution
}

type windowSlot struct {
	n      int
	nf     int // patches that carried per-feature scores
	sum    float64
	max    float64
	scores []float64 // kept for top-k only
	feat   []float64 // per-feature sums, len Features
}

// NewWindowAggregator returns an aggregator for cfg. It panics on an
// invalid configuration (LengthNs ≤ 0, HopNs < 0 or > LengthNs, negative
// Features or TopFeatures, or an invalid Aggregation).
func NewWindowAggregator(cfg WindowConfig) *WindowAggregator {
	if cfg.HopNs == 0 {
		cfg.HopNs = cfg.LengthNs
	}
	if cfg.LengthNs <= 0 || cfg.HopNs < 0 || cfg.HopNs > cfg.LengthNs {
		panic(fmt.Sprintf("threshold: window length %d ns, hop %d ns: want 0 < hop <= length", cfg.LengthNs, cfg.HopNs))
	}
	if cfg.Features < 0 || cfg.TopFeatures < 0 {
		panic("threshold: negative Features or TopFeatures")
	}
	if err := cfg.Aggregation.validate(); err != nil {
		panic(err.Error())
	}
	topN := 0
	if cfg.Features > 0 {
		topN = cfg.TopFeatures
		if topN == 0 {
			topN = 3
		}
		topN = min(topN, cfg.Features)
	}
	nslots := int((cfg.LengthNs + cfg.HopNs - 1) / cfg.HopNs)
	a := &WindowAggregator{
		cfg:    cfg,
		topN:   topN,
		slots:  make([]windowSlot, nslots),
		out:    make([]Window, 0, nslots),
		outTop: make([]Contribution, nslots*topN),
	}
	for i := range a.slots {
		a.slots[i].feat = make([]float64, cfg.Features)
	}
	a.Reset()
	return a
}

// Config returns the configuration with defaults filled in.
func (a *WindowAggregator) Config() WindowConfig { return a.cfg }

// Late returns the number of patches dropped because every window they
// belong to had been emitted.
func (a *WindowAggregator) Late() int { return a.late }

// Invalid returns the number of patches skipped for a NaN score.
func (a *WindowAggregator) Invalid() int { return a.bad }

// Reset discards open windows and counters; buffers are kept.
func (a *WindowAggregator) Reset() {
	for i := range a.slots {
		a.slots[i].clear()
	}
	a.lo, a.hi, a.begun, a.late, a.bad = 0, -1, false, 0, 0
	a.out = a.out[:0]
}

func (s *windowSlot) clear() {
	s.n, s.nf, s.sum, s.max = 0, 0, 0, math.Inf(-1)
	s.scores = s.scores[:0]
	clear(s.feat)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (a *WindowAggregator) slot(j int64) *windowSlot {
	n := int64(len(a.slots))
	return &a.slots[((j%n)+n)%n]
}

// Push adds a patch with start time timeNs, score and optional per-feature
// scores (nil, or length Features; they are summed in float64) and returns
// the windows this patch closed, oldest first. The returned slice and the
// Windows' Top slices are reused by the next call. It panics if perFeature
// is non-nil with a length other than Features.
func (a *WindowAggregator) Push(timeNs int64, score float64, perFeature []float32) []Window {
	if perFeature != nil && len(perFeature) != a.cfg.Features {
		panic(fmt.Sprintf("threshold: per-feature scores of length %d, want %d", len(perFeature), a.cfg.Features))
	}
	return a.push(timeNs, score, perFeature, -1)
}

// PushBand is Push for a patch that covers one band: its whole score is
// credited to feature band in the ranking. It panics if band is outside
// [0, Features).
func (a *WindowAggregator) PushBand(timeNs int64, score float64, band int) []Window {
	if band < 0 || band >= a.cfg.Features {
		panic(fmt.Sprintf("threshold: band %d outside [0, %d)", band, a.cfg.Features))
	}
	return a.push(timeNs, score, nil, band)
}

func (a *WindowAggregator) push(t int64, score float64, pf []float32, band int) []Window {
	a.out = a.out[:0]
	if math.IsNaN(score) {
		a.bad++
		return a.out
	}
	L, H := a.cfg.LengthNs, a.cfg.HopNs
	jmax := floorDiv(t, H)
	jmin := floorDiv(t-L, H) + 1
	if !a.begun {
		a.begun = true
		a.lo, a.hi = jmin, jmin-1
	}
	// Close the windows that end at or before t.
	if jmin > a.lo {
		for j := a.lo; j <= a.hi && j < jmin; j++ {
			a.emit(j)
		}
		a.lo = jmin
		if a.hi < a.lo-1 {
			a.hi = a.lo - 1
		}
	}
	if jmax < a.lo {
		a.late++
		return a.out
	}
	for j := max(jmin, a.lo); j <= jmax; j++ {
		s := a.slot(j)
		if j > a.hi {
			s.clear()
			a.hi = j
		}
		s.n++
		s.sum += score
		s.max = max(s.max, score)
		if a.cfg.Aggregation.Kind == AggTopK {
			s.scores = append(s.scores, score)
		}
		if band >= 0 {
			s.nf++
			s.feat[band] += score
		} else if pf != nil {
			s.nf++
			for f, v := range pf {
				s.feat[f] += float64(v)
			}
		}
	}
	return a.out
}

// Flush emits every open window that holds patches, oldest first, and
// starts afresh (counters are kept). The result is valid until the next
// call.
func (a *WindowAggregator) Flush() []Window {
	a.out = a.out[:0]
	for j := a.lo; j <= a.hi; j++ {
		a.emit(j)
	}
	a.begun = false
	a.lo, a.hi = 0, -1
	return a.out
}

// emit appends window j to a.out if it holds patches, then clears its slot.
func (a *WindowAggregator) emit(j int64) {
	s := a.slot(j)
	if s.n == 0 {
		return
	}
	w := Window{
		StartNs:  j * a.cfg.HopNs,
		EndNs:    j*a.cfg.HopNs + a.cfg.LengthNs,
		Patches:  s.n,
		MaxScore: s.max,
	}
	switch a.cfg.Aggregation.Kind {
	case AggMean:
		w.Score = s.sum / float64(s.n)
	case AggMax:
		w.Score = s.max
	case AggTopK:
		w.Score = topKMean(s.scores, a.cfg.Aggregation.topK(s.n))
	}
	if a.topN > 0 && s.nf > 0 {
		i := len(a.out)
		top := a.outTop[i*a.topN : i*a.topN : (i+1)*a.topN]
		w.Top = rankFeatures(top, s.feat, a.topN, float64(s.n))
	}
	a.out = append(a.out, w)
	s.clear()
}

// rankFeatures appends to dst (cap ≥ n) the n features with the largest
// sums, as means over patches, highest first; ties keep the lower index.
// Insertion into a sorted list of n: O(F·n), no allocation.
func rankFeatures(dst []Contribution, sums []float64, n int, patches float64) []Contribution {
	for f, v := range sums {
		c := Contribution{Feature: f, Score: v / patches}
		if len(dst) == n && !(c.Score > dst[n-1].Score) {
			continue
		}
		if len(dst) < n {
			dst = append(dst, c)
		} else {
			dst[n-1] = c
		}
		for i := len(dst) - 1; i > 0 && dst[i].Score > dst[i-1].Score; i-- {
			dst[i], dst[i-1] = dst[i-1], dst[i]
		}
	}
	return dst
}

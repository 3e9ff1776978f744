package demo

import (
	"sort"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/plot"
	"github.com/mhmstream/mhm/pkg/stft"
)

// specStore keeps the spectrogram of one machine's stream for the report:
// every frame the front end makes, with its time. It runs the model's own
// feature configuration through pkg/feature, the code spectro runs, on the
// samples the demo sends; the figures therefore show what the pipeline saw,
// while the marks on them come from the pipeline's events.
type specStore struct {
	cfg    feature.Config
	ext    *feature.Extractor
	bins   int
	hop    int64     // samples
	times  []int64   // Unix ns of each frame (its window's centre)
	values []float32 // frame-major, bins per frame
	// starts are the distinct start times of the patches the stream makes,
	// in order: they say which decision windows the detector can decide.
	starts   []int64
	runStart int64
}

func newSpecStore(cfg feature.Config) (*specStore, error) {
	ext, err := feature.NewExtractor(cfg, "", "", 0)
	if err != nil {
		return nil, err
	}
	s := &specStore{cfg: cfg, ext: ext, bins: cfg.Bins(), hop: int64(cfg.STFT.WithDefaults().Hop)}
	ext.OnFrame(func(k int64, f []float32) {
		s.times = append(s.times, s.runStart+patch.SamplesToNs(k*s.hop, s.cfg.SampleRate))
		s.values = append(s.values, f...)
	})
	return s, nil
}

// start begins a new run (a recording, or a stream after a gap) at startNs,
// as spectro does when the time jumps.
func (s *specStore) start(startNs int64) {
	s.runStart = startNs
	s.ext.Reset(startNs)
}

func (s *specStore) emit(p *patch.Patch) {
	if n := len(s.starts); n == 0 || s.starts[n-1] != p.StartNs {
		s.starts = append(s.starts, p.StartNs)
	}
}

// lastDecided returns the end of the last decision window (windows
// [j·hop, j·hop+length), aligned to the epoch) the detector can decide on
// this stream: a window holding at least one patch, ended by a later
// patch (a window is decided when a patch at or after its end arrives, so
// the one holding the last patch stays open). 0 when there is none.
func (s *specStore) lastDecided(length, hop int64) int64 {
	if hop <= 0 {
		hop = length
	}
	if len(s.starts) == 0 || length <= 0 {
		return 0
	}
	last := s.starts[len(s.starts)-1]
	jLast := floorDiv(last-length, hop) // the last window ending at or before last
	var best int64
	for _, p := range s.starts {
		j := min(floorDiv(p, hop), jLast) // the latest window holding p, if it holds p
		if end := j*hop + length; j*hop <= p && p < end && end > best {
			best = end
		}
	}
	return best
}

// write appends samples to the current run.
func (s *specStore) write(x []float32) { s.ext.Write(x, s.emit) }

// end flushes the current run (its right edge), as spectro does before a
// gap; a continuous stream is not flushed.
func (s *specStore) end() { s.ext.Flush(s.emit) }

// frames returns the number of frames stored.
func (s *specStore) frames() int { return len(s.times) }

// edges returns the bin edges for the plot: mel bins are drawn at their
// centre frequencies (the mel midpoint of their triangle), linear bins
// tile the axis.
func (s *specStore) edges() []float64 {
	lo, hi := s.cfg.STFT.BinEdges(s.cfg.SampleRate)
	st := s.cfg.STFT.WithDefaults()
	c := make([]float64, len(lo))
	for k := range c {
		if st.Mels > 0 {
			c[k] = stft.MelToHz((stft.HzToMel(lo[k], st.MelScale)+stft.HzToMel(hi[k], st.MelScale))/2, st.MelScale)
		} else {
			c[k] = (lo[k] + hi[k]) / 2
		}
	}
	return plot.EdgesFromCenters(c)
}

// columns averages the frames with times in [from, to) into n columns of
// equal duration (to−from)/n, for a figure that cannot show every frame.
// A column without a frame (a gap in the recording) repeats the column
// before it (the first ones take the first filled one). It returns the
// values, frame-major, and the column duration in ns, or nil when no frame
// falls in the range.
func (s *specStore) columns(from, to int64, n int) ([]float32, int64) {
	if n < 1 || to <= from {
		return nil, 0
	}
	dt := (to - from + int64(n) - 1) / int64(n)
	sum := make([]float64, n*s.bins)
	cnt := make([]int, n)
	for i, t := range s.times {
		if t < from || t >= to {
			continue
		}
		c := int((t - from) / dt)
		if c >= n {
			c = n - 1
		}
		cnt[c]++
		row := s.values[i*s.bins : (i+1)*s.bins]
		for f, v := range row {
			sum[c*s.bins+f] += float64(v)
		}
	}
	first := -1
	for c := range cnt {
		if cnt[c] > 0 {
			first = c
			break
		}
	}
	if first < 0 {
		return nil, 0
	}
	out := make([]float32, n*s.bins)
	prev := first
	for c := 0; c < n; c++ {
		src := c
		if cnt[c] == 0 {
			src = prev
		} else {
			prev = c
		}
		for f := 0; f < s.bins; f++ {
			out[c*s.bins+f] = float32(sum[src*s.bins+f] / float64(cnt[src]))
		}
	}
	return out, dt
}

// shownUntil returns where a figure built by columns shows the data of a
// window ending at t: until the next frame after it (a recording with gaps
// holds its last snapshot until the next one: a snapshot's last frame is
// centred on its end), or t itself.
func (s *specStore) shownUntil(t int64) int64 {
	i := sort.Search(len(s.times), func(i int) bool { return s.times[i] > t })
	if i < len(s.times) {
		return max(t, s.times[i])
	}
	return t
}

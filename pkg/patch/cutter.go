package patch

import "fmt"

// Cutter cuts a stream of frames into patches. It keeps the last T frames
// in a ring and one Patch whose values it refills for every emitted patch,
// so Push allocates nothing. It is not safe for concurrent use.
type Cutter struct {
	cfg        Config
	layout     Layout
	nBins      int // values per frame
	f, binHop  int
	bands      int
	bandLo     []float64
	bandHi     []float64
	ring       []float32 // T frames × nBins
	n          int64     // frames pushed
	startNs    int64
	durationNs int64
	p          Patch
}

// NewCutter returns a Cutter for frames of len(l.LowHz) bins, tagging its
// patches with machine, sensor and times from startNs (the Unix ns of sample
// 0 of the stream). It returns an error wrapping ErrConfig if cfg or l is
// invalid or the patch is wider than the spectrogram. It allocates
// T × bins values once.
func NewCutter(cfg Config, l Layout, machine, sensor string, startNs int64) (*Cutter, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	nb := len(l.LowHz)
	f, hop, bands, err := cfg.Shape(nb)
	if err != nil {
		return nil, err
	}
	c := &Cutter{
		cfg: cfg, layout: l, nBins: nb, f: f, binHop: hop, bands: bands,
		bandLo: make([]float64, bands), bandHi: make([]float64, bands),
		ring:       make([]float32, cfg.Frames*nb),
		durationNs: SamplesToNs(int64(cfg.Frames)*int64(l.Hop), l.Rate),
	}
	for b := range bands {
		c.bandLo[b] = l.LowHz[b*hop]
		c.bandHi[b] = l.HighHz[b*hop+f-1]
	}
	c.p = Patch{
		Tag:    Tag{Machine: machine, Sensor: sensor, DurationNs: c.durationNs},
		Frames: cfg.Frames, Bins: f,
		Values: make([]float32, cfg.Frames*f),
	}
	c.Reset(startNs)
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *Cutter) Config() Config { return c.cfg }

// Bands returns the number of frequency bands, the patches emitted per
// patch position.
func (c *Cutter) Bands() int { return c.bands }

// Dim returns T*F, the number of values in a patch.
func (c *Cutter) Dim() int { return len(c.p.Values) }

// BandHz returns the frequency range of band b: the low edge of its first bin
// and the high edge of its last. It panics if b is out of range.
func (c *Cutter) BandHz(b int) (lo, hi float64) { return c.bandLo[b], c.bandHi[b] }

// Frames returns the number of frames pushed since the stream started.
func (c *Cutter) Frames() int64 { return c.n }

// Reset starts a new stream whose sample 0 is at startNs: the next frame
// pushed is frame 0.
func (c *Cutter) Reset(startNs int64) {
	c.n = 0
	c.startNs = startNs
}

// Push appends the next frame of the stream (its Bins values are copied) and,
// once T frames exist and the patch hop is reached, calls emit for each band
// in increasing order. The patch passed to emit is owned by the Cutter and
// valid only during the call: keep p.Clone() to retain it. Push does not
// allocate; it panics if len(frame) is not the layout's bin count.
func (c *Cutter) Push(frame []float32, emit func(p *Patch)) {
	if len(frame) != c.nBins {
		panic(fmt.Sprintf("patch: frame of %d bins, want %d", len(frame), c.nBins))
	}
	T := c.cfg.Frames
	slot := int(c.n % int64(T))
	copy(c.ring[slot*c.nBins:(slot+1)*c.nBins], frame)
	c.n++
	first := c.n - int64(T)
	if first < 0 || first%int64(c.cfg.Hop) != 0 {
		return
	}
	p := &c.p
	p.Frame = first
	p.StartNs = c.startNs + SamplesToNs(first*int64(c.layout.Hop), c.layout.Rate)
	p.DurationNs = c.durationNs
	f := c.f
	s0 := int(first % int64(T)) // ring slot of the first frame
	for b := range c.bands {
		p.Band = b
		p.LowHz, p.HighHz = c.bandLo[b], c.bandHi[b]
		off := b * c.binHop
		for t := range T {
			s := s0 + t
			if s >= T {
				s -= T
			}
			src := c.ring[s*c.nBins+off : s*c.nBins+off+f]
			copy(p.Values[t*f:(t+1)*f], src)
		}
		if emit != nil {
			emit(p)
		}
	}
}

// Cut cuts a whole spectrogram (frames[i] is frame i, each of the layout's
// bin count) into patches, as a Cutter fed the frames in order would, and
// returns copies. It allocates; it returns an error wrapping ErrConfig for an
// invalid cfg or layout and panics on a frame of the wrong length.
func Cut(cfg Config, l Layout, frames [][]float32, machine, sensor string, startNs int64) ([]*Patch, error) {
	c, err := NewCutter(cfg, l, machine, sensor, startNs)
	if err != nil {
		return nil, err
	}
	var out []*Patch
	for _, fr := range frames {
		c.Push(fr, func(p *Patch) { out = append(out, p.Clone()) })
	}
	return out, nil
}

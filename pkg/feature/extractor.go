package feature

import (
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stft"
)

// Extractor turns the samples of one (machine, sensor) stream into patches:
// a streaming STFT feeding a patch Cutter. Each patch is emitted as soon as
// its last sample has arrived, and any chunking of the samples gives the same
// patches. After NewExtractor, Write allocates nothing. An Extractor is not
// safe for concurrent use; use one per stream.
type Extractor struct {
	cfg     Config
	st      *stft.STFT
	cut     *patch.Cutter
	startNs int64
	onFrame func(index int64, frame []float32)
}

// NewExtractor returns an Extractor for a stream whose first sample was taken
// at startNs (Unix ns); patches are tagged with machine and sensor. It
// returns an error wrapping ErrConfig if cfg is invalid.
func NewExtractor(cfg Config, machine, sensor string, startNs int64) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	st, err := stft.New(cfg.SampleRate, cfg.STFT)
	if err != nil {
		return nil, err
	}
	cut, err := patch.NewCutter(cfg.Patch, cfg.Layout(), machine, sensor, startNs)
	if err != nil {
		return nil, err
	}
	return &Extractor{cfg: cfg, st: st, cut: cut, startNs: startNs}, nil
}

// Config returns the configuration with defaults filled in.
func (e *Extractor) Config() Config { return e.cfg }

// STFT returns the underlying transform (for its bin ranges and frame
// timing); writing to it directly would desynchronise the Extractor.
func (e *Extractor) STFT() *stft.STFT { return e.st }

// OnFrame sets a function called with every spectrogram frame, before the
// patches that frame completes, for example to draw the spectrogram; nil
// removes it. The frame is valid only during the call.
func (e *Extractor) OnFrame(fn func(index int64, frame []float32)) { e.onFrame = fn }

// Write appends samples to the stream and calls emit for every patch they
// complete, in stream order (by first frame, then band). The patch is owned by
// the Extractor and valid only during the call (keep p.Clone()). Write does
// not allocate; emit may be nil.
func (e *Extractor) Write(samples []float32, emit func(p *patch.Patch)) {
	e.st.Write(samples, func(i int64, f []float32) { e.frame(i, f, emit) })
}

// Flush ends the stream: the STFT's trailing frames (the right reflect pad
// when centred) are transformed and their patches emitted. The Extractor is
// then ready for a new stream starting at the same startNs; call Reset to
// give it another.
func (e *Extractor) Flush(emit func(p *patch.Patch)) {
	e.st.Flush(func(i int64, f []float32) { e.frame(i, f, emit) })
	e.cut.Reset(e.startNs)
}

// Reset discards the stream state; the next Write starts a new stream whose
// first sample was taken at startNs.
func (e *Extractor) Reset(startNs int64) {
	e.startNs = startNs
	e.st.Reset()
	e.cut.Reset(startNs)
}

func (e *Extractor) frame(i int64, f []float32, emit func(p *patch.Patch)) {
	if e.onFrame != nil {
		e.onFrame(i, f)
	}
	e.cut.Push(f, emit)
}

// Spectrogram returns the frames of a whole signal under cfg (Write then
// Flush): frames[k] holds cfg.Bins() values. It allocates; it returns an
// error wrapping ErrConfig if cfg is invalid.
func Spectrogram(cfg Config, x []float32) ([][]float32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return stft.Spectrogram(cfg.SampleRate, cfg.STFT, x)
}

// Patches returns copies of all the patches of a whole signal under cfg, as an
// Extractor would emit them. It allocates; it returns an error wrapping
// ErrConfig if cfg is invalid.
func Patches(cfg Config, x []float32, machine, sensor string, startNs int64) ([]*patch.Patch, error) {
	e, err := NewExtractor(cfg, machine, sensor, startNs)
	if err != nil {
		return nil, err
	}
	var out []*patch.Patch
	emit := func(p *patch.Patch) { out = append(out, p.Clone()) }
	e.Write(x, emit)
	e.Flush(emit)
	return out, nil
}

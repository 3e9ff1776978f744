package spectro

import (
	"context"
	"fmt"
	"github.com/mhmstream/mhm/internal/lru"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect/catalog"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/patch"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

// FeatureSource gives the feature configuration the model of a (machine,
// sensor) expects, so that spectro computes exactly what detect will score.
// *catalog.Catalog[feature.Config] implements it.
type FeatureSource interface {
	// Gen changes whenever an answer of Feature may have changed.
	Gen() uint64
	// Feature returns the model's configuration, if there is a model.
	Feature(machine, sensor string) (feature.Config, bool)
}

// Config configures the spectro worker.
type Config struct {
	// Stream: brokers, group, Topics.Raw (input), Topics.Patches (output),
	// Topics.DLQ, bounds and timeouts.
	Stream stream.Config
	// Default returns the feature configuration for a stream sampled at
	// rate Hz that has no model (or whose model is for another rate):
	// the front-end flags (cli.FeatureFlags.Config). Required.
	Default func(rate float64) (feature.Config, error)
	// Models, when not nil, overrides Default per machine with the feature
	// configuration of its current model. When nil and ModelsDir or
	// ModelsTopic is set, New builds a catalog of those sources (Run runs
	// it).
	Models FeatureSource
	// ModelsDir is a folder of model artifacts to take feature
	// configurations from (watched every ModelsPoll, default 2 s).
	ModelsDir  string
	ModelsPoll time.Duration
	// ModelsTopic reads Stream.Topics.Models for the same purpose.
	ModelsTopic bool
	// MaxStreams bounds the (machine, sensor) streams held; beyond it the
	// least recently used stream of a partition is dropped. Default 10000.
	MaxStreams int
	// IdleTimeout drops a stream that received no frame for this long
	// (wall clock); default 10 minutes.
	IdleTimeout time.Duration
	// TimeTolerance is how far a frame's timestamp may be from where the
	// previous frames say it should start before it counts as a gap;
	// default 2 ms.
	TimeTolerance time.Duration
	// RestoreRecords is how many records before the group's committed
	// offset a newly assigned partition re-reads (emitting nothing) to
	// rebuild its streams' STFT and patch state: a stream whose current
	// run began within them continues exactly as with the previous owner;
	// an older one starts its run at the first record re-read (default
	// 2000; negative: off, streams start afresh at their first frame).
	// See docs/pipeline.md, spectro's "Crashes and rebalances".
	RestoreRecords int
	// KgoOpts are extra kgo options (tests, tuning).
	KgoOpts []kgo.Opt
}

// Reasons a stream is reset (label of mhm_spectro_resets_total).
const (
	ResetSeqGap     = "seq_gap"     // frames are missing (seq jumped forward)
	ResetTimeGap    = "time_gap"    // seq is contiguous but the time is not
	ResetSeqRestart = "seq_restart" // seq went back while time went on: the gateway restarted
	ResetRate       = "rate"        // the sample rate changed
	ResetConfig     = "config"      // the feature configuration (model) changed
)

// Metrics of the spectro worker.
type Metrics struct {
	Streams   prometheus.Gauge       // mhm_spectro_streams
	Created   prometheus.Counter     // mhm_spectro_streams_created_total
	Evicted   *prometheus.CounterVec // mhm_spectro_streams_evicted_total{reason=lru|idle}
	Resets    *prometheus.CounterVec // mhm_spectro_resets_total{reason}
	Skipped   *prometheus.CounterVec // mhm_spectro_frames_skipped_total{reason=duplicate|out_of_order}
	Frames    prometheus.Counter     // mhm_spectro_frames_total
	Samples   prometheus.Counter     // mhm_spectro_samples_total
	Patches   prometheus.Counter     // mhm_spectro_patches_total
	GapSecond prometheus.Histogram   // mhm_spectro_gap_seconds: size of time gaps that reset a stream
	Restored  prometheus.Counter     // mhm_spectro_restored_records_total
}

// NewMetrics creates the worker's metrics, registered on reg when not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Streams:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_spectro_streams", Help: "(machine, sensor) streams with STFT state."}),
		Created:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_spectro_streams_created_total", Help: "Streams started (first frame, or after a drop)."}),
		Evicted:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_spectro_streams_evicted_total", Help: "Streams dropped, by reason (lru: max-streams reached; idle)."}, []string{"reason"}),
		Resets:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_spectro_resets_total", Help: "Streams restarted, by reason (seq_gap, time_gap, seq_restart, rate, config)."}, []string{"reason"}),
		Skipped:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_spectro_frames_skipped_total", Help: "Frames skipped, by reason (duplicate: seq already seen; out_of_order: older seq)."}, []string{"reason"}),
		Frames:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_spectro_frames_total", Help: "Raw frames transformed."}),
		Samples:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_spectro_samples_total", Help: "Samples transformed."}),
		Patches:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_spectro_patches_total", Help: "Patches produced."}),
		GapSecond: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mhm_spectro_gap_seconds", Help: "Size of the gaps (missing frames or time) that restarted a stream, seconds.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
		Restored:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_spectro_restored_records_total", Help: "Raw records re-read to rebuild stream state after a partition assignment."}),
	}
	if reg != nil {
		reg.MustRegister(m.Streams, m.Created, m.Evicted, m.Resets, m.Skipped, m.Frames, m.Samples, m.Patches, m.GapSecond, m.Restored)
	}
	return m
}

// Worker is the spectro stream worker: raw frames in, patches out. Create it
// with New and call Run once.
type Worker struct {
	cfg  Config
	log  zerolog.Logger
	m    *Metrics
	proc *stream.Processor
	cat  *catalog.Catalog[feature.Config] // own catalog, when built by New

	mu       sync.Mutex
	parts    map[int32]*partition
	defaults map[float64]defaultCfg
	count    atomic.Int64 // streams held, all partitions
}

// New validates cfg and returns the worker; reg receives the stream and
// spectro metrics (nil: none).
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Worker, error) {
	if cfg.Default == nil {
		return nil, fmt.Errorf("%w: spectro: no default feature configuration", stream.ErrConfig)
	}
	if cfg.Stream.Topics.Raw == "" || cfg.Stream.Topics.Patches == "" {
		return nil, fmt.Errorf("%w: spectro: raw and patches topics are required", stream.ErrConfig)
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 10000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.TimeTolerance <= 0 {
		cfg.TimeTolerance = 2 * time.Millisecond
	}
	if cfg.RestoreRecords == 0 {
		cfg.RestoreRecords = 2000
	}
	w := &Worker{cfg: cfg, log: log, m: NewMetrics(reg), parts: map[int32]*partition{}, defaults: map[float64]defaultCfg{}}
	p, err := stream.NewProcessor(stream.ProcessorConfig{
		Config: cfg.Stream, Inputs: []string{cfg.Stream.Topics.Raw}, Handler: w,
		Logger: log, Metrics: stream.NewMetrics(reg), KgoOpts: cfg.KgoOpts,
	})
	if err != nil {
		return nil, err
	}
	w.proc = p
	if cfg.Models == nil && (cfg.ModelsDir != "" || cfg.ModelsTopic) {
		cc := catalog.Config{Dir: cfg.ModelsDir, Poll: cfg.ModelsPoll, Metrics: reg}
		if cfg.ModelsTopic {
			cc.Stream = cfg.Stream
		}
		w.cat = catalog.New(cc, catalog.FeatureOf, log.With().Str("component", "models").Logger())
		w.cfg.Models = catalog.Features{Catalog: w.cat}
	}
	return w, nil
}

// Run consumes until ctx is cancelled (graceful shutdown, docs/stream.md).
// With its own models catalog, it first waits (at most 30 s) for the
// catalog's initial load so that the first frames use the models' feature
// configurations.
func (w *Worker) Run(ctx context.Context) error {
	if w.cat == nil {
		return w.proc.Run(ctx)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cerr := make(chan error, 1)
	go func() { cerr <- w.cat.Run(cctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	if err := w.cat.WaitLoaded(wctx); err != nil && ctx.Err() == nil {
		w.log.Warn().Msg("models not loaded after 30 s; starting with the default feature configuration")
	}
	wcancel()
	err := w.proc.Run(ctx)
	cancel()
	if cerr := <-cerr; err == nil {
		err = cerr
	}
	return err
}

// Ready is the /readyz check: the processor runs and a broker answers.
func (w *Worker) Ready(ctx context.Context) error { return w.proc.Ready(ctx) }

// Streams returns the number of streams held.
func (w *Worker) Streams() int { return int(w.count.Load()) }

type streamKey struct{ machine, sensor string }

// streamState is one (machine, sensor) stream: its extractor and where the
// next frame should continue.
type streamState struct {
	key      streamKey
	keyBytes []byte // the machine id, the output records' key (shared, never written)
	ext      *feature.Extractor
	cfg      feature.Config
	hash     string
	gen      uint64 // FeatureSource generation cfg was resolved at
	rate     float64
	startNs  int64 // time of the first sample of the current run
	samples  int64 // samples written since startNs
	lastSeq  uint64
	links    lru.Links[streamState] // in the partition's LRU list
}

// LRU gives the partition's list its links.
func (s *streamState) LRU() *lru.Links[streamState] { return &s.links }

func (s *streamState) expectNs() int64 { return s.startNs + patch.SamplesToNs(s.samples, s.rate) }

// partition is the state of one raw-topic partition; it is touched only by
// the goroutine handling that partition (and by OnAssign/OnRevoke, which
// the processor calls while none of its records is being handled).
type partition struct {
	w        *Worker
	streams  map[streamKey]*streamState
	lru      lru.List[streamState, *streamState] // its streams, most recently used first
	frame    wire.RawFrame
	samples  []float32
	wp       wire.Patch
	out      []*kgo.Record
	cur      *streamState
	ts       time.Time    // input record timestamp, copied to the outputs
	slab     []byte       // output values (see emit)
	recs     []kgo.Record // output records (see emit)
	lastScan time.Time
	emitFn   func(p *patch.Patch)
	replay   bool // restoring: state is rebuilt, nothing is emitted or counted
}

func (w *Worker) partition(p int32) *partition {
	w.mu.Lock()
	defer w.mu.Unlock()
	ps := w.parts[p]
	if ps == nil {
		ps = &partition{w: w, streams: map[streamKey]*streamState{}}
		ps.emitFn = ps.emit
		w.parts[p] = ps
	}
	return ps
}

// OnAssign implements stream.AssignHook: a new partition's streams are
// rebuilt from the records before its committed offset (RestoreRecords).
func (w *Worker) OnAssign(ctx context.Context, assigned map[string][]int32) {
	parts := assigned[w.cfg.Stream.Topics.Raw]
	for _, p := range parts {
		w.dropPartition(p)
		w.partition(p)
	}
	if w.cfg.RestoreRecords > 0 && len(parts) > 0 {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := w.restore(rctx, parts); err != nil {
			w.log.Warn().Err(err).Ints32("partitions", parts).Msg("stream state not restored; streams start afresh at their next frame")
		}
	}
}

// OnRevoke implements stream.RevokeHook: the partitions' streams are
// dropped (their new owner rebuilds them, see OnAssign).
func (w *Worker) OnRevoke(_ context.Context, revoked map[string][]int32, _ bool) {
	for _, p := range revoked[w.cfg.Stream.Topics.Raw] {
		w.dropPartition(p)
	}
}

func (w *Worker) dropPartition(p int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ps := w.parts[p]; ps != nil {
		n := len(ps.streams)
		w.count.Add(-int64(n))
		w.m.Streams.Sub(float64(n))
		delete(w.parts, p)
	}
}

// restore re-handles, for each partition, up to RestoreRecords records
// before the group's committed offset without emitting anything: every
// stream whose current run starts within them ends in the state the
// previous owner had at that offset, so the patches of the records from
// there on are exactly the previous owner's.
func (w *Worker) restore(ctx context.Context, parts []int32) error {
	n, err := stream.ReadBack(ctx, w.cfg.Stream, w.cfg.Stream.Topics.Raw, parts, w.cfg.RestoreRecords, func(r *kgo.Record) {
		ps := w.partition(r.Partition)
		ps.out, ps.replay = ps.out[:0], true
		_ = ps.handle(r) // errors were dead-lettered by the previous owner
		ps.replay = false
	})
	for _, p := range parts {
		w.partition(p).out = nil
	}
	w.m.Restored.Add(float64(n))
	if err != nil {
		return err
	}
	w.log.Info().Int("records", n).Ints32("partitions", parts).Msg("stream state restored")
	return nil
}

// Handle turns one raw frame into the patches it completes.
func (w *Worker) Handle(_ context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
	ps := w.partition(in.Partition)
	ps.out = out
	err := ps.handle(in)
	return ps.out, err
}

// handle appends to ps.out the patches the frame in in completes (none
// while restoring).
func (ps *partition) handle(in *kgo.Record) error {
	w := ps.w
	f := &ps.frame
	if err := wire.DecodeRawFrame(f, in.Value); err != nil {
		return err
	}
	now := time.Now()
	ps.sweep(now)
	k := streamKey{f.Machine, f.Sensor}
	s := ps.streams[k]
	cfg, hash, gen, err := w.resolve(f, s)
	if err != nil {
		return stream.Reject("bad_config", err)
	}
	ps.ts = in.Timestamp
	switch {
	case s == nil:
		if s, err = ps.newStream(k, cfg, hash, gen, f); err != nil {
			return stream.Reject("bad_config", err)
		}
	case f.SampleRate != s.rate:
		ps.restart(s, ResetRate, cfg, hash, gen, f)
	case hash != s.hash:
		ps.restart(s, ResetConfig, cfg, hash, gen, f)
	default:
		s.gen = gen
		want := s.lastSeq + 1
		exp := s.expectNs()
		tol := int64(w.cfg.TimeTolerance)
		switch {
		case f.Seq <= s.lastSeq && f.TimestampNs < exp-tol:
			// Already seen (a retry, a replay after a restart): skip.
			switch {
			case ps.replay:
			case f.Seq == s.lastSeq:
				w.m.Skipped.WithLabelValues("duplicate").Inc()
			default:
				w.m.Skipped.WithLabelValues("out_of_order").Inc()
			}
			ps.lru.Touch(s, now)
			return nil
		case f.Seq <= s.lastSeq:
			// seq went back but time went on: the gateway restarted.
			ps.restart(s, ResetSeqRestart, cfg, hash, gen, f)
		case f.Seq > want:
			ps.gap(f.TimestampNs - exp)
			ps.restart(s, ResetSeqGap, cfg, hash, gen, f)
		case f.TimestampNs-exp > tol || exp-f.TimestampNs > tol:
			ps.gap(f.TimestampNs - exp)
			ps.restart(s, ResetTimeGap, cfg, hash, gen, f)
		}
	}
	ps.lru.Touch(s, now)
	s.lastSeq = f.Seq
	ps.samples = f.AppendValues(ps.samples[:0])
	ps.cur = s
	s.ext.Write(ps.samples, ps.emitFn)
	ps.cur = nil
	s.samples += int64(len(ps.samples))
	if !ps.replay {
		w.m.Frames.Inc()
		w.m.Samples.Add(float64(len(ps.samples)))
	}
	return nil
}

// gap records a gap of ns (negative: an overlap, recorded as 0).
func (ps *partition) gap(ns int64) {
	if !ps.replay {
		ps.w.m.GapSecond.Observe(float64(max(0, ns)) / 1e9)
	}
}

// resolve returns the feature configuration for frame f: the model's when
// its rate matches, else the default for the frame's rate; s's own when
// nothing changed.
func (w *Worker) resolve(f *wire.RawFrame, s *streamState) (feature.Config, string, uint64, error) {
	var gen uint64
	if w.cfg.Models != nil {
		gen = w.cfg.Models.Gen()
	}
	if s != nil && s.rate == f.SampleRate && s.gen == gen {
		return s.cfg, s.hash, gen, nil
	}
	if w.cfg.Models != nil {
		if c, ok := w.cfg.Models.Feature(f.Machine, f.Sensor); ok && c.SampleRate == f.SampleRate && c.Validate() == nil {
			c = c.WithDefaults()
			return c, c.Hash(), gen, nil
		}
	}
	c, h, err := w.defaultFor(f.SampleRate)
	return c, h, gen, err
}

type defaultCfg struct {
	cfg  feature.Config
	hash string
	err  error
}

// defaultFor returns (and caches) Default(rate) with its hash.
func (w *Worker) defaultFor(rate float64) (feature.Config, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d, ok := w.defaults[rate]; ok {
		return d.cfg, d.hash, d.err
	}
	c, err := w.cfg.Default(rate)
	if err == nil {
		err = c.Validate()
	}
	var d defaultCfg
	if err != nil {
		d.err = fmt.Errorf("spectro: no feature configuration for %g Hz: %w", rate, err)
	} else {
		c = c.WithDefaults()
		d = defaultCfg{cfg: c, hash: c.Hash()}
	}
	if len(w.defaults) < 64 { // rates are few; do not let odd ones grow the map
		w.defaults[rate] = d
	}
	return d.cfg, d.hash, d.err
}

func (ps *partition) newStream(k streamKey, cfg feature.Config, hash string, gen uint64, f *wire.RawFrame) (*streamState, error) {
	w := ps.w
	ext, err := feature.NewExtractor(cfg, f.Machine, f.Sensor, f.TimestampNs)
	if err != nil {
		return nil, err
	}
	s := &streamState{key: k, keyBytes: []byte(k.machine), ext: ext, cfg: cfg, hash: hash, gen: gen, rate: f.SampleRate, startNs: f.TimestampNs}
	ps.streams[k] = s
	ps.lru.Push(s, time.Now())
	w.count.Add(1)
	w.m.Streams.Inc()
	w.m.Created.Inc()
	// Bound the streams: drop least recently used ones of this partition
	// while the total is over the limit.
	for w.count.Load() > int64(w.cfg.MaxStreams) && ps.lru.Oldest() != nil && ps.lru.Oldest() != s {
		ps.drop(ps.lru.Oldest(), "lru")
	}
	return s, nil
}

// restart ends the current run of s (its last patches are flushed out) and
// starts a new one at f.
func (ps *partition) restart(s *streamState, reason string, cfg feature.Config, hash string, gen uint64, f *wire.RawFrame) {
	if !ps.replay {
		ps.w.m.Resets.WithLabelValues(reason).Inc()
	}
	ps.cur = s
	s.ext.Flush(ps.emitFn)
	ps.cur = nil
	ps.w.log.Debug().Str("machine", f.Machine).Str("sensor", f.Sensor).Str("reason", reason).
		Uint64("seq", f.Seq).Uint64("last_seq", s.lastSeq).Int64("ts", f.TimestampNs).Int64("expected_ts", s.expectNs()).Msg("stream restarted")
	if hash != s.hash || f.SampleRate != s.rate {
		ext, err := feature.NewExtractor(cfg, f.Machine, f.Sensor, f.TimestampNs)
		if err != nil { // cannot happen: cfg was validated by resolve
			panic(err)
		}
		s.ext, s.cfg, s.hash, s.rate = ext, cfg, hash, f.SampleRate
	} else {
		s.ext.Reset(f.TimestampNs)
	}
	s.gen, s.startNs, s.samples = gen, f.TimestampNs, 0
}

// Output slabs: patches are encoded into shared 64 KiB buffers and their
// records taken from shared arrays, so a frame's patches cost a couple of
// allocations instead of three each. A slab is never written again once
// handed out (kgo holds the records until the broker acknowledges them);
// when it is full a new one is allocated and the old one is freed by the GC
// after its last record is acknowledged.
const (
	slabBytes   = 64 << 10
	slabRecords = 32
)

// emit turns one patch of the current stream into an output record.
func (ps *partition) emit(p *patch.Patch) {
	if ps.replay {
		return
	}
	s := ps.cur
	ps.wp = wire.Patch{Tag: wire.Tag(p.Tag), FeatureHash: s.hash, T: p.Frames, F: p.Bins, Values: p.Values}
	n := wire.PatchSize(&ps.wp)
	if cap(ps.slab)-len(ps.slab) < n {
		ps.slab = make([]byte, 0, max(slabBytes, n))
	}
	start := len(ps.slab)
	ps.slab = wire.AppendPatch(ps.slab, &ps.wp)
	v := ps.slab[start:len(ps.slab):len(ps.slab)]
	if len(ps.recs) == 0 {
		ps.recs = make([]kgo.Record, slabRecords)
	}
	r := &ps.recs[0]
	ps.recs = ps.recs[1:]
	*r = kgo.Record{Topic: ps.w.cfg.Stream.Topics.Patches, Key: s.keyBytes, Value: v, Timestamp: ps.ts}
	ps.out = append(ps.out, r)
	ps.w.m.Patches.Inc()
}

func (ps *partition) drop(s *streamState, reason string) {
	ps.lru.Remove(s)
	delete(ps.streams, s.key)
	ps.w.count.Add(-1)
	ps.w.m.Streams.Dec()
	ps.w.m.Evicted.WithLabelValues(reason).Inc()
	ps.w.log.Debug().Str("machine", s.key.machine).Str("sensor", s.key.sensor).Str("reason", reason).Msg("stream dropped")
}

// sweep drops this partition's idle streams (at most once a second) and,
// while the worker holds more than MaxStreams, its least recently used one.
func (ps *partition) sweep(now time.Time) {
	w := ps.w
	ps.lru.Sweep(now, w.count.Load() > int64(w.cfg.MaxStreams), w.cfg.IdleTimeout, &ps.lastScan, ps.drop)
}

package detect

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect/catalog"
	"github.com/mhmstream/mhm/internal/lru"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/threshold"
	"github.com/mhmstream/mhm/pkg/wire"
)

// Config configures the detect worker.
type Config struct {
	// Stream: brokers, group, Topics.Patches (input), Topics.Anomalies
	// (events), Topics.Scores (one record per window; "" = none),
	// Topics.DLQ, Topics.Models.
	Stream stream.Config
	// ModelsDir is a folder of model artifacts, watched every ModelsPoll
	// (default 2 s). ModelsTopic reads Stream.Topics.Models as well. At
	// least one source is needed.
	ModelsDir   string
	ModelsPoll  time.Duration
	ModelsTopic bool
	// LoadTimeout bounds how long Run waits for the initial load of the
	// models before consuming (default 30 s); patches of a machine without
	// a model go to the DLQ.
	LoadTimeout time.Duration
	// Open binds an artifact's weights to scorers; default DefaultOpen.
	Open OpenFunc
	// Batch is the most patches of one stream scored in one call (default
	// 32); a batch is scored earlier when a window closes, or once it spans
	// BatchSpan of stream time (default 250 ms), so that the work left when
	// a window closes, all streams' at the same moment, stays small.
	Batch     int
	BatchSpan time.Duration
	// Detector names this instance in events (default: the host name).
	Detector string
	// RestoreRecords is how many records before the committed offset a
	// newly assigned partition re-reads to rebuild its open windows
	// (default 20000; negative: off). See docs/pipeline.md.
	RestoreRecords int
	// FlushAfter decides the open windows of a stream that received no
	// patch for this long (wall clock), with the patches they hold, as
	// if its next patch had come: a machine that stops sending gets its
	// last window (and a raised alarm's last event) out. Default 2 s;
	// negative: off. It must exceed the longest normal silence of a live
	// stream (the gateways' frame period); see docs/pipeline.md.
	FlushAfter time.Duration
	// MaxStreams bounds the (machine, sensor) streams held (default
	// 10000); IdleTimeout drops a stream without patches for that long
	// (default 10 min).
	MaxStreams  int
	IdleTimeout time.Duration
	// NNThreads caps, process-wide (nn.SetThreads), the goroutines that one
	// matrix product of a model may split across; Run applies it. Default
	// 1: a worker scores its streams on several handler goroutines beside
	// its Kafka clients, so splitting each product only adds hand-offs
	// (docs/pipeline.md measures it). Negative: no cap (up to GOMAXPROCS).
	NNThreads int
	// KgoOpts are extra kgo options for the processor (tests, tuning).
	KgoOpts []kgo.Opt
}

// Metrics of the detect worker (the models' own, mhm_models_loaded and
// friends, are the catalog's).
type Metrics struct {
	Patches   prometheus.Counter     // mhm_detect_patches_scored_total
	Rejected  *prometheus.CounterVec // mhm_detect_patches_rejected_total{reason}: also in the DLQ
	Skipped   *prometheus.CounterVec // mhm_detect_patches_skipped_total{reason=duplicate}
	Windows   *prometheus.CounterVec // mhm_detect_windows_total{result=normal|above}
	Events    prometheus.Counter     // mhm_detect_events_total
	Switches  prometheus.Counter     // mhm_detect_model_switches_total
	Streams   prometheus.Gauge       // mhm_detect_streams
	Alarms    prometheus.Gauge       // mhm_detect_alarms_active: streams whose alarm is raised
	Batch     prometheus.Histogram   // mhm_detect_batch_patches: patches per Score call
	Restored  prometheus.Counter     // mhm_detect_restored_records_total
	Invalid   prometheus.Counter     // mhm_detect_windows_invalid_total: windows whose event or score could not be encoded
	Evictions *prometheus.CounterVec // mhm_detect_streams_evicted_total{reason=lru|idle}
	Flushed   prometheus.Counter     // mhm_detect_windows_flushed_total: windows decided by the idle flush (also in Windows)
}

// NewMetrics creates the metrics, registered on reg when not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Patches:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_patches_scored_total", Help: "Patches scored."}),
		Rejected:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_detect_patches_rejected_total", Help: "Patches sent to the DLQ, by reason (no_model, feature_mismatch, bad_shape, bad_tag)."}, []string{"reason"}),
		Skipped:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_detect_patches_skipped_total", Help: "Patches skipped, by reason (duplicate: not later than the last patch of its band)."}, []string{"reason"}),
		Windows:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_detect_windows_total", Help: "Decision windows closed, by result (above or normal)."}, []string{"result"}),
		Events:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_events_total", Help: "Anomaly events emitted."}),
		Switches:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_model_switches_total", Help: "Streams that switched to a new model version."}),
		Streams:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_detect_streams", Help: "(machine, sensor) streams with window state."}),
		Alarms:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "mhm_detect_alarms_active", Help: "Streams whose alarm is raised."}),
		Batch:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mhm_detect_batch_patches", Help: "Patches per Score call.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		Restored:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_restored_records_total", Help: "Records re-read to rebuild window state after a partition assignment."}),
		Invalid:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_windows_invalid_total", Help: "Windows whose event or score record was invalid (e.g. an infinite score) and not emitted."}),
		Evictions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_detect_streams_evicted_total", Help: "Streams dropped, by reason (lru, idle)."}, []string{"reason"}),
		Flushed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_detect_windows_flushed_total", Help: "Windows decided by the idle flush (a stream without patches for flush-after); also counted in mhm_detect_windows_total."}),
	}
	if reg != nil {
		reg.MustRegister(m.Patches, m.Rejected, m.Skipped, m.Windows, m.Events, m.Switches, m.Streams, m.Alarms, m.Batch, m.Restored, m.Invalid, m.Evictions, m.Flushed)
	}
	return m
}

// Worker is the detect stream worker. Create it with New; Run once.
type Worker struct {
	cfg  Config
	log  zerolog.Logger
	m    *Metrics
	proc *stream.Processor
	cat  *catalog.Catalog[*binding]
	prod *kgo.Client // produces the idle flush's outputs

	mu    sync.Mutex
	parts map[int32]*part
	count atomic.Int64

	flushErr atomic.Pointer[error] // first idle-flush output the broker refused
	stopProc context.CancelFunc    // stops the processor after such a refusal
	// prodCtx is the idle flush's produce context: it outlives the
	// processor's (outputs buffered at shutdown still go out) and ends
	// ShutdownTimeout after it, so a Produce blocked on a full buffer
	// cannot hold the shutdown forever.
	prodCtx context.Context
}

// New validates cfg and returns the worker; reg gets the stream, detect and
// model metrics (nil: none).
func New(cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Worker, error) {
	t := cfg.Stream.Topics
	if t.Patches == "" || t.Anomalies == "" {
		return nil, fmt.Errorf("%w: detect: patches and anomalies topics are required", stream.ErrConfig)
	}
	if cfg.ModelsDir == "" && !(cfg.ModelsTopic && t.Models != "") {
		return nil, fmt.Errorf("%w: detect: no model source (a models directory or the models topic)", stream.ErrConfig)
	}
	if cfg.Open == nil {
		cfg.Open = DefaultOpen
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 32
	}
	if cfg.BatchSpan <= 0 {
		cfg.BatchSpan = 250 * time.Millisecond
	}
	if cfg.Detector == "" {
		cfg.Detector, _ = os.Hostname()
	}
	if cfg.RestoreRecords == 0 {
		cfg.RestoreRecords = 20000
	}
	if cfg.FlushAfter == 0 {
		cfg.FlushAfter = 2 * time.Second
	}
	if cfg.NNThreads == 0 {
		cfg.NNThreads = 1
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 10000
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 30 * time.Second
	}
	w := &Worker{cfg: cfg, log: log, m: NewMetrics(reg), parts: map[int32]*part{}}
	cc := catalog.Config{Dir: cfg.ModelsDir, Poll: cfg.ModelsPoll, Metrics: reg}
	if cfg.ModelsTopic {
		cc.Stream = cfg.Stream
	}
	w.cat = catalog.New(cc, bind(cfg.Open), log.With().Str("component", "models").Logger())
	opts, err := cfg.Stream.ClientOpts()
	if err != nil {
		return nil, err
	}
	if w.prod, err = kgo.NewClient(opts...); err != nil {
		return nil, err
	}
	p, err := stream.NewProcessor(stream.ProcessorConfig{
		Config: cfg.Stream, Inputs: []string{t.Patches}, Handler: w,
		Logger: log, Metrics: stream.NewMetrics(reg), KgoOpts: cfg.KgoOpts,
	})
	if err != nil {
		w.prod.Close()
		return nil, err
	}
	w.proc = p
	return w, nil
}

// Run loads the models (waiting up to LoadTimeout for the initial load),
// then consumes until ctx is cancelled (graceful shutdown, docs/stream.md).
func (w *Worker) Run(ctx context.Context) error {
	defer w.prod.Close()
	nn.SetThreads(max(w.cfg.NNThreads, 0)) // negative: no cap
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cerr := make(chan error, 1)
	go func() { cerr <- w.cat.Run(cctx) }()
	lctx, lcancel := context.WithTimeout(ctx, w.cfg.LoadTimeout)
	if err := w.cat.WaitLoaded(lctx); err != nil && ctx.Err() == nil {
		w.log.Warn().Dur("after", w.cfg.LoadTimeout).Msg("models not fully loaded; consuming anyway")
	}
	lcancel()
	if n := len(w.cat.Entries()); n == 0 {
		w.log.Warn().Msg("no model loaded: patches go to the DLQ (no_model) until one is")
	} else {
		w.log.Info().Int("models", n).Msg("models loaded")
	}
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	prodCtx, prodCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer prodCancel()
	w.stopProc, w.prodCtx = pcancel, prodCtx
	fdone := make(chan struct{})
	go func() { defer close(fdone); w.flushLoop(pctx) }()
	err := w.proc.Run(pctx)
	pcancel()
	deadline := time.AfterFunc(w.cfg.Stream.ShutdownTimeout, prodCancel)
	<-fdone
	w.waitFlushed()
	deadline.Stop()
	prodCancel()
	cancel()
	if cerr := <-cerr; err == nil {
		err = cerr
	}
	if ferr := w.flushErr.Load(); ferr != nil && err == nil {
		err = *ferr
	}
	return err
}

// Ready is the /readyz check: connected, and models loaded (catalog.Ready).
func (w *Worker) Ready(ctx context.Context) error {
	if err := w.cat.Ready(ctx); err != nil {
		return err
	}
	return w.proc.Ready(ctx)
}

// Streams returns the number of streams held.
func (w *Worker) Streams() int { return int(w.count.Load()) }

type streamKey struct{ machine, sensor string }

// dstream is the decision state of one (machine, sensor) stream.
type dstream struct {
	key      streamKey
	b        *binding // model in use
	pending  *binding // newer model, in use from switchAt on
	switchAt int64
	gen      uint64 // catalog generation b/pending were looked up at
	agg      *threshold.WindowAggregator
	pers     *threshold.Persistence
	consec   int     // windows above the threshold in a row
	hw       []int64 // per band: start of the last patch taken
	// Patches waiting to be scored.
	x      []float32
	times  []int64
	bands  []int
	n      int
	open   bool  // some window holds patches (pushed or waiting)
	closes int64 // end of the earliest such window: a patch at or after it closes it
	// decided: windows before this time were decided early (see handle);
	// a patch starting before it is late and skipped.
	decided int64
	ts      time.Time          // record timestamp of the last patch taken (the idle flush's outputs carry it)
	links   lru.Links[dstream] // in the partition's LRU list
}

// LRU gives the partition's list its links.
func (s *dstream) LRU() *lru.Links[dstream] { return &s.links }

// part is the state of one patches partition, touched only by the goroutine
// handling it (OnAssign/OnRevoke run while none of its records is).
type part struct {
	w        *Worker
	streams  map[streamKey]*dstream
	lru      lru.List[dstream, *dstream] // its streams, most recently used first
	lastScan time.Time
	scorers  map[string]Scorer // by model version
	p        wire.Patch
	out      []*kgo.Record
	ts       time.Time
	replay   bool // restoring: decisions update state, nothing is emitted
	// mu guards the state against the idle flush (flushLoop); records
	// of the partition are handled one at a time by the processor.
	mu         sync.Mutex
	restoring  bool      // OnAssign is rebuilding it: no idle flush
	liveSince  time.Time // end of the last restore: idleness counts from here
	dead       bool      // dropped; a flush holding it does nothing
	id         int32     // partition number
	lastOffset int64     // offset of the last record handled (or restored); -1 none
	maxTs      time.Time // latest record timestamp handled (or restored)
	scores     []float64
	pf         []float32
	perBin     []float32
	ev         wire.Event
	bs         []wire.BandScore
	sc         wire.Score
}

func (w *Worker) partition(p int32) *part {
	w.mu.Lock()
	defer w.mu.Unlock()
	ps := w.parts[p]
	if ps == nil {
		ps = &part{w: w, id: p, lastOffset: -1, streams: map[streamKey]*dstream{}, scorers: map[string]Scorer{}}
		w.parts[p] = ps
	}
	return ps
}

func (w *Worker) dropPartition(p int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ps := w.parts[p]; ps != nil {
		ps.mu.Lock()
		for ps.lru.Oldest() != nil {
			ps.drop(ps.lru.Oldest(), "")
		}
		ps.dead = true
		ps.mu.Unlock()
		delete(w.parts, p)
	}
}

// OnAssign implements stream.AssignHook: a new partition's window state is
// rebuilt from the records before its committed offset (RestoreRecords).
func (w *Worker) OnAssign(ctx context.Context, assigned map[string][]int32) {
	parts := assigned[w.cfg.Stream.Topics.Patches]
	for _, p := range parts {
		w.dropPartition(p)
		ps := w.partition(p)
		ps.mu.Lock()
		ps.restoring = true
		ps.mu.Unlock()
	}
	if w.cfg.RestoreRecords > 0 && len(parts) > 0 {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if err := w.restore(rctx, parts); err != nil {
			w.log.Warn().Err(err).Ints32("partitions", parts).Msg("window state not restored; open windows start afresh")
		}
		cancel()
	}
	now := time.Now()
	for _, p := range parts {
		ps := w.partition(p)
		ps.mu.Lock()
		ps.restoring, ps.liveSince = false, now
		ps.mu.Unlock()
	}
}

// OnRevoke implements stream.RevokeHook: the partitions' state is dropped.
func (w *Worker) OnRevoke(_ context.Context, revoked map[string][]int32, _ bool) {
	for _, p := range revoked[w.cfg.Stream.Topics.Patches] {
		w.dropPartition(p)
	}
}

// restore re-reads, for each partition, up to RestoreRecords records before
// the group's committed offset and handles them without emitting anything:
// the windows left open by the previous owner (whose records are committed
// but whose decision was not made yet) are rebuilt, so they are decided
// here, on all their patches.
func (w *Worker) restore(ctx context.Context, parts []int32) error {
	n, err := stream.ReadBack(ctx, w.cfg.Stream, w.cfg.Stream.Topics.Patches, parts, w.cfg.RestoreRecords, func(r *kgo.Record) {
		ps := w.partition(r.Partition)
		ps.mu.Lock()
		ps.out, ps.replay = ps.out[:0], true
		ps.took(r)
		_ = ps.handle(r.Value) // errors were dead-lettered by the previous owner
		ps.replay = false
		ps.mu.Unlock()
	})
	for _, p := range parts {
		ps := w.partition(p)
		ps.mu.Lock()
		ps.out = nil
		ps.mu.Unlock()
	}
	w.m.Restored.Add(float64(n))
	if err != nil {
		return err
	}
	w.log.Info().Int("records", n).Ints32("partitions", parts).Msg("window state restored")
	return nil
}

// Handle scores one patch; it returns the events and score records of the
// windows the patch closes.
func (w *Worker) Handle(_ context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
	ps := w.partition(in.Partition)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.out = out
	ps.took(in)
	err := ps.handle(in.Value)
	return ps.out, err
}

// took notes that record r of the partition is being handled.
func (ps *part) took(r *kgo.Record) {
	ps.ts, ps.lastOffset = r.Timestamp, r.Offset
	if r.Timestamp.After(ps.maxTs) {
		ps.maxTs = r.Timestamp
	}
}

func reject(ps *part, reason string, err error) error {
	if ps.replay {
		return err
	}
	ps.w.m.Rejected.WithLabelValues(reason).Inc()
	return stream.Reject(reason, err)
}

func (ps *part) handle(value []byte) error {
	w := ps.w
	p := &ps.p
	if err := wire.DecodePatch(p, value); err != nil {
		return err
	}
	now := time.Now()
	ps.sweep(now)
	k := streamKey{p.Tag.Machine, p.Tag.Sensor}
	s := ps.streams[k]
	if gen := w.cat.Gen(); s == nil || s.gen != gen {
		e, ok := w.cat.Lookup(k.machine, k.sensor)
		if !ok {
			if s != nil {
				ps.drop(s, "")
			}
			if ps.replay {
				return nil
			}
			return reject(ps, "no_model", fmt.Errorf("detect: no model for machine %q sensor %q", k.machine, k.sensor))
		}
		if s == nil {
			s = ps.newStream(k, e.Value)
		} else if e.Value.meta.Version != s.b.meta.Version {
			if s.pending == nil || s.pending.meta.Version != e.Value.meta.Version {
				s.pending, s.switchAt = e.Value, math.MinInt64
				if s.open {
					s.switchAt = s.closes
				}
			}
		} else {
			s.pending = nil
		}
		s.gen = gen
	}
	ps.lru.Touch(s, now)
	// A late patch (inside a window decided early or by the idle flush)
	// does not trigger a pending switch: it is skipped below, and the new
	// model must not open a second decision of that window.
	if s.pending != nil && p.Tag.StartNs >= s.decided && (p.Tag.StartNs >= s.switchAt ||
		p.FeatureHash == s.pending.meta.FeatureHash && p.FeatureHash != s.b.meta.FeatureHash) {
		ps.switchModel(s)
	}
	b := s.b
	if p.FeatureHash != b.meta.FeatureHash {
		return reject(ps, "feature_mismatch", fmt.Errorf("%w: patch of %s/%s has features %.12s, model %s expects %.12s",
			model.ErrMismatch, k.machine, k.sensor, p.FeatureHash, b.meta.Version, b.meta.FeatureHash))
	}
	if p.T != b.t || p.T*p.F != b.dim {
		return reject(ps, "bad_shape", fmt.Errorf("detect: patch of %d×%d values, model %s takes %d×%d", p.T, p.F, b.meta.Version, b.t, b.f))
	}
	if p.Tag.Band >= b.bands {
		return reject(ps, "bad_tag", fmt.Errorf("detect: band %d, model %s has %d", p.Tag.Band, b.meta.Version, b.bands))
	}
	if p.Tag.StartNs <= s.hw[p.Tag.Band] || p.Tag.StartNs < s.decided {
		if !ps.replay {
			w.m.Skipped.WithLabelValues("duplicate").Inc()
		}
		return nil
	}
	s.hw[p.Tag.Band] = p.Tag.StartNs
	s.ts = ps.ts
	copy(s.x[s.n*b.dim:(s.n+1)*b.dim], p.Values)
	s.times[s.n], s.bands[s.n] = p.Tag.StartNs, p.Tag.Band
	s.n++
	if !s.open {
		s.open, s.closes = true, firstEnd(b.window, p.Tag.StartNs)
	}
	if s.n == len(s.times) || p.Tag.StartNs >= s.closes || p.Tag.StartNs-s.times[0] >= int64(w.cfg.BatchSpan) {
		ps.flush(s)
	}
	// Patches come on a grid: when this is the last band of its position
	// and the next position starts at or after the end of the (tumbling)
	// window, the window is complete now; deciding it here saves waiting
	// for the next patch (one patch hop, 32 ms for the DCASE front end).
	if b.tumbling && p.Tag.Band == b.bands-1 && p.Tag.StartNs+b.stepNs-2 >= s.closes {
		ps.flush(s)
		for _, win := range s.agg.Flush() {
			ps.decide(s, win)
		}
		s.open, s.decided = false, s.closes
	}
	return nil
}

// firstEnd is the end of the earliest window containing time t.
func firstEnd(c threshold.WindowConfig, t int64) int64 {
	return (floorDiv(t-c.LengthNs, c.HopNs)+1)*c.HopNs + c.LengthNs
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (ps *part) newStream(k streamKey, b *binding) *dstream {
	w := ps.w
	s := &dstream{key: k}
	ps.setModel(s, b)
	ps.streams[k] = s
	ps.lru.Push(s, time.Now())
	w.count.Add(1)
	w.m.Streams.Inc()
	for w.count.Load() > int64(w.cfg.MaxStreams) && ps.lru.Oldest() != nil && ps.lru.Oldest() != s {
		ps.drop(ps.lru.Oldest(), "lru")
	}
	return s
}

// setModel makes b the model of s with fresh decision state (the dedup
// marks are kept when the band count is unchanged).
func (ps *part) setModel(s *dstream, b *binding) {
	batch := ps.w.cfg.Batch
	s.b, s.pending = b, nil
	s.agg = threshold.NewWindowAggregator(b.window)
	if s.pers != nil && s.pers.Active() {
		ps.w.m.Alarms.Dec()
	}
	s.pers = threshold.NewPersistence(b.persist)
	s.consec, s.open, s.n, s.decided = 0, false, 0, math.MinInt64
	if len(s.hw) != b.bands {
		s.hw = make([]int64, b.bands)
		for i := range s.hw {
			s.hw[i] = math.MinInt64
		}
	}
	if cap(s.x) < batch*b.dim {
		s.x = make([]float32, batch*b.dim)
	}
	s.x = s.x[:batch*b.dim]
	if len(s.times) != batch {
		s.times, s.bands = make([]int64, batch), make([]int, batch)
	}
}

// switchModel decides the windows open under the old model, then starts
// the pending one.
func (ps *part) switchModel(s *dstream) {
	ps.flush(s)
	for _, win := range s.agg.Flush() {
		ps.decide(s, win)
	}
	old, decided := s.b.meta.Version, s.decided
	ps.setModel(s, s.pending)
	s.decided = decided // windows decided early or flushed stay decided
	if !ps.replay {
		ps.w.m.Switches.Inc()
		ps.w.log.Info().Str("machine", s.key.machine).Str("sensor", s.key.sensor).Str("from", old).Str("to", s.b.meta.Version).Msg("model switched")
	}
}

func (ps *part) scorer(b *binding) Scorer {
	sc := ps.scorers[b.meta.Version]
	if sc == nil {
		if len(ps.scorers) > 64 { // models were replaced many times: start over
			clear(ps.scorers)
		}
		sc = b.newScorer()
		ps.scorers[b.meta.Version] = sc
	}
	return sc
}

// flush scores the waiting patches of s in one call and pushes them into
// the window aggregator, deciding the windows they close.
func (ps *part) flush(s *dstream) {
	n := s.n
	if n == 0 {
		return
	}
	b := s.b
	if cap(ps.scores) < n {
		ps.scores = make([]float64, n)
	}
	scores := ps.scores[:n]
	if cap(ps.pf) < n*b.dim {
		ps.pf = make([]float32, n*b.dim)
	}
	pf := ps.pf[:n*b.dim]
	if cap(ps.perBin) < b.bins {
		ps.perBin = make([]float32, b.bins)
	}
	perBin := ps.perBin[:b.bins]
	var bands []int
	if b.bands > 1 {
		bands = s.bands[:n]
	}
	ps.scorer(b).Score(scores, pf, s.x[:n*b.dim], bands, n)
	if !ps.replay {
		ps.w.m.Batch.Observe(float64(n))
		ps.w.m.Patches.Add(float64(n))
	}
	for i := 0; i < n; i++ {
		b.binContrib(perBin, pf[i*b.dim:(i+1)*b.dim], s.bands[i])
		for _, win := range s.agg.Push(s.times[i], scores[i], perBin) {
			ps.decide(s, win)
		}
	}
	s.n = 0
	s.closes = firstEnd(b.window, s.times[n-1])
}

// decide applies the threshold and the persistence rule to a closed window
// and appends its event (when the alarm is raised and the window is above
// the threshold) and score record.
func (ps *part) decide(s *dstream, win threshold.Window) {
	w, b := ps.w, s.b
	above := b.th.Above(win.Score)
	wasActive := s.pers.Active()
	s.pers.Update(above)
	if above {
		s.consec++
	} else {
		s.consec = 0
	}
	active := s.pers.Active()
	if active != wasActive {
		if active {
			w.m.Alarms.Inc()
		} else {
			w.m.Alarms.Dec()
		}
	}
	if ps.replay {
		return
	}
	if above {
		w.m.Windows.WithLabelValues("above").Inc()
	} else {
		w.m.Windows.WithLabelValues("normal").Inc()
	}
	now := time.Now().UnixNano()
	eventID := ""
	if active && above {
		ps.bs = ps.bs[:0]
		for _, c := range win.Top {
			ps.bs = append(ps.bs, wire.BandScore{Band: c.Feature, LowHz: b.binLo[c.Feature], HighHz: b.binHi[c.Feature], Score: c.Score})
		}
		ps.ev = wire.Event{Machine: s.key.machine, Sensor: s.key.sensor, WindowStartNs: win.StartNs, WindowEndNs: win.EndNs,
			Score: win.Score, Threshold: b.th.Value, ScoreType: b.scoreType, ModelVersion: b.meta.Version,
			Bands: ps.bs, FeatureHash: b.meta.FeatureHash, Detector: w.cfg.Detector, Patches: win.Patches,
			Consecutive: s.consec, DetectedAtNs: now}
		ps.ev.Complete()
		v, err := wire.AppendEvent(nil, &ps.ev)
		if err != nil {
			w.m.Invalid.Inc()
			w.log.Warn().Err(err).Str("machine", s.key.machine).Int64("window_start_ns", win.StartNs).Msg("event not emitted")
		} else {
			eventID = ps.ev.EventID
			ps.out = append(ps.out, &kgo.Record{Topic: w.cfg.Stream.Topics.Anomalies, Key: []byte(s.key.machine), Value: v, Timestamp: ps.ts})
			w.m.Events.Inc()
		}
	}
	if w.cfg.Stream.Topics.Scores == "" {
		return
	}
	ps.sc = wire.Score{Machine: s.key.machine, Sensor: s.key.sensor, WindowStartNs: win.StartNs, WindowEndNs: win.EndNs,
		Score: win.Score, Threshold: b.th.Value, ScoreType: b.scoreType, ModelVersion: b.meta.Version,
		Severity: wire.Severity(win.Score, b.th.Value), Anomalous: active, Patches: win.Patches, EventID: eventID}
	v, err := wire.AppendScore(nil, &ps.sc)
	if err != nil {
		w.m.Invalid.Inc()
		return
	}
	ps.out = append(ps.out, &kgo.Record{Topic: w.cfg.Stream.Topics.Scores, Key: []byte(s.key.machine), Value: v, Timestamp: ps.ts})
}

// drop forgets s; reason "" is not counted as an eviction (revoke, model
// withdrawn).
func (ps *part) drop(s *dstream, reason string) {
	ps.lru.Remove(s)
	delete(ps.streams, s.key)
	ps.w.count.Add(-1)
	ps.w.m.Streams.Dec()
	if s.pers != nil && s.pers.Active() {
		ps.w.m.Alarms.Dec()
	}
	if reason != "" {
		ps.w.m.Evictions.WithLabelValues(reason).Inc()
	}
}

func (ps *part) sweep(now time.Time) {
	w := ps.w
	ps.lru.Sweep(now, w.count.Load() > int64(w.cfg.MaxStreams), w.cfg.IdleTimeout, &ps.lastScan, ps.drop)
}

// flushLoop runs the idle flush every FlushAfter/4 (at least every 10 ms)
// until ctx ends.
func (w *Worker) flushLoop(ctx context.Context) {
	if w.cfg.FlushAfter <= 0 {
		return
	}
	t := time.NewTicker(max(w.cfg.FlushAfter/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.flushIdle(ctx, now)
		}
	}
}

// flushIdle decides, in every partition, the open windows of the idle
// streams (see part.flushIdle) and produces their outputs. It waits for the
// record being handled, if any, and holds a partition only while deciding.
func (w *Worker) flushIdle(ctx context.Context, now time.Time) {
	w.mu.Lock()
	parts := make([]*part, 0, len(w.parts))
	for _, ps := range w.parts {
		parts = append(parts, ps)
	}
	w.mu.Unlock()
	var ends map[int32]int64 // the input's end offsets, asked at most once a round
	for _, ps := range parts {
		ps.mu.Lock()
		need := !ps.dead && !ps.restoring && ps.idle(now)
		ps.mu.Unlock()
		if !need {
			continue
		}
		if ends == nil {
			ends = w.endOffsets(ctx)
		}
		ps.mu.Lock()
		var out []*kgo.Record
		if !ps.dead && !ps.restoring {
			end, ok := ends[ps.id]
			out = ps.flushIdle(now, ok && end <= ps.lastOffset+1)
		}
		ps.mu.Unlock()
		w.produceFlushed(ctx, out)
	}
}

// endOffsets returns the input topic's end offsets by partition (none when
// the broker does not answer within 2 s: nothing is then caught up).
func (w *Worker) endOffsets(ctx context.Context) map[int32]int64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := map[int32]int64{}
	lo, err := kadm.NewClient(w.prod).ListEndOffsets(ctx, w.cfg.Stream.Topics.Patches)
	if err != nil {
		w.log.Debug().Err(err).Msg("idle flush: end offsets unknown; flushing only streams the input has moved past")
		return out
	}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// idle reports whether some stream of the partition has an open window and
// no patch for FlushAfter of wall time (counted from the partition's
// assignment at the earliest). ps.mu is held.
func (ps *part) idle(now time.Time) bool {
	for _, s := range ps.streams {
		if ps.silent(s, now) {
			return true
		}
	}
	return false
}

func (ps *part) silent(s *dstream, now time.Time) bool {
	fa := ps.w.cfg.FlushAfter
	return s.open && now.Sub(s.links.LastSeen) >= fa && now.Sub(ps.liveSince) >= fa
}

// idleStream says whether s is to be flushed. A wall-clock silence alone
// does not prove that the machine stopped: the worker may have stalled
// (a slow broker, backpressure) with the machine's next patches waiting in
// the partition. So either the partition holds no record beyond the last
// one handled (caughtUp), or a record handled since was produced (its
// timestamp: the raw frame's ingest time) FlushAfter or more after the
// stream's last one, which shows the machine was silent at the source
// while others were not.
func (ps *part) idleStream(s *dstream, now time.Time, caughtUp bool) bool {
	return ps.silent(s, now) && (caughtUp || ps.maxTs.Sub(s.ts) >= ps.w.cfg.FlushAfter)
}

// flushIdle decides the open windows of this partition's idle streams with
// the patches they hold, as a later patch would have decided them, and
// returns their outputs (stamped with the stream's last record timestamp).
// A patch starting before the end of the windows decided is then late: it
// is skipped and counted (duplicate), like an early decision's straggler.
// ps.mu is held.
func (ps *part) flushIdle(now time.Time, caughtUp bool) []*kgo.Record {
	w := ps.w
	ps.out = nil
	for _, s := range ps.streams {
		if !ps.idleStream(s, now, caughtUp) {
			continue
		}
		ps.ts = s.ts
		ps.flush(s)
		end := s.decided
		for _, win := range s.agg.Flush() {
			ps.decide(s, win)
			w.m.Flushed.Inc()
			end = max(end, win.EndNs)
		}
		s.open, s.decided = false, end
		w.log.Debug().Str("machine", s.key.machine).Str("sensor", s.key.sensor).Int64("decided_until_ns", end).Msg("idle stream's windows flushed")
	}
	out := ps.out
	ps.out = nil
	return out
}

// produceFlushed produces the idle flush's outputs. A refused output stops
// the worker (Run returns the error), as a refused output of a record does:
// the window's patches are committed, so only a restart, whose restore
// rebuilds the window and flushes it again, can give its decision.
func (w *Worker) produceFlushed(ctx context.Context, out []*kgo.Record) {
	for _, r := range out {
		w.prod.Produce(w.prodCtx, r, func(r *kgo.Record, err error) {
			// After shutdown began (ctx done), an unacknowledged output is
			// left to the next owner, as a record's would be.
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%w: idle flush output to %s: %w", stream.ErrProduce, r.Topic, err)
				if w.flushErr.CompareAndSwap(nil, &err) {
					w.log.Error().Err(err).Msg("stopping")
					w.stopProc()
				}
			}
		})
	}
}

// waitFlushed waits, at most ShutdownTimeout, for the idle flush's outputs
// to be acknowledged.
func (w *Worker) waitFlushed() {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Stream.ShutdownTimeout)
	defer cancel()
	if err := w.prod.Flush(ctx); err != nil {
		w.log.Warn().Err(err).Msg("idle flush outputs not all acknowledged before the shutdown deadline; the next owner decides those windows again")
	}
}

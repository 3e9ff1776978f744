package stream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/mhmstream/mhm/pkg/wire"
)

// Handler processes one input record. It appends its output records to out
// (which has length 0 and is reused between calls: do not keep it) and
// returns the extended slice. Every output must have its Topic set; the Key
// should be the machine id so a machine's data stays on one partition.
//
// A non-nil error sends the input record to the dead-letter topic with the
// error in its headers; outputs returned alongside the error are still
// produced. The processor then goes on with the next record. Wrap the error
// with Fatal to stop the processor instead (the record is then not
// committed and is processed again after a restart).
//
// Handle is called sequentially, in offset order, for the records of one
// partition; with Config.Concurrency > 1, records of different partitions
// may be handled concurrently. It must not retain in after returning unless
// it copies what it needs (in.Value is not reused by kgo, but keeping
// records defeats the in-flight bound).
type Handler interface {
	Handle(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, in *kgo.Record, out []*kgo.Record) ([]*kgo.Record, error) {
	return f(ctx, in, out)
}

// AssignHook is implemented by handlers that keep per-partition state.
// OnAssign is called with newly assigned partitions before any of their
// records is handled.
type AssignHook interface {
	OnAssign(ctx context.Context, assigned map[string][]int32)
}

// RevokeHook is implemented by handlers that keep per-partition state.
// OnRevoke is called after the processor stopped handling the given
// partitions (in-flight records drained and committed when lost is false;
// dropped when lost is true because the group session was lost); the
// handler drops their state. It is also called for every partition on
// shutdown.
type RevokeHook interface {
	OnRevoke(ctx context.Context, revoked map[string][]int32, lost bool)
}

// Reasoner is implemented by errors that carry a short reason label for the
// DLQ header and the mhm_stream_dlq_total metric.
type Reasoner interface{ Reason() string }

type reasonErr struct {
	reason string
	err    error
}

func (e *reasonErr) Error() string  { return e.err.Error() }
func (e *reasonErr) Unwrap() error  { return e.err }
func (e *reasonErr) Reason() string { return e.reason }

// Reject wraps err with a DLQ reason label. Keep reasons to a small fixed
// set (snake_case): only the first 32 distinct ones get their own metric
// label.
func Reject(reason string, err error) error { return &reasonErr{reason: reason, err: err} }

// ErrFatal is wrapped by errors made with Fatal.
var ErrFatal = errors.New("stream: fatal handler error")

// Fatal wraps err so that the processor stops (Run returns it) instead of
// sending the record to the DLQ.
func Fatal(err error) error { return fmt.Errorf("%w: %w", ErrFatal, err) }

// ErrProduce is wrapped by the error Run returns when the broker did not
// acknowledge an output record.
var ErrProduce = errors.New("stream: output not acknowledged")

// DLQ header keys. Every DLQ record carries the input record's key, value
// and headers, followed by these headers (values are UTF-8 text).
const (
	HeaderReason    = "mhm.dlq.reason"    // short label: wire.Reason, a Reasoner's Reason, or "handler_error"
	HeaderError     = "mhm.dlq.error"     // the error text, at most 1024 bytes
	HeaderTopic     = "mhm.dlq.topic"     // source topic
	HeaderPartition = "mhm.dlq.partition" // source partition, decimal
	HeaderOffset    = "mhm.dlq.offset"    // source offset, decimal
	HeaderTime      = "mhm.dlq.time"      // when it was dead-lettered, RFC 3339 nano UTC
	HeaderGroup     = "mhm.dlq.group"     // consumer group of the worker that rejected it
)

// ProcessorConfig configures NewProcessor.
type ProcessorConfig struct {
	Config  Config         // connection, group, DLQ topic (Topics.DLQ), bounds, timeouts
	Inputs  []string       // topics to consume, at least one
	Handler Handler        // required
	Logger  zerolog.Logger // zerolog.Nop() if zero
	Metrics *Metrics       // nil records nothing
	KgoOpts []kgo.Opt      // extra kgo options, applied last (producer tuning, tests)
}

// Processor runs the consume → handle → produce → commit loop (see
// docs/stream.md for the delivery semantics). Create it with NewProcessor and
// call Run once.
type Processor struct {
	cfg     Config
	inputs  []string
	h       Handler
	log     zerolog.Logger
	m       *Metrics
	opts    []kgo.Opt
	cl      *kgo.Client
	workers []*worker

	workCtx    context.Context // handler and produce context; cancelled on abort or when the shutdown deadline passes
	workCancel context.CancelFunc

	mu          sync.Mutex
	parts       map[tp]*partState
	outstanding int           // entries polled and not yet committable or dropped
	unfinished  int           // entries queued or being handled/acknowledged
	changed     chan struct{} // closed and replaced on every state change
	err         error         // first fatal error
	running     bool
	closing     bool // shutting down: revoke waits are bounded by shutdownCtx
	aborted     bool // abort: no commits at all
	shutdownCtx context.Context

	commitMu sync.Mutex
}

type tp struct {
	topic string
	part  int32
}

type partState struct {
	tp        tp
	q         []*entry // polled, not yet committable, in offset order
	next      kgo.EpochOffset
	hasNext   bool
	committed int64 // last committed offset, -1 none
	started   int   // entries being handled or awaiting acks
	revoked   bool
	detached  bool // removed from parts; no more accounting
	worker    int
}

const (
	queued = iota
	started
	doneOK
	doneFailed
	dropped
)

type entry struct {
	rec     *kgo.Record
	ps      *partState
	polled  time.Time
	state   int // guarded by Processor.mu
	pending atomic.Int32
	failed  atomic.Bool
	p       *Processor
}

type worker struct {
	ch  chan *entry
	out []*kgo.Record
}

// NewProcessor validates pc and returns a Processor. It does not connect;
// Run does.
func NewProcessor(pc ProcessorConfig) (*Processor, error) {
	conn, err := pc.Config.ClientOpts()
	if err != nil {
		return nil, err
	}
	switch {
	case pc.Handler == nil:
		return nil, fmt.Errorf("%w: nil handler", ErrConfig)
	case len(pc.Inputs) == 0:
		return nil, fmt.Errorf("%w: no input topics", ErrConfig)
	case pc.Config.Group == "":
		return nil, fmt.Errorf("%w: no consumer group (-group, MHM_GROUP)", ErrConfig)
	}
	p := &Processor{
		cfg: pc.Config, inputs: pc.Inputs, h: pc.Handler, log: pc.Logger, m: pc.Metrics,
		parts: map[tp]*partState{}, changed: make(chan struct{}),
	}
	p.opts = append(conn,
		kgo.ConsumerGroup(pc.Config.Group),
		kgo.ConsumeTopics(pc.Inputs...),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(p.onAssigned),
		kgo.OnPartitionsRevoked(p.onRevoked),
		kgo.OnPartitionsLost(p.onLost),
		kgo.WithLogger(KgoLogger{L: pc.Logger.With().Str("group", pc.Config.Group).Logger()}),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the idempotent producer's default, stated
		// Bounds how long a fetch resumed after backpressure can wait
		// behind an empty long poll (kgo's default is 5 s).
		kgo.FetchMaxWait(250*time.Millisecond),
	)
	p.opts = append(p.opts, pc.KgoOpts...)
	return p, nil
}

// notifyLocked wakes everything waiting for a state change. p.mu is held.
func (p *Processor) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// waitUntil blocks until cond (evaluated under p.mu) holds or ctx is done;
// it reports whether cond held.
func (p *Processor) waitUntil(ctx context.Context, cond func() bool) bool {
	for {
		p.mu.Lock()
		if cond() {
			p.mu.Unlock()
			return true
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (p *Processor) setErr(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		p.log.Error().Err(err).Msg("processor stopping")
	}
	p.notifyLocked()
	p.mu.Unlock()
}

// Err returns the first fatal error, if any.
func (p *Processor) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// InFlight returns the number of records polled whose outputs are not all
// acknowledged (or that wait behind such a record to become committable);
// it never exceeds Config.MaxInFlight.
func (p *Processor) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outstanding
}

// Ready returns nil when Run is running without a fatal error and a broker
// answers a metadata request within ctx; use it as a /readyz check.
func (p *Processor) Ready(ctx context.Context) error {
	p.mu.Lock()
	running, err, cl := p.running, p.err, p.cl
	p.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !running || cl == nil:
		return errors.New("stream: processor not running")
	}
	return cl.Ping(ctx)
}

// Run connects, joins the group and processes records until ctx is
// cancelled or a fatal error occurs. Then it shuts down in pipeline order
// within Config.ShutdownTimeout: stop polling, drain in-flight records, flush
// the producer, commit, leave the group. It returns nil after a shutdown
// caused by ctx, or the fatal error (wrapping ErrProduce or ErrFatal). Run
// may be called only once.
func (p *Processor) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(p.opts...)
	if err != nil {
		return fmt.Errorf("stream: new client: %w", err)
	}
	p.workCtx, p.workCancel = context.WithCancel(context.Background())
	p.workers = make([]*worker, p.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range p.workers {
		w := &worker{ch: make(chan *entry, p.cfg.MaxInFlight)}
		p.workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); p.work(w) }()
	}
	p.mu.Lock()
	p.cl, p.running = cl, true
	p.mu.Unlock()
	p.log.Info().Strs("inputs", p.inputs).Str("group", p.cfg.Group).Int("max_in_flight", p.cfg.MaxInFlight).Msg("processor started")

	commitStop := make(chan struct{})
	commitDone := make(chan struct{})
	go p.commitLoop(commitStop, commitDone)

	p.poll(ctx)

	// Shutdown: polling has stopped.
	sctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	p.mu.Lock()
	p.closing, p.shutdownCtx = true, sctx
	aborted := p.aborted
	p.mu.Unlock()
	close(commitStop)
	<-commitDone
	if !aborted {
		if !p.waitUntil(sctx, func() bool { return p.unfinished == 0 }) {
			p.log.Warn().Msg("shutdown deadline passed with records in flight; they will be processed again after restart")
		}
		if err := cl.Flush(sctx); err != nil {
			p.log.Warn().Err(err).Msg("flush")
		}
		p.commit(sctx, nil)
	}
	p.workCancel()
	for _, w := range p.workers {
		close(w.ch)
	}
	wg.Wait()
	// Close leaves the group. Its final revoke commits nothing new after a
	// graceful drain, and nothing at all after abort.
	cl.Close()
	p.mu.Lock()
	p.running = false
	err = p.err
	p.mu.Unlock()
	p.log.Info().Err(err).Msg("processor stopped")
	return err
}

// abort stops like a crash: no drain, no commit. Tests use it to kill a
// group member.
func (p *Processor) abort() {
	p.mu.Lock()
	p.aborted = true
	cancel := p.workCancel
	p.notifyLocked()
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (p *Processor) stopping(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err != nil || p.aborted
}

func (p *Processor) poll(ctx context.Context) {
	// pollCtx is cancelled by ctx, a fatal error or abort.
	pollCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		p.waitUntil(pollCtx, func() bool { return p.err != nil || p.aborted })
		cancel()
	}()
	paused := false
	for !p.stopping(pollCtx) {
		// Backpressure: wait until fewer than MaxInFlight records are outstanding.
		hasRoom := func() bool { return p.outstanding < p.cfg.MaxInFlight }
		p.mu.Lock()
		full := !hasRoom()
		p.mu.Unlock()
		if full {
			if !paused {
				p.cl.PauseFetchTopics(p.inputs...)
				paused = true
				if p.m != nil {
					p.m.Paused.Set(1)
				}
			}
			if !p.waitUntil(pollCtx, hasRoom) {
				break
			}
		}
		if paused {
			p.cl.ResumeFetchTopics(p.inputs...)
			paused = false
			if p.m != nil {
				p.m.Paused.Set(0)
			}
		}
		p.mu.Lock()
		room := p.cfg.MaxInFlight - p.outstanding
		p.mu.Unlock()
		fs := p.cl.PollRecords(pollCtx, room)
		if fs.IsClientClosed() {
			break
		}
		fs.EachError(func(t string, part int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			p.log.Error().Err(err).Str("topic", t).Int32("partition", part).Msg("fetch")
		})
		p.dispatch(fs)
	}
}

func (p *Processor) dispatch(fs kgo.Fetches) {
	now := time.Now()
	var batch []*entry
	p.mu.Lock()
	fs.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		ps := p.parts[tp{fp.Topic, fp.Partition}]
		last := fp.Records[len(fp.Records)-1]
		p.m.lag(fp.Topic, fp.Partition, fp.HighWatermark-last.Offset-1)
		if ps == nil || ps.revoked {
			return // not ours any more: the new owner reads it from the committed offset
		}
		for _, r := range fp.Records {
			e := &entry{rec: r, ps: ps, polled: now, p: p}
			ps.q = append(ps.q, e)
			batch = append(batch, e)
		}
		if p.m != nil {
			p.m.RecordsIn.WithLabelValues(fp.Topic).Add(float64(len(fp.Records)))
		}
	})
	p.outstanding += len(batch)
	p.unfinished += len(batch)
	if p.m != nil {
		p.m.InFlight.Set(float64(p.outstanding))
	}
	p.mu.Unlock()
	for _, e := range batch {
		p.workers[e.ps.worker].ch <- e // never blocks: capacity MaxInFlight >= outstanding
	}
}

func (p *Processor) work(w *worker) {
	for e := range w.ch {
		p.mu.Lock()
		if e.state != queued || p.aborted {
			p.mu.Unlock()
			continue // dropped by a revoke, or aborting
		}
		e.state = started
		e.ps.started++
		p.mu.Unlock()
		p.handle(w, e)
	}
}

func (p *Processor) handle(w *worker, e *entry) {
	start := time.Now()
	out, err := p.h.Handle(p.workCtx, e.rec, w.out[:0])
	if p.m != nil {
		p.m.HandleSeconds.Observe(time.Since(start).Seconds())
	}
	w.out = out[:0]
	if err != nil && errors.Is(err, ErrFatal) {
		e.failed.Store(true)
		p.setErr(fmt.Errorf("%s/%d@%d: %w", e.rec.Topic, e.rec.Partition, e.rec.Offset, err))
		p.finish(e)
		return
	}
	n := int32(len(out)) + 1 // +1: the handler's own share, released below
	var dlq *kgo.Record
	if err != nil {
		if p.cfg.Topics.DLQ == "" {
			p.log.Error().Err(err).Str("topic", e.rec.Topic).Int32("partition", e.rec.Partition).Int64("offset", e.rec.Offset).Msg("handler error and no DLQ topic: record skipped")
		} else {
			dlq = p.dlqRecord(e.rec, err)
			n++
		}
	}
	e.pending.Store(n)
	for i, r := range out {
		p.cl.Produce(p.workCtx, r, e.acked)
		out[i] = nil
	}
	if dlq != nil {
		p.cl.Produce(p.workCtx, dlq, e.acked)
	}
	e.acked(nil, nil)
}

// acked is the produce promise of every output of e (and is called once
// with a nil record for the handler's own share).
func (e *entry) acked(r *kgo.Record, err error) {
	p := e.p
	if r != nil {
		if err != nil {
			e.failed.Store(true)
			if p.workCtx.Err() != nil {
				// Abort, or the shutdown deadline passed: the record stays
				// uncommitted and is processed again after a restart.
				goto done
			}
			if p.m != nil {
				p.m.ProduceErrors.Inc()
			}
			p.setErr(fmt.Errorf("%w: output of %s/%d@%d to %s: %w", ErrProduce, e.rec.Topic, e.rec.Partition, e.rec.Offset, r.Topic, err))
		} else if p.m != nil {
			p.m.RecordsOut.WithLabelValues(r.Topic).Inc()
		}
	}
done:
	if e.pending.Add(-1) == 0 {
		p.finish(e)
	}
}

// finish marks e handled and acknowledged (or failed) and advances its
// partition's committable offset over the finished prefix.
func (p *Processor) finish(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.state != started {
		return
	}
	if e.failed.Load() {
		e.state = doneFailed
	} else {
		e.state = doneOK
		if p.m != nil {
			p.m.RecordSeconds.Observe(time.Since(e.polled).Seconds())
		}
	}
	ps := e.ps
	ps.started--
	p.unfinished--
	popped := 0
	for len(ps.q) > 0 && ps.q[0].state == doneOK {
		r := ps.q[0].rec
		ps.next = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		ps.hasNext = true
		ps.q[0] = nil
		ps.q = ps.q[1:]
		popped++
	}
	if len(ps.q) == 0 {
		ps.q = nil // let the backing array go
	}
	if !ps.detached {
		p.outstanding -= popped
	}
	if p.m != nil {
		p.m.InFlight.Set(float64(p.outstanding))
	}
	p.notifyLocked()
}

func (p *Processor) dlqRecord(in *kgo.Record, err error) *kgo.Record {
	reason := "handler_error"
	var rs Reasoner
	if errors.As(err, &rs) && rs.Reason() != "" {
		reason = rs.Reason()
	} else if r := wire.Reason(err); r != "" {
		reason = r
	}
	p.m.dlq(reason)
	msg := err.Error()
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	h := make([]kgo.RecordHeader, 0, len(in.Headers)+7)
	h = append(h, in.Headers...)
	h = append(h,
		kgo.RecordHeader{Key: HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderTopic, Value: []byte(in.Topic)},
		kgo.RecordHeader{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(in.Partition), 10)},
		kgo.RecordHeader{Key: HeaderOffset, Value: strconv.AppendInt(nil, in.Offset, 10)},
		kgo.RecordHeader{Key: HeaderTime, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
		kgo.RecordHeader{Key: HeaderGroup, Value: []byte(p.cfg.Group)},
	)
	p.log.Warn().Err(err).Str("reason", reason).Str("topic", in.Topic).Int32("partition", in.Partition).Int64("offset", in.Offset).Msg("record sent to DLQ")
	return &kgo.Record{Topic: p.cfg.Topics.DLQ, Key: in.Key, Value: in.Value, Headers: h}
}

func (p *Processor) commitLoop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			p.commit(ctx, nil)
			cancel()
		}
	}
}

// commit commits the committable offset of every partition in only (all
// live partitions when only is nil) that advanced since the last commit.
func (p *Processor) commit(ctx context.Context, only []*partState) {
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	p.mu.Lock()
	if p.aborted {
		p.mu.Unlock()
		return
	}
	if only == nil {
		for _, ps := range p.parts {
			only = append(only, ps)
		}
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	sent := map[tp]int64{}
	for _, ps := range only {
		if !ps.hasNext || ps.next.Offset <= ps.committed {
			continue
		}
		if offs[ps.tp.topic] == nil {
			offs[ps.tp.topic] = map[int32]kgo.EpochOffset{}
		}
		offs[ps.tp.topic][ps.tp.part] = ps.next
		sent[ps.tp] = ps.next.Offset
	}
	byTP := map[tp]*partState{}
	for _, ps := range only {
		byTP[ps.tp] = ps
	}
	p.mu.Unlock()
	if len(offs) == 0 {
		return
	}
	p.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			p.commitResult(false)
			p.log.Warn().Err(err).Msg("commit")
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		ok := true
		for _, t := range resp.Topics {
			for _, pr := range t.Partitions {
				k := tp{t.Topic, pr.Partition}
				if pr.ErrorCode != 0 {
					ok = false
					p.log.Warn().Str("topic", t.Topic).Int32("partition", pr.Partition).Int16("code", pr.ErrorCode).Msg("commit rejected")
					continue
				}
				if ps := byTP[k]; ps != nil && sent[k] > ps.committed {
					ps.committed = sent[k]
				}
			}
		}
		p.commitResultLocked(ok)
	})
}

func (p *Processor) commitResult(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commitResultLocked(ok)
}

func (p *Processor) commitResultLocked(ok bool) {
	if p.m == nil {
		return
	}
	if ok {
		p.m.Commits.WithLabelValues("ok").Inc()
	} else {
		p.m.Commits.WithLabelValues("error").Inc()
	}
}

func workerOf(topic string, part int32, n int) int {
	h := fnv.New32a()
	h.Write([]byte(topic))
	return int((h.Sum32() + uint32(part)) % uint32(n))
}

func (p *Processor) onAssigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	p.mu.Lock()
	n := 0
	for t, parts := range assigned {
		for _, part := range parts {
			k := tp{t, part}
			if old := p.parts[k]; old != nil {
				old.detached = true
				p.outstanding -= len(old.q)
			}
			p.parts[k] = &partState{tp: k, committed: -1, worker: workerOf(t, part, p.cfg.Concurrency)}
			n++
		}
	}
	if p.m != nil {
		p.m.Assigned.Set(float64(len(p.parts)))
		p.m.Rebalances.WithLabelValues("assigned").Inc()
	}
	p.notifyLocked()
	p.mu.Unlock()
	p.log.Info().Interface("partitions", assigned).Msg("assigned")
	if h, ok := p.h.(AssignHook); ok {
		h.OnAssign(ctx, assigned)
	}
}

func (p *Processor) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	p.revoke(ctx, revoked, false)
}

func (p *Processor) onLost(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	p.revoke(ctx, lost, true)
}

// revoke stops handling the given partitions: queued records are dropped;
// unless lost (or aborting), records being handled are drained and the
// finished prefix committed; then the state is removed and the handler's
// RevokeHook called.
func (p *Processor) revoke(ctx context.Context, revoked map[string][]int32, lost bool) {
	var mine []*partState
	p.mu.Lock()
	lost = lost || p.aborted
	for t, parts := range revoked {
		for _, part := range parts {
			ps := p.parts[tp{t, part}]
			if ps == nil {
				continue
			}
			ps.revoked = true
			for _, e := range ps.q {
				if e.state == queued {
					e.state = dropped
					p.unfinished--
				}
			}
			mine = append(mine, ps)
		}
	}
	deadline := p.shutdownCtx
	p.notifyLocked()
	p.mu.Unlock()

	if !lost && len(mine) > 0 {
		wctx, cancel := context.WithTimeout(ctx, p.cfg.ShutdownTimeout)
		if deadline != nil {
			cancel()
			wctx, cancel = deadline, func() {}
		}
		p.waitUntil(wctx, func() bool {
			if p.aborted {
				return true
			}
			for _, ps := range mine {
				if ps.started > 0 {
					return false
				}
			}
			return true
		})
		p.commit(wctx, mine)
		cancel()
	}

	p.mu.Lock()
	for _, ps := range mine {
		if p.parts[ps.tp] == ps {
			delete(p.parts, ps.tp)
		}
		if !ps.detached {
			ps.detached = true
			p.outstanding -= len(ps.q)
		}
		p.m.dropLag(ps.tp.topic, ps.tp.part)
	}
	if p.m != nil {
		p.m.Assigned.Set(float64(len(p.parts)))
		p.m.InFlight.Set(float64(p.outstanding))
		kind := "revoked"
		if lost {
			kind = "lost"
		}
		p.m.Rebalances.WithLabelValues(kind).Inc()
	}
	p.notifyLocked()
	p.mu.Unlock()
	if len(revoked) > 0 {
		p.log.Info().Interface("partitions", revoked).Bool("lost", lost).Msg("revoked")
	}
	if h, ok := p.h.(RevokeHook); ok {
		h.OnRevoke(ctx, revoked, lost)
	}
}

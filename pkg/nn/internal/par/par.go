package par

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Job is a computation split into parts. Part(i) computes part i; the
// parts of one Do call must be independent of each other (they run
// concurrently, in any order, on any goroutine).
type Job interface {
	Part(i int)
}

// MaxThreads caps the number of goroutines one Do call runs on.
const MaxThreads = 64

// Threads returns the number of goroutines a Do call may run on:
// GOMAXPROCS, at most MaxThreads. It takes the runtime's scheduler lock
// (runtime.GOMAXPROCS), so call it once per operation, not per value.
func Threads() int { return min(runtime.GOMAXPROCS(0), MaxThreads) }

// Tuning (docs/kernels.md, "Parallelism").
var (
	// Spin is how long an idle worker keeps polling for the next job
	// before it parks (blocks on a channel). Waking a parked goroutine
	// costs the Go scheduler a thread wake-up, 10 to 50 µs on this
	// project's virtual machines, longer than the parts of most of the
	// DCASE network's products; a training step issues a new parallel
	// operation every few microseconds, so with spinning workers a
	// hand-off costs well under a microsecond. The price is up to Spin of
	// CPU time per worker after the last operation of a burst.
	Spin = 200 * time.Microsecond

	// Backoff is how long Do runs every job on the calling goroutine
	// after it saw that the pool's threads do not get a core each (see
	// contended). It then tries the workers again.
	Backoff = 50 * time.Millisecond
)

const (
	// ownerSpins is how many times a Do call polls for its last parts
	// before it parks (a few tens of microseconds).
	ownerSpins = 1 << 13

	// preempted is the time between two checks of a spinning worker
	// (normally a few microseconds) beyond which the worker concludes
	// that the OS gave its core to another thread meanwhile. On this
	// project's 2-core virtual machines a thread that spins alone on a
	// core sees about 1 such gap per second (the host's own noise; gaps
	// of 50 µs come 100 times a second), a thread that shares a core
	// with another busy one about 85 per second: the scheduler's time
	// slices are a few milliseconds.
	preempted = time.Millisecond

	// lateWait is the wait for the workers' parts, after the caller ran
	// out of parts to claim, beyond which (plus a quarter of the time the
	// caller spent on its own parts) Do concludes that a worker lost its
	// core.
	lateWait = time.Millisecond

	// pairWindow: two signs of contention within it start a Backoff; a
	// single one (host noise) does not.
	pairWindow = 100 * time.Millisecond
)

// The pool: at most one job is published at a time (the group below), and
// the callers that find it taken run their parts themselves. gen is the
// published job's generation (0: none); a worker joins a job by taking a
// reference (refs) and checking that gen has not moved, so that the owner
// never rewrites the group while a worker may read it.
var (
	gen      atomic.Uint64 // generation of the published job, 0 when none
	lastGen  uint64        // last generation issued; owner only (under busy)
	busy     atomic.Bool   // the group is owned by a Do call
	g        = group{finished: make(chan struct{}, 1)}
	sleepers atomic.Int32 // workers parked on wake
	wake     = make(chan struct{}, MaxThreads)
	poolSize atomic.Int32 // workers started so far; they live for the process
	startMu  atomic.Bool  // serialises starting workers

	epoch       = time.Now()
	serialUntil atomic.Int64 // clock() until which Do runs jobs inline
	lastSign    atomic.Int64 // clock() of the last sign of contention
	contentions atomic.Int64 // times contended was called (tests, tuning)
	lateParts   atomic.Int64 // of which: Do waited long for a worker's part
	gaps        atomic.Int64 // of which: a spinning worker was descheduled
	backoffs    atomic.Int64 // Backoffs started
	maxGap      atomic.Int64
)

// clock returns the monotonic time since the package started.
func clock() time.Duration { return time.Since(epoch) }

// contended records that a thread of the pool lost its core to another
// thread (another process, or more goroutines than cores): spinning and
// splitting then cost the threads doing the work more than they give, so
// for Backoff every job runs on its caller and idle workers park at once.
// On a machine that has a core for each of the pool's threads this never
// triggers and the split always runs.
func contended() {
	contentions.Add(1)
	now := clock()
	if prev := time.Duration(lastSign.Swap(int64(now))); now-prev < pairWindow {
		serialUntil.Store(int64(now + Backoff))
		backoffs.Add(1)
	}
}

func backingOff() bool { return int64(clock()) < serialUntil.Load() }

// group is the published job. Its plain fields are written by the owner
// only while refs is 0 and gen is 0 (no worker can read them), and read by
// workers only after they hold a reference and saw gen unchanged.
type group struct {
	job  Job
	n    int32
	next atomic.Int32 // next part to claim
	done atomic.Int32 // parts finished
	refs atomic.Int32 // workers that may read job and n

	// The owner parks on finished when the last parts take long (a worker
	// that claimed one lost its core); the worker that finishes the last
	// part sends a token when waiting is set. A stale token only makes the
	// owner check done once more.
	waiting  atomic.Bool
	finished chan struct{}
}

// Do runs j.Part(i) for every i in [0, n), each exactly once, and returns
// when all have returned. The parts run on the calling goroutine and on up
// to Threads()-1 pool workers, each taking the next unclaimed part, so a
// worker that is late costs only the parts it did not take. Every part
// runs on the calling goroutine, in order, when n ≤ 1, when GOMAXPROCS is
// 1, while another Do call holds the pool (concurrent callers: their
// goroutines already occupy the cores), and for a while after the pool's
// threads were seen to share cores with other threads (Backoff). Do
// allocates nothing in steady state (it starts the workers on first use).
func Do(j Job, n int) {
	if n <= 1 || Threads() <= 1 || backingOff() || !busy.CompareAndSwap(false, true) {
		for i := 0; i < n; i++ {
			j.Part(i)
		}
		return
	}
	ensureWorkers(min(Threads(), n) - 1)
	// No worker holds a reference to a previous job (Do waits for that
	// before returning), and gen is 0, so the plain fields are ours.
	g.job, g.n = j, int32(n)
	g.next.Store(0)
	g.done.Store(0)
	lastGen++
	gen.Store(lastGen)
	if s := int(sleepers.Load()); s > 0 {
		for w := min(s, n-1); w > 0; w-- {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
	t0 := clock()
	g.claim()
	// Wait for the parts the workers claimed: they started about when
	// ours did, so they end soon after ours, unless a worker lost its
	// core, in which case the caller parks rather than compete for it.
	if g.done.Load() < int32(n) {
		t1 := clock()
		for spins := 0; g.done.Load() < int32(n); spins++ {
			if spins < ownerSpins {
				continue
			}
			g.waiting.Store(true)
			for g.done.Load() < int32(n) {
				<-g.finished
			}
			g.waiting.Store(false)
		}
		if w := clock() - t1; w > lateWait+(t1-t0)/4 {
			lateParts.Add(1)
			contended()
		}
	}
	gen.Store(0)
	for g.refs.Load() != 0 { // workers that joined late let go at once
		runtime.Gosched()
	}
	g.job = nil // drop the caller's references
	busy.Store(false)
}

// claim runs unclaimed parts of the group until none is left.
func (p *group) claim() {
	for {
		i := p.next.Add(1) - 1
		if i >= p.n {
			return
		}
		p.job.Part(int(i))
		if p.done.Add(1) == p.n && p.waiting.Load() {
			select {
			case p.finished <- struct{}{}:
			default:
			}
		}
	}
}

func ensureWorkers(n int) {
	if int(poolSize.Load()) >= n {
		return
	}
	for !startMu.CompareAndSwap(false, true) {
		runtime.Gosched()
	}
	for int(poolSize.Load()) < n {
		poolSize.Add(1)
		go worker()
	}
	startMu.Store(false)
}

// worker joins every published job it sees.
func worker() {
	var seen uint64
	for {
		cur := waitJob(seen)
		g.refs.Add(1)
		if gen.Load() == cur { // still published: the fields are this job's
			seen = cur
			g.claim()
		}
		g.refs.Add(-1)
	}
}

// waitJob returns the generation of a published job other than seen. It
// polls gen for Spin, yielding to other goroutines every few microseconds,
// then parks until a Do call wakes it. It parks at once while Do backs off,
// when GOMAXPROCS is 1, and when it finds that its thread was descheduled
// while it polled (it then calls contended).
func waitJob(seen uint64) uint64 {
	start := clock()
	last := start
	for spins := 1; ; spins++ {
		if cur := gen.Load(); cur != 0 && cur != seen {
			return cur
		}
		if spins&1023 != 0 {
			continue
		}
		runtime.Gosched()
		now := clock()
		gap := now - last
		last = now
		if int64(gap) > maxGap.Load() {
			maxGap.Store(int64(gap))
		}
		if gap > preempted && runtime.GOMAXPROCS(0) > 1 {
			gaps.Add(1)
			contended()
		}
		if now-start < Spin && gap <= preempted && !backingOff() && (spins&(1<<14-1) != 0 || runtime.GOMAXPROCS(0) > 1) {
			continue
		}
		sleepers.Add(1)
		if cur := gen.Load(); cur != 0 && cur != seen { // published meanwhile
			sleepers.Add(-1)
			return cur
		}
		<-wake
		sleepers.Add(-1)
		start = clock()
		last = start
	}
}

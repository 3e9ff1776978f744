package par

import (
	"runtime"
	"sync"
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
// GOMAXPROCS, at most MaxThreads and at most the limit of SetLimit. It
// takes the runtime's scheduler lock (runtime.GOMAXPROCS), so call it once
// per operation, not per value.
func Threads() int {
	t := min(runtime.GOMAXPROCS(0), MaxThreads)
	if l := int(limit.Load()); l > 0 {
		t = min(t, l)
	}
	return t
}

// limit is SetLimit's cap; 0: none.
var limit atomic.Int32

// SetLimit caps the goroutines one Do call runs on at n (n ≤ 0: no cap
// beyond GOMAXPROCS) and returns the previous cap. With a cap of 1 every
// job runs on its caller and the pool's workers stay parked.
func SetLimit(n int) int {
	n = min(max(n, 0), MaxThreads)
	return int(limit.Swap(int32(n)))
}

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
	// ownerSpin is how long a Do call polls for the parts the workers
	// still run before it parks. Parking is the exception: the kernel
	// tends to wake a thread on the CPU of the thread that wakes it, so a
	// parked caller woken by the worker that finished the last part
	// queues behind that worker for a millisecond or two.
	ownerSpin = 2 * time.Millisecond

	// meterWindow and maxDelay: a worker measures how long its thread
	// waits for a CPU (run-queue delay) while it spins or works, in
	// windows of meterWindow; waiting more than maxDelay of a window is a
	// sign of contention. A thread alone on a core of this project's
	// 2-core virtual machines waits under 1% of the time; one that
	// shares a core with another busy thread about half.
	meterWindow = 4 * time.Millisecond
	maxDelay    = 0.25

	// lateWait is the wait for the workers' parts, after the caller ran
	// out of parts to claim, beyond which (plus a quarter of the time the
	// caller spent on its own parts) Do concludes that a worker lost its
	// core.
	lateWait = time.Millisecond

	// signs signs of contention within signWindow start a backoff. A
	// thread that shares a core gives a sign in nearly every meter
	// window; a transient (the host's noise, or a woken thread that the
	// kernel first queues behind the thread that woke it, for a
	// millisecond or two until it balances them) gives one or two.
	signs      = 4
	signWindow = 40 * time.Millisecond

	// maxLevel caps the backoff at Backoff<<maxLevel: a backoff that
	// starts within signWindow of the end of the previous one lasts
	// twice as long (sustained contention is probed less and less
	// often), one that starts later lasts Backoff again.
	maxLevel = 4
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
	signMu      sync.Mutex
	signTimes   [signs - 1]time.Duration // clock() of the last signs of contention, a ring
	signNext    int
	level       atomic.Int32 // the current backoff is Backoff<<level
	lastProcs   atomic.Int32 // GOMAXPROCS at the last Do call (read by spinning workers)
	ownerMeter  meter        // the run-queue delay of the threads that call Do (under busy)
	contentions atomic.Int64 // times contended was called (tests, tuning)
	lateParts   atomic.Int64 // of which: Do waited long for a worker's part
	lowShares   atomic.Int64 // of which: a worker got too small a share of a core
	backoffs    atomic.Int64 // backoffs started
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
	signMu.Lock()
	defer signMu.Unlock()
	oldest := signTimes[signNext] // the sign signs-1 before this one
	signTimes[signNext] = now
	signNext = (signNext + 1) % len(signTimes)
	if oldest == 0 || now-oldest >= signWindow || backingOff() {
		return
	}
	l := level.Load()
	if end := time.Duration(serialUntil.Load()); now-end < signWindow {
		l = min(l+1, maxLevel)
	} else {
		l = 0
	}
	level.Store(l)
	serialUntil.Store(int64(now + Backoff<<l))
	backoffs.Add(1)
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
	t := Threads()
	if int32(t) != lastProcs.Load() {
		lastProcs.Store(int32(t))
	}
	if n <= 1 || t <= 1 || backingOff() || !busy.CompareAndSwap(false, true) {
		for i := 0; i < n; i++ {
			j.Part(i)
		}
		return
	}
	ensureWorkers(min(t, n) - 1)
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
	ownerMeter.check(t0)
	g.claim()
	// Wait for the parts the workers claimed: they started about when
	// ours did, so they end soon after ours, unless a worker lost its
	// core, in which case the caller parks rather than compete for it.
	if g.done.Load() < int32(n) {
		t1 := clock()
		for spins := 1; g.done.Load() < int32(n); spins++ {
			if spins&1023 != 0 || clock()-t1 < ownerSpin {
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
	var m meter
	m.start(clock())
	for {
		cur := waitJob(seen, &m)
		g.refs.Add(1)
		if gen.Load() == cur { // still published: the fields are this job's
			seen = cur
			g.claim()
		}
		g.refs.Add(-1)
	}
}

// A meter measures how long the worker's thread waits for a CPU while it
// has work or spins (its run-queue delay), over windows of meterWindow.
type meter struct {
	st    threadStat
	wall  time.Duration // start of the window
	delay time.Duration // the thread's run-queue delay then
	tid   int           // the thread it was measured on
	ok    bool
}

func (m *meter) start(now time.Duration) {
	m.wall = now
	m.delay, m.tid, m.ok = m.st.delay()
}

// check ends the window when it is long enough, reports contention when
// the thread waited for a CPU more than maxDelay of the time, and starts a
// new window. A window in which the goroutine moved to another thread is
// dropped.
func (m *meter) check(now time.Duration) {
	if !m.ok {
		if m.wall == 0 { // first use
			m.start(now)
		}
		return
	}
	if now-m.wall < meterWindow {
		return
	}
	d, tid, ok := m.st.delay()
	if ok && tid == m.tid && lastProcs.Load() > 1 && float64(d-m.delay) > maxDelay*float64(now-m.wall) {
		lowShares.Add(1)
		contended()
	}
	m.wall, m.delay, m.tid, m.ok = now, d, tid, ok
}

// waitJob returns the generation of a published job other than seen. It
// polls gen for Spin, then parks until a Do call wakes it; it parks at once
// while Do backs off and when GOMAXPROCS is 1. It does not yield while it
// polls: a yield lets the goroutine move to another thread, which would
// spoil the meter, and Spin is short enough for the runtime's preemption
// to serve other goroutines.
func waitJob(seen uint64, m *meter) uint64 {
	start := clock()
	m.check(start)
	for spins := 1; ; spins++ {
		if cur := gen.Load(); cur != 0 && cur != seen {
			return cur
		}
		if spins&1023 != 0 {
			continue
		}
		now := clock()
		m.check(now)
		if now-start < Spin && !backingOff() && lastProcs.Load() > 1 {
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
		m.start(start)
	}
}

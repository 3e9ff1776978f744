package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countJob counts how often each part ran and the most parts that ran at
// once.
type countJob struct {
	hits        []atomic.Int32
	running     atomic.Int32
	maxRunning  atomic.Int32
	work        time.Duration
	order       []int
	mu          sync.Mutex
	recordOrder bool
}

func (j *countJob) Part(i int) {
	r := j.running.Add(1)
	for {
		m := j.maxRunning.Load()
		if r <= m || j.maxRunning.CompareAndSwap(m, r) {
			break
		}
	}
	if j.work > 0 {
		t := time.Now()
		for time.Since(t) < j.work {
		}
	}
	if j.recordOrder {
		j.mu.Lock()
		j.order = append(j.order, i)
		j.mu.Unlock()
	}
	j.hits[i].Add(1)
	j.running.Add(-1)
}

func newCountJob(n int) *countJob { return &countJob{hits: make([]atomic.Int32, n)} }

func (j *countJob) check(t *testing.T, what string) {
	t.Helper()
	for i := range j.hits {
		if h := j.hits[i].Load(); h != 1 {
			t.Fatalf("%s: part %d of %d ran %d times, want 1", what, i, len(j.hits), h)
		}
	}
}

// TestDoEveryPartOnce checks that every part runs exactly once for part
// counts around the worker count, at several GOMAXPROCS.
func TestDoEveryPartOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for n := 0; n <= 40; n++ {
			for rep := 0; rep < 20; rep++ {
				j := newCountJob(n)
				Do(j, n)
				j.check(t, "Do")
			}
		}
	}
}

// TestDoConcurrentCallers runs Do from several goroutines at once: the
// one that holds the pool shares it, the others run their parts alone, and
// every part of every call runs exactly once.
func TestDoConcurrentCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 300; rep++ {
				n := 1 + rep%9
				j := newCountJob(n)
				Do(j, n)
				j.check(t, "concurrent Do")
			}
		}()
	}
	wg.Wait()
}

// TestDoUsesWorkers checks that a job of slow parts runs on more than one
// goroutine when there are cores for it (on a loaded machine the workers
// may lose their cores, so the test tries a few times).
func TestDoUsesWorkers(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	for try := 0; try < 20; try++ {
		serialUntil.Store(0)
		j := newCountJob(8)
		j.work = 200 * time.Microsecond
		Do(j, 8)
		j.check(t, "slow parts")
		if j.maxRunning.Load() >= 2 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("20 jobs of 8 parts of 200 µs never ran two parts at once")
}

// TestBackoff checks the contention rule: up to signs-1 signs of
// contention change nothing, signs within signWindow make Do run every
// part on the caller, in order, for Backoff.
func TestBackoff(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	serialUntil.Store(0)
	signMu.Lock()
	signTimes = [signs - 1]time.Duration{}
	signMu.Unlock()
	for i := 1; i < signs; i++ {
		contended()
		if backingOff() {
			t.Fatalf("%d signs of contention started a backoff", i)
		}
	}
	contended()
	if !backingOff() {
		t.Fatalf("%d signs of contention within signWindow did not start a backoff", signs)
	}
	j := newCountJob(16)
	j.work = 20 * time.Microsecond
	j.recordOrder = true
	Do(j, 16)
	j.check(t, "backoff")
	if m := j.maxRunning.Load(); m != 1 {
		t.Errorf("during a backoff %d parts ran at once, want 1", m)
	}
	for i, p := range j.order {
		if p != i {
			t.Fatalf("during a backoff parts ran in order %v", j.order)
		}
	}
	serialUntil.Store(0)
}

type nopJob struct{ sum atomic.Int64 }

func (j *nopJob) Part(i int) { j.sum.Add(int64(i)) }

// TestDoNoAlloc checks that Do allocates nothing once the workers run.
func TestDoNoAlloc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	j := new(nopJob)
	Do(j, 4)
	calls := 1
	if a := testing.AllocsPerRun(1000, func() { Do(j, 4); calls++ }); a != 0 {
		t.Errorf("Do allocates %v per call", a)
	}
	if want := int64(calls * (0 + 1 + 2 + 3)); j.sum.Load() != want {
		t.Errorf("parts summed to %d over %d calls, want %d", j.sum.Load(), calls, want)
	}
}

// BenchmarkDo measures the cost of handing out a job of 2 empty parts.
func BenchmarkDo(b *testing.B) {
	j := new(nopJob)
	b.ReportAllocs()
	for b.Loop() {
		Do(j, 2)
	}
}

// TestSetLimit checks that a cap of 1 runs every part on the caller, and
// that removing the cap lets the pool take parts again.
func TestSetLimit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer SetLimit(SetLimit(1))
	if got := Threads(); got != 1 {
		t.Fatalf("Threads() = %d with a cap of 1", got)
	}
	j := newCountJob(8)
	j.work = 50 * time.Microsecond
	Do(j, 8)
	j.check(t, "capped")
	if m := j.maxRunning.Load(); m != 1 {
		t.Fatalf("%d parts ran at once with a cap of 1", m)
	}
	if prev := SetLimit(0); prev != 1 {
		t.Fatalf("SetLimit returned %d, want the previous cap 1", prev)
	}
	if got := Threads(); got != 2 {
		t.Fatalf("Threads() = %d without a cap at GOMAXPROCS 2", got)
	}
}

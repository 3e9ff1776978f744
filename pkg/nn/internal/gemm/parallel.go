package gemm

import (
	"runtime"
	"sync"
)

// parallelFlops is the product size (2*m*n*k) from which Sgemm splits the
// work across goroutines; below it the hand-off costs more than it saves
// (measured in docs/kernels.md).
var parallelFlops = 1 << 22

// maxThreads caps the worker pool.
const maxThreads = 64

func threads() int { return min(runtime.GOMAXPROCS(0), maxThreads) }

// A job is one parallel call: its problem and the group its tasks report
// to. Jobs are recycled so that a parallel call allocates nothing.
type job struct {
	ks *kernelSet
	p  problem
	wg sync.WaitGroup
}

// A task is one goroutine's share of a job: the block C[i0:i1, j0:j1].
type task struct {
	j              *job
	i0, i1, j0, j1 int
}

var (
	poolMu    sync.Mutex
	poolSize  int // workers started so far; they live for the process
	tasks     = make(chan task, maxThreads)
	jobsFree  []*job
	jobsMutex sync.Mutex
)

// ensureWorkers starts workers until there are n. Workers block on the task
// channel when idle; their number never exceeds maxThreads-1, so the pool
// cannot grow without bound.
func ensureWorkers(n int) {
	poolMu.Lock()
	for poolSize < n {
		poolSize++
		go worker()
	}
	poolMu.Unlock()
}

func worker() {
	for t := range tasks {
		t.do()
	}
}

func (t task) do() {
	ws := getWorkspace(t.j.ks)
	t.j.ks.run(&t.j.p, ws, t.i0, t.i1, t.j0, t.j1)
	putWorkspace(ws)
	t.j.wg.Done()
}

func getJob() *job {
	jobsMutex.Lock()
	defer jobsMutex.Unlock()
	if n := len(jobsFree); n > 0 {
		j := jobsFree[n-1]
		jobsFree = jobsFree[:n-1]
		return j
	}
	return new(job)
}

func putJob(j *job) {
	j.p = problem{} // drop references to the caller's slices
	jobsMutex.Lock()
	jobsFree = append(jobsFree, j)
	jobsMutex.Unlock()
}

// parallel splits C into t blocks along its longer dimension (in whole
// tiles) and computes them concurrently, one on the calling goroutine.
func parallel(ks *kernelSet, p *problem, t int) {
	j := getJob()
	j.ks, j.p = ks, *p
	var parts [maxThreads]task
	np := 0
	if p.m >= p.n {
		step := ceilDiv(ceilDiv(p.m, ks.mr), t) * ks.mr
		for i := 0; i < p.m; i += step {
			parts[np] = task{j: j, i0: i, i1: min(i+step, p.m), j0: 0, j1: p.n}
			np++
		}
	} else {
		w := ks.widths[0]
		step := ceilDiv(ceilDiv(p.n, w), t) * w
		for c := 0; c < p.n; c += step {
			parts[np] = task{j: j, i0: 0, i1: p.m, j0: c, j1: min(c+step, p.n)}
			np++
		}
	}
	ensureWorkers(np - 1)
	j.wg.Add(np)
	for _, pt := range parts[1:np] {
		tasks <- pt
	}
	parts[0].do()
	j.wg.Wait()
	putJob(j)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

package gemm

import (
	"sync"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// parallelFlops is the product size (2*m*n*k) from which Sgemm splits the
// work across goroutines; below it the hand-off costs more than it saves
// (measured in docs/kernels.md).
var parallelFlops = 1 << 22

// maxParts caps the parts of one product.
const maxParts = par.MaxThreads

// A job is one parallel call: its problem and its parts. Jobs are
// recycled so that a parallel call allocates nothing.
type job struct {
	ks    *kernelSet
	p     problem
	np    int
	parts [maxParts]block
}

// A block is one part of a job: C[i0:i1, j0:j1].
type block struct{ i0, i1, j0, j1 int }

var (
	jobsFree  []*job
	jobsMutex sync.Mutex
)

// Part computes block i of the job (par.Job).
func (j *job) Part(i int) {
	b := j.parts[i]
	ws := getWorkspace(j.ks)
	j.ks.run(&j.p, ws, b.i0, b.i1, b.j0, b.j1)
	putWorkspace(ws)
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
// tiles) and computes them concurrently (par.Do), one on the calling
// goroutine.
func parallel(ks *kernelSet, p *problem, t int) {
	j := getJob()
	j.ks, j.p = ks, *p
	np := 0
	if p.m >= p.n {
		step := ceilDiv(ceilDiv(p.m, ks.mr), t) * ks.mr
		for i := 0; i < p.m; i += step {
			j.parts[np] = block{i0: i, i1: min(i+step, p.m), j0: 0, j1: p.n}
			np++
		}
	} else {
		w := ks.widths[0]
		step := ceilDiv(ceilDiv(p.n, w), t) * w
		for c := 0; c < p.n; c += step {
			j.parts[np] = block{i0: 0, i1: p.m, j0: c, j1: min(c+step, p.n)}
			np++
		}
	}
	j.np = np
	par.Do(j, np)
	putJob(j)
}

func threads() int { return par.Threads() }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

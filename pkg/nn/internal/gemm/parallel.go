package gemm

import (
	"sync"

	"github.com/mhmstream/mhm/pkg/nn/internal/par"
)

// parallelFlops is the product size (2*m*n*k) from which Sgemm splits the
// work across goroutines. With the spinning workers of package par a
// hand-off costs well under a microsecond, and splitting a 1 MFLOP
// product (about 20 µs on one core) gives 1.4 to 1.6× on two idle cores,
// a 0.13 MFLOP one (3 to 4 µs) 1.0 to 1.1× (TestTuneSplit,
// docs/kernels.md).
var parallelFlops = 1 << 19

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

// Tuning hooks (TestTuneSplit): splitMode 0 is the rule below, 1 always
// splits m, 2 always n; partsPerThread > 1 makes more, smaller parts.
var (
	splitMode      = 0
	partsPerThread = 1
)

// parallel splits C into one block per goroutine and computes them
// concurrently (par.Do), one on the calling goroutine. It splits n, in
// whole 16-column slivers, when each part gets at least two of them, else
// m, in whole 6-row tiles. Splitting n shares the packing of B (each part
// packs only its columns) and was as fast or faster than splitting m on
// every DCASE shape with n ≥ 64 (TestTuneSplit: batch-64 forward
// 64×128×640 2.03× against 1.61×). Part boundaries fall on tile
// boundaries (on the single-row kernel's 64-column groups for a one-row
// product), so every element of C is computed by the same kernel with the
// same k order whatever the split: the result does not depend on
// GOMAXPROCS (TestParallelBitIdentical).
func parallel(ks *kernelSet, p *problem, t int) {
	j := getJob()
	j.ks, j.p = ks, *p
	np := 0
	t *= partsPerThread
	w := ks.widths[0]
	alongN := p.n >= 2*w*t
	switch splitMode {
	case 1:
		alongN = false
	case 2:
		alongN = true
	}
	if alongN {
		if ks.row != nil && p.m == 1 {
			w = ks.rowWidth // the single-row kernel's column groups
		}
		step := ceilDiv(ceilDiv(p.n, w), t) * w
		for c := 0; c < p.n; c += step {
			j.parts[np] = block{i0: 0, i1: p.m, j0: c, j1: min(c+step, p.n)}
			np++
		}
	} else {
		step := ceilDiv(ceilDiv(p.m, ks.mr), t) * ks.mr
		for i := 0; i < p.m; i += step {
			j.parts[np] = block{i0: i, i1: min(i+step, p.m), j0: 0, j1: p.n}
			np++
		}
	}
	j.np = np
	par.Do(j, np)
	putJob(j)
}

func threads() int { return par.Threads() }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
